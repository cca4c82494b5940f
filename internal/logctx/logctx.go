// Package logctx carries log attributes in a context, so every line logged
// with that context names what it is about: a job puts its tenant and job
// ID (and run ID, once known) in its context, and the Salesforce client,
// the store and the engine, which log with the context they are given,
// need not be told.
package logctx

import (
	"context"
	"log/slog"
	"time"
)

type key struct{}

// With returns ctx carrying attrs (slog's key-value pairs or slog.Attr),
// added to those ctx already carries; a later value for a key wins.
func With(ctx context.Context, args ...any) context.Context {
	prev, _ := ctx.Value(key{}).([]slog.Attr)
	r := slog.NewRecord(time.Time{}, 0, "", 0) // only to parse args as slog does
	r.Add(args...)
	attrs := make([]slog.Attr, 0, len(prev)+r.NumAttrs())
	attrs = append(attrs, prev...)
	r.Attrs(func(a slog.Attr) bool {
		for i := range attrs {
			if attrs[i].Key == a.Key {
				attrs[i] = a
				return true
			}
		}
		attrs = append(attrs, a)
		return true
	})
	return context.WithValue(ctx, key{}, attrs)
}

// Attrs returns the attributes ctx carries.
func Attrs(ctx context.Context) []slog.Attr {
	a, _ := ctx.Value(key{}).([]slog.Attr)
	return a
}

// Handler adds the attributes of the context a record is logged with,
// except keys the record or the logger already has (a line that names its
// tenant itself is not given the key twice).
type Handler struct {
	next slog.Handler
	// keys are the attribute keys added through WithAttrs (ungrouped).
	keys map[string]bool
	// grouped is set after WithGroup: context attributes then belong at
	// the top level, which the wrapped handler can no longer reach, so
	// they are left out rather than put in the group.
	grouped bool
}

// NewHandler wraps next.
func NewHandler(next slog.Handler) *Handler { return &Handler{next: next} }

// Enabled implements slog.Handler.
func (h *Handler) Enabled(ctx context.Context, l slog.Level) bool { return h.next.Enabled(ctx, l) }

// Handle implements slog.Handler.
func (h *Handler) Handle(ctx context.Context, r slog.Record) error {
	extra := Attrs(ctx)
	if len(extra) == 0 || h.grouped {
		return h.next.Handle(ctx, r)
	}
	have := map[string]bool{}
	r.Attrs(func(a slog.Attr) bool {
		have[a.Key] = true
		return true
	})
	for _, a := range extra {
		if !have[a.Key] && !h.keys[a.Key] {
			r.AddAttrs(a)
		}
	}
	return h.next.Handle(ctx, r)
}

// WithAttrs implements slog.Handler.
func (h *Handler) WithAttrs(attrs []slog.Attr) slog.Handler {
	keys := make(map[string]bool, len(h.keys)+len(attrs))
	for k := range h.keys {
		keys[k] = true
	}
	if !h.grouped {
		for _, a := range attrs {
			keys[a.Key] = true
		}
	}
	return &Handler{next: h.next.WithAttrs(attrs), keys: keys, grouped: h.grouped}
}

// WithGroup implements slog.Handler.
func (h *Handler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	return &Handler{next: h.next.WithGroup(name), keys: h.keys, grouped: true}
}
