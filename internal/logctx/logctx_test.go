package logctx

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
)

func TestHandlerAddsContextAttrs(t *testing.T) {
	t.Parallel()
	ctx := With(context.Background(), "tenant_id", "t_1", "job_id", int64(7))
	ctx = With(ctx, "run_id", int64(42), "job_id", int64(8))
	for _, tc := range []struct {
		name string
		log  func(l *slog.Logger)
		want map[string]any
		not  []string
	}{
		{"context attrs added", func(l *slog.Logger) { l.InfoContext(ctx, "m", "x", 1) },
			map[string]any{"tenant_id": "t_1", "run_id": float64(42), "job_id": float64(8), "x": float64(1)}, nil},
		{"no context, nothing added", func(l *slog.Logger) { l.Info("m") }, map[string]any{}, []string{"tenant_id", "run_id"}},
		{"the record's own value wins", func(l *slog.Logger) { l.InfoContext(ctx, "m", "tenant_id", "t_own") },
			map[string]any{"tenant_id": "t_own", "run_id": float64(42)}, nil},
		{"the logger's own value wins", func(l *slog.Logger) { l.With("tenant_id", "t_with").InfoContext(ctx, "m") },
			map[string]any{"tenant_id": "t_with", "run_id": float64(42)}, nil},
		{"not inside a group", func(l *slog.Logger) { l.WithGroup("g").InfoContext(ctx, "m", "y", 2) },
			map[string]any{}, []string{"tenant_id"}},
	} {
		var buf bytes.Buffer
		tc.log(slog.New(NewHandler(slog.NewJSONHandler(&buf, nil))))
		line := buf.String()
		var got map[string]any
		if err := json.Unmarshal([]byte(line), &got); err != nil {
			t.Fatalf("%s: %v in %q", tc.name, err, line)
		}
		for k, v := range tc.want {
			if got[k] != v {
				t.Errorf("%s: %s = %v, want %v (line %s)", tc.name, k, got[k], v, line)
			}
		}
		for _, k := range tc.not {
			if _, ok := got[k]; ok {
				t.Errorf("%s: got %s, want it absent (line %s)", tc.name, k, line)
			}
		}
		if strings.Count(line, `"tenant_id"`) > 1 {
			t.Errorf("%s: tenant_id twice in %s", tc.name, line)
		}
	}
}
