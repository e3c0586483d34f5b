// Packs the workspace packages as a release would (pnpm pack: `workspace:^` becomes a real range,
// .pnpmfile.cjs drops devDependencies and scripts), installs only the tarballs into fresh
// consumer projects in a temporary folder, and runs one real request through each:
//   ts-esm-fastify    TypeScript ESM, module nodenext, Fastify 5
//   ts-cjs-express5   TypeScript CommonJS, module nodenext, Express 5
//   js-cjs-express4   plain JavaScript CommonJS, Express 4
//   ts-bundler        TypeScript, moduleResolution bundler, Fastify 5
// Usage: node test/consumers/run.mjs [project ...]. Exits non-zero on the first failure.
import { execFileSync } from 'node:child_process'
import { cpSync, mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const here = dirname(fileURLToPath(import.meta.url))
const root = join(here, '..', '..')
const work = mkdtempSync(join(tmpdir(), 'trustgate-consumers-'))
const packs = join(work, 'packs')
const only = process.argv.slice(2)

const PROJECTS = {
  'ts-esm-fastify': ['fastify@^5', 'typescript@~5.9.3', '@types/node@^20.19.0'],
  'ts-cjs-express5': [
    'express@^5',
    '@types/express@^5',
    'typescript@~5.9.3',
    '@types/node@^20.19.0',
  ],
  'js-cjs-express4': ['express@^4.21'],
  'ts-bundler': ['fastify@^5', 'typescript@~5.9.3', '@types/node@^20.19.0'],
}

function run(cmd, args, cwd, quiet = false) {
  execFileSync(cmd, args, { cwd, stdio: ['ignore', quiet ? 'ignore' : 'inherit', 'inherit'] })
}

try {
  const pnpm = ['-y', 'pnpm@10.34.8']
  run(
    'npx',
    [...pnpm, '-r', '--filter', './packages/*', 'pack', '--pack-destination', packs],
    root,
    true,
  )
  const tarballs = readdirSync(packs).map((name) => join(packs, name))
  // Only the packages a consumer of the adapters needs: core and the two adapters.
  const wanted = (names) =>
    tarballs.filter((file) => names.some((name) => file.includes(`trustgate-${name}-`)))
  for (const [name, deps] of Object.entries(PROJECTS)) {
    if (only.length > 0 && !only.includes(name)) continue
    const dir = join(work, name)
    cpSync(join(here, name), dir, { recursive: true })
    // The token helper sits at the project's root, outside what tsc compiles.
    cpSync(join(here, 'token.cjs'), join(dir, 'token.cjs'))
    cpSync(join(here, 'token.d.cts'), join(dir, 'token.d.cts'))
    const adapter = name.includes('express') ? 'express' : 'fastify'
    const started = Date.now()
    run(
      'npm',
      [
        'install',
        '--no-audit',
        '--no-fund',
        '--loglevel=error',
        ...wanted(['core', adapter]),
        ...deps,
      ],
      dir,
    )
    run('npm', ['run', '--silent', 'check'], dir)
    console.log(`consumer ${name}: ok (${String(Date.now() - started)} ms)`)
  }
} finally {
  rmSync(work, { recursive: true, force: true })
}
