package config

import (
	"strings"
	"testing"
	"time"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestDefaults(t *testing.T) {
	t.Parallel()
	c, rest, err := Parse("serve", nil, env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.Addr != "127.0.0.1:8080" || c.DataDir != "./sfsync-data" || c.DatabaseDSN() != "sfsync-data/sfsync.db" || c.PollInterval != 15*time.Minute || c.BulkWorkers != 2 || c.SQLitePageTime != 60*time.Millisecond || len(rest) != 0 {
		t.Errorf("got %+v (dsn %s), want the zero-configuration defaults", c, c.DatabaseDSN())
	}
	if c.BaseURL != "http://127.0.0.1:8080" {
		t.Errorf("BaseURL = %q, want http://127.0.0.1:8080", c.BaseURL)
	}
}

func TestFlagsBeatEnv(t *testing.T) {
	t.Parallel()
	c, _, err := Parse("serve", []string{"--addr", "127.0.0.1:9000"}, env(map[string]string{"SFSYNC_ADDR": "127.0.0.1:7000", "SFSYNC_WORKERS": "8"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.Addr != "127.0.0.1:9000" || c.Workers != 8 {
		t.Errorf("addr=%s workers=%d, want the flag's 127.0.0.1:9000 and the env's 8", c.Addr, c.Workers)
	}
}

func TestBadSettingIsNamed(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args []string
		env  map[string]string
		want string
	}{
		{env: map[string]string{"SFSYNC_ADDR": "nonsense"}, want: "SFSYNC_ADDR"},
		{args: []string{"--database-url", "mysql://x"}, want: "--database-url"},
		{env: map[string]string{"SFSYNC_SECRET_KEY": "short"}, want: "SFSYNC_SECRET_KEY"},
		{env: map[string]string{"SFSYNC_POLL_INTERVAL": "5s"}, want: "SFSYNC_POLL_INTERVAL"},
		{env: map[string]string{"SFSYNC_SALESFORCE_LOGIN_URL": "login.salesforce.com"}, want: "SFSYNC_SALESFORCE_LOGIN_URL"},
		{env: map[string]string{"SFSYNC_LOG_LEVEL": "loud"}, want: "SFSYNC_LOG_LEVEL"},
		{env: map[string]string{"SFSYNC_BULK_WORKERS": "0"}, want: "SFSYNC_BULK_WORKERS"},
		{env: map[string]string{"SFSYNC_SQLITE_PAGE_TIME": "-1s"}, want: "SFSYNC_SQLITE_PAGE_TIME"},
		{env: map[string]string{"SFSYNC_PLATFORM_NAME": "Omni\nchat"}, want: "SFSYNC_PLATFORM_NAME"},
		{args: []string{"--platform-name", strings.Repeat("x", 41)}, want: "--platform-name"},
		{args: []string{"--platform-contact-url", "https://app.example/contacts"}, want: "--platform-contact-url"}, // no {id}
		{env: map[string]string{"SFSYNC_PLATFORM_CONTACT_URL": "javascript:alert({id})"}, want: "SFSYNC_PLATFORM_CONTACT_URL"},
		{env: map[string]string{"SFSYNC_DEBUG_ADDR": "0.0.0.0:6060"}, want: "SFSYNC_DEBUG_ADDR"}, // profiles stay on the machine
		{args: []string{"--debug-addr", "example.com:6060"}, want: "--debug-addr"},
	}
	for _, tt := range tests {
		_, _, err := Parse("serve", tt.args, env(tt.env))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Parse(%v, %v) error = %v, want one naming %s", tt.args, tt.env, err, tt.want)
		}
	}
}

// TestDebugAddrLoopback: the profiles' address is accepted on loopback only.
func TestDebugAddrLoopback(t *testing.T) {
	t.Parallel()
	for _, v := range []string{"127.0.0.1:6060", "[::1]:6060", "localhost:0"} {
		c, _, err := Parse("serve", nil, env(map[string]string{"SFSYNC_DEBUG_ADDR": v}))
		if err != nil || c.DebugAddr != v {
			t.Errorf("SFSYNC_DEBUG_ADDR=%s: DebugAddr %q, error %v", v, c.DebugAddr, err)
		}
	}
}

// TestBaseURLSchemeIsLowerCased: "HTTPS://…" is an https base URL like any
// other (the admin UI marks its cookies Secure from it).
func TestBaseURLSchemeIsLowerCased(t *testing.T) {
	t.Parallel()
	c, _, err := Parse("serve", nil, env(map[string]string{"SFSYNC_BASE_URL": "HTTPS://Sync.Example.com/"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.BaseURL != "https://Sync.Example.com" {
		t.Errorf("got BaseURL %q, want https://Sync.Example.com", c.BaseURL)
	}
}

func TestPlatformName(t *testing.T) {
	t.Parallel()
	c, _, err := Parse("serve", nil, env(map[string]string{"SFSYNC_PLATFORM_NAME": " Omnichat "}))
	if err != nil {
		t.Fatal(err)
	}
	if c.PlatformName != "Omnichat" {
		t.Errorf("got platform name %q, want Omnichat", c.PlatformName)
	}
	if c, _, _ := Parse("serve", nil, env(nil)); c.PlatformName != "" {
		t.Errorf("got default platform name %q, want empty (平台 / Platform)", c.PlatformName)
	}
}

func TestPlatformContactURL(t *testing.T) {
	t.Parallel()
	c, _, err := Parse("serve", []string{"--platform-contact-url", "https://app.omnichat.example/contacts/{id}"}, env(nil))
	if err != nil || c.PlatformContactURL != "https://app.omnichat.example/contacts/{id}" {
		t.Errorf("got %q, %v; want the URL kept", c.PlatformContactURL, err)
	}
}

// TestSMTPSettings: the alert e-mail settings are checked, the URL needs
// a sender, and an error never shows the URL (it may hold a password).
func TestSMTPSettings(t *testing.T) {
	t.Parallel()
	env := func(kv map[string]string) func(string) string { return func(k string) string { return kv[k] } }
	c, _, err := Parse("serve", []string{"--smtp-url", "smtp://u:pw@mail.test:587", "--smtp-from", "alerts@shop.test", "--field-history-days", "30"}, env(nil))
	if err != nil || c.SMTPURL != "smtp://u:pw@mail.test:587" || c.SMTPFrom != "alerts@shop.test" || c.FieldHistoryDays != 30 {
		t.Fatalf("got %+v, %v; want the SMTP settings and 30 days", c, err)
	}
	if c, _, _ := Parse("serve", nil, env(nil)); c.FieldHistoryDays != 90 {
		t.Errorf("default field history: got %d days, want 90", c.FieldHistoryDays)
	}
	if _, _, err := Parse("serve", []string{"--smtp-url", "smtp://u:pw@mail.test"}, env(nil)); err == nil || !strings.Contains(err.Error(), "smtp-from") {
		t.Errorf("SMTP URL without a sender: got %v, want an error naming --smtp-from", err)
	}
	_, _, err = Parse("serve", nil, env(map[string]string{"SFSYNC_SMTP_URL": "http://u:s3cret-pw@mail.test"}))
	if err == nil || strings.Contains(err.Error(), "s3cret-pw") || !strings.Contains(err.Error(), "SFSYNC_SMTP_URL") {
		t.Errorf("bad SMTP URL: got %v, want an error naming the setting without its password", err)
	}
	if _, _, err := Parse("serve", []string{"--field-history-days", "0"}, env(nil)); err == nil {
		t.Errorf("0 days of field history: accepted, want refused")
	}
}
