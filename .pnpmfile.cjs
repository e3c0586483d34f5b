// Published manifests carry what a consumer installs and nothing else: pnpm pack/publish already
// turns `workspace:^` into a real range; this drops what only this repository uses.
// (The beforePacking hook needs pnpm >= 10.28; packageManager pins 10.34.8.)
module.exports = {
  hooks: {
    beforePacking(pkg) {
      delete pkg.devDependencies
      delete pkg.scripts
      return pkg
    },
  },
}
