/** A real pino logger whose lines are kept in memory, so tests can read what was logged. */
import { pino, type Logger } from 'pino'

export interface CapturedLogger {
  readonly logger: Logger
  /** Every line written so far, parsed. */
  readonly lines: Record<string, unknown>[]
  /** Every line as written, to search for a token string. */
  readonly raw: string[]
}

export function captureLogger(level = 'info'): CapturedLogger {
  const lines: Record<string, unknown>[] = []
  const raw: string[] = []
  const logger = pino(
    { level },
    {
      write(chunk: string) {
        raw.push(chunk)
        lines.push(JSON.parse(chunk) as Record<string, unknown>)
      },
    },
  )
  return { logger, lines, raw }
}
