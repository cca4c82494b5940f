package sfemu

import (
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Faults are failures injected into answers outside /__emulator__/. The
// random choices come from a PCG seeded with Seed, so a test that sends the
// same requests in the same order sees the same faults.
type Faults struct {
	Seed uint64 `json:"seed"`
	// PathPrefix limits faults to request paths with this prefix
	// ("/services/" when empty).
	PathPrefix string `json:"pathPrefix,omitempty"`
	// Latency is added before every answer.
	Latency time.Duration `json:"latency,omitempty"`
	// ServerErrorRate is the share (0..1) of requests answered 500
	// UNKNOWN_EXCEPTION; UnavailableRate the share answered 503
	// SERVER_UNAVAILABLE.
	ServerErrorRate float64 `json:"serverErrorRate,omitempty"`
	UnavailableRate float64 `json:"unavailableRate,omitempty"`
	// DropRate is the share of requests whose connection is closed without
	// an answer.
	DropRate float64 `json:"dropRate,omitempty"`
	// SlowBodyRate is the share of answers whose body trickles out in
	// small chunks with SlowBodyDelay between them (50ms when zero).
	SlowBodyRate  float64       `json:"slowBodyRate,omitempty"`
	SlowBodyDelay time.Duration `json:"slowBodyDelay,omitempty"`
	// Errors are one-shot injected answers for matching requests, used in
	// order: each answers Times requests (1 when zero) and is then spent.
	Errors []InjectedError `json:"errors,omitempty"`
}

// InjectedError answers matching requests with a fixed status and body.
type InjectedError struct {
	Method     string `json:"method,omitempty"`     // any when empty
	PathPrefix string `json:"pathPrefix,omitempty"` // matched against the path with /services/data/vXX.X removed too
	Status     int    `json:"status"`
	// Body is sent as application/json; a Salesforce error array made from
	// ErrorCode and Message when empty.
	Body      string `json:"body,omitempty"`
	ErrorCode string `json:"errorCode,omitempty"`
	Message   string `json:"message,omitempty"`
	Times     int    `json:"times,omitempty"`
}

type faultState struct {
	mu   sync.Mutex
	f    Faults
	rng  *rand.Rand
	used []int
}

func newFaultState(f Faults) *faultState {
	s := &faultState{}
	s.set(f)
	return s
}

func (s *faultState) set(f Faults) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f.Errors = append([]InjectedError(nil), f.Errors...)
	s.f = f
	s.rng = rand.New(rand.NewPCG(f.Seed, f.Seed^0x9e3779b97f4a7c15))
	s.used = make([]int, len(f.Errors))
}

func (s *faultState) get() Faults {
	s.mu.Lock()
	defer s.mu.Unlock()
	f := s.f
	f.Errors = append([]InjectedError(nil), f.Errors...)
	return f
}

type faultDecision struct {
	latency  time.Duration
	status   int // 500/503 or an injected status
	body     string
	drop     bool
	slow     time.Duration
	injected bool
}

func (s *faultState) decide(r *http.Request) faultDecision {
	s.mu.Lock()
	defer s.mu.Unlock()
	var d faultDecision
	prefix := s.f.PathPrefix
	if prefix == "" {
		prefix = "/services/"
	}
	if !strings.HasPrefix(r.URL.Path, prefix) {
		return d
	}
	d.latency = s.f.Latency
	short := stripVersion(r.URL.Path)
	for i, e := range s.f.Errors {
		times := e.Times
		if times <= 0 {
			times = 1
		}
		if s.used[i] >= times {
			continue
		}
		if e.Method != "" && !strings.EqualFold(e.Method, r.Method) {
			continue
		}
		if e.PathPrefix != "" && !strings.HasPrefix(r.URL.Path, e.PathPrefix) && !strings.HasPrefix(short, e.PathPrefix) {
			continue
		}
		s.used[i]++
		d.status, d.body, d.injected = e.Status, e.Body, true
		if d.body == "" {
			d.body = errorBody([]*apiError{plainErr(e.Status, e.ErrorCode, e.Message)}, false)
		}
		return d
	}
	// Draw every number each time so one knob doesn't shift the others.
	drop, e500, e503, slow := s.rng.Float64(), s.rng.Float64(), s.rng.Float64(), s.rng.Float64()
	switch {
	case drop < s.f.DropRate:
		d.drop = true
	case e503 < s.f.UnavailableRate:
		d.status = 503
		d.body = errorBody([]*apiError{plainErr(503, "SERVER_UNAVAILABLE", "Server temporarily unavailable")}, false)
	case e500 < s.f.ServerErrorRate:
		d.status = 500
		d.body = errorBody([]*apiError{plainErr(500, "UNKNOWN_EXCEPTION", "An unexpected error occurred. Please include this ErrorId if you contact support: 1804398126-55430 (-1277830520)")}, false)
	}
	if slow < s.f.SlowBodyRate {
		d.slow = s.f.SlowBodyDelay
		if d.slow <= 0 {
			d.slow = 50 * time.Millisecond
		}
	}
	return d
}

// stripVersion turns /services/data/v62.0/sobjects/... into /sobjects/...
func stripVersion(p string) string {
	const pre = "/services/data/v"
	if !strings.HasPrefix(p, pre) {
		return p
	}
	rest := p[len(pre):]
	if i := strings.IndexByte(rest, '/'); i >= 0 {
		return rest[i:]
	}
	return "/"
}

// slowWriter trickles the body out in small flushed chunks.
type slowWriter struct {
	http.ResponseWriter
	delay   time.Duration
	done    <-chan struct{}
	started bool
}

func (w *slowWriter) Write(b []byte) (int, error) {
	const chunk = 512
	n := 0
	for len(b) > 0 {
		if w.started {
			select {
			case <-time.After(w.delay):
			case <-w.done:
				return n, http.ErrHandlerTimeout
			}
		}
		w.started = true
		c := min(chunk, len(b))
		m, err := w.ResponseWriter.Write(b[:c])
		n += m
		if err != nil {
			return n, err
		}
		if f, ok := w.ResponseWriter.(http.Flusher); ok {
			f.Flush()
		}
		b = b[c:]
	}
	return n, nil
}

func (w *slowWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (w *slowWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// applyFaults runs the fault decision; it reports whether the request
// was answered (or dropped) by a fault.
func (s *Server) applyFaults(w http.ResponseWriter, r *http.Request) (http.ResponseWriter, bool) {
	d := s.faults.decide(r)
	if d.latency > 0 {
		select {
		case <-time.After(d.latency):
		case <-r.Context().Done():
			return w, true
		}
	}
	if d.drop {
		rc := http.NewResponseController(w)
		conn, _, err := rc.Hijack()
		if err == nil {
			conn.Close()
			return w, true
		}
		panic(http.ErrAbortHandler) // HTTP/2: abort the stream
	}
	if d.status != 0 {
		w.Header().Set("Content-Type", "application/json;charset=UTF-8")
		w.WriteHeader(d.status)
		_, _ = w.Write([]byte(d.body))
		return w, true
	}
	if d.slow > 0 {
		return &slowWriter{ResponseWriter: w, delay: d.slow, done: r.Context().Done()}, false
	}
	return w, false
}
