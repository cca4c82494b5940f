package salesforce

import (
	"testing"
)

var dateTimeSamples = []string{
	"2024-03-05T09:12:44.000+0000", "2024-03-05T09:12:44.000Z", "2024-03-05T09:12:44.123+0900", "2024-03-05T09:12:44.999-0530",
	"2024-02-29T23:59:59.000Z", "2023-02-29T00:00:00.000Z", "2024-04-31T00:00:00.000Z", "2024-13-01T00:00:00.000Z",
	"2024-00-10T00:00:00.000Z", "2024-01-00T00:00:00.000Z", "2024-01-01T24:00:00.000Z", "2024-01-01T00:60:00.000Z",
	"2024-01-01T00:00:60.000Z", "2024-01-01T00:00:00.000+2400", "2024-01-01T00:00:00.000+0060", "0001-01-01T00:00:00.000Z",
	"2024-03-05T09:12:44+0000", "2024-03-05T09:12:44Z", "2024-03-05T09:12:44.5Z", "2024-03-05 09:12:44.000Z",
	"2024-03-05T09:12:44.000z", "+024-03-05T09:12:44.000Z", "2024-03-05T09:12:44.000+00:00", "", "garbage",
}

// TestParseDateTimeFastPath: the fast path gives what time.Parse's layouts
// give, value and failure alike.
func TestParseDateTimeFastPath(t *testing.T) {
	for _, s := range dateTimeSamples {
		checkDateTime(t, s)
	}
}

func FuzzParseDateTime(f *testing.F) {
	for _, s := range dateTimeSamples {
		f.Add(s)
	}
	f.Fuzz(checkDateTime)
}

func checkDateTime(t *testing.T, s string) {
	got, gotErr := ParseDateTime(s)
	want, wantErr := parseDateTimeLayouts(s)
	if (gotErr == nil) != (wantErr == nil) || !got.Equal(want) || got.Location() != want.Location() {
		t.Errorf("ParseDateTime(%q) = %v, %v; time.Parse's layouts give %v, %v", s, got, gotErr, want, wantErr)
	}
}
