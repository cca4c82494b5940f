package chart

import (
	"encoding/xml"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

func TestScale(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		max       float64
		top, step float64
	}{
		{0, 1, 1},
		{-3, 1, 1},
		{1, 1, 1},
		{3, 3, 1},
		{7, 8, 2},
		{42, 60, 20}, // raw step 10.5 → 20
		{100, 100, 50},
		{110000, 150000, 50000},
		{4583, 6000, 2000},
	} {
		top, step := Scale(tc.max)
		if top != tc.top || step != tc.step {
			t.Errorf("Scale(%v): got %v, %v, want %v, %v", tc.max, top, step, tc.top, tc.step)
		}
		if top < tc.max {
			t.Errorf("Scale(%v): top %v below the data", tc.max, top)
		}
		if tc.max > 0 && top/step > 4 {
			t.Errorf("Scale(%v): %v steps, want at most 4", tc.max, top/step)
		}
	}
}

func TestGroup(t *testing.T) {
	t.Parallel()
	for n, want := range map[int64]string{0: "0", 999: "999", 1000: "1,000", 110000: "110,000", 1234567: "1,234,567", -4500: "-4,500"} {
		if got := Group(n); got != want {
			t.Errorf("Group(%d): got %q, want %q", n, got, want)
		}
	}
}

func sample() Bars {
	return Bars{
		ID: "runs", Title: "Runs <per day>", Desc: "Created & updated",
		Labels: []string{"12/01", "12/02", "12/03"},
		Series: []Series{
			{Name: "Created", Class: "s-created", Values: []float64{10, 0, 30}},
			{Name: "Failed", Class: "s-failed", Values: []float64{10, 0}},
		},
		Lines:          []Line{{Name: "Cap", Class: "cap", Value: 50}},
		Height:         200,
		TableSummary:   "Show as table",
		CategoryHeader: "Day",
		SkipEmptyRows:  true,
	}
}

// The SVG is well-formed XML with its text alternatives, and the title's
// markup is escaped.
func TestSVGIsAccessibleXML(t *testing.T) {
	t.Parallel()
	svg := string(sample().SVG())
	if err := xml.Unmarshal([]byte(svg), new(any)); err != nil {
		t.Fatalf("SVG is not well-formed: %v\n%s", err, svg)
	}
	for _, want := range []string{`role="img"`, `aria-labelledby="runs-t runs-d"`, `<title id="runs-t">Runs &lt;per day&gt;</title>`, `<desc id="runs-d">Created &amp; updated</desc>`} {
		if !strings.Contains(svg, want) {
			t.Errorf("SVG lacks %s:\n%s", want, svg)
		}
	}
	if strings.Contains(svg, "<per day>") {
		t.Error("the title's markup was not escaped")
	}
}

var rectRE = regexp.MustCompile(`<rect class="([^"]+)" x="[^"]+" width="[^"]+" y="([0-9.]+)" height="([0-9.]+)">`)

// Bars stack: each category's layers sit on one another and their heights
// are proportional to the values on the axis that reaches the cap line.
func TestBarsStackToScale(t *testing.T) {
	t.Parallel()
	b := sample()
	svg := string(b.SVG())
	m := rectRE.FindAllStringSubmatch(svg, -1)
	// 12/01: created 10, failed 10; 12/02: nothing; 12/03: created 30.
	if len(m) != 3 {
		t.Fatalf("got %d bars, want 3:\n%s", len(m), svg)
	}
	top, _ := Scale(50) // the cap is the largest value
	plot := float64(b.Height - padTop - padBottom)
	f := func(s string) float64 { v, _ := strconv.ParseFloat(s, 64); return v }
	for i, want := range []struct {
		class string
		value float64
		base  float64
	}{{"s-created", 10, 0}, {"s-failed", 10, 10}, {"s-created", 30, 0}} {
		y, h := f(m[i][2]), f(m[i][3])
		wantH := want.value / top * plot
		wantY := padTop + plot - (want.base+want.value)/top*plot
		if m[i][1] != want.class || abs(h-wantH) > 0.11 || abs(y-wantY) > 0.11 {
			t.Errorf("bar %d: got %s y=%v h=%v, want %s y=%v h=%v", i, m[i][1], y, h, want.class, wantY, wantH)
		}
	}
	if !strings.Contains(svg, `<line class="cap"`) {
		t.Error("the cap line is missing")
	}
}

func abs(v float64) float64 {
	if v < 0 {
		return -v
	}
	return v
}

func TestTableFallback(t *testing.T) {
	t.Parallel()
	tab := string(sample().Table())
	if err := xml.Unmarshal([]byte(tab), new(any)); err != nil {
		t.Fatalf("table is not well-formed: %v\n%s", err, tab)
	}
	if strings.Contains(tab, "12/02") {
		t.Error("an empty day is in the table though SkipEmptyRows is set")
	}
	for _, want := range []string{`<summary>Show as table</summary>`, `<th scope="row">12/03</th><td class="num" data-label="Created">30</td><td class="num" data-label="Failed">0</td>`} {
		if !strings.Contains(tab, want) {
			t.Errorf("table lacks %s:\n%s", want, tab)
		}
	}
}

// Only every n-th category is labelled, so 168 hours do not overprint.
func TestLabelEvery(t *testing.T) {
	t.Parallel()
	b := Bars{ID: "h", Labels: make([]string, 168), LabelEvery: 24}
	for i := range b.Labels {
		b.Labels[i] = "L" + strconv.Itoa(i)
	}
	svg := string(b.SVG())
	if got := strings.Count(svg, `class="label"`); got != 7 {
		t.Errorf("got %d labels, want 7", got)
	}
	if !strings.Contains(svg, ">L24<") || strings.Contains(svg, ">L25<") {
		t.Error("labels are not every 24th category")
	}
}
