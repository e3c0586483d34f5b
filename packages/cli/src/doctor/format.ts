/**
 * The human form of a doctor report: one line per check, its findings indented below it, the
 * verdict, and the suggested issuer configuration. (`--json` prints the report itself.)
 */
import type { Verdict } from './check.js'
import type { DoctorReport } from './run.js'

/** The human form of a report: one line per check, its findings indented below it. */
export function formatDoctor(report: DoctorReport): string {
  const width = Math.max(...report.checks.map((c) => c.title.length))
  const lines = [`trustgate doctor ${report.issuer}`, '']
  for (const c of report.checks) {
    lines.push(`${c.verdict.toUpperCase().padEnd(4)}  ${c.title.padEnd(width)}  ${c.detail}`)
    for (const item of c.items) lines.push(`${' '.repeat(width + 8)}- ${item}`)
  }
  const count = (verdict: Verdict): number =>
    report.checks.filter((c) => c.verdict === verdict).length
  lines.push(
    '',
    report.healthy
      ? `verdict: healthy (${String(count('pass'))} passed, ${String(count('warn'))} warning(s))`
      : `verdict: NOT healthy (${String(count('fail'))} failed, ${String(count('warn'))} warning(s))`,
  )
  if (report.suggestedConfig !== null) {
    lines.push('', `issuer config: ${JSON.stringify(report.suggestedConfig)}`)
  }
  return lines.join('\n')
}
