package main

import (
	"context"
	"io"

	"github.com/sfsync/sfsync/internal/sfemu"
)

func emulator(ctx context.Context, args []string, stdout io.Writer) error {
	return sfemu.Main(ctx, args, stdout)
}
