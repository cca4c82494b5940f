package syncer

import "testing"

// A speculative plan is decided again when the write before it changed a
// Salesforce Id's link, a platform contact or an identity value it read,
// and only then; the same string as another kind of key is no overlap.
func TestPlanOverlaps(t *testing.T) {
	var written pagePlan
	written.wrote.salesforce([]string{"003A"})
	written.wrote.contacts([]string{"c_1"})
	written.wrote.keys([]string{"x@example.com"})
	for _, tc := range []struct {
		name string
		read func(k *keySet)
		want bool
	}{
		{"nothing", func(k *keySet) {}, false},
		{"another record", func(k *keySet) { k.salesforce([]string{"003B"}) }, false},
		{"the record", func(k *keySet) { k.salesforce([]string{"003B", "003A"}) }, true},
		{"the contact", func(k *keySet) { k.contacts([]string{"c_1"}) }, true},
		{"the identity value", func(k *keySet) { k.keys([]string{"y@example.com", "x@example.com"}) }, true},
		{"a contact ID as a value", func(k *keySet) { k.keys([]string{"c_1", "003A"}) }, false},
		{"empty strings", func(k *keySet) { k.keys([]string{""}); k.contacts([]string{""}) }, false},
	} {
		var pl pagePlan
		tc.read(&pl.read)
		if got := pl.overlaps(&written); got != tc.want {
			t.Errorf("%s: overlaps %v, want %v", tc.name, got, tc.want)
		}
	}
}
