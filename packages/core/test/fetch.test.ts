import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  checkUrl,
  fetchJson,
  FetchError,
  isLoopbackHost,
  MAX_DOCUMENT_BYTES,
} from '../src/fetch.js'
import { startServer, type TestServer } from '../../../test/helpers/server.js'

let server: TestServer
let target: TestServer

beforeAll(async () => {
  server = await startServer()
  target = await startServer()
})

afterAll(async () => {
  await server.close()
  await target.close()
})

function url(path: string): URL {
  return new URL(path, server.origin)
}

async function failure(promise: Promise<unknown>): Promise<FetchError> {
  try {
    await promise
  } catch (error) {
    expect(error).toBeInstanceOf(FetchError)
    return error as FetchError
  }
  throw new Error('expected a FetchError')
}

describe('isLoopbackHost', () => {
  it('admits localhost, 127.0.0.0/8 and [::1] only', () => {
    for (const host of ['localhost', '127.0.0.1', '127.1.2.3', '[::1]'])
      expect(isLoopbackHost(host)).toBe(true)
    for (const host of [
      'example.com',
      '127.0.0.1.evil.test',
      'localhost.evil.test',
      '10.0.0.1',
      '0.0.0.0',
    ]) {
      expect(isLoopbackHost(host)).toBe(false)
    }
  })
})

describe('checkUrl', () => {
  it('accepts https: anywhere and http: on a loopback host', () => {
    expect(checkUrl('https://idp.example/jwks')).toBeInstanceOf(URL)
    expect(checkUrl('http://127.0.0.1:8080/jwks')).toBeInstanceOf(URL)
    expect(checkUrl('http://localhost/jwks')).toBeInstanceOf(URL)
    expect(checkUrl('http://[::1]:3000/jwks')).toBeInstanceOf(URL)
  })

  it('refuses http: to another host, other schemes, relative URLs, credentials and non-strings', () => {
    expect(checkUrl('http://idp.example/jwks')).toMatch(/https/)
    expect(checkUrl('ftp://idp.example/jwks')).toMatch(/https/)
    expect(checkUrl('file:///etc/passwd')).toMatch(/https/)
    expect(checkUrl('/jwks')).toMatch(/absolute/)
    expect(checkUrl('https://user:pass@idp.example/jwks')).toMatch(/credentials/)
    expect(checkUrl(42)).toMatch(/string/)
  })
})

describe('fetchJson', () => {
  it('returns the parsed JSON of a 200 response', async () => {
    server.route('/ok', { kind: 'json', body: { keys: [] } })
    await expect(fetchJson(url('/ok'), 2000)).resolves.toEqual({ keys: [] })
  })

  it('fails on any status but 200', async () => {
    server.route('/500', { kind: 'json', status: 500, body: { error: 'x' } })
    server.route('/204', { kind: 'raw', status: 204, body: '' })
    expect((await failure(fetchJson(url('/500'), 2000))).message).toMatch(/status 500/)
    expect((await failure(fetchJson(url('/204'), 2000))).message).toMatch(/status 204/)
    expect((await failure(fetchJson(url('/missing'), 2000))).message).toMatch(/status 404/)
  })

  it('does not follow a redirect: the target gets no request', async () => {
    target.route('/jwks', { kind: 'json', body: { keys: [] } })
    server.route('/redirect', { kind: 'redirect', location: `${target.origin}/jwks` })
    server.route('/redirect-307', {
      kind: 'redirect',
      status: 307,
      location: `${target.origin}/jwks`,
    })
    expect((await failure(fetchJson(url('/redirect'), 2000))).message).toMatch(/status 302/)
    expect((await failure(fetchJson(url('/redirect-307'), 2000))).message).toMatch(/status 307/)
    expect(target.hits()).toBe(0)
  })

  it('fails on a body that is not JSON or not UTF-8', async () => {
    server.route('/html', { kind: 'raw', body: '<html>hi</html>', contentType: 'text/html' })
    server.route('/latin1', { kind: 'raw', body: Buffer.from([0x22, 0xff, 0x22]) })
    server.route('/empty', { kind: 'raw', body: '' })
    expect((await failure(fetchJson(url('/html'), 2000))).message).toMatch(/not JSON/)
    expect((await failure(fetchJson(url('/latin1'), 2000))).message).toMatch(/not JSON/)
    expect((await failure(fetchJson(url('/empty'), 2000))).message).toMatch(/not JSON/)
  })

  it('fails on a body over 1 MiB announced by content-length', async () => {
    server.route('/huge', { kind: 'raw', body: Buffer.alloc(MAX_DOCUMENT_BYTES + 1, 0x20) })
    expect((await failure(fetchJson(url('/huge'), 5000))).message).toMatch(/larger than/)
  })

  it('fails on a chunked body that grows over the limit without content-length', async () => {
    let written = 0
    server.route('/chunked', {
      kind: 'handler',
      handle: (_req, res) => {
        res.writeHead(200, { 'content-type': 'application/json' })
        const chunk = Buffer.alloc(64 * 1024, 0x20)
        const pump = (): void => {
          // Stop at twice the limit at most, whether or not the client went away.
          while (written < MAX_DOCUMENT_BYTES * 2 && !res.destroyed) {
            written += chunk.length
            if (!res.write(chunk)) {
              res.once('drain', pump)
              return
            }
          }
          res.end()
        }
        pump()
      },
    })
    const error = await failure(fetchJson(url('/chunked'), 5000))
    expect(error.message).toMatch(/larger than/)
  })

  it('accepts a body just at the limit of a smaller cap and refuses one byte more', async () => {
    server.route('/sized', { kind: 'raw', body: '"' + 'x'.repeat(98) + '"' })
    await expect(fetchJson(url('/sized'), 2000, 100)).resolves.toBe('x'.repeat(98))
    expect((await failure(fetchJson(url('/sized'), 2000, 99))).message).toMatch(/larger than 99/)
  })

  it('gives up on a response that does not arrive within the timeout', async () => {
    server.route('/hang', { kind: 'hang' })
    server.route('/slow', { kind: 'json', body: { keys: [] }, delayMs: 2000 })
    expect((await failure(fetchJson(url('/hang'), 100))).message).toMatch(/within 100 ms/)
    expect((await failure(fetchJson(url('/slow'), 100))).message).toMatch(/within 100 ms/)
  })

  it('gives up on a body that stalls after the headers', async () => {
    server.route('/stall', {
      kind: 'handler',
      handle: (_req, res) => {
        res.writeHead(200, { 'content-type': 'application/json' })
        res.write('{"keys":')
      },
    })
    expect((await failure(fetchJson(url('/stall'), 150))).message).toMatch(/within 150 ms/)
  })

  it('fails on a connection closed without an answer', async () => {
    server.route('/destroy', { kind: 'destroy' })
    expect((await failure(fetchJson(url('/destroy'), 2000))).message).toMatch(/request failed/)
  })
})
