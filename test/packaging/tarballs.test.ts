/**
 * The tarballs as a release makes them (`pnpm pack`, the command `changeset publish` runs under
 * pnpm): installable by npm, and carrying what a consumer needs and nothing else.
 * test/consumers/run.mjs (a CI step) installs them into fresh projects and serves a request.
 */
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
const work = mkdtempSync(join(tmpdir(), 'trustgate-pack-'))
const publishable = readdirSync(join(root, 'packages'))

interface Manifest {
  name: string
  dependencies?: Record<string, string>
  peerDependencies?: Record<string, string>
  peerDependenciesMeta?: Record<string, { optional?: boolean }>
  devDependencies?: unknown
  scripts?: unknown
  repository?: unknown
  homepage?: unknown
  bugs?: unknown
  keywords?: unknown
  engines?: { node?: string }
}

interface Unpacked {
  readonly manifest: Manifest
  readonly files: readonly string[]
  readonly dir: string
}

const unpacked = new Map<string, Unpacked>()

beforeAll(() => {
  const packs = join(work, 'packs')
  execFileSync(
    'npx',
    ['-y', 'pnpm@10.34.8', '-r', '--filter', './packages/*', 'pack', '--pack-destination', packs],
    { cwd: root, stdio: 'ignore' },
  )
  for (const tarball of readdirSync(packs)) {
    const dir = join(work, tarball.replace(/\.tgz$/, ''))
    execFileSync('mkdir', ['-p', dir])
    execFileSync('tar', ['xzf', join(packs, tarball), '-C', dir])
    const files = execFileSync('tar', ['tzf', join(packs, tarball)], { encoding: 'utf8' })
      .trim()
      .split('\n')
      .map((file) => file.replace(/^package\//, ''))
    const manifest = JSON.parse(
      readFileSync(join(dir, 'package', 'package.json'), 'utf8'),
    ) as Manifest
    unpacked.set(manifest.name.replace('@trustgate/', ''), { manifest, files, dir })
  }
}, 120_000)

afterAll(() => {
  rmSync(work, { recursive: true, force: true })
})

describe('published tarballs', () => {
  it('packs every package of the workspace', () => {
    expect([...unpacked.keys()].sort()).toEqual([...publishable].sort())
  })

  it.each(publishable)('%s depends on real version ranges, never workspace:', (name) => {
    const { manifest } = unpacked.get(name) as Unpacked
    const ranges = Object.values({ ...manifest.dependencies, ...manifest.peerDependencies })
    for (const range of ranges) expect(range).not.toMatch(/^workspace:/)
    const internal = Object.entries(manifest.dependencies ?? {}).filter(([dep]) =>
      dep.startsWith('@trustgate/'),
    )
    for (const [, range] of internal) expect(range).toMatch(/^\^\d+\.\d+\.\d+$/)
  })

  it.each(publishable)('%s ships no devDependencies, no scripts, no build info', (name) => {
    const { manifest, files } = unpacked.get(name) as Unpacked
    expect(manifest.devDependencies).toBeUndefined()
    expect(manifest.scripts).toBeUndefined()
    expect(files.filter((file) => file.includes('tsbuildinfo'))).toEqual([])
  })

  it.each(publishable)('%s has repository, homepage, bugs, keywords and engines', (name) => {
    const { manifest } = unpacked.get(name) as Unpacked
    expect(manifest.repository).toMatchObject({ directory: `packages/${name}` })
    expect(typeof manifest.homepage).toBe('string')
    expect(manifest.bugs).toBeDefined()
    expect(Array.isArray(manifest.keywords) && manifest.keywords.length > 0).toBe(true)
    // require(esm) is on by default from Node 20.19 and 22.12, not on 21 or 22.0-22.11.
    expect(manifest.engines?.node).toBe('>=20.19 <21 || >=22.12')
  })

  it.each(publishable)('%s ships the sources that its source maps point at', (name) => {
    const { files, dir } = unpacked.get(name) as Unpacked
    const maps = files.filter((file) => file.endsWith('.map'))
    expect(maps.length).toBeGreaterThan(0)
    for (const map of maps) {
      const { sources } = JSON.parse(readFileSync(join(dir, 'package', map), 'utf8')) as {
        sources: string[]
      }
      for (const source of sources) {
        expect(files).toContain(join(dirname(map), source))
      }
    }
  })

  it('makes @types/express an optional peer of the Express adapter', () => {
    const { manifest } = unpacked.get('express') as Unpacked
    expect(manifest.peerDependencies?.['@types/express']).toBeDefined()
    expect(manifest.peerDependenciesMeta?.['@types/express']?.optional).toBe(true)
  })
})
