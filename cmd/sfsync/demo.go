package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/sfsync/sfsync/internal/demo"
)

func runDemo(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:8080", "sfsync's listen address; the emulated Salesforce takes the next port")
	emuAddr := fs.String("emulator-addr", "", "the emulated Salesforce's listen address (default: next port)")
	contacts := fs.Int("contacts", 5000, "Salesforce contacts to seed")
	dataDir := fs.String("data-dir", "", "keep the demo's database here (default: a temporary directory)")
	verbose := fs.Bool("v", false, "log every request and job")
	if err := fs.Parse(args); err != nil {
		return err
	}
	level := slog.LevelWarn
	if *verbose {
		level = slog.LevelDebug
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	d, err := demo.Start(ctx, demo.Options{Addr: *addr, EmulatorAddr: *emuAddr, Contacts: *contacts, DataDir: *dataDir, Logger: logger})
	if err != nil {
		return err
	}
	defer d.Close()
	fmt.Fprint(stdout, d.Banner(*contacts))
	<-ctx.Done()
	fmt.Fprintln(stdout, "\nstopping the demo")
	return nil
}
