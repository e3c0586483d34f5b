/**
 * `trustgate inspect`, run as a child process: the token comes on standard input only, the output
 * marks everything as untrusted, and with `--config` it gives `verify`'s verdict and the step that
 * refused. Neither the token nor its signature is ever printed.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runCli, type CliResult } from '../helpers/cli.js'
import { createKey, nowSeconds, sign, type TestKey } from '../helpers/keys.js'
import { startServer, type TestServer } from '../helpers/server.js'

const ISSUER = 'https://issuer.test'
const AUDIENCE = 'https://api.test'

/** Neither the token nor its signature part appears in anything the CLI wrote. */
function expectNoToken(result: CliResult, token: string): void {
  const signature = token.split('.')[2] as string
  for (const output of [result.stdout, result.stderr]) {
    expect(output).not.toContain(token)
    expect(output).not.toContain(signature)
  }
}

describe('trustgate inspect', () => {
  let key: TestKey
  let idp: TestServer
  let dir: string
  let config: string
  let moduleConfig: string
  beforeAll(async () => {
    key = await createKey('ES256')
    idp = await startServer()
    idp.route('/jwks', { kind: 'json', body: { keys: [key.jwk] } })
    dir = await mkdtemp(join(tmpdir(), 'trustgate-cli-'))
    const options = {
      issuers: [{ issuer: ISSUER, audience: AUDIENCE, jwksUri: `${idp.origin}/jwks` }],
    }
    config = join(dir, 'trustgate.json')
    await writeFile(config, JSON.stringify(options))
    moduleConfig = join(dir, 'trustgate.config.js')
    await writeFile(moduleConfig, `export default ${JSON.stringify(options)}\n`)
  })
  afterAll(async () => {
    await idp.close()
    await rm(dir, { recursive: true })
  })

  it('prints header and claims marked untrusted, with human times, from standard input', async () => {
    const token = await sign(key, { iss: ISSUER, aud: AUDIENCE, sub: 'alice' })
    const result = await runCli(['inspect'], `${token}\n`)
    expect(result.code).toBe(0)
    expect(result.stdout).toMatch(/^UNTRUSTED: decoded without verifying anything/m)
    expect(result.stdout).toMatch(/^header \(untrusted\)$/m)
    expect(result.stdout).toMatch(/^claims \(untrusted\)$/m)
    expect(result.stdout).toMatch(/^ {2}sub +"alice"$/m)
    expect(result.stdout).toMatch(/^ {2}exp +\d+ {2}\(\d{4}-\d\d-\d\dT[\d:.]+Z, in (59 min|1 h)/m)
    expect(result.stdout).toMatch(/^signature: 64 bytes \(not shown\)$/m)
    expect(result.stdout).not.toMatch(/^verdict/m)
    expectNoToken(result, token)
  })

  it('accepts a pasted "Bearer <token>" and answers --json with one document', async () => {
    const token = await sign(key, { iss: ISSUER, aud: AUDIENCE, sub: 'alice' })
    const result = await runCli(['inspect', '--json'], `Bearer ${token}`)
    expect(result.code).toBe(0)
    const report = JSON.parse(result.stdout)
    expect(report).toMatchObject({
      untrusted: true,
      header: { alg: 'ES256', kid: key.kid },
      claims: { sub: 'alice', iss: ISSUER },
      signatureBytes: 64,
      verdict: null,
    })
    expect(report.times.exp.relative).toMatch(/^in /)
    expectNoToken(result, token)
  })

  it('refuses a token on the command line, and does not print it', async () => {
    const token = await sign(key, { iss: ISSUER, aud: AUDIENCE, sub: 'alice' })
    for (const args of [
      ['inspect', token],
      ['inspect', `--token=${token}`],
    ]) {
      const result = await runCli(args)
      expect(result.code).toBe(2)
      expect(result.stderr).toMatch(/^trustgate: /)
      expectNoToken(result, token)
    }
  })

  it('gives the verdict verify would give with --config (JSON and module configs)', async () => {
    const token = await sign(key, { iss: ISSUER, aud: AUDIENCE, sub: 'alice', scope: 'a b' })
    for (const file of [config, moduleConfig]) {
      const result = await runCli(['inspect', '--config', file, '--json'], token)
      expect(result.code).toBe(0)
      expect(JSON.parse(result.stdout).verdict).toEqual({
        valid: true,
        principal: {
          key: expect.any(String),
          issuer: ISSUER,
          subject: 'alice',
          audience: [AUDIENCE],
          scopes: ['a', 'b'],
          expiresAt: expect.any(String),
        },
      })
      expectNoToken(result, token)
    }
  })

  it.each([
    ['an expired token', { exp: nowSeconds() - 600 }, 'expired', 'STEP 7: claims'],
    ['another audience', { aud: 'https://other.test' }, 'audience_mismatch', 'STEP 7: claims'],
    [
      'an untrusted issuer',
      { iss: 'https://evil.test' },
      'untrusted_issuer',
      'STEP 3: issuer allowlist',
    ],
  ])('names the code, reason and refusing step for %s', async (_name, claims, reason, step) => {
    const token = await sign(key, { iss: ISSUER, aud: AUDIENCE, sub: 'alice', ...claims })
    const result = await runCli(['inspect', '--config', config, '--json'], token)
    expect(result.code).toBe(1)
    expect(JSON.parse(result.stdout).verdict).toMatchObject({
      valid: false,
      code: 'invalid_token',
      reason,
      status: 401,
      step,
    })
    const human = await runCli(['inspect', '--config', config], token)
    expect(human.code).toBe(1)
    expect(human.stdout).toContain(`verdict: REFUSED at ${step}`)
    expect(human.stdout).toMatch(new RegExp(`^ {2}reason {2}${reason}: `, 'm'))
    expectNoToken(result, token)
    expectNoToken(human, token)
  })

  it('names the signature step for a tampered token', async () => {
    const token = await sign(key, { iss: ISSUER, aud: AUDIENCE, sub: 'alice' })
    const [header, , signature] = token.split('.')
    const other = await sign(key, { iss: ISSUER, aud: AUDIENCE, sub: 'mallory' })
    const tampered = [header, other.split('.')[1], signature].join('.')
    const result = await runCli(['inspect', '--config', config, '--json'], tampered)
    expect(result.code).toBe(1)
    expect(JSON.parse(result.stdout).verdict).toMatchObject({
      reason: 'bad_signature',
      step: 'STEP 6: signature',
    })
    expectNoToken(result, tampered)
  })

  it('exits 1 for input that is not a JWT, 2 for no input or a bad config', async () => {
    expect((await runCli(['inspect'], 'not.a.jwt')).code).toBe(1)
    expect((await runCli(['inspect'], '  \n')).code).toBe(2)
    const token = await sign(key, { iss: ISSUER, aud: AUDIENCE, sub: 'alice' })
    const missing = await runCli(['inspect', '--config', join(dir, 'nope.json')], token)
    expect(missing.code).toBe(2)
    const bad = join(dir, 'bad.json')
    await writeFile(bad, JSON.stringify({ issuers: [] }))
    const invalid = await runCli(['inspect', '--config', bad], token)
    expect(invalid.code).toBe(2)
    expect(invalid.stderr).toMatch(/^trustgate: --config is not valid: issuers is required/)
    expectNoToken(invalid, token)
  })

  it('escapes control characters of claims, so a token cannot drive the terminal', async () => {
    const token = await sign(key, { iss: ISSUER, aud: AUDIENCE, sub: 'x\u001b[2J\u009b1m' })
    const result = await runCli(['inspect'], token)
    expect(result.code).toBe(0)
    expect(result.stdout).not.toContain('\u001b')
    expect(result.stdout).not.toContain('\u009b')
    expect(result.stdout).toContain('"x\\u001b[2J\\u009b1m"')
  })
})
