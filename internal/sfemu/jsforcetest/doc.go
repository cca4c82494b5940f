// Package jsforcetest checks that the Salesforce emulator (package sfemu)
// works, unchanged, with a Salesforce client written by other people:
// jsforce from npm, run by Node from a Go test. The Go test starts the
// emulator, runs client.mjs and compares what jsforce saw with the
// emulator's own state read through its Go API.
//
// jsforce is pinned to 3.10.16, the newest 3.x that runs on Node 18 and 20
// (the Node of this project's machines): 3.10.19 and later depend on
// undici 8, which needs Node 22.19 or newer and fails to load on Node 20.
package jsforcetest
