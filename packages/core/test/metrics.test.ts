import { metrics as otel } from '@opentelemetry/api'
import {
  AggregationTemporality,
  DataPointType,
  MeterProvider,
  MetricReader,
  type DataPoint,
} from '@opentelemetry/sdk-metrics'
import { afterEach, beforeAll, describe, expect, it } from 'vitest'
import { METER_NAME, METRIC_NAMES, resolveMeterProvider } from '../src/metrics.js'
import { createVerifier } from '../src/verifier.js'
import { createKey, jwks, nowSeconds, sign, type TestKey } from '../../../test/helpers/keys.js'
import { captureLogger } from '../../../test/helpers/log.js'

const ISS = 'https://issuer.test'

/** A reader that collects on demand. */
class TestReader extends MetricReader {
  constructor() {
    super({ aggregationTemporalitySelector: () => AggregationTemporality.CUMULATIVE })
  }
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}
}

async function points(reader: TestReader, name: string): Promise<DataPoint<unknown>[]> {
  const { resourceMetrics } = await reader.collect()
  const scope = resourceMetrics.scopeMetrics.find((s) => s.scope.name === METER_NAME)
  const metric = scope?.metrics.find((m) => m.descriptor.name === name)
  return metric?.dataPoints ?? []
}

let key: TestKey
beforeAll(async () => {
  key = await createKey('ES256')
})

afterEach(() => {
  otel.disable()
})

function token(claims: Record<string, unknown> = {}): Promise<string> {
  return sign(key, { iss: ISS, aud: 'api', sub: 'alice', ...claims })
}

describe('OpenTelemetry metrics', () => {
  it('counts verifications by issuer, outcome, code and reason, and cache hits and misses', async () => {
    const reader = new TestReader()
    const meterProvider = new MeterProvider({ readers: [reader] })
    const verifier = createVerifier({
      logger: captureLogger().logger,
      issuers: [{ issuer: ISS, audience: 'api', keys: jwks(key) }],
      metrics: { meterProvider },
    })
    const good = await token()
    await verifier.verify(good)
    await verifier.verify(good)
    await expect(verifier.verify(await token({ exp: nowSeconds() - 600 }))).rejects.toThrow()
    await expect(verifier.verify(await token({ iss: 'https://evil.test' }))).rejects.toThrow()

    const counted = await points(reader, METRIC_NAMES.verifications)
    const byLabels = Object.fromEntries(
      counted.map((p) => [
        [
          p.attributes['trustgate.issuer'],
          p.attributes['trustgate.outcome'],
          p.attributes['trustgate.code'],
          p.attributes['trustgate.reason'],
        ].join(' '),
        p.value,
      ]),
    )
    expect(byLabels).toEqual({
      [`${ISS} accepted none none`]: 2,
      [`${ISS} refused invalid_token expired`]: 1,
      'none refused invalid_token untrusted_issuer': 1,
    })
    const lookups = await points(reader, METRIC_NAMES.tokenCacheLookups)
    expect(
      Object.fromEntries(lookups.map((p) => [p.attributes['trustgate.cache.result'], p.value])),
    ).toEqual({ hit: 1, miss: 3 })
    const durations = await points(reader, METRIC_NAMES.verifyDuration)
    const count = durations.reduce((sum, p) => sum + (p.value as { count: number }).count, 0)
    expect(count).toBe(4)
    const { resourceMetrics } = await reader.collect()
    const scope = resourceMetrics.scopeMetrics.find((s) => s.scope.name === METER_NAME)
    const histogram = scope?.metrics.find((m) => m.descriptor.name === METRIC_NAMES.verifyDuration)
    expect(histogram?.descriptor.unit).toBe('s')
    expect(histogram?.dataPointType).toBe(DataPointType.HISTOGRAM)
    // The attacker's iss is no label value.
    expect(JSON.stringify(resourceMetrics)).not.toContain('evil.test')
    await meterProvider.shutdown()
  })

  it('records through the global MeterProvider with metrics: true', async () => {
    const reader = new TestReader()
    const meterProvider = new MeterProvider({ readers: [reader] })
    otel.setGlobalMeterProvider(meterProvider)
    const verifier = createVerifier({
      logger: captureLogger().logger,
      issuers: [{ issuer: ISS, audience: 'api', keys: jwks(key) }],
      metrics: true,
    })
    await verifier.verify(await token())
    const counted = await points(reader, METRIC_NAMES.verifications)
    expect(counted.map((p) => p.value)).toEqual([1])
    await meterProvider.shutdown()
  })

  it('refuses a bad metrics option at start-up, naming the field', () => {
    expect(() => resolveMeterProvider('yes')).toThrow(
      'trustgate: metrics must be true, false or { meterProvider }',
    )
    expect(() => resolveMeterProvider({ meterProvider: {} })).toThrow(
      'trustgate: metrics.meterProvider must be an OpenTelemetry MeterProvider',
    )
    expect(() => resolveMeterProvider({ provider: {} })).toThrow(
      'trustgate: metrics.provider is not an option',
    )
    expect(resolveMeterProvider(undefined)).toBeUndefined()
    expect(resolveMeterProvider(false)).toBeUndefined()
  })
})
