// Package chart draws bar charts as inline SVG on the server, so the admin
// UI shows pictures without a JavaScript build (issue 17).
//
// A chart is fluid in width and fixed in height: every x coordinate is a
// percentage and every y coordinate a pixel, so text keeps its size from a
// 390 px phone to a desktop, and the bars stretch. Each chart carries its
// text alternatives: role="img" with <title> and <desc>, a legend in HTML
// and the same numbers as a table. Colours come from the page's stylesheet
// through the class names given here.
package chart

import (
	"fmt"
	"html/template"
	"math"
	"strconv"
	"strings"
)

// Series is one stacked layer of a bar chart.
type Series struct {
	Name   string
	Class  string    // CSS class of its bars and legend swatch, e.g. "s-failed"
	Values []float64 // one per category; missing values count as 0
}

// Line is a horizontal reference line, such as a cap.
type Line struct {
	Name  string
	Class string
	Value float64
}

// Bars is a bar chart with one bar per category, stacked when it has
// several series.
type Bars struct {
	// ID is unique on the page; the title and description ids derive from it.
	ID    string
	Title string
	// Desc says in a sentence or two what the chart shows (for screen
	// readers and as the figure's caption).
	Desc   string
	Labels []string // one per category
	// AxisLabels, when set, are written under the axis instead of Labels
	// (a short form: the day of an hour); the table keeps Labels.
	AxisLabels []string
	// LabelEvery shows every n-th category label under the axis (1 when 0).
	LabelEvery int
	Series     []Series
	Lines      []Line
	Height     int // pixels; 180 when 0
	// Format writes a value for the axis and the table (integers with
	// thousands separators when nil).
	Format func(float64) string
	// Table fallback: its toggle text and the header of the category column.
	TableSummary   string
	CategoryHeader string
	// SkipEmptyRows leaves categories without any value out of the table.
	SkipEmptyRows bool
}

const (
	padTop    = 18 // room for the top tick's label
	padBottom = 22 // room for the category labels
)

func (b Bars) height() int {
	if b.Height <= 0 {
		return 180
	}
	return b.Height
}

func (b Bars) format(v float64) string {
	if b.Format != nil {
		return b.Format(v)
	}
	return Group(int64(math.Round(v)))
}

// Group writes n with thousands separators (12,345).
func Group(n int64) string {
	neg := n < 0
	if neg {
		n = -n
	}
	s := strconv.FormatInt(n, 10)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	if neg {
		s = "-" + s
	}
	return s
}

// Total is the stacked height of category i.
func (b Bars) Total(i int) float64 {
	var t float64
	for _, s := range b.Series {
		if i < len(s.Values) && s.Values[i] > 0 {
			t += s.Values[i]
		}
	}
	return t
}

// Scale returns the top of the y axis and the step between grid lines for
// data whose largest value is max: a "nice" step (1, 2 or 5 times a power
// of ten) giving at most four steps.
func Scale(max float64) (top, step float64) {
	if !(max > 0) || math.IsInf(max, 0) {
		return 1, 1
	}
	raw := max / 4
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 5, 10} {
		step = m * mag
		if step >= raw {
			break
		}
	}
	if step < 1 {
		step = 1 // counts: no fractional grid lines
	}
	top = math.Ceil(max/step) * step
	return top, step
}

// pct writes a percentage for an SVG attribute.
func pct(v float64) string { return strconv.FormatFloat(v, 'f', 3, 64) + "%" }

func px(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) }

// SVG draws the chart.
func (b Bars) SVG() template.HTML {
	h := float64(b.height())
	plot := h - padTop - padBottom
	max := 0.0
	for i := range b.Labels {
		max = math.Max(max, b.Total(i))
	}
	for _, l := range b.Lines {
		max = math.Max(max, l.Value)
	}
	top, step := Scale(max)
	y := func(v float64) float64 { return padTop + plot - v/top*plot }
	esc := template.HTMLEscapeString
	var w strings.Builder
	fmt.Fprintf(&w, `<svg class="chart-svg" width="100%%" height="%d" role="img" aria-labelledby="%s-t %s-d" id="%s" xmlns="http://www.w3.org/2000/svg">`,
		b.height(), esc(b.ID), esc(b.ID), esc(b.ID))
	fmt.Fprintf(&w, `<title id="%s-t">%s</title><desc id="%s-d">%s</desc>`, esc(b.ID), esc(b.Title), esc(b.ID), esc(b.Desc))
	// Grid lines first, bars over them, tick labels last (over the bars).
	var ticks strings.Builder
	for v := 0.0; v <= top+step/2; v += step {
		gy := px(y(v))
		fmt.Fprintf(&w, `<line class="grid" x1="0" x2="100%%" y1="%s" y2="%s"/>`, gy, gy)
		fmt.Fprintf(&ticks, `<text class="tick" x="2" y="%s">%s</text>`, px(y(v)-3), esc(b.format(v)))
	}
	n := len(b.Labels)
	if n > 0 {
		cw := 100 / float64(n)
		gap := cw * 0.15
		if n > 60 {
			gap = cw * 0.08
		}
		for i := range n {
			base := 0.0
			for _, s := range b.Series {
				if i >= len(s.Values) || s.Values[i] <= 0 {
					continue
				}
				v := s.Values[i]
				y0, y1 := y(base), y(base+v)
				fmt.Fprintf(&w, `<rect class="%s" x="%s" width="%s" y="%s" height="%s"><title>%s · %s: %s</title></rect>`,
					esc(s.Class), pct(float64(i)*cw+gap/2), pct(cw-gap), px(y1), px(math.Max(y0-y1, 0.5)),
					esc(b.Labels[i]), esc(s.Name), esc(b.format(v)))
				base += v
			}
		}
		every := max1(b.LabelEvery)
		for i := 0; i < n; i += every {
			// Thinned labels start where their category does (a day's
			// first hour), so neighbours never meet; every label of a
			// short axis sits under its bar.
			anchor := "middle"
			x := float64(i)*cw + cw/2
			if every > 1 || (i == 0 && n > 1) {
				anchor, x = "start", float64(i)*cw
			}
			label := b.Labels[i]
			if i < len(b.AxisLabels) {
				label = b.AxisLabels[i]
			}
			fmt.Fprintf(&w, `<text class="label" x="%s" y="%s" text-anchor="%s">%s</text>`, pct(x), px(h-6), anchor, esc(label))
		}
	}
	for _, l := range b.Lines {
		ly := px(y(l.Value))
		fmt.Fprintf(&w, `<line class="%s" x1="0" x2="100%%" y1="%s" y2="%s"><title>%s: %s</title></line>`, esc(l.Class), ly, ly, esc(l.Name), esc(b.format(l.Value)))
	}
	w.WriteString(ticks.String())
	w.WriteString(`</svg>`)
	return template.HTML(w.String()) // every text above went through esc
}

func max1(n int) int {
	if n < 1 {
		return 1
	}
	return n
}

// Legend is the chart's key, in HTML.
func (b Bars) Legend() template.HTML {
	esc := template.HTMLEscapeString
	var w strings.Builder
	w.WriteString(`<ul class="legend">`)
	for _, s := range b.Series {
		fmt.Fprintf(&w, `<li><span class="swatch %s" aria-hidden="true"></span>%s</li>`, esc(s.Class), esc(s.Name))
	}
	for _, l := range b.Lines {
		fmt.Fprintf(&w, `<li><span class="swatch line %s" aria-hidden="true"></span>%s (%s)</li>`, esc(l.Class), esc(l.Name), esc(b.format(l.Value)))
	}
	w.WriteString(`</ul>`)
	return template.HTML(w.String())
}

// Table is the chart's numbers as a table inside a <details> toggle, for
// readers who cannot see the picture and for exact values. At phone width
// the page's stylesheet turns it into cards (class "stacked", data-label).
func (b Bars) Table() template.HTML {
	esc := template.HTMLEscapeString
	var w strings.Builder
	fmt.Fprintf(&w, `<details class="chart-table"><summary>%s</summary><div class="table-wrap"><table class="stacked" id="%s-table"><thead><tr><th scope="col">%s</th>`,
		esc(b.TableSummary), esc(b.ID), esc(b.CategoryHeader))
	for _, s := range b.Series {
		fmt.Fprintf(&w, `<th scope="col" class="num">%s</th>`, esc(s.Name))
	}
	w.WriteString(`</tr></thead><tbody>`)
	for i, label := range b.Labels {
		if b.SkipEmptyRows && b.Total(i) == 0 {
			continue
		}
		fmt.Fprintf(&w, `<tr><th scope="row">%s</th>`, esc(label))
		for _, s := range b.Series {
			v := 0.0
			if i < len(s.Values) {
				v = s.Values[i]
			}
			fmt.Fprintf(&w, `<td class="num" data-label="%s">%s</td>`, esc(s.Name), esc(b.format(v)))
		}
		w.WriteString(`</tr>`)
	}
	w.WriteString(`</tbody></table></div></details>`)
	return template.HTML(w.String())
}

// HTML is the whole figure: the picture, its legend and its table.
func (b Bars) HTML() template.HTML {
	return template.HTML(`<figure class="chart" aria-labelledby="` + template.HTMLEscapeString(b.ID) + `-cap">` +
		`<figcaption id="` + template.HTMLEscapeString(b.ID) + `-cap"><strong>` + template.HTMLEscapeString(b.Title) + `</strong> ` +
		template.HTMLEscapeString(b.Desc) + `</figcaption>` + string(b.SVG()) + string(b.Legend()) + string(b.Table()) + `</figure>`)
}
