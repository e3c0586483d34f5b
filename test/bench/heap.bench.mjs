/**
 * Heap benchmark: 1,000,000 distinct valid tokens through one verifier with the default
 * verified-token cache, and the memory it keeps. HS256 tokens signed with node:crypto's HMAC, so
 * that minting a million valid tokens takes seconds (RS256 signing would take many minutes); each
 * token has its own `jti` and `sub`, so each is a new cache entry. The cache is bounded by entry
 * count (TOKEN_CACHE_MAX) and by estimated size (TOKEN_CACHE_MAX_BYTES).
 *
 * The same workload runs twice, each in a fresh process: with the default cache, and with
 * `tokenCache: false`. Whatever a million verifications cost the runtime anyway (V8's young
 * generation, malloc arenas) shows in both; the difference is what the cache costs. The run passes
 * if the heap the cache keeps stays under TOKEN_CACHE_MAX_BYTES, and the peak resident memory
 * over the cache-off run's peak under TOKEN_CACHE_MAX_BYTES + YOUNG_GENERATION_BYTES: entries that
 * survive a scavenge make V8 grow its young generation to its maximum (semi-spaces of 16 MiB by
 * default on 64-bit Node 20, three of them committed at most), which it does not do when nothing
 * survives.
 *
 *   node --expose-gc heap.bench.mjs [--tokens 1000000]
 */
import { parseArgs } from 'node:util'
import { createVerifier, TOKEN_CACHE_MAX, TOKEN_CACHE_MAX_BYTES } from '@trustgate/core'
import { AUDIENCE, ISSUER, SECRET, claims, signToken, silentLogger } from './fixtures.mjs'

import { execFileSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const { values: args } = parseArgs({
  options: { tokens: { type: 'string', default: '1000000' }, mode: { type: 'string' } },
})
const TOTAL = Number(args.tokens)
const MiB = 1024 * 1024
const YOUNG_GENERATION_BYTES = 3 * 16 * MiB

// Payload shapes whose heap weighs much more, or much less, than their token's length: the
// cache's size estimate must hold the heap under the bound for each of them.
const SHAPES = {
  'array of 1500 empty objects': () => ({ o: Array.from({ length: 1500 }, () => ({})) }),
  'array of 3000 small numbers': () => ({ n: Array.from({ length: 3000 }, (_, k) => k % 10) }),
  '1000 scp entries': () => ({ scp: Array.from({ length: 1000 }, (_, k) => `s${k}`) }),
  '3000 one-character scopes': () => ({
    scope: Array.from({ length: 3000 }, (_, k) => String.fromCharCode(33 + (k % 90))).join(' '),
  }),
  'an 8000-character claim': (i) => ({ blob: 'x'.repeat(8000) + i }),
}

if (args.mode === 'shapes') {
  await shapes()
} else if (args.mode !== undefined) {
  await run()
} else {
  const child = (mode) =>
    JSON.parse(
      execFileSync(
        process.execPath,
        ['--expose-gc', fileURLToPath(import.meta.url), '--tokens', String(TOTAL), '--mode', mode],
        { stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 16 * MiB },
      ).toString(),
    )
  const on = child('on')
  const off = child('off')
  const shaped = child('shapes')
  report(on, off, shaped)
}

async function shapes() {
  const results = []
  for (const [name, make] of Object.entries(SHAPES)) {
    const verifier = createVerifier({
      issuers: [{ issuer: ISSUER, audience: AUDIENCE, secret: SECRET }],
      logger: silentLogger,
    })
    globalThis.gc()
    const base = process.memoryUsage().heapUsed
    let length = 0
    // Enough tokens to fill the cache to its size bound several times over.
    for (let i = 0; i < 6000; i++) {
      const token = signToken('HS256', SECRET, claims(i, make(i)))
      length = token.length
      await verifier.verify(token)
    }
    globalThis.gc()
    results.push({ name, length, heap: process.memoryUsage().heapUsed - base })
    await verifier.verify(signToken('HS256', SECRET, claims(0, make(0))))
  }
  process.stdout.write(JSON.stringify(results))
}

async function run() {
  const gc = globalThis.gc ?? (() => {})
  if (globalThis.gc === undefined) console.warn('run with --expose-gc for settled numbers')

  const MiB = 1024 * 1024
  const mem = () => {
    gc()
    const { rss, heapUsed, heapTotal } = process.memoryUsage()
    return { rss, heapUsed, heapTotal }
  }

  const verifier = createVerifier({
    issuers: [{ issuer: ISSUER, audience: AUDIENCE, secret: SECRET }],
    logger: silentLogger,
    ...(args.mode === 'off' ? { tokenCache: false } : {}),
  })
  // Warm the code paths, then take the baseline.
  for (let i = 0; i < 1000; i++) await verifier.verify(signToken('HS256', SECRET, claims(-i - 1)))
  const base = mem()
  const started = Date.now()
  let sample = ''
  let atCapacity
  const rows = []
  for (let i = 1; i <= TOTAL; i++) {
    const token = signToken(
      'HS256',
      SECRET,
      claims(i, { name: `User number ${i}`, tenant: 'bench' }),
    )
    if (i === 1) sample = token
    await verifier.verify(token)
    if (i === TOKEN_CACHE_MAX) atCapacity = mem()
    if (i % (TOTAL / 10) === 0) {
      const now = mem()
      rows.push({ tokens: i, rss: now.rss - base.rss, heap: now.heapUsed - base.heapUsed })
    }
  }
  const seconds = (Date.now() - started) / 1000
  const end = mem()
  // Keep the verifier, and so its cache, alive up to the last measurement.
  await verifier.verify(sample)
  process.stdout.write(
    JSON.stringify({ base, atCapacity, end, rows, seconds, sampleLength: sample.length }),
  )
}

function report(on, off, shaped) {
  const perEntry = (on.atCapacity.heapUsed - on.base.heapUsed) / TOKEN_CACHE_MAX
  console.log(
    `${TOTAL.toLocaleString('en-US')} distinct valid HS256 tokens of ${on.sampleLength} characters, ` +
      `${on.seconds.toFixed(1)} s with the cache, ${off.seconds.toFixed(1)} s without; ` +
      `cache max ${TOKEN_CACHE_MAX} entries / ${TOKEN_CACHE_MAX_BYTES / MiB} MiB estimated\n`,
  )
  console.log(
    '| tokens verified | heap kept, cache on (MiB) | RSS growth, cache on (MiB) | RSS growth, cache off (MiB) |',
  )
  console.log('|---:|---:|---:|---:|')
  for (const [k, r] of on.rows.entries()) {
    const o = off.rows[k]
    console.log(
      `| ${r.tokens.toLocaleString('en-US')} | ${(r.heap / MiB).toFixed(1)} | ${(r.rss / MiB).toFixed(1)} | ${(o.rss / MiB).toFixed(1)} |`,
    )
  }
  console.log(
    `\nheap per cache entry, measured at ${TOKEN_CACHE_MAX} entries: ${Math.round(perEntry)} bytes ` +
      `(the size estimate counts ${on.sampleLength * 2 + 1024} bytes for this token)`,
  )
  const heapKept = on.end.heapUsed - on.base.heapUsed
  const peak = (run) => Math.max(...run.rows.map((r) => r.rss), run.end.rss - run.base.rss)
  const rssOverOff = peak(on) - peak(off)
  const rssBound = TOKEN_CACHE_MAX_BYTES + YOUNG_GENERATION_BYTES
  const shapesOk = shaped.every((r) => r.heap <= TOKEN_CACHE_MAX_BYTES)
  const ok = heapKept <= TOKEN_CACHE_MAX_BYTES && rssOverOff <= rssBound && shapesOk
  console.log(
    `after ${TOTAL.toLocaleString('en-US')} tokens: heap kept +${(heapKept / MiB).toFixed(1)} MiB, ` +
      `peak resident memory +${(peak(on) / MiB).toFixed(1)} MiB over its baseline, ` +
      `+${(rssOverOff / MiB).toFixed(1)} MiB over the cache-off run's peak; ` +
      `V8 heap committed +${((on.end.heapTotal - on.base.heapTotal) / MiB).toFixed(1)} MiB; ` +
      `bounds ${TOKEN_CACHE_MAX_BYTES / MiB} MiB of heap, ${rssBound / MiB} MiB resident: ` +
      `${ok ? 'PASS' : 'FAIL'}`,
  )
  console.log(
    `\n6,000 distinct tokens of each payload shape through a default cache (HS256):\n\n` +
      '| payload | token length | heap kept (MiB) |\n|---|---:|---:|',
  )
  for (const r of shaped) {
    console.log(
      `| ${r.name} | ${r.length.toLocaleString('en-US')} | ${(r.heap / MiB).toFixed(1)} |`,
    )
  }
  console.log(
    `heap kept under ${TOKEN_CACHE_MAX_BYTES / MiB} MiB for every shape: ${shapesOk ? 'PASS' : 'FAIL'}`,
  )
  process.exitCode = ok ? 0 : 1
}
