// Writes package-lock.json from the npm-shrinkwrap.json that the pinned
// @salesforce/cli release ships, so `npm ci` installs exactly the tree
// Salesforce released it with (see doc.go for why npm does not do this by
// itself). Run it here after changing the version in package.json:
//
//	node lock-from-shrinkwrap.mjs && npm ci --ignore-scripts
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const pkg = JSON.parse(readFileSync('package.json', 'utf8'));
const version = pkg.dependencies['@salesforce/cli'];
const dir = mkdtempSync(join(tmpdir(), 'sfcli-pack-'));
try {
  const packed = JSON.parse(execFileSync('npm', ['pack', `@salesforce/cli@${version}`, '--json', '--pack-destination', dir], { encoding: 'utf8' }))[0];
  execFileSync('tar', ['-xzf', join(dir, packed.filename), '-C', dir]);
  const shrinkwrap = JSON.parse(readFileSync(join(dir, 'package', 'npm-shrinkwrap.json'), 'utf8'));
  const cli = JSON.parse(readFileSync(join(dir, 'package', 'package.json'), 'utf8'));
  const root = shrinkwrap.packages[''];
  const packages = {
    '': { name: pkg.name, dependencies: pkg.dependencies },
    'node_modules/@salesforce/cli': {
      version: cli.version,
      resolved: `https://registry.npmjs.org/@salesforce/cli/-/cli-${cli.version}.tgz`,
      integrity: packed.integrity,
      hasInstallScript: root.hasInstallScript,
      license: root.license,
      dependencies: root.dependencies,
      bin: root.bin,
      engines: root.engines,
    },
  };
  for (const [path, entry] of Object.entries(shrinkwrap.packages)) {
    // Development-only packages of the CLI are not installed for users.
    if (path === '' || entry.dev || entry.extraneous) continue;
    const { devOptional, ...rest } = entry;
    packages[`node_modules/@salesforce/cli/${path}`] = rest;
  }
  const lock = { name: pkg.name, lockfileVersion: 3, requires: true, packages };
  writeFileSync('package-lock.json', JSON.stringify(lock, null, 2) + '\n');
  console.log(`package-lock.json: @salesforce/cli ${cli.version}, ${Object.keys(packages).length - 2} packages from its shrinkwrap`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
