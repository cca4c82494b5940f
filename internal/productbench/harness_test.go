package productbench

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/sfsync/sfsync/internal/store"
	"github.com/sfsync/sfsync/internal/store/storetest"
)

// The pieces every product-path benchmark shares: the built binary, its
// processes, the CLI, the admin's login and the JSON API.

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// TestMain removes the binary sfsyncBinary built.
func TestMain(m *testing.M) {
	code := m.Run()
	if binPath != "" {
		os.RemoveAll(filepath.Dir(binPath))
	}
	os.Exit(code)
}

// sfsyncBinary builds cmd/sfsync once per test process.
func sfsyncBinary(tb testing.TB) string {
	tb.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "sfsync-productbench-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "sfsync")
		if out, err := exec.Command("go", "build", "-o", binPath, "../../cmd/sfsync").CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("build sfsync: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		tb.Fatal(buildErr)
	}
	return binPath
}

func freeAddr(tb testing.TB) string {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// product is one deployment: a database, `sfsync serve` and (for the
// sync benchmarks) `sfsync emulator`, each a process of its own.
type product struct {
	tb      testing.TB
	bin     string
	env     []string // the service's SFSYNC_* settings
	addr    string   // serve's host:port
	base    string   // http://addr
	serve   *exec.Cmd
	emu     emulator
	tenant  string
	apiKey  string
	admin   *http.Client // logged in to the admin UI
	dialect store.Dialect
	// debugAddr serves serve's profiles (SFSYNC_DEBUG_ADDR) when
	// SFSYNC_BENCH_PROFILE names a directory to keep them in.
	debugAddr string
}

// profileServe records serve's CPU profile, 5 s at a time, into
// $SFSYNC_BENCH_PROFILE/<benchmark>-NN.pprof until the returned function
// is called (it waits for the profile being taken; calling it again does
// nothing); nothing without
// SFSYNC_BENCH_PROFILE. `go tool pprof` merges the files.
func (p *product) profileServe() (stop func()) {
	dir := os.Getenv("SFSYNC_BENCH_PROFILE")
	if dir == "" || p.debugAddr == "" {
		return func() {}
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		name := strings.NewReplacer("/", "-", " ", "_").Replace(p.tb.Name())
		for i := 0; ; i++ {
			select {
			case <-done:
				return
			default:
			}
			resp, err := http.Get("http://" + p.debugAddr + "/debug/pprof/profile?seconds=5")
			if err != nil {
				p.tb.Logf("serve's profile: %v", err)
				return
			}
			f, err := os.Create(filepath.Join(dir, fmt.Sprintf("%s-%02d.pprof", name, i)))
			if err == nil {
				_, _ = io.Copy(f, resp.Body)
				f.Close()
			}
			resp.Body.Close()
		}
	}()
	return sync.OnceFunc(func() { close(done); wg.Wait() })
}

type emulator struct {
	cmd                                   *exec.Cmd
	url, clientID, secret, user, password string
	token                                 string
}

// newProduct prepares the database and the service's settings; emulate >
// 0 also starts an emulator with that many generated contacts, paired
// with serve (its OAuth callback is serve's).
func newProduct(tb testing.TB, d store.Dialect, emulate int) *product {
	tb.Helper()
	p := &product{tb: tb, bin: sfsyncBinary(tb), dialect: d}
	p.addr = freeAddr(tb)
	p.base = "http://" + p.addr
	raw := make([]byte, 32)
	rand.Read(raw)
	dataDir := tb.TempDir()
	if os.Getenv("SFSYNC_BENCH_KEEP_DATA") != "" { // to look into the database afterwards
		var err error
		if dataDir, err = os.MkdirTemp("", "sfsync-bench-data-"); err != nil {
			tb.Fatal(err)
		}
		tb.Logf("SFSYNC_BENCH_KEEP_DATA: serve's data directory %s is kept", dataDir)
	}
	p.env = []string{"SFSYNC_ADDR=" + p.addr, "SFSYNC_DATA_DIR=" + dataDir, "SFSYNC_LOG_LEVEL=warn",
		"SFSYNC_SECRET_KEY=" + base64.StdEncoding.EncodeToString(raw)}
	if d == store.Postgres {
		p.env = append(p.env, "SFSYNC_DATABASE_URL="+storetest.PostgresSchema(tb)) // skips loudly without PostgreSQL
	}
	if v := os.Getenv("SFSYNC_SQLITE_PAGE_TIME"); v != "" {
		p.env = append(p.env, "SFSYNC_SQLITE_PAGE_TIME="+v) // to compare page sizes
	}
	if os.Getenv("SFSYNC_BENCH_PROFILE") != "" {
		p.debugAddr = freeAddr(tb)
		p.env = append(p.env, "SFSYNC_DEBUG_ADDR="+p.debugAddr)
	}
	if emulate > 0 {
		p.startEmulator(emulate)
		p.env = append(p.env, "SFSYNC_SALESFORCE_CLIENT_ID="+p.emu.clientID, "SFSYNC_SALESFORCE_CLIENT_SECRET="+p.emu.secret,
			"SFSYNC_SALESFORCE_LOGIN_URL="+p.emu.url)
	}
	return p
}

func (p *product) command(args ...string) *exec.Cmd {
	cmd := exec.Command(p.bin, args...)
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME")}, p.env...)
	return cmd
}

// cli runs an administration command and returns its standard output.
func (p *product) cli(args ...string) string {
	p.tb.Helper()
	cmd := p.command(args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		p.tb.Fatalf("sfsync %s: %v\n%s%s", strings.Join(args, " "), err, out, stderr.Bytes())
	}
	return string(out)
}

func (p *product) startEmulator(contacts int) {
	tb := p.tb
	cmd := p.command("emulator", "--addr", freeAddr(tb), "--edition", "Enterprise", "--contacts", strconv.Itoa(contacts), "--contacts-seed", "7")
	stdout, _ := cmd.StdoutPipe()
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	p.emu.cmd = cmd
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		v = strings.TrimSpace(v)
		switch strings.TrimSpace(k) {
		case "instance URL":
			p.emu.url = v
		case "client id":
			p.emu.clientID = v
		case "client secret":
			p.emu.secret = v
		case "admin username":
			p.emu.user = v
		case "admin password":
			p.emu.password = v
		case "access token":
			p.emu.token = v
		case "side door":
			go func() {
				for sc.Scan() {
				}
			}()
			return
		}
	}
	tb.Fatalf("the emulator printed no side-door line (err %v)", sc.Err())
}

// setUp creates the tenant, its admin and an API key with the CLI, starts
// serve and logs the admin in.
func (p *product) setUp() {
	tb := p.tb
	p.tenant = p.createTenant("Bench", "--salesforce-addon=true")
	const email, password = "admin@bench.example.com", "bench-Pa55word-long"
	p.cli("admin", "create", "--tenant", p.tenant, "--email", email, "--password", password)
	p.apiKey = strings.TrimSpace(p.cli("apikey", "create", "--tenant", p.tenant, "--name", "bench"))

	p.serve = p.command("serve")
	p.serve.Stdout, p.serve.Stderr = os.Stderr, os.Stderr
	if err := p.serve.Start(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		_ = p.serve.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = p.serve.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			_ = p.serve.Process.Kill()
			<-done
		}
	})
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := http.Get(p.base + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			tb.Fatalf("serve at %s not ready after 60 s (%v)", p.base, err)
		}
		time.Sleep(50 * time.Millisecond)
	}

	// The admin signs in through the login form (its CSRF cookie and field).
	jar, _ := cookiejar.New(nil)
	p.admin = &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := p.admin.Get(p.base + "/login")
	if err != nil {
		tb.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	csrf := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindSubmatch(page)
	if csrf == nil {
		tb.Fatalf("no CSRF field on the login page:\n%s", page)
	}
	resp, err = p.admin.PostForm(p.base+"/login", url.Values{"csrf": {string(csrf[1])}, "email": {email}, "password": {password}})
	if err != nil {
		tb.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther && resp.StatusCode != http.StatusFound {
		tb.Fatalf("admin login = %d, want a redirect", resp.StatusCode)
	}
}

// api calls the JSON API with the tenant's key; it fails the benchmark on
// a status other than want.
// createTenant creates a tenant with the CLI and returns its ID.
func (p *product) createTenant(name string, flags ...string) string {
	p.tb.Helper()
	out := p.cli(append([]string{"tenant", "create", "--name", name, "--language", "en"}, flags...)...)
	m := regexp.MustCompile(`tenant (\S+) created`).FindStringSubmatch(out)
	if m == nil {
		p.tb.Fatalf("tenant create printed %q", out)
	}
	return m[1]
}

func (p *product) api(method, path string, body any, want int) map[string]any {
	p.tb.Helper()
	return p.apiAs(p.apiKey, method, path, body, want)
}

// apiAs is api with another tenant's API key.
func (p *product) apiAs(apiKey, method, path string, body any, want int) map[string]any {
	p.tb.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case []byte:
		rd = bytes.NewReader(b)
	default:
		data, _ := json.Marshal(b)
		rd = bytes.NewReader(data)
	}
	req, _ := http.NewRequest(method, p.base+"/api/v1"+path, rd)
	req.Header.Set("Authorization", "Bearer "+apiKey)
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		p.tb.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		p.tb.Fatalf("%s %s = %d, want %d: %s", method, path, resp.StatusCode, want, data)
	}
	var out map[string]any
	_ = json.Unmarshal(data, &out) // some answers are arrays; callers needing them decode data themselves
	return out
}

// procStat returns a process's CPU seconds (user + system) and its peak
// resident set (VmHWM) in MB, from /proc.
func procStat(pid int) (cpu, hwmMB float64) {
	if data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid)); err == nil {
		s := string(data)
		f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
		u, _ := strconv.ParseFloat(f[11], 64)
		k, _ := strconv.ParseFloat(f[12], 64)
		cpu = (u + k) / 100
	}
	if data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid)); err == nil {
		for _, line := range strings.Split(string(data), "\n") {
			if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
				kb, _ := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 64)
				hwmMB = kb / 1024
			}
		}
	}
	return cpu, hwmMB
}

// latencies is a set of request durations.
type latencies struct {
	mu  sync.Mutex
	d   []time.Duration
	err int
}

func (l *latencies) add(d time.Duration, ok bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !ok {
		l.err++
		return
	}
	l.d = append(l.d, d)
}

// pct returns the p-th quantile in milliseconds.
func (l *latencies) pct(p float64) float64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.d) == 0 {
		return 0
	}
	s := slices.Clone(l.d)
	slices.Sort(s)
	return float64(s[min(len(s)-1, int(math.Ceil(p*float64(len(s))))-1)].Microseconds()) / 1000
}

func (l *latencies) count() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.d)
}
