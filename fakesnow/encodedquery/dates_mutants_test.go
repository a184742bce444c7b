package encodedquery

import (
	"reflect"
	"testing"
	"time"
)

// The tests of this file pin the edges of the date operators and GlideSystem
// date functions that issue 18's mutation run (gremlins, tree ebac468) found
// untested: each case names the survivor it kills (dates.go:line:column).

// TestEvalJSPeriodEdges: the "Last" periods and rolling windows of the
// GlideSystem date functions (ServiceNow's GlideSystem API reference:
// gs.beginningOfLastQuarter(), gs.endOfLastYear(), gs.beginningOfLastMinute(),
// gs.beginningOfLast30Minutes(), gs.beginningOfLast2Hours() …), and the day,
// week, month, quarter and year starts and ends at their first and last
// second, in a leap year. Weeks start on Monday in the fake
// (docs/fidelity.md "Encoded queries").
func TestEvalJSPeriodEdges(t *testing.T) {
	wed := testEnv.Now // Wednesday 2026-03-04 10:30:15 UTC
	leapDay := time.Date(2024, 2, 29, 23, 59, 59, 0, time.UTC)
	firstSecond := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC) // a Monday
	quarterEnd := time.Date(2026, 3, 31, 23, 59, 59, 0, time.UTC)
	sunday := time.Date(2026, 3, 8, 23, 59, 59, 0, time.UTC)
	cases := []struct {
		now        time.Time
		expr, want string
	}{
		// dates.go:256:61 (LastQuarter's -1): the quarter before Q1 2026.
		{wed, "gs.beginningOfLastQuarter()", "2025-10-01 00:00:00"},
		{wed, "gs.endOfLastQuarter()", "2025-12-31 23:59:59"},
		{wed, "gs.beginningOfNextQuarter()", "2026-04-01 00:00:00"},
		// dates.go:257:49 (LastYear's -1).
		{wed, "gs.beginningOfLastYear()", "2025-01-01 00:00:00"},
		{wed, "gs.endOfLastYear()", "2025-12-31 23:59:59"},
		{wed, "gs.endOfNextYear()", "2027-12-31 23:59:59"},
		// dates.go:258:28 (LastMinute's -1).
		{wed, "gs.beginningOfLastMinute()", "2026-03-04 10:29:00"},
		{wed, "gs.endOfLastMinute()", "2026-03-04 10:29:59"},
		// dates.go:269:93, :128, :159: the rolling windows end now and
		// begin on the minute 30, 45 minutes and 2 hours before.
		{wed, "gs.beginningOfLast30Minutes()", "2026-03-04 10:00:00"},
		{wed, "gs.beginningOfLast45Minutes()", "2026-03-04 09:45:00"},
		{wed, "gs.beginningOfLast2Hours()", "2026-03-04 08:30:00"},
		{wed, "gs.endOfLast2Hours()", "2026-03-04 10:30:15"},
		// Leap year: the last second of 29 February.
		{leapDay, "gs.endOfThisMonth()", "2024-02-29 23:59:59"},
		{leapDay, "gs.beginningOfTomorrow()", "2024-03-01 00:00:00"},
		{leapDay, "gs.endOfLastYear()", "2023-12-31 23:59:59"},
		{leapDay, "gs.monthsAgoStart(1)", "2024-01-01 00:00:00"},
		{leapDay, "gs.yearsAgo(1)", "2023-02-28 23:59:59"}, // clamped, as Java's Calendar.add does
		{leapDay, "gs.yearsAgo(-4)", "2028-02-29 23:59:59"},
		// The first second of a year, which is a Monday.
		{firstSecond, "gs.beginningOfThisWeek()", "2024-01-01 00:00:00"},
		{firstSecond, "gs.endOfLastWeek()", "2023-12-31 23:59:59"},
		{firstSecond, "gs.beginningOfLastQuarter()", "2023-10-01 00:00:00"},
		{firstSecond, "gs.endOfYesterday()", "2023-12-31 23:59:59"},
		{firstSecond, "gs.daysAgoStart(0)", "2024-01-01 00:00:00"},
		// The last second of a quarter.
		{quarterEnd, "gs.beginningOfThisQuarter()", "2026-01-01 00:00:00"},
		{quarterEnd, "gs.endOfThisQuarter()", "2026-03-31 23:59:59"},
		{quarterEnd, "gs.quartersAgoStart(-1)", "2026-04-01 00:00:00"},
		// A month's last day: the month before 31 March is February
		// (time.AddDate alone would give 3 March), the quarter after is Q2.
		{quarterEnd, "gs.beginningOfLastMonth()", "2026-02-01 00:00:00"},
		{quarterEnd, "gs.monthsAgoStart(1)", "2026-02-01 00:00:00"},
		{quarterEnd, "gs.monthsAgo(1)", "2026-02-28 23:59:59"},
		{quarterEnd, "gs.endOfNextMonth()", "2026-04-30 23:59:59"},
		{quarterEnd, "gs.endOfNextQuarter()", "2026-06-30 23:59:59"},
		{quarterEnd, "gs.beginningOfLastQuarter()", "2025-10-01 00:00:00"},
		// A Sunday's last second still belongs to the week begun on Monday.
		{sunday, "gs.beginningOfThisWeek()", "2026-03-02 00:00:00"},
		{sunday, "gs.endOfThisWeek()", "2026-03-08 23:59:59"},
		{sunday, "gs.beginningOfNextWeek()", "2026-03-09 00:00:00"},
		// Zero, negative and omitted n: n days ago, so -1 is tomorrow.
		{wed, "gs.daysAgo(0)", "2026-03-04 10:30:15"},
		{wed, "gs.daysAgo()", "2026-03-04 10:30:15"},
		{wed, "gs.daysAgo(-1)", "2026-03-05 10:30:15"},
		{wed, "gs.daysAgoEnd(-1)", "2026-03-05 23:59:59"},
		{wed, "gs.hoursAgo(-2)", "2026-03-04 12:30:15"},
		{wed, "gs.yearsAgoEnd(1)", "2025-12-31 23:59:59"},
	}
	for _, c := range cases {
		env := testEnv
		env.Now = c.now
		if got, ok := EvalJS(c.expr, env); !ok || got != c.want {
			t.Errorf("at %s: %s = %q, %v; want %q", c.now.Format(TimeFormat), c.expr, got, ok, c.want)
		}
	}
}

// TestBindMalformedDateTerms: a relative, ON or BETWEEN term that cannot be
// evaluated as a whole becomes invalid (the caller then applies
// ServiceNow's rule for invalid terms); a block left with no term is
// dropped rather than kept empty, since an empty block would match every
// record.
func TestBindMalformedDateTerms(t *testing.T) {
	invalid := []string{
		// dates.go:109:18: RELATIVE values are @unit@ago|ahead@n, exactly.
		"sys_updated_onRELATIVEGT@hour@sideways@1",
		"sys_updated_onRELATIVEGT@hour@ago@1@2",
		"sys_updated_onRELATIVEGT@hour@ago",
		"sys_updated_onRELATIVEGT@fortnight@ago@1",
		"sys_updated_onRELATIVEGT@hour@ago@x",
		// dates.go:137:11: both ON bounds must evaluate.
		"sys_updated_onONToday@javascript:gs.nosuch()@javascript:gs.endOfToday()",
		"sys_updated_onONToday@javascript:gs.beginningOfToday()@javascript:gs.nosuch()",
		"sys_updated_onONToday@javascript:gs.beginningOfToday()",
		// dates.go:148:68: and both BETWEEN bounds.
		"sys_updated_onBETWEENjavascript:gs.nosuch()@javascript:gs.daysAgoEnd(0)",
		"sys_updated_onBETWEENjavascript:gs.daysAgoStart(1)@javascript:gs.nosuch()",
	}
	for _, term := range invalid {
		q := Parse(term)
		if len(q.Invalid) > 0 {
			t.Errorf("%s: does not parse: %v", term, q.Invalid)
			continue
		}
		b := q.Bind(testEnv)
		if len(b.Blocks) != 0 || !reflect.DeepEqual(b.Invalid, []string{term}) {
			t.Errorf("%s bound to %+v; want it invalid", term, b)
		}
	}
	for _, term := range []string{
		"sys_updated_onRELATIVEGT@hour@ahead@1",
		"sys_updated_onBETWEENjavascript:gs.daysAgoStart(1)@javascript:gs.daysAgoEnd(0)",
		"sys_updated_onONToday@javascript:gs.beginningOfToday()@javascript:gs.endOfToday()",
	} {
		if b := Parse(term).Bind(testEnv); len(b.Invalid) != 0 || len(b.Blocks) != 1 {
			t.Errorf("%s bound to %+v; want it valid", term, b)
		}
	}
	// dates.go:88:14: the first block's only term is invalid, so only the
	// second block is left.
	q := Parse("sys_updated_on>javascript:gs.nosuch()^NQactive=true").Bind(testEnv)
	want := Query{Blocks: []Block{{{{"active", "=", "true"}}}}, Invalid: []string{"sys_updated_on>javascript:gs.nosuch()"}}
	if !reflect.DeepEqual(q, want) {
		t.Errorf("got %+v\nwant %+v", q, want)
	}
	if q.Match(func(f string) (string, bool) { return map[string]string{"active": "false"}[f], true }, func(string) Kind { return KindString }) {
		t.Error("an inactive record matched active=true once the other block was dropped")
	}
}

// TestDateOperatorEdges: both sides of every condition of the date and
// field-comparing operators of ServiceNow's "Operators available for
// filters and queries": "on" takes the whole day from its first to its last
// second; an empty field is neither on nor not on a day, nor before or
// after another field; "relative to another field" (MORETHAN/LESSTHAN)
// needs two date-times and a whole number; DATEPART compares one part of
// the date with EE/GT/GE/LT/LE/NE.
func TestDateOperatorEdges(t *testing.T) {
	rec := map[string]string{
		"opened_at":   "2026-03-04 00:00:00", // a Wednesday's first second
		"closed_at":   "2026-03-04 23:59:59", // and its last
		"due":         "2026-03-05 00:00:00",
		"created":     "2026-03-01 09:00:00",
		"updated":     "2026-03-04 10:00:00",
		"resolved_at": "",
		"zero_at":     "0001-01-01 00:00:00", // what time.Parse yields for a value it cannot read
		"three":       "3", "also_three": "3", "one": "1", "none": "",
	}
	get := func(f string) (string, bool) { v, ok := rec[f]; return v, ok }
	kind := func(f string) Kind {
		switch f {
		case "three", "also_three", "one", "none":
			return KindNumber
		}
		return KindString
	}
	const today = "Today@javascript:gs.beginningOfToday()@javascript:gs.endOfToday()"
	cases := []struct {
		q    string
		want bool
	}{
		// dates.go:374:29 and :57: the day's first and last second are on it.
		{"opened_atON" + today, true},
		{"closed_atON" + today, true},
		{"dueON" + today, false},
		{"opened_atNOTON" + today, false},
		{"closed_atNOTON" + today, false},
		{"dueNOTON" + today, true},
		// dates.go:371:18: an empty date is not "not on" today either, and a
		// value without its two bounds matches nothing.
		{"resolved_atNOTON" + today, false},
		{"resolved_atON" + today, false},
		{"opened_atON2026-03-04", false},
		{"opened_atNOTON2026-03-04", false},
		// dates.go:382:36, :55, :84, :114: greater, equal and smaller, for
		// each of the four field comparisons.
		{"threeGT_FIELDalso_three", false},
		{"threeGT_FIELDone", true},
		{"oneGT_FIELDthree", false},
		{"threeLT_FIELDalso_three", false},
		{"threeLT_FIELDone", false},
		{"oneLT_FIELDthree", true},
		{"threeGT_OR_EQUALS_FIELDalso_three", true},
		{"threeGT_OR_EQUALS_FIELDone", true},
		{"oneGT_OR_EQUALS_FIELDthree", false},
		{"threeLT_OR_EQUALS_FIELDalso_three", true},
		{"threeLT_OR_EQUALS_FIELDone", false},
		{"oneLT_OR_EQUALS_FIELDthree", true},
		// dates.go:378:14: either side empty matches nothing.
		{"noneLT_FIELDthree", false},
		{"threeGT_FIELDnone", false},
		{"noneGT_OR_EQUALS_FIELDnone", false},
		// dates.go:395:17 and :25: a bad count, or either date missing.
		{"createdMORETHANupdated@day@before@1", true},
		{"createdMORETHANupdated@day@before@x", false},
		{"resolved_atMORETHANupdated@day@before@1", false},
		{"createdMORETHANresolved_at@day@before@1", false},
		{"createdMORETHANupdated@day@beside@1", false},
		{"createdMORETHANupdated@fortnight@before@1", false},
		{"createdMORETHANupdated@day@before", false},
		// dates.go:413:28: LESSTHAN …@before@n is "no more than n days
		// prior": a date after the other is not prior at all, and a date
		// more than n days before is not within n.
		{"createdLESSTHANupdated@day@before@5", true},
		{"updatedLESSTHANcreated@day@before@5", false},
		{"createdLESSTHANupdated@day@before@1", false},
		{"updatedLESSTHANcreated@day@after@5", true},
		{"createdLESSTHANupdated@day@after@5", false},
		{"updatedLESSTHANcreated@day@after@1", false},
		// dates.go:421:15: DATEPART on an empty date, or with a value that
		// is no gs.datePart call, matches nothing (0001-01-01 is a Monday).
		{"resolved_atDATEPARTMonday@javascript:gs.datePart('dayofweek','monday','EE')", false},
		{"opened_atDATEPARTWednesday@javascript:gs.datePart('dayofweek','Wednesday','XX')", false},
		{"opened_atDATEPARTWednesday@wednesday", false},
		// dates.go:440: each comparison of DATEPART below, at and above the
		// record's part (Wednesday).
		{"opened_atDATEPARTTuesday@javascript:gs.datePart('dayofweek','tuesday','GT')", true},
		{"opened_atDATEPARTWednesday@javascript:gs.datePart('dayofweek','wednesday','GT')", false},
		{"opened_atDATEPARTWednesday@javascript:gs.datePart('dayofweek','wednesday','GE')", true},
		{"opened_atDATEPARTThursday@javascript:gs.datePart('dayofweek','thursday','GE')", false},
		{"opened_atDATEPARTWednesday@javascript:gs.datePart('dayofweek','wednesday','LT')", false},
		{"opened_atDATEPARTThursday@javascript:gs.datePart('dayofweek','thursday','LT')", true},
		{"opened_atDATEPARTWednesday@javascript:gs.datePart('dayofweek','wednesday','LE')", true},
		{"opened_atDATEPARTTuesday@javascript:gs.datePart('dayofweek','tuesday','LE')", false},
		{"opened_atDATEPARTWednesday@javascript:gs.datePart('dayofweek','wednesday','NE')", false},
		{"opened_atDATEPARTTuesday@javascript:gs.datePart('dayofweek','tuesday','NE')", true},
		{"opened_atDATEPARTMarch@javascript:gs.datePart('month','march','GE')", true},
		{"opened_atDATEPART2026@javascript:gs.datePart('year','2025','GT')", true},
		{"opened_atDATEPARTx@javascript:gs.datePart('year','x','GT')", false},
		// dates.go:454:10: an empty date is not the same day as any date,
		// not even the zero time an unreadable value parses to.
		{"resolved_atSAMEASzero_at@day", false},
		{"zero_atSAMEASresolved_at@day", false},
		{"resolved_atNSAMEASzero_at@day", true},
		{"opened_atSAMEASclosed_at@day", true},
		{"opened_atSAMEASdue@day", false},
	}
	for _, c := range cases {
		q := Parse(c.q)
		if len(q.Invalid) > 0 {
			t.Errorf("%s: invalid pieces %v", c.q, q.Invalid)
			continue
		}
		if got := q.Bind(testEnv).Match(get, kind); got != c.want {
			t.Errorf("%s: %v, want %v", c.q, got, c.want)
		}
	}
}

// TestMalformedNumbersCompareAsText: a value that only looks like a number
// ("1e", "-", ".") is not one, so it compares as text, never as 0
// (encodedquery.go:360:40 and :371:12); a decimal that underflows is 0.
func TestMalformedNumbersCompareAsText(t *testing.T) {
	cases := []struct {
		a, b string
		want int
	}{
		{"1e", "0", 1},
		{"-", "0", -1},
		{".", "0", -1},
		{"1e-400", "0", 0},
		{"1e99999", "1e999999", 0}, // both +Inf
		{"-1e99999", "0", -1},
	}
	for _, c := range cases {
		if got := Compare(c.a, c.b, KindNumber); got != c.want {
			t.Errorf("Compare(%q, %q) = %d, want %d", c.a, c.b, got, c.want)
		}
	}
}
