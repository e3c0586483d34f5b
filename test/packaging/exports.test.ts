/**
 * The packages as users get them: built `dist/` behind the `exports` map, loaded from a plain Node
 * process by `import` and by `require()` (Node >= 20.19 loads ESM synchronously).
 */
import { execFileSync } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
const packages = [
  '@trustgate/core',
  '@trustgate/fastify',
  '@trustgate/express',
  '@trustgate/cli',
] as const
const expected: Record<(typeof packages)[number], string> = {
  '@trustgate/core': 'createVerifier',
  '@trustgate/fastify': 'jwtAuth',
  '@trustgate/express': 'jwtAuth',
  '@trustgate/cli': 'run',
}

function run(file: string, source: string): string {
  // In examples/, the workspace links @trustgate/* as a user's node_modules would.
  const dir = mkdtempSync(join(root, 'examples', '.tmp-'))
  const path = join(dir, file)
  writeFileSync(path, source)
  try {
    return execFileSync(process.execPath, ['--no-warnings', path], {
      cwd: join(root, 'examples'),
      encoding: 'utf8',
    })
  } finally {
    execFileSync('rm', ['-rf', dir])
  }
}

describe('package exports', () => {
  it.each(packages)('%s loads with import from a plain ESM file', (name) => {
    const out = run(
      'load.mjs',
      `const m = await import('${name}'); console.log(typeof m.${expected[name]})`,
    )
    expect(out.trim()).toBe('function')
  })

  it.each(packages)('%s loads with require() from a CommonJS file', (name) => {
    const out = run(
      'load.cjs',
      `const m = require('${name}'); console.log(typeof m.${expected[name]})`,
    )
    expect(out.trim()).toBe('function')
  })

  it.each(packages)('%s ships types, and only dist/ through its exports map', (name) => {
    const require = createRequire(join(root, 'examples', 'package.json'))
    const manifest = require(`${name}/package.json`) as {
      exports: Record<string, { types: string; default: string }>
      files: string[]
    }
    // src/ ships for the source maps only: the exports map reaches nothing outside dist/.
    expect(manifest.files).toEqual(['dist', '!dist/.tsbuildinfo', 'src'])
    expect(manifest.exports['.']).toEqual({
      types: './dist/index.d.ts',
      default: './dist/index.js',
    })
  })
})
