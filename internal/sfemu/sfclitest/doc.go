// Package sfclitest checks that the Salesforce emulator (package sfemu)
// works, unchanged, with the Salesforce CLI (`sf`, npm @salesforce/cli),
// the command-line client most Salesforce projects script their CI with.
// The Go test starts the emulator over real HTTP, logs the CLI in with
// `sf org login access-token`, runs its org, data and sobject commands
// (Bulk API 2.0 ingest and query included) through os/exec and compares
// what they print with the emulator's own state read through its Go API.
//
// The CLI is pinned to 2.138.0, the newest release that runs on Node 20
// (the Node of this project's machines): 2.143.6 and later ship
// @jsforce/jsforce-node 3.10.17+, which needs undici 8 and Node 22.19.
//
// package-lock.json is the CLI's own npm-shrinkwrap.json (the dependency
// tree Salesforce released and tested 2.138.0 with) placed under
// node_modules/@salesforce/cli/, because npm resolves a fresh tree when
// the registry's metadata does not flag the shrinkwrap — and a fresh
// tree pulls jsforce-node 3.12 and undici 8, which fail to load on
// Node 20. To move to another CLI version, change package.json and run
// `node lock-from-shrinkwrap.mjs` here (it downloads the release with
// `npm pack` and writes package-lock.json), then `npm ci`.
//
// The test installs node_modules with `npm ci` when they do not match
// the lock (npm's cache makes repeated installs quick), skips loudly when
// node or npm is missing, and fails instead when CI is set.
package sfclitest
