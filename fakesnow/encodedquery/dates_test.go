package encodedquery

import (
	"reflect"
	"testing"
	"time"
)

// now is a Wednesday.
var testEnv = Env{Now: time.Date(2026, 3, 4, 10, 30, 15, 0, time.UTC), UserID: "6816f79cc0a8016401c5a33be04be441", UserName: "admin"}

// TestEvalJS: the GlideSystem calls queries use (ServiceNow's operator
// reference examples: gs.daysAgoStart(0), gs.daysAgoEnd(0),
// gs.beginningOfThisMonth(); pollers: gs.minutesAgoStart(60);
// gs.dateGenerate('2022-03-20','00:00:00') in public client code).
func TestEvalJS(t *testing.T) {
	cases := []struct{ expr, want string }{
		{"gs.getUserID()", "6816f79cc0a8016401c5a33be04be441"},
		{"gs.getUserName()", "admin"},
		{"gs.nowDateTime()", "2026-03-04 10:30:15"},
		{"gs.minutesAgo(60)", "2026-03-04 09:30:15"},
		{"gs.minutesAgoStart(60)", "2026-03-04 09:30:00"},
		{"gs.minutesAgoEnd(60)", "2026-03-04 09:30:59"},
		{"gs.hoursAgoStart(2)", "2026-03-04 08:00:00"},
		{"gs.hoursAgoEnd(2)", "2026-03-04 08:59:59"},
		{"gs.daysAgo(3)", "2026-03-01 10:30:15"},
		{"gs.daysAgoStart(0)", "2026-03-04 00:00:00"},
		{"gs.daysAgoEnd(0)", "2026-03-04 23:59:59"},
		{"gs.daysAgoStart(1)", "2026-03-03 00:00:00"},
		{"gs.monthsAgoStart(1)", "2026-02-01 00:00:00"},
		{"gs.beginningOfToday()", "2026-03-04 00:00:00"},
		{"gs.endOfToday()", "2026-03-04 23:59:59"},
		{"gs.beginningOfYesterday()", "2026-03-03 00:00:00"},
		{"gs.endOfTomorrow()", "2026-03-05 23:59:59"},
		{"gs.beginningOfThisWeek()", "2026-03-02 00:00:00"},
		{"gs.endOfLastWeek()", "2026-03-01 23:59:59"},
		{"gs.beginningOfThisMonth()", "2026-03-01 00:00:00"},
		{"gs.endOfLastMonth()", "2026-02-28 23:59:59"},
		{"gs.beginningOfThisQuarter()", "2026-01-01 00:00:00"},
		{"gs.endOfThisYear()", "2026-12-31 23:59:59"},
		{"gs.beginningOfLastHour()", "2026-03-04 09:00:00"},
		{"gs.beginningOfLast15Minutes()", "2026-03-04 10:15:00"},
		{"gs.dateGenerate('2022-03-20','00:00:00')", "2022-03-20 00:00:00"},
		{"gs.dateGenerate('2022-03-25','end')", "2022-03-25 23:59:59"},
	}
	for _, c := range cases {
		got, ok := EvalJS(c.expr, testEnv)
		if !ok || got != c.want {
			t.Errorf("%s = %q, %v; want %q", c.expr, got, ok, c.want)
		}
	}
	for _, bad := range []string{"gs.nosuch()", "gs.daysAgo('x')", "current.sys_id", "gs.dateGenerate('2022-13-01','x')"} {
		if got, ok := EvalJS(bad, testEnv); ok {
			t.Errorf("%s evaluated to %q", bad, got)
		}
	}
}

// TestDateAndFieldOperators: the operators of ServiceNow's "Operators
// available for filters and queries" page, with its examples' semantics.
func TestDateAndFieldOperators(t *testing.T) {
	rec := map[string]string{
		"sys_updated_on": "2026-03-04 10:00:00", // 30 minutes before now, a Wednesday
		"sys_created_on": "2026-03-01 09:00:00", // a Sunday
		"opened_at":      "2026-03-01 17:00:00",
		"caller_id":      "6816f79cc0a8016401c5a33be04be441", "assigned_to": "someone else",
		"reassignment_count": "3", "reopen_count": "1",
	}
	get := func(f string) (string, bool) { v, ok := rec[f]; return v, ok }
	kind := func(f string) Kind {
		if f == "reassignment_count" || f == "reopen_count" {
			return KindNumber
		}
		return KindString
	}
	cases := []struct {
		q    string
		want bool
	}{
		{"sys_updated_on>javascript:gs.minutesAgoStart(60)", true},
		{"sys_updated_on<javascript:gs.minutesAgoStart(60)", false},
		{"sys_updated_on>=javascript:gs.minutesAgoStart(15)", false},
		{"sys_created_on<javascript:gs.beginningOfToday()", true},
		{"sys_updated_onBETWEENjavascript:gs.daysAgoStart(1)@javascript:gs.daysAgoEnd(0)", true},
		{"sys_created_onBETWEENjavascript:gs.daysAgoStart(1)@javascript:gs.daysAgoEnd(0)", false},
		{"sys_updated_onONToday@javascript:gs.beginningOfToday()@javascript:gs.endOfToday()", true},
		{"sys_created_onONToday@javascript:gs.beginningOfToday()@javascript:gs.endOfToday()", false},
		{"sys_created_onNOTONToday@javascript:gs.beginningOfToday()@javascript:gs.endOfToday()", true},
		{"sys_updated_onRELATIVEGT@hour@ago@1", true},
		{"sys_updated_onRELATIVELT@hour@ago@1", false},
		{"sys_updated_onRELATIVEGE@minute@ago@31", true},
		{"sys_updated_onRELATIVEGE@minute@ago@30", false},
		{"sys_created_onRELATIVEGT@dayofweek@ago@7", true},
		{"sys_created_onRELATIVEEE@day@ago@3", true},
		{"sys_created_onRELATIVEGT@hour@ahead@1", false},
		{"sys_created_onDATEPARTSunday@javascript:gs.datePart('dayofweek','sunday','EE')", true},
		{"sys_updated_onDATEPARTMonday@javascript:gs.datePart('dayofweek','monday','GT')", true},
		{"sys_created_onDATEPARTMonday@javascript:gs.datePart('dayofweek','monday','LT')", true},
		{"sys_created_onDATEPARTMarch@javascript:gs.datePart('month','march','EE')", true},
		{"sys_created_onMORETHANsys_updated_on@day@before@1", true},
		{"sys_created_onMORETHANsys_updated_on@day@before@5", false},
		{"sys_created_onLESSTHANsys_updated_on@day@before@5", true},
		{"sys_updated_onMORETHANsys_created_on@hour@after@2", true},
		{"sys_created_onSAMEASopened_at@day", true},
		{"sys_created_onSAMEASopened_at", false},
		{"sys_created_onNSAMEASsys_updated_on@day", true},
		{"reassignment_countGT_FIELDreopen_count", true},
		{"reassignment_countLT_OR_EQUALS_FIELDreopen_count", false},
		{"caller_id=javascript:gs.getUserID()", true},
		{"caller_idDYNAMIC90d1921e5f510100a9ad2572f2b477fe", true},
		{"caller_idDYNAMIC54635e965f510100a9ad2572f2b4774c", true},
		{"assigned_toDYNAMIC90d1921e5f510100a9ad2572f2b477fe", false},
		{"caller_idDYNAMICd6435e965f510100a9ad2572f2b47744", false}, // "One of My Groups": not modelled
		{"caller_idVALCHANGES", false},
		{"caller_idCHANGESTO1", false},
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

// TestBindInvalid: a javascript: value the fake cannot evaluate becomes an
// invalid term, which the platform then treats as ServiceNow treats invalid
// terms; everything else keeps its place.
func TestBindInvalid(t *testing.T) {
	q := Parse("active=true^sys_updated_on>javascript:gs.nosuch()^ORDERBYnumber").Bind(testEnv)
	want := Query{Blocks: []Block{{{{"active", "=", "true"}}}}, Order: []Order{{"number", false}}, Invalid: []string{"sys_updated_on>javascript:gs.nosuch()"}}
	if !reflect.DeepEqual(q, want) {
		t.Errorf("got %+v\nwant %+v", q, want)
	}
	if got := Parse("caller_idSAMEASopened_by@day").Fields(); !reflect.DeepEqual(got, []string{"caller_id", "opened_by"}) {
		t.Errorf("Fields %v", got)
	}
}
