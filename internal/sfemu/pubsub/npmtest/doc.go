// Package npmtest checks that the emulator's Pub/Sub API (package
// sfemu/pubsub) works, unchanged, with a client written by other people:
// salesforce-pubsub-api-client from npm (pinned to 5.5.2 in
// package-lock.json), run by Node from a Go test. The test skips loudly
// when node or npm is missing, and fails instead when CI is set.
package npmtest
