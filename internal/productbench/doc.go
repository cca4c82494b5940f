// Package productbench holds the product-path benchmarks (issue 14): the
// built sfsync binary runs as `sfsync emulator` and `sfsync serve` in
// processes of their own, and the benchmark drives them only through what
// a user has: the CLI, the admin login, the JSON API and the emulator's
// OAuth login page. Beside the first sync, jsforce 3.x (an independent
// client, download.mjs) downloads the same org with REST autoFetch in the
// same run, so the ratio of the two holds on a loaded machine too. The
// package has no code of its own outside its tests.
package productbench
