package contact

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/nyaruka/phonenumbers"
)

// phoneTypes are the number types whose example numbers seed the
// generated inputs.
var phoneTypes = []phonenumbers.PhoneNumberType{phonenumbers.FIXED_LINE, phonenumbers.MOBILE, phonenumbers.TOLL_FREE,
	phonenumbers.PREMIUM_RATE, phonenumbers.SHARED_COST, phonenumbers.VOIP, phonenumbers.PERSONAL_NUMBER, phonenumbers.PAGER,
	phonenumbers.UAN, phonenumbers.VOICEMAIL}

// phoneSeeds returns, for every region and non-geographical code the
// library knows, its example numbers as country code and national
// significant number, and the national dialling form's digits.
func phoneSeeds() (seeds []struct{ region, cc, nsn, national string }) {
	add := func(region string, n *phonenumbers.PhoneNumber) {
		if n == nil {
			return
		}
		seeds = append(seeds, struct{ region, cc, nsn, national string }{region, strconv.Itoa(int(n.GetCountryCode())),
			phonenumbers.GetNationalSignificantNumber(n), phonenumbers.NormalizeDigitsOnly(phonenumbers.Format(n, phonenumbers.NATIONAL))})
	}
	regions := slices.Sorted(func(yield func(string) bool) {
		for r := range phonenumbers.GetSupportedRegions() {
			if !yield(r) {
				return
			}
		}
	})
	for _, r := range regions {
		for _, t := range phoneTypes {
			add(r, phonenumbers.GetExampleNumberForType(r, t))
		}
	}
	for cc := range phonenumbers.GetSupportedGlobalNetworkCallingCodes() {
		add("001", phonenumbers.GetExampleNumberForNonGeoEntity(cc))
	}
	return seeds
}

// phoneVariants are digit strings around a seed: itself, every last digit,
// one digit dropped, one added, a digit changed at random, a trunk or
// dialling prefix in front, and random digits.
func phoneVariants(rng *rand.Rand, s string) []string {
	out := []string{s, "0" + s, "00" + s, "1" + s, "011" + s, s + strconv.Itoa(rng.IntN(10))}
	if len(s) > 1 {
		out = append(out, s[:len(s)-1])
		for d := range 10 {
			out = append(out, s[:len(s)-1]+strconv.Itoa(d))
		}
		for range 4 {
			i := rng.IntN(len(s))
			out = append(out, s[:i]+strconv.Itoa(rng.IntN(10))+s[i+1:])
		}
	}
	var b strings.Builder
	for range rng.IntN(14) + 4 {
		b.WriteByte(byte('0' + rng.IntN(10)))
	}
	return append(out, b.String())
}

func libraryPhone(c, region string) (string, bool) {
	num, err := phonenumbers.Parse(c, region)
	if err != nil || !phonenumbers.IsValidNumber(num) {
		return "", false
	}
	return phonenumbers.Format(num, phonenumbers.E164), true
}

// TestFastPhoneMatchesLibrary compares fastPhone with libphonenumber's
// Parse, IsValidNumber and Format over numbers generated from every
// region's examples (valid ones and near misses), written with and without
// "+", against the example's own region, no region, and regions with
// awkward rules (national prefixes rewritten, shared country codes,
// Italian leading zeros). Wherever fastPhone is certain it must give the
// library's answer; it must be certain for the examples' E.164 forms.
func TestFastPhoneMatchesLibrary(t *testing.T) {
	t.Parallel()
	seed := rand.Uint64()
	rng := rand.New(rand.NewPCG(seed, 14))
	others := []string{"ZZ", "TW", "US", "CA", "GB", "IT", "AR", "MX", "BR", "DE", "RU", "KZ", "IN", "JP", "CN", "AU", "FR", "SM", "VA", "GF", "XK"}
	checked, certain, valid := 0, 0, 0
	check := func(c, region string) {
		checked++
		digits, plus := strings.CutPrefix(c, "+")
		got, gotValid, ok := fastPhone(digits, plus, region)
		if !ok {
			return
		}
		certain++
		want, wantValid := libraryPhone(c, region)
		if gotValid {
			valid++
		}
		if gotValid != wantValid || (wantValid && got != want) {
			t.Errorf("fastPhone(%q, region %s) = %q valid %v; libphonenumber: %q valid %v (seed %d)", c, region, got, gotValid, want, wantValid, seed)
		}
	}
	seeds := phoneSeeds()
	if len(seeds) < 1000 {
		t.Fatalf("got %d example numbers, want the library's every region", len(seeds))
	}
	for _, s := range seeds {
		// The example itself in E.164 must take the fast path.
		e164 := "+" + s.cc + s.nsn
		if s.nsn[0] != '0' {
			if _, v, ok := fastPhone(s.cc+s.nsn, true, "ZZ"); !ok || !v {
				want, _ := libraryPhone(e164, "ZZ")
				t.Errorf("fastPhone(%q) certain %v valid %v, want a certain valid number (library: %q)", e164, ok, v, want)
			}
		}
		regions := []string{"ZZ", others[rng.IntN(len(others))]}
		if s.region != "001" {
			regions = append(regions, s.region)
		}
		for _, v := range phoneVariants(rng, s.cc+s.nsn) {
			for _, r := range regions {
				check("+"+v, r)
				check(v, r)
			}
		}
		for _, v := range phoneVariants(rng, s.national) {
			for _, r := range regions {
				check(v, r)
				check("+"+v, r)
			}
		}
	}
	if t.Failed() {
		return
	}
	t.Logf("%d inputs, %d certain (%d valid), seed %d", checked, certain, valid, seed)
	if certain < checked/2 {
		t.Errorf("fastPhone was certain of %d of %d inputs, want most", certain, checked)
	}
}

// TestNormalizePhoneFastMatchesLibrary compares NormalizePhone with its
// library-only reference over raw values as people write them: spaces,
// dots, dashes and brackets, with and without "+", national forms, and
// junk, under no region and the example's own.
func TestNormalizePhoneFastMatchesLibrary(t *testing.T) {
	t.Parallel()
	seed := rand.Uint64()
	rng := rand.New(rand.NewPCG(seed, 41))
	dress := func(d string) string {
		var b strings.Builder
		for i := range len(d) {
			if i > 0 && rng.IntN(4) == 0 {
				b.WriteByte(" -.()\t"[rng.IntN(6)])
			}
			b.WriteByte(d[i])
		}
		return b.String()
	}
	n := 0
	for _, s := range phoneSeeds() {
		raws := []string{"+" + s.cc + " " + s.nsn, "+" + dress(s.cc+s.nsn), dress(s.cc + s.nsn), dress(s.national), " " + s.national + " ",
			"+" + s.cc + " (0) " + s.nsn, "+" + s.cc + "-" + s.national, s.nsn, "++" + s.cc + s.nsn, "+" + s.cc + s.nsn + "x12"}
		for _, raw := range raws {
			for _, region := range []string{"", s.region, "TW"} {
				if region == "001" {
					continue
				}
				n++
				got, gotErr := normalizePhone(raw, region, true)
				want, wantErr := normalizePhone(raw, region, false)
				if got != want || fmt.Sprint(gotErr) != fmt.Sprint(wantErr) {
					t.Errorf("NormalizePhone(%q, %q) = %q, %v; library alone: %q, %v (seed %d)", raw, region, got, gotErr, want, wantErr, seed)
				}
			}
		}
	}
	t.Logf("%d values, seed %d", n, seed)
}

// BenchmarkNormalizePhone normalises a different number on every call
// (none is found in the recent set), with and without the fast path.
func BenchmarkNormalizePhone(b *testing.B) {
	for _, tc := range []struct{ name, format, region string }{
		{"e164", "+8869%08d", ""},
		{"national", "09%02d-%03d-%03d", "TW"},
		{"us", "+1 650 2%02d %04d", ""},
	} {
		for _, fast := range []bool{false, true} {
			b.Run(fmt.Sprintf("%s/fast=%v", tc.name, fast), func(b *testing.B) {
				for i := range b.N {
					var raw string
					switch tc.name {
					case "national":
						raw = fmt.Sprintf(tc.format, i/1_000_000%100, i/1000%1000, i%1000)
					case "us":
						raw = fmt.Sprintf(tc.format, i/10_000%100, i%10_000)
					default:
						raw = fmt.Sprintf(tc.format, i%100_000_000)
					}
					if _, err := normalizePhone(raw, tc.region, fast); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
