package main

import (
	"context"
	"errors"
	"io"
)

func emulator(ctx context.Context, args []string, stdout io.Writer) error {
	return errors.New("emulator: not built yet")
}
