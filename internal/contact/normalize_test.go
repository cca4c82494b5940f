package contact

import (
	"errors"
	"testing"
)

func TestNormalizePhone(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, region string
		want       string
		wantErr    error
	}{
		{in: "886912345678", want: "+886912345678"},
		{in: "+886 912-345-678", want: "+886912345678"},
		{in: "+886 (912) 345.678", want: "+886912345678"},
		{in: "+1 650-253-0000", want: "+16502530000"},
		{in: "16502530000", want: "+16502530000"},
		{in: "0912345678", wantErr: ErrPhoneNoCountry},
		{in: "0912345678", region: "TW", want: "+886912345678"},
		{in: "912345678", region: "TW", want: "+886912345678"},
		{in: "886912345678", region: "TW", want: "+886912345678"},
		{in: "4155551212", wantErr: ErrPhoneInvalid},
		{in: "12345", wantErr: ErrPhoneInvalid},
		{in: "+8869123456789", wantErr: ErrPhoneInvalid},
		{in: "not a phone", wantErr: ErrPhoneInvalid},
		{in: "", wantErr: ErrPhoneInvalid},
		{in: "+886+912345678", wantErr: ErrPhoneInvalid},
	}
	for _, tt := range tests {
		got, err := NormalizePhone(tt.in, tt.region)
		if tt.wantErr != nil {
			if !errors.Is(err, tt.wantErr) {
				t.Errorf("NormalizePhone(%q, %q) error = %v, want %v", tt.in, tt.region, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("NormalizePhone(%q, %q) = %q, %v; want %q", tt.in, tt.region, got, err, tt.want)
		}
	}
}

// TestNormalizeRecent checks the shortcut for numbers and addresses
// normalised lately: a result normalises to itself, an invalid value stays
// invalid however often it is seen, and the set stays bounded.
func TestNormalizeRecent(t *testing.T) {
	t.Parallel()
	for range 3 {
		for _, region := range []string{"", "TW", "US"} {
			if got, err := NormalizePhone("+886 912-345-678", region); err != nil || got != "+886912345678" {
				t.Fatalf("NormalizePhone = %q, %v", got, err)
			}
			if got, err := NormalizePhone("+886912345678", region); err != nil || got != "+886912345678" {
				t.Fatalf("NormalizePhone of its own result = %q, %v", got, err)
			}
			if _, err := NormalizePhone("+8869123456789", region); !errors.Is(err, ErrPhoneInvalid) {
				t.Fatalf("an invalid number seen again: %v", err)
			}
		}
		if got, err := NormalizeEmail(" Amy@Example.COM "); err != nil || got != "amy@example.com" {
			t.Fatalf("NormalizeEmail = %q, %v", got, err)
		}
		if got, err := NormalizeEmail("amy@example.com"); err != nil || got != "amy@example.com" {
			t.Fatalf("NormalizeEmail of its own result = %q, %v", got, err)
		}
		if _, err := NormalizeEmail("amy@example"); !errors.Is(err, ErrEmailInvalid) {
			t.Fatalf("an invalid address seen again: %v", err)
		}
	}
	set := recentSet{max: 4}
	for _, n := range []string{"+1", "+2", "+3", "+4", "+5"} {
		set.add(n)
		if len(set.m) > set.max {
			t.Fatalf("set holds %d numbers, more than %d", len(set.m), set.max)
		}
	}
	if !set.has("+5") || set.has("+9") {
		t.Fatal("set forgot the newest number, or knows one never added")
	}
}

func TestNormalizeEmail(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, want string
		ok       bool
	}{
		{" Amy@Example.COM ", "amy@example.com", true},
		{"a.b+c@sub.example.tw", "a.b+c@sub.example.tw", true},
		{"no-at.example.com", "", false},
		{"Amy <amy@example.com>", "", false},
		{"amy@localhost", "", false},
		{"", "", false},
	}
	for _, tt := range tests {
		got, err := NormalizeEmail(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("NormalizeEmail(%q) = %q, %v; want %q ok=%v", tt.in, got, err, tt.want, tt.ok)
		}
	}
}

func FuzzNormalizePhone(f *testing.F) {
	for _, s := range []string{"886912345678", "+1 650 253 0000", "0912345678", "12345", "++", "+"} {
		f.Add(s, "")
		f.Add(s, "TW")
	}
	f.Fuzz(func(t *testing.T, in, region string) {
		got, err := NormalizePhone(in, region)
		if err != nil {
			return
		}
		// Whatever was accepted must be canonical: normalising it again
		// without a region gives the same number.
		again, err := NormalizePhone(got, "")
		if err != nil || again != got {
			t.Fatalf("NormalizePhone(%q, %q) = %q, but normalising that again gave %q, %v", in, region, got, again, err)
		}
	})
}
