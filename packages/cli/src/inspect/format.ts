/**
 * The human form of an `inspect` report: the header and claims under an UNTRUSTED banner, every
 * value printed with {@link show} (a crafted claim cannot drive the terminal), the signature's
 * length only, and the verdict with `--config`. (`--json` prints the report itself.)
 */
import { show } from '../text.js'
import type { InspectReport } from './report.js'

function table(object: Record<string, unknown>, times: InspectReport['times']): string[] {
  const names = Object.keys(object)
  const width = Math.max(0, ...names.map((name) => show(name).length - 2))
  return names.map((name) => {
    const time = times[name]
    const value = show(object[name])
    const label = show(name).slice(1, -1)
    return `  ${label.padEnd(width)}  ${value}${time === undefined ? '' : `  (${time.date}, ${time.relative})`}`
  })
}

/** The human form of a report. */
export function formatInspect(report: InspectReport): string {
  const lines = [
    'UNTRUSTED: decoded without verifying anything; the values below prove nothing by themselves.',
    '',
    'header (untrusted)',
    ...table(report.header, {}),
    '',
    'claims (untrusted)',
    ...table(report.claims, report.times),
    '',
    `signature: ${String(report.signatureBytes)} bytes (not shown)`,
  ]
  const { verdict } = report
  if (verdict !== null) {
    lines.push('')
    if (verdict.valid) {
      lines.push(
        'verdict: VALID (verified with --config)',
        `  principal key  ${show(verdict.principal.key)}`,
        `  scopes         ${show(verdict.principal.scopes)}`,
      )
    } else {
      lines.push(
        `verdict: REFUSED at ${verdict.step}`,
        `  code    ${verdict.code} (HTTP ${String(verdict.status)})`,
        `  reason  ${verdict.reason}: ${verdict.description}`,
      )
    }
  }
  return lines.join('\n')
}
