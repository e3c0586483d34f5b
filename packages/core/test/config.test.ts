import { describe, expect, it } from 'vitest'
import { resolveConfig } from '../src/config.js'
import {
  CLOCK_TOLERANCE_S,
  JWKS_CACHE_MAX_AGE_MS,
  JWKS_COOLDOWN_MS,
  JWKS_TIMEOUT_MS,
  JWKS_MAX_STALE_MS,
  MAX_TOKEN_LENGTH,
  VERIFIER_OPTION_NAMES,
  type VerifierOptions,
} from '../src/verifier-options.js'
import { ISSUER_OPTION_NAMES, type IssuerConfig } from '../src/issuer-config.js'
import { normalizeTyp } from '../src/claims.js'
import { createVerifier } from '../src/verifier.js'
import { checkOptionNames } from '../src/options.js'
import { checkScopeList } from '../src/guards.js'
import { createMemoryReplayStore } from '../src/replay.js'
import { createErrorFactory } from '../src/errors.js'
import { captureLogger } from '../../../test/helpers/log.js'
import { generateKeyPairSync } from 'node:crypto'

const SECRET = 's'.repeat(32)
const { logger } = captureLogger()
const jwksIssuer: IssuerConfig = {
  issuer: 'https://idp.example',
  audience: 'api',
  jwksUri: 'https://idp.example/jwks',
}

/** Builds a verifier with the given issuers and options; the test expects it to throw. */
function build(
  issuers: unknown[],
  options: Partial<Record<keyof VerifierOptions, unknown>> | Record<string, unknown> = {},
): () => unknown {
  return () => createVerifier({ logger, ...options, issuers } as unknown as VerifierOptions)
}

describe('createVerifier configuration errors', () => {
  it('throws a TypeError at once for no issuers', () => {
    expect(build([])).toThrow(TypeError)
    expect(build([])).toThrow(/^trustgate: issuers is required/)
    expect(() => createVerifier({ logger } as unknown as VerifierOptions)).toThrow(/issuers/)
    expect(() => createVerifier(undefined as unknown as VerifierOptions)).toThrow(/options/)
  })

  it('throws for an issuer that is not an object or has no issuer string', () => {
    expect(build([null])).toThrow(/issuers\[0\] must be an object/)
    expect(build([{ audience: 'api', secret: SECRET }])).toThrow(/issuers\[0\]\.issuer/)
    expect(build([{ issuer: '', audience: 'api', secret: SECRET }])).toThrow(/issuers\[0\]\.issuer/)
  })

  it('throws for an issuer configured twice, naming the second', () => {
    expect(build([jwksIssuer, { ...jwksIssuer }])).toThrow(
      /issuers\[1\]\.issuer is configured twice/,
    )
  })

  it('treats issuers that differ in case as different issuers', () => {
    expect(() =>
      createVerifier({
        logger,
        issuers: [jwksIssuer, { ...jwksIssuer, issuer: 'https://IDP.example' }],
      }),
    ).not.toThrow()
  })

  it('throws for a missing or empty audience, naming the issuer index', () => {
    const { audience: _a, ...noAudience } = jwksIssuer
    expect(build([jwksIssuer, { ...noAudience, issuer: 'https://b.example' }])).toThrow(
      /issuers\[1\]\.audience/,
    )
    expect(build([{ ...jwksIssuer, audience: [] }])).toThrow(/issuers\[0\]\.audience/)
    expect(build([{ ...jwksIssuer, audience: '' }])).toThrow(/issuers\[0\]\.audience\[0\]/)
    expect(build([{ ...jwksIssuer, audience: ['api', 7] }])).toThrow(/issuers\[0\]\.audience\[1\]/)
  })

  it('throws for zero key sources', () => {
    expect(build([{ issuer: 'https://idp.example', audience: 'api' }])).toThrow(
      /issuers\[0\] needs one key source/,
    )
    expect(build([{ issuer: 'https://idp.example', audience: 'api', discovery: false }])).toThrow(
      /issuers\[0\] needs one key source/,
    )
  })

  it('throws for two key sources, naming them', () => {
    expect(build([{ ...jwksIssuer, secret: SECRET }])).toThrow(
      /issuers\[0\] has jwksUri and secret/,
    )
    expect(build([{ ...jwksIssuer, discovery: true }])).toThrow(
      /issuers\[0\] has jwksUri and discovery/,
    )
    expect(
      build([
        { issuer: 'https://idp.example', audience: 'api', keys: { keys: [] }, secret: SECRET },
      ]),
    ).toThrow(/exactly one key source/)
  })

  it('throws for none in algorithms, in any case', () => {
    for (const none of ['none', 'None', 'NONE', 'nOnE']) {
      expect(build([{ ...jwksIssuer, algorithms: ['RS256', none] }])).toThrow(
        /issuers\[0\]\.algorithms\[1\] must not be "none"/,
      )
    }
  })

  it('throws for an unknown algorithm or an empty list', () => {
    expect(build([{ ...jwksIssuer, algorithms: ['RS1'] }])).toThrow(
      /issuers\[0\]\.algorithms\[0\] is not a supported/,
    )
    expect(build([{ ...jwksIssuer, algorithms: [] }])).toThrow(
      /issuers\[0\]\.algorithms must be a non-empty array/,
    )
    expect(build([{ ...jwksIssuer, algorithms: 'RS256' }])).toThrow(/issuers\[0\]\.algorithms/)
  })

  it('throws for an HMAC algorithm without a secret', () => {
    expect(build([{ ...jwksIssuer, algorithms: ['RS256', 'HS256'] }])).toThrow(
      /issuers\[0\]\.algorithms\[1\] is an HMAC algorithm/,
    )
  })

  it('throws for a secret with asymmetric algorithms', () => {
    expect(
      build([
        {
          issuer: 'https://legacy.example',
          audience: 'api',
          secret: SECRET,
          algorithms: ['RS256'],
        },
      ]),
    ).toThrow(/issuers\[0\]\.algorithms\[0\] is not an HMAC algorithm/)
  })

  it('throws for a secret under 32 bytes, counting bytes and not characters', () => {
    const base = { issuer: 'https://legacy.example', audience: 'api' }
    expect(build([{ ...base, secret: 's'.repeat(31) }])).toThrow(
      /issuers\[0\]\.secret must be at least 32 bytes/,
    )
    expect(build([{ ...base, secret: new Uint8Array(31) }])).toThrow(/issuers\[0\]\.secret/)
    expect(build([{ ...base, secret: 42 }])).toThrow(
      /issuers\[0\]\.secret must be a string or a Uint8Array/,
    )
    // 16 two-byte characters are 32 bytes.
    expect(() =>
      createVerifier({ logger, issuers: [{ ...base, secret: 'é'.repeat(16) }] }),
    ).not.toThrow()
    expect(() =>
      createVerifier({ logger, issuers: [{ ...base, secret: new Uint8Array(32) }] }),
    ).not.toThrow()
  })

  it('throws for an http: URL to a non-loopback host, and accepts http: on loopback', () => {
    expect(build([{ ...jwksIssuer, jwksUri: 'http://idp.example/jwks' }])).toThrow(
      /issuers\[0\]\.jwksUri must use https/,
    )
    expect(build([{ ...jwksIssuer, jwksUri: new URL('http://10.0.0.1/jwks') }])).toThrow(
      /issuers\[0\]\.jwksUri/,
    )
    expect(build([{ ...jwksIssuer, jwksUri: 'jwks.json' }])).toThrow(
      /issuers\[0\]\.jwksUri must be an absolute URL/,
    )
    expect(build([{ issuer: 'http://idp.example', audience: 'api', discovery: true }])).toThrow(
      /issuers\[0\]\.issuer must use https/,
    )
    expect(() =>
      createVerifier({
        logger,
        issuers: [
          { ...jwksIssuer, jwksUri: 'http://127.0.0.1:1/jwks' },
          { issuer: 'http://localhost:1', audience: 'api', discovery: true },
          { ...jwksIssuer, issuer: 'c', jwksUri: new URL('http://[::1]:1/jwks') },
        ],
      }),
    ).not.toThrow()
  })

  it('throws for discovery set to anything but true', () => {
    expect(build([{ issuer: 'https://idp.example', audience: 'api', discovery: 'yes' }])).toThrow(
      /issuers\[0\]\.discovery must be true/,
    )
  })

  it('throws for static keys that are not a usable JWK Set', async () => {
    const base = { issuer: 'https://idp.example', audience: 'api' }
    expect(build([{ ...base, keys: [] }])).toThrow(/issuers\[0\]\.keys must be a JWK Set/)
    expect(build([{ ...base, keys: { keys: [] } }])).toThrow(
      /issuers\[0\]\.keys must hold at least one key/,
    )
    expect(build([{ ...base, keys: { keys: [{ kty: 'oct', k: 'AAAA' }] } }])).toThrow(
      /issuers\[0\]\.keys\.keys\[0\] cannot be used: symmetric_key/,
    )
  })

  it('throws for a static RSA key shorter than 2048 bits', () => {
    const { publicKey } = generateKeyPairSync('rsa', { modulusLength: 1024 })
    const jwk = { ...publicKey.export({ format: 'jwk' }), kid: 'weak' }
    expect(
      build([{ issuer: 'https://idp.example', audience: 'api', keys: { keys: [jwk] } }]),
    ).toThrow(/issuers\[0\]\.keys\.keys\[0\] cannot be used: weak_rsa_key/)
  })

  it('throws for bad durations, naming the field', () => {
    const issuers = [jwksIssuer]
    expect(build(issuers, { clockTolerance: -1 })).toThrow(/^trustgate: clockTolerance/)
    expect(build(issuers, { clockTolerance: Number.NaN })).toThrow(/^trustgate: clockTolerance/)
    expect(build(issuers, { clockTolerance: '5' })).toThrow(/^trustgate: clockTolerance/)
    expect(build(issuers, { maxTokenLength: 0 })).toThrow(/^trustgate: maxTokenLength/)
    expect(build(issuers, { maxTokenLength: 1.5 })).toThrow(/^trustgate: maxTokenLength/)
    expect(build(issuers, { jwks: { cacheMaxAge: -1 } })).toThrow(/^trustgate: jwks\.cacheMaxAge/)
    expect(build(issuers, { jwks: { cooldownDuration: Infinity } })).toThrow(
      /^trustgate: jwks\.cooldownDuration/,
    )
    expect(build(issuers, { jwks: { timeoutDuration: 0 } })).toThrow(
      /^trustgate: jwks\.timeoutDuration/,
    )
    expect(build(issuers, { jwks: 5 })).toThrow(/^trustgate: jwks must be an object/)
    // Issue 9, item 10: jwks.maxStale, validated like the other durations, never under cacheMaxAge.
    for (const maxStale of [-1, 1.5, Number.NaN, '1000', -Infinity]) {
      expect(build(issuers, { jwks: { maxStale } })).toThrow(/^trustgate: jwks\.maxStale/)
    }
    expect(build(issuers, { jwks: { cacheMaxAge: 60_000, maxStale: 59_999 } })).toThrow(
      /^trustgate: jwks\.maxStale must be at least jwks\.cacheMaxAge \(60000 ms\)/,
    )
    // With the 24 h default, a longer cacheMaxAge needs a longer maxStale, and says so.
    expect(build(issuers, { jwks: { cacheMaxAge: 2 * JWKS_MAX_STALE_MS } })).toThrow(
      /^trustgate: jwks\.maxStale must be at least jwks\.cacheMaxAge/,
    )
    for (const jwks of [
      { maxStale: 600_000 },
      { maxStale: Infinity },
      { maxStale: 0, cacheMaxAge: 0 },
    ]) {
      expect(build(issuers, { jwks })).not.toThrow()
    }
    expect(build([{ ...jwksIssuer, clockTolerance: -5 }])).toThrow(/issuers\[0\]\.clockTolerance/)
    expect(build([{ ...jwksIssuer, maxTokenAge: -1 }])).toThrow(/issuers\[0\]\.maxTokenAge/)
  })

  it('throws for other bad per-issuer rules', () => {
    expect(build([{ ...jwksIssuer, requireExp: 'no' }])).toThrow(
      /issuers\[0\]\.requireExp must be a boolean/,
    )
    expect(build([{ ...jwksIssuer, typ: '' }])).toThrow(/issuers\[0\]\.typ/)
  })

  it('throws for a bad realm', () => {
    expect(build([jwksIssuer], { realm: 'a"b' })).toThrow(/^trustgate: realm/)
    expect(build([jwksIssuer], { realm: 'a\\b' })).toThrow(/^trustgate: realm/)
    expect(build([jwksIssuer], { realm: 42 })).toThrow(/^trustgate: realm/)
  })

  it('throws for a bad logger', () => {
    expect(build([jwksIssuer], { logger: {} })).toThrow(/^trustgate: logger must be a pino logger/)
    expect(build([jwksIssuer], { logger: { info() {}, warn() {} } })).toThrow(/no error\(\)/)
  })

  it('throws for a bad token cache option', () => {
    expect(build([jwksIssuer], { tokenCache: 'off' })).toThrow(/^trustgate: tokenCache/)
    expect(build([jwksIssuer], { tokenCache: { max: -1 } })).toThrow(/^trustgate: tokenCache\.max/)
  })

  it('throws for no key source before touching the network: nothing to fetch at start-up', () => {
    // A valid jwksUri on an unreachable host builds fine: keys are fetched on first need only.
    expect(() =>
      createVerifier({ logger, issuers: [{ ...jwksIssuer, jwksUri: 'https://idp.invalid/jwks' }] }),
    ).not.toThrow()
  })
})

describe('resolveConfig', () => {
  it('fills the defaults of API.md', () => {
    const config = resolveConfig({ issuers: [jwksIssuer] })
    expect(config.maxTokenLength).toBe(MAX_TOKEN_LENGTH)
    expect(MAX_TOKEN_LENGTH).toBe(16384)
    expect(CLOCK_TOLERANCE_S).toBe(5)
    expect(JWKS_CACHE_MAX_AGE_MS).toBe(600_000)
    expect(JWKS_COOLDOWN_MS).toBe(30_000)
    expect(JWKS_TIMEOUT_MS).toBe(5000)
    expect(JWKS_MAX_STALE_MS).toBe(86_400_000)
    expect(config.realm).toBe('api')
    const policy = config.issuers.get('https://idp.example')
    expect(policy?.clockTolerance).toBe(5)
    expect(policy?.requireExp).toBe(true)
    expect([...(policy?.algorithms ?? [])]).toEqual([
      'RS256',
      'RS384',
      'RS512',
      'PS256',
      'PS384',
      'PS512',
      'ES256',
      'ES384',
      'ES512',
      'EdDSA',
    ])
    expect(Object.isFrozen(config)).toBe(true)
    expect(Object.isFrozen(policy)).toBe(true)
  })

  it('defaults a secret issuer to HS256/384/512 and keeps per-issuer overrides', () => {
    const config = resolveConfig({
      logger,
      clockTolerance: 10,
      issuers: [
        { issuer: 'a', audience: ['x', 'y'], secret: SECRET },
        {
          issuer: 'b',
          audience: 'x',
          secret: SECRET,
          clockTolerance: 0,
          requireExp: false,
          maxTokenAge: 60,
          typ: 'application/AT+JWT',
        },
      ],
    })
    const a = config.issuers.get('a')
    const b = config.issuers.get('b')
    expect([...(a?.algorithms ?? [])]).toEqual(['HS256', 'HS384', 'HS512'])
    expect([...(a?.audiences ?? [])]).toEqual(['x', 'y'])
    expect(a?.clockTolerance).toBe(10)
    expect(b).toMatchObject({
      clockTolerance: 0,
      requireExp: false,
      maxTokenAge: 60,
      typ: 'at+jwt',
    })
  })

  it('keys the issuers by their exact string', () => {
    const config = resolveConfig({ logger, issuers: [jwksIssuer] })
    expect(config.issuers.has('https://idp.example')).toBe(true)
    expect(config.issuers.has('https://IDP.example')).toBe(false)
    expect(config.issuers.has('https://idp.example/')).toBe(false)
  })

  it('turns the token cache off with false', () => {
    expect(resolveConfig({ logger, issuers: [jwksIssuer], tokenCache: false }).tokenCacheMax).toBe(
      0,
    )
  })
})

describe('normalizeTyp', () => {
  it('lowercases and drops application/', () => {
    expect(normalizeTyp('Application/AT+JWT')).toBe('at+jwt')
    expect(normalizeTyp('JWT')).toBe('jwt')
  })
})

describe('unknown option names (issue 9, item 2)', () => {
  it('throws for a misspelt option at every level, naming the key and suggesting the name', () => {
    expect(build([{ ...jwksIssuer, clockTolerence: 30 }])).toThrow(
      /^trustgate: issuers\[0\]\.clockTolerence is not an option \(did you mean clockTolerance\?\)$/,
    )
    expect(build([jwksIssuer], { clockTolerence: 30 })).toThrow(
      /^trustgate: clockTolerence is not an option/,
    )
    expect(build([jwksIssuer], { jwks: { cacheMaxAgeMs: 1 } })).toThrow(
      /^trustgate: jwks\.cacheMaxAgeMs is not an option \(did you mean cacheMaxAge\?\)/,
    )
    expect(build([jwksIssuer], { tokenCache: { maxSize: 1 } })).toThrow(
      /^trustgate: tokenCache\.maxSize is not an option/,
    )
    // A name set to undefined is still a misspelt name.
    expect(build([{ ...jwksIssuer, audiences: undefined }])).toThrow(
      /issuers\[0\]\.audiences is not an option \(did you mean audience\?\)/,
    )
    // A word that is no typo of any option gets no suggestion.
    expect(build([jwksIssuer], { frobnicate: true })).toThrow(
      /^trustgate: frobnicate is not an option$/,
    )
  })

  it('accepts every documented name, and the honest twin of each typo builds', () => {
    expect(() =>
      createVerifier({
        logger,
        clockTolerance: 30,
        maxTokenLength: 8000,
        realm: 'api',
        jwks: { cacheMaxAge: 1, cooldownDuration: 1, timeoutDuration: 1 },
        tokenCache: { max: 1 },
        issuers: [
          {
            ...jwksIssuer,
            algorithms: ['RS256'],
            requireExp: true,
            maxTokenAge: 60,
            typ: 'at+jwt',
            clockTolerance: 30,
          },
        ],
      }),
    ).not.toThrow()
  })

  it('checks names with the exported helper the adapters use', () => {
    expect(() => {
      checkOptionNames({ respond: true, getTokn: 1 }, ['respond', 'getToken'], 'jwtAuth options')
    }).toThrow(/^trustgate: jwtAuth options\.getTokn is not an option \(did you mean getToken\?\)/)
    expect(() => {
      checkOptionNames({ respond: true }, ['respond', 'getToken'])
    }).not.toThrow()
    expect(VERIFIER_OPTION_NAMES.has('issuers')).toBe(true)
    expect(ISSUER_OPTION_NAMES.has('audience')).toBe(true)
  })
})

describe('configuration error messages (issue 9, item 3)', () => {
  it('says that a secret is undefined, as from an unset environment variable', () => {
    const env: Record<string, string | undefined> = {}
    expect(
      build([{ issuer: 'https://legacy.example', audience: 'api', secret: env.HS_SECRET }]),
    ).toThrow(/^trustgate: issuers\[0\]\.secret is undefined: is the environment variable/)
    expect(
      build([{ issuer: 'https://idp.example', audience: 'api', jwksUri: env.JWKS_URI }]),
    ).toThrow(/^trustgate: issuers\[0\]\.jwksUri is undefined/)
    // The honest twin: the variable is set.
    env.HS_SECRET = SECRET
    expect(() =>
      createVerifier({
        logger,
        issuers: [
          { issuer: 'https://legacy.example', audience: 'api', secret: env.HS_SECRET ?? '' },
        ],
      }),
    ).not.toThrow()
  })

  it('lists the supported algorithms for an unsupported algorithms entry', () => {
    expect(build([{ ...jwksIssuer, algorithms: ['RS265'] }])).toThrow(
      /^trustgate: issuers\[0\]\.algorithms\[0\] is not a supported algorithm: use RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384, ES512, EdDSA, HS256, HS384, HS512$/,
    )
  })

  it('starts every configuration message with trustgate:', () => {
    const bad: unknown[][] = [
      [[]],
      [[null]],
      [[{ issuer: 'https://idp.example', audience: 'api' }]],
      [[{ ...jwksIssuer, secret: SECRET }]],
      [[{ ...jwksIssuer, audience: [] }]],
      [[{ ...jwksIssuer, algorithms: ['none'] }]],
      [[{ ...jwksIssuer, jwksUri: 'http://idp.example/jwks' }]],
      [[jwksIssuer], { realm: '"' }],
      [[jwksIssuer], { logger: {} }],
      [[jwksIssuer], { tokenCache: 'off' }],
    ]
    for (const [issuers, options] of bad) {
      expect(build(issuers as unknown[], options as Record<string, unknown>)).toThrow(
        /^trustgate: /,
      )
    }
    expect(() => createVerifier(undefined as unknown as VerifierOptions)).toThrow(/^trustgate: /)
    // The start-up checks of other factories too.
    expect(() => checkScopeList([], 'requireScopes')).toThrow(/^trustgate: requireScopes needs/)
    expect(() => checkScopeList(['a b'], 'scopes')).toThrow(/^trustgate: scopes\[0\] must be/)
    expect(() => createMemoryReplayStore({ max: 0 })).toThrow(/^trustgate: max must be/)
    expect(() => createErrorFactory('"')).toThrow(/^trustgate: realm/)
  })
})

describe('unknown option names in the nested options other modules validate', () => {
  it('throws for a misspelt resolveIssuerOptions name; the honest twin builds', () => {
    const resolveIssuer = () => null
    expect(build([jwksIssuer], { resolveIssuer, resolveIssuerOptions: { maxAgeMs: 1 } })).toThrow(
      /^trustgate: resolveIssuerOptions\.maxAgeMs is not an option \(did you mean maxAge\?\)/,
    )
    expect(() =>
      createVerifier({
        logger,
        issuers: [jwksIssuer],
        resolveIssuer,
        resolveIssuerOptions: { max: 1, maxAge: 1, nullMaxAge: 1, callsPerSecond: 1 },
      }),
    ).not.toThrow()
  })
})
