/**
 * One HTTP/1.1 request written byte for byte on a raw TCP socket. Clients such as fetch or
 * supertest merge or replace repeated headers; an attacker does not, so the tests of "several
 * Authorization headers" speak to the server the way the attacker would.
 */
import { connect } from 'node:net'

export interface RawResponse {
  readonly status: number
  /** Header names lowercased; a repeated header keeps its last value. */
  readonly headers: Readonly<Record<string, string>>
  readonly body: string
  /** Everything the server sent, to search for a token string. */
  readonly raw: string
}

/**
 * Sends `GET path` to `origin` (`http://127.0.0.1:<port>`) with `headers` as given: a name may
 * appear several times. The connection is closed by the request (`Connection: close`).
 */
export async function rawRequest(
  origin: string,
  path: string,
  headers: readonly (readonly [string, string])[],
  /** The Host header to send instead of the origin's (Host header laundering tests). */
  host?: string,
): Promise<RawResponse> {
  const url = new URL(origin)
  const lines = [
    `GET ${path} HTTP/1.1`,
    `Host: ${host ?? url.host}`,
    'Connection: close',
    ...headers.map(([name, value]) => `${name}: ${value}`),
  ]
  const raw = await new Promise<string>((resolve, reject) => {
    const socket = connect(Number(url.port), url.hostname)
    const chunks: Buffer[] = []
    socket.setTimeout(5000, () => socket.destroy(new Error('raw request timed out')))
    socket.on('data', (chunk: Buffer) => chunks.push(chunk))
    socket.on('error', reject)
    socket.on('close', () => {
      resolve(Buffer.concat(chunks).toString('latin1'))
    })
    socket.write(`${lines.join('\r\n')}\r\n\r\n`)
  })
  const split = raw.indexOf('\r\n\r\n')
  const head = split === -1 ? raw : raw.slice(0, split)
  let body = split === -1 ? '' : raw.slice(split + 4)
  const [statusLine = '', ...headerLines] = head.split('\r\n')
  const status = Number(statusLine.split(' ')[1])
  const parsed: Record<string, string> = {}
  for (const line of headerLines) {
    const colon = line.indexOf(':')
    if (colon > 0) parsed[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim()
  }
  if (parsed['transfer-encoding'] === 'chunked') body = dechunk(body)
  return { status, headers: parsed, body, raw }
}

function dechunk(text: string): string {
  let out = ''
  let at = 0
  for (;;) {
    const end = text.indexOf('\r\n', at)
    if (end === -1) return out
    const size = parseInt(text.slice(at, end), 16)
    if (!Number.isFinite(size) || size === 0) return out
    out += text.slice(end + 2, end + 2 + size)
    at = end + 2 + size + 2
  }
}
