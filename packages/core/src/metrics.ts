/**
 * OpenTelemetry metrics, through the OpenTelemetry API only (an SDK and exporter are the app's
 * choice). `@opentelemetry/api` is an optional peer dependency: it is loaded only for
 * `metrics: true` (the global MeterProvider), and not at all for `metrics: { meterProvider }` or
 * without the option. Every attribute value is bounded: configured issuers, fixed codes, reasons
 * and outcomes; never a token's `iss` or any other token content.
 *
 * Names and units follow the OpenTelemetry conventions (dotted lower-case names, UCUM units,
 * durations in seconds, no `_total` suffix: the Prometheus exporter adds it).
 */
import { createRequire } from 'node:module'
import type { JwksMessage, VerifyMessage } from './observe.js'
import { fail } from './options.js'

/** Attribute values of a metric point. */
export type MetricAttributes = Record<string, string | number | boolean>

/** The part of an OpenTelemetry `Meter` trustgate uses: `@opentelemetry/api`'s fits. */
export interface MeterLike {
  createCounter(
    name: string,
    options?: { description?: string; unit?: string },
  ): { add(value: number, attributes?: MetricAttributes): void }
  createHistogram(
    name: string,
    options?: {
      description?: string
      unit?: string
      advice?: { explicitBucketBoundaries?: number[] }
    },
  ): { record(value: number, attributes?: MetricAttributes): void }
  createObservableGauge(
    name: string,
    options?: { description?: string; unit?: string },
  ): {
    addCallback(
      callback: (result: { observe(value: number, attributes?: MetricAttributes): void }) => void,
    ): void
  }
}

/** The part of an OpenTelemetry `MeterProvider` trustgate uses: `@opentelemetry/api`'s fits. */
export interface MeterProviderLike {
  getMeter(name: string, version?: string): MeterLike
}

/**
 * `true`: record through the global MeterProvider of `@opentelemetry/api` (which must be
 * installed); `{ meterProvider }`: through that one. Off by default.
 */
export type MetricsOptions = boolean | { meterProvider?: MeterProviderLike }

/** The state of one issuer's keys, for the observable gauges. */
export interface KeyGaugeState {
  readonly issuer: string
  readonly keys: number
  /** Epoch milliseconds of the last successful fetch, or `null` (never, or static keys). */
  readonly lastFetchAt: number | null
}

/** The metric names, as documented in the README. */
export const METRIC_NAMES = Object.freeze({
  verifications: 'trustgate.verifications',
  verifyDuration: 'trustgate.verify.duration',
  tokenCacheLookups: 'trustgate.token_cache.lookups',
  jwksFetches: 'trustgate.jwks.fetches',
  jwksKeys: 'trustgate.jwks.keys',
  jwksAge: 'trustgate.jwks.age',
})

/** The instrumentation scope: the package name, as OpenTelemetry asks of libraries. */
export const METER_NAME = '@trustgate/core'

// From 10 µs (a cache hit) to 5 s (a verification that waited for a JWKS fetch).
const DURATION_BUCKETS_S = [
  0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
  0.25, 0.5, 1, 2.5, 5,
]

/** Records one verifier's outcomes. */
export interface VerifierMetrics {
  verification(message: VerifyMessage): void
  jwks(message: JwksMessage): void
}

/**
 * Validates the `metrics` option and returns the MeterProvider to use, or `undefined` when off.
 * `metrics: true` loads `@opentelemetry/api` here, synchronously, and only here.
 */
export function resolveMeterProvider(value: unknown): MeterProviderLike | undefined {
  if (value === undefined || value === false) return undefined
  if (value === true) {
    let api: { metrics: { getMeterProvider(): MeterProviderLike } }
    try {
      api = createRequire(import.meta.url)('@opentelemetry/api') as typeof api
    } catch {
      fail(
        'metrics',
        'is true, which needs the optional peer dependency @opentelemetry/api: install it, or pass metrics.meterProvider',
      )
    }
    return api.metrics.getMeterProvider()
  }
  if (typeof value !== 'object' || value === null) {
    fail('metrics', 'must be true, false or { meterProvider }')
  }
  for (const name of Object.keys(value)) {
    if (name !== 'meterProvider') fail(`metrics.${name}`, 'is not an option')
  }
  const { meterProvider } = value as { meterProvider?: unknown }
  if (meterProvider === undefined) return resolveMeterProvider(true)
  if (
    typeof meterProvider !== 'object' ||
    meterProvider === null ||
    typeof (meterProvider as { getMeter?: unknown }).getMeter !== 'function'
  ) {
    fail('metrics.meterProvider', 'must be an OpenTelemetry MeterProvider (with getMeter())')
  }
  return meterProvider as MeterProviderLike
}

/**
 * Creates the instruments of one verifier. `state` is read only when a reader collects: the
 * gauges cost nothing between scrapes.
 */
export function createMetrics(
  provider: MeterProviderLike,
  state: () => Iterable<KeyGaugeState>,
): VerifierMetrics {
  const meter = provider.getMeter(METER_NAME)
  const verifications = meter.createCounter(METRIC_NAMES.verifications, {
    description: 'Token verifications, by issuer, outcome, code and reason',
    unit: '{verification}',
  })
  const duration = meter.createHistogram(METRIC_NAMES.verifyDuration, {
    description: 'Duration of a token verification',
    unit: 's',
    advice: { explicitBucketBoundaries: DURATION_BUCKETS_S },
  })
  const lookups = meter.createCounter(METRIC_NAMES.tokenCacheLookups, {
    description: 'Verified-token cache lookups, by result (hit or miss)',
    unit: '{lookup}',
  })
  const fetches = meter.createCounter(METRIC_NAMES.jwksFetches, {
    description: 'JWKS fetches, by issuer and outcome (success or failure)',
    unit: '{fetch}',
  })
  meter
    .createObservableGauge(METRIC_NAMES.jwksKeys, {
      description: 'Verification keys each issuer serves',
      unit: '{key}',
    })
    .addCallback((result) => {
      for (const entry of state()) result.observe(entry.keys, { 'trustgate.issuer': entry.issuer })
    })
  meter
    .createObservableGauge(METRIC_NAMES.jwksAge, {
      description: 'Seconds since the last successful JWKS fetch of each remote issuer',
      unit: 's',
    })
    .addCallback((result) => {
      const now = Date.now()
      for (const entry of state()) {
        if (entry.lastFetchAt !== null) {
          result.observe((now - entry.lastFetchAt) / 1000, { 'trustgate.issuer': entry.issuer })
        }
      }
    })

  return {
    verification(message) {
      const issuer = message.issuer ?? 'none'
      verifications.add(1, {
        'trustgate.issuer': issuer,
        'trustgate.outcome': message.outcome,
        'trustgate.code': message.code ?? 'none',
        'trustgate.reason': message.reason ?? 'none',
      })
      duration.record(message.durationMs / 1000, {
        'trustgate.issuer': issuer,
        'trustgate.outcome': message.outcome,
        'trustgate.cached': message.cached,
      })
      lookups.add(1, { 'trustgate.cache.result': message.cached ? 'hit' : 'miss' })
    },
    jwks(message) {
      fetches.add(1, {
        'trustgate.issuer': message.issuer,
        'trustgate.outcome': message.event === 'failed' ? 'failure' : 'success',
      })
    },
  }
}
