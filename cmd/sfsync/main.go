// Command sfsync is two-way contact sync between the platform's contact
// store and Salesforce. Run `sfsync help` for the subcommands.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

const usage = `sfsync — two-way contact sync between the platform and Salesforce

Usage: sfsync <command> [flags]

Service:
  serve        run the web server (admin UI, JSON API) and the sync workers
  worker       run only the sync workers (several may share one PostgreSQL)
  demo         run the whole product with an embedded Salesforce emulator (try it first)
  migrate      apply database migrations and exit
  rotate-key   re-encrypt stored tokens with the first key of SFSYNC_SECRET_KEY
  version      print the version

Administration:
  tenant create --name N [--language zh-TW|en] [--phone-region TW] [--salesforce-addon] [--social-cdp]
  tenant list
  tenant set-plan --tenant ID [--salesforce-addon=true|false] [--social-cdp=true|false]
  tenant set-budget --tenant ID --share 0.5   (share of the org's daily API allocation sfsync may use)
  tenant drift-check --tenant ID   (check for and repair drift now, SPEC Y2; the workers run it)
  admin create --tenant ID --email E [--password P]   (password read from SFSYNC_ADMIN_PASSWORD if not given)
  apikey create --tenant ID [--name N]
  apikey revoke --id KEY_ID

Tools:
  emulator     run the Salesforce API emulator on its own, paired with serve by default
               (--addr 127.0.0.1:PORT --contacts N --seed FILE.csv --tls; see sfsync emulator --help)

Every command accepts the service settings as flags or SFSYNC_* environment
variables; run "sfsync serve --help" to list them.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Getenv); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		fmt.Fprintln(os.Stderr, "sfsync:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout io.Writer, getenv func(string) string) error {
	if len(args) == 0 {
		fmt.Fprint(stdout, usage)
		return nil
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "serve":
		return serve(ctx, rest, getenv)
	case "worker":
		return worker(ctx, rest, getenv)
	case "demo":
		return runDemo(ctx, rest, stdout)
	case "migrate":
		return migrate(ctx, rest, stdout, getenv)
	case "rotate-key":
		return rotateKey(ctx, rest, stdout, getenv)
	case "version", "--version":
		fmt.Fprintln(stdout, "sfsync", version())
		return nil
	case "tenant", "admin", "apikey":
		return adminCommand(ctx, cmd, rest, stdout, getenv)
	case "emulator":
		return emulator(ctx, rest, stdout, getenv)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	return fmt.Errorf("unknown command %q; run sfsync help", cmd)
}
