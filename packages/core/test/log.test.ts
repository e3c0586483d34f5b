import { describe, expect, it } from 'vitest'
import {
  createDefaultLogger,
  LOG_SAMPLE_LINES,
  LOG_SAMPLE_WINDOW_MS,
  LogSampler,
  MAX_LOGGED_ISS,
  sanitize,
} from '../src/log.js'

describe('sanitize', () => {
  it('escapes control characters as \\uXXXX so they cannot split or forge lines', () => {
    expect(sanitize('evil\n{"level":60}', 256)).toBe('evil\\u000a{"level":60}')
    expect(sanitize('a\r\tb\u0000\u007f\u0085\u2028\u2029', 256)).toBe(
      'a\\u000d\\u0009b\\u0000\\u007f\\u0085\\u2028\\u2029',
    )
  })

  it('cuts a long value to the limit', () => {
    expect(sanitize('x'.repeat(1000), MAX_LOGGED_ISS)).toBe('x'.repeat(256))
    expect(sanitize('short', MAX_LOGGED_ISS)).toBe('short')
  })

  it('turns a value that is not a string into undefined', () => {
    expect(sanitize(42, 10)).toBeUndefined()
    expect(sanitize({ toString: () => 'x' }, 10)).toBeUndefined()
    expect(sanitize(undefined, 10)).toBeUndefined()
  })
})

describe('LogSampler', () => {
  it('lets the first lines of a window through and counts the rest', () => {
    const sampler = new LogSampler(2, 1000)
    expect(sampler.take(0)).toBe(0)
    expect(sampler.take(10)).toBe(0)
    expect(sampler.take(20)).toBeUndefined()
    expect(sampler.take(999)).toBeUndefined()
    // The next window's first line carries the count.
    expect(sampler.take(1000)).toBe(2)
    expect(sampler.take(1001)).toBe(0)
    expect(sampler.take(1002)).toBeUndefined()
  })

  it('defaults to a window of at most 5 s', () => {
    expect(LOG_SAMPLE_WINDOW_MS).toBeLessThanOrEqual(5000)
    const sampler = new LogSampler()
    let written = 0
    let suppressed = 0
    for (let i = 0; i < 1000; i++) {
      const count = sampler.take(i)
      if (count !== undefined) {
        written++
        suppressed += count
      }
    }
    expect(written).toBe(LOG_SAMPLE_LINES)
    const later = sampler.take(LOG_SAMPLE_WINDOW_MS)
    expect(later).toBe(1000 - LOG_SAMPLE_LINES)
    expect(written + 1 + suppressed + (later ?? 0)).toBe(1001)
  })
})

describe('createDefaultLogger', () => {
  it('is a pino logger at level info', () => {
    const logger = createDefaultLogger()
    // The declared type is the narrow Logger interface; the object is pino's.
    const level = (logger as { level?: unknown }).level
    expect(level).toBe('info')
    expect(typeof logger.warn).toBe('function')
  })
})
