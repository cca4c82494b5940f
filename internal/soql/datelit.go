package soql

import "time"

type dateUnit int

const (
	unitDay dateUnit = iota
	unitWeek
	unitMonth
	unitQuarter
	unitYear
)

// dateLiteralDef describes a relative date literal as a range of whole
// units relative to the unit containing today: [from, to) for fixed
// literals; for literals taking :n, from and to are computed from n.
type dateLiteralDef struct {
	unit     dateUnit
	takesN   bool
	from, to int                    // fixed literals
	span     func(n int) (int, int) // literals with :n
}

func fixed(u dateUnit, from, to int) dateLiteralDef {
	return dateLiteralDef{unit: u, from: from, to: to}
}

func withN(u dateUnit, span func(n int) (int, int)) dateLiteralDef {
	return dateLiteralDef{unit: u, takesN: true, span: span}
}

// The LAST_N_x / NEXT_N_x / N_x_AGO families: for days, LAST_N_DAYS:n
// includes today (LAST_N_DAYS:1 is yesterday and today) and NEXT_N_DAYS:n
// starts tomorrow; for the larger units the current unit is excluded.
func lastN(n int) (int, int) { return -n, 0 }
func nextN(n int) (int, int) { return 1, 1 + n }
func nAgo(n int) (int, int)  { return -n, -n + 1 }

// dateLiterals lists the supported relative date literals. Fiscal
// literals use the calendar year (Salesforce's default fiscal year starts
// in January); weeks start on Sunday (the en_US locale).
var dateLiterals = map[string]dateLiteralDef{
	"YESTERDAY":     fixed(unitDay, -1, 0),
	"TODAY":         fixed(unitDay, 0, 1),
	"TOMORROW":      fixed(unitDay, 1, 2),
	"LAST_WEEK":     fixed(unitWeek, -1, 0),
	"THIS_WEEK":     fixed(unitWeek, 0, 1),
	"NEXT_WEEK":     fixed(unitWeek, 1, 2),
	"LAST_MONTH":    fixed(unitMonth, -1, 0),
	"THIS_MONTH":    fixed(unitMonth, 0, 1),
	"NEXT_MONTH":    fixed(unitMonth, 1, 2),
	"LAST_90_DAYS":  fixed(unitDay, -90, 1),
	"NEXT_90_DAYS":  fixed(unitDay, 1, 91),
	"LAST_N_DAYS":   withN(unitDay, func(n int) (int, int) { return -n, 1 }),
	"NEXT_N_DAYS":   withN(unitDay, nextN),
	"N_DAYS_AGO":    withN(unitDay, nAgo),
	"LAST_N_WEEKS":  withN(unitWeek, lastN),
	"NEXT_N_WEEKS":  withN(unitWeek, nextN),
	"N_WEEKS_AGO":   withN(unitWeek, nAgo),
	"LAST_N_MONTHS": withN(unitMonth, lastN),
	"NEXT_N_MONTHS": withN(unitMonth, nextN),
	"N_MONTHS_AGO":  withN(unitMonth, nAgo),

	"THIS_QUARTER":    fixed(unitQuarter, 0, 1),
	"LAST_QUARTER":    fixed(unitQuarter, -1, 0),
	"NEXT_QUARTER":    fixed(unitQuarter, 1, 2),
	"LAST_N_QUARTERS": withN(unitQuarter, lastN),
	"NEXT_N_QUARTERS": withN(unitQuarter, nextN),
	"N_QUARTERS_AGO":  withN(unitQuarter, nAgo),

	"THIS_YEAR":    fixed(unitYear, 0, 1),
	"LAST_YEAR":    fixed(unitYear, -1, 0),
	"NEXT_YEAR":    fixed(unitYear, 1, 2),
	"LAST_N_YEARS": withN(unitYear, lastN),
	"NEXT_N_YEARS": withN(unitYear, nextN),
	"N_YEARS_AGO":  withN(unitYear, nAgo),

	"THIS_FISCAL_QUARTER":    fixed(unitQuarter, 0, 1),
	"LAST_FISCAL_QUARTER":    fixed(unitQuarter, -1, 0),
	"NEXT_FISCAL_QUARTER":    fixed(unitQuarter, 1, 2),
	"LAST_N_FISCAL_QUARTERS": withN(unitQuarter, lastN),
	"NEXT_N_FISCAL_QUARTERS": withN(unitQuarter, nextN),
	"N_FISCAL_QUARTERS_AGO":  withN(unitQuarter, nAgo),
	"THIS_FISCAL_YEAR":       fixed(unitYear, 0, 1),
	"LAST_FISCAL_YEAR":       fixed(unitYear, -1, 0),
	"NEXT_FISCAL_YEAR":       fixed(unitYear, 1, 2),
	"LAST_N_FISCAL_YEARS":    withN(unitYear, lastN),
	"NEXT_N_FISCAL_YEARS":    withN(unitYear, nextN),
	"N_FISCAL_YEARS_AGO":     withN(unitYear, nAgo),
}

// maxDateLiteralN bounds the :n argument (Salesforce takes a 32-bit int;
// a smaller bound keeps the date arithmetic far from overflow).
const maxDateLiteralN = 100000

// dateRange resolves a relative date literal against now (in UTC) to the
// half-open range [start, end) of UTC midnights.
func dateRange(name string, n int, now time.Time) (start, end time.Time) {
	def := dateLiterals[name]
	from, to := def.from, def.to
	if def.takesN {
		from, to = def.span(n)
	}
	now = now.UTC()
	y, m, d := now.Date()
	today := time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	switch def.unit {
	case unitDay:
		return today.AddDate(0, 0, from), today.AddDate(0, 0, to)
	case unitWeek:
		ws := today.AddDate(0, 0, -int(today.Weekday())) // Sunday
		return ws.AddDate(0, 0, 7*from), ws.AddDate(0, 0, 7*to)
	case unitMonth:
		ms := time.Date(y, m, 1, 0, 0, 0, 0, time.UTC)
		return ms.AddDate(0, from, 0), ms.AddDate(0, to, 0)
	case unitQuarter:
		qs := time.Date(y, (m-1)/3*3+1, 1, 0, 0, 0, 0, time.UTC)
		return qs.AddDate(0, 3*from, 0), qs.AddDate(0, 3*to, 0)
	default:
		ys := time.Date(y, 1, 1, 0, 0, 0, 0, time.UTC)
		return ys.AddDate(from, 0, 0), ys.AddDate(to, 0, 0)
	}
}
