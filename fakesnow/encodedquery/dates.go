package encodedquery

import (
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Operators that depend on time or on who asks, and the field-comparing
// ones, as ServiceNow's "Operators available for filters and queries"
// lists them (markdown/…/condition-operators.md in ServiceNow/ServiceNowDocs;
// examples in the comments of each case below). Values beginning with
// "javascript:" are GlideSystem date and user functions that the instance
// evaluates server-side (Table API reference: sysparm_query
// "caller_id=javascript:gs.getUserID()"); Bind evaluates them here against
// an injected clock and caller.

// TimeFormat is the stored form of date-times (UTC).
const TimeFormat = "2006-01-02 15:04:05"

// MeFilters are the sys_ids of the out-of-box "Me" dynamic filter option
// (sys_filter_option_dynamic): the operators reference shows
// 54635e965f510100a9ad2572f2b4774c, and list and module queries on real
// instances use 90d1921e5f510100a9ad2572f2b477fe.
var MeFilters = map[string]bool{"54635e965f510100a9ad2572f2b4774c": true, "90d1921e5f510100a9ad2572f2b477fe": true}

// Env is what Bind evaluates against.
type Env struct {
	Now      time.Time
	Loc      *time.Location // the caller's time zone; nil is UTC
	UserID   string         // gs.getUserID()
	UserName string         // gs.getUserName()
}

func (e Env) loc() *time.Location {
	if e.Loc == nil {
		return time.UTC
	}
	return e.Loc
}

func fmtTime(t time.Time) string { return t.UTC().Format(TimeFormat) }

// Dynamic reports whether q's meaning depends on Env (the clock or the
// caller), so that Bind must run before it is matched.
func (q Query) Dynamic() bool {
	for _, b := range q.Blocks {
		for _, c := range b {
			for _, t := range c {
				switch t.Op {
				case "DYNAMIC", "RELATIVEGT", "RELATIVELT", "RELATIVEGE", "RELATIVELE", "RELATIVEEE":
					return true
				}
				if strings.Contains(t.Value, "javascript:") {
					return true
				}
			}
		}
	}
	return false
}

// Bind evaluates javascript: values, relative and dynamic operators against
// env. A term whose value cannot be evaluated becomes Invalid, so the
// caller applies ServiceNow's rule for invalid terms to it.
func (q Query) Bind(env Env) Query {
	if !q.Dynamic() {
		return q
	}
	out := Query{Order: q.Order, Invalid: append([]string(nil), q.Invalid...)}
	for _, b := range q.Blocks {
		var nb Block
		for _, c := range b {
			var nc Clause
			for _, t := range c {
				bt, ok := t.bind(env)
				if !ok {
					out.Invalid = append(out.Invalid, t.Field+string(t.Op)+t.Value)
					continue
				}
				nc = append(nc, bt)
			}
			if len(nc) > 0 {
				nb = append(nb, nc)
			}
		}
		if len(nb) > 0 {
			out.Blocks = append(out.Blocks, nb)
		}
	}
	return out
}

func (t Term) bind(env Env) (Term, bool) {
	switch t.Op {
	case "DYNAMIC":
		// caller_idDYNAMIC54635e965f510100a9ad2572f2b4774c: "your user
		// record populates the Caller field". Other dynamic filters (groups,
		// hierarchies) are not modelled and match nothing.
		if MeFilters[t.Value] {
			return Term{Field: t.Field, Op: "=", Value: env.UserID}, true
		}
		return t, true
	case "RELATIVEGT", "RELATIVELT", "RELATIVEGE", "RELATIVELE", "RELATIVEEE":
		// sla_dueRELATIVEGT@hour@ago@1: "no more than an hour before the
		// time that you entered the query".
		p := strings.Split(strings.TrimPrefix(t.Value, "@"), "@")
		if len(p) != 3 || (p[1] != "ago" && p[1] != "ahead") {
			return t, false
		}
		n, err := strconv.Atoi(p[2])
		if err != nil {
			return t, false
		}
		if p[1] == "ago" {
			n = -n
		}
		at, ok := shift(env.Now.In(env.loc()), p[0], n)
		if !ok {
			return t, false
		}
		op := map[Op]Op{"RELATIVEGT": ">", "RELATIVELT": "<", "RELATIVEGE": ">=", "RELATIVELE": "<="}[t.Op]
		if op == "" { // EE: within the unit that time falls in
			lo, hi := span(at, p[0])
			return Term{Field: t.Field, Op: "BETWEEN", Value: fmtTime(lo) + "@" + fmtTime(hi)}, true
		}
		return Term{Field: t.Field, Op: op, Value: fmtTime(at)}, true
	case "ON", "NOTON":
		// sla_dueONToday@javascript:gs.daysAgoStart(0)@javascript:gs.daysAgoEnd(0)
		p := strings.Split(t.Value, "@")
		if len(p) != 3 {
			return t, false
		}
		lo, ok1 := evalValue(p[1], env)
		hi, ok2 := evalValue(p[2], env)
		if !ok1 || !ok2 {
			return t, false
		}
		return Term{Field: t.Field, Op: t.Op, Value: p[0] + "@" + lo + "@" + hi}, true
	case "BETWEEN":
		lo, hi, ok := strings.Cut(t.Value, "@")
		if !ok {
			return t, true
		}
		lo, ok1 := evalValue(lo, env)
		hi, ok2 := evalValue(hi, env)
		return Term{Field: t.Field, Op: t.Op, Value: lo + "@" + hi}, ok1 && ok2
	case "DATEPART":
		return t, true // evaluated per record (matchDatePart)
	}
	if !strings.HasPrefix(t.Value, "javascript:") {
		return t, true
	}
	v, ok := evalValue(t.Value, env)
	return Term{Field: t.Field, Op: t.Op, Value: v}, ok
}

// evalValue evaluates a javascript: value; others are returned as given.
func evalValue(v string, env Env) (string, bool) {
	if !strings.HasPrefix(v, "javascript:") {
		return v, true
	}
	return EvalJS(strings.TrimPrefix(v, "javascript:"), env)
}

var callPattern = regexp.MustCompile(`^\s*gs\.([A-Za-z0-9]+)\(\s*(.*?)\s*\)\s*;?\s*$`)

// EvalJS evaluates the GlideSystem calls the platform accepts in query
// values: gs.getUserID(), gs.getUserName(), gs.nowDateTime(),
// gs.{minutes,hours,days,months,quarters,years}Ago{,Start,End}(n),
// gs.{beginning,end}Of{Today,Yesterday,Tomorrow,This/Last/NextWeek,
// This/Last/NextMonth, This/Last/NextQuarter, This/Last/NextYear,
// LastMinute, Last15Minutes, LastHour, Last2Hours}() and
// gs.dateGenerate('yyyy-MM-dd','HH:mm:ss'|'start'|'end'). Date-times come
// back in the stored UTC form; day, week, month and year boundaries are
// those of env's time zone, weeks starting on Monday.
func EvalJS(expr string, env Env) (string, bool) {
	m := callPattern.FindStringSubmatch(expr)
	if m == nil {
		return "", false
	}
	fn, args := m[1], splitArgs(m[2])
	now := env.Now.In(env.loc())
	intArg := func() (int, bool) {
		if len(args) == 0 {
			return 0, true // gs.daysAgo() is today
		}
		n, err := strconv.Atoi(args[0])
		return n, err == nil
	}
	switch fn {
	case "getUserID":
		return env.UserID, true
	case "getUserName":
		return env.UserName, true
	case "nowDateTime", "nowNoTZ":
		return fmtTime(now), true
	case "dateGenerate":
		if len(args) != 2 {
			return "", false
		}
		day, err := time.ParseInLocation("2006-01-02", args[0], env.loc())
		if err != nil {
			return "", false
		}
		switch args[1] {
		case "start":
			return fmtTime(day), true
		case "end":
			return fmtTime(day.Add(24*time.Hour - time.Second)), true
		}
		t, err := time.ParseInLocation("2006-01-02 15:04:05", args[0]+" "+args[1], env.loc())
		if err != nil {
			return "", false
		}
		return fmtTime(t), true
	}
	for _, unit := range []string{"minutes", "hours", "days", "months", "quarters", "years"} {
		if rest, ok := strings.CutPrefix(fn, unit+"Ago"); ok {
			n, ok := intArg()
			if !ok {
				return "", false
			}
			u := strings.TrimSuffix(unit, "s")
			at, _ := shift(now, u, -n)
			lo, hi := span(at, u)
			switch rest {
			case "":
				return fmtTime(at), true
			case "Start":
				return fmtTime(lo), true
			case "End":
				return fmtTime(hi), true
			}
			return "", false
		}
	}
	var edge, which string
	switch {
	case strings.HasPrefix(fn, "beginningOf"):
		edge, which = "beginning", strings.TrimPrefix(fn, "beginningOf")
	case strings.HasPrefix(fn, "endOf"):
		edge, which = "end", strings.TrimPrefix(fn, "endOf")
	default:
		return "", false
	}
	type period struct {
		unit string
		n    int
	}
	periods := map[string]period{
		"Today": {"day", 0}, "Yesterday": {"day", -1}, "Tomorrow": {"day", 1},
		"ThisWeek": {"week", 0}, "LastWeek": {"week", -1}, "NextWeek": {"week", 1},
		"ThisMonth": {"month", 0}, "LastMonth": {"month", -1}, "NextMonth": {"month", 1},
		"ThisQuarter": {"quarter", 0}, "LastQuarter": {"quarter", -1}, "NextQuarter": {"quarter", 1},
		"ThisYear": {"year", 0}, "LastYear": {"year", -1}, "NextYear": {"year", 1},
		"LastMinute": {"minute", -1}, "LastHour": {"hour", -1},
	}
	if p, ok := periods[which]; ok {
		at, _ := shift(now, p.unit, p.n)
		lo, hi := span(at, p.unit)
		if edge == "beginning" {
			return fmtTime(lo), true
		}
		return fmtTime(hi), true
	}
	// Rolling windows ending now: Last15Minutes, Last2Hours.
	windows := map[string]time.Duration{"Last15Minutes": 15 * time.Minute, "Last30Minutes": 30 * time.Minute, "Last45Minutes": 45 * time.Minute, "Last2Hours": 2 * time.Hour}
	if d, ok := windows[which]; ok {
		if edge == "beginning" {
			return fmtTime(now.Add(-d).Truncate(time.Minute)), true
		}
		return fmtTime(now), true
	}
	return "", false
}

func splitArgs(s string) []string {
	if strings.TrimSpace(s) == "" {
		return nil
	}
	var out []string
	for _, a := range strings.Split(s, ",") {
		out = append(out, strings.Trim(strings.TrimSpace(a), `'"`))
	}
	return out
}

// shift moves t by n units (minute, hour, day, dayofweek, week, month,
// quarter, year).
func shift(t time.Time, unit string, n int) (time.Time, bool) {
	switch unit {
	case "minute":
		return t.Add(time.Duration(n) * time.Minute), true
	case "hour":
		return t.Add(time.Duration(n) * time.Hour), true
	case "day", "dayofweek":
		return t.AddDate(0, 0, n), true
	case "week":
		return t.AddDate(0, 0, 7*n), true
	case "month":
		return addMonths(t, n), true
	case "quarter":
		return addMonths(t, 3*n), true
	case "year":
		return addMonths(t, 12*n), true
	}
	return t, false
}

// addMonths moves t by n months, keeping the day but clamping it to the
// target month's last day, as Java's Calendar.add (under GlideDateTime)
// does, unconfirmed: a month before 31 March is 28 February, not 3 March
// (time.AddDate's normalisation), so that gs.beginningOfLastMonth() on
// 31 March is 1 February.
func addMonths(t time.Time, n int) time.Time {
	y, m, d := t.Date()
	first := time.Date(y, m+time.Month(n), 1, t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), t.Location())
	if last := first.AddDate(0, 1, -1).Day(); d > last {
		d = last
	}
	return first.AddDate(0, 0, d-1)
}

// span is the first and last second of the unit t falls in.
func span(t time.Time, unit string) (time.Time, time.Time) {
	y, mo, d := t.Date()
	loc := t.Location()
	var lo, next time.Time
	switch unit {
	case "minute":
		lo = t.Truncate(time.Minute)
		next = lo.Add(time.Minute)
	case "hour":
		lo = time.Date(y, mo, d, t.Hour(), 0, 0, 0, loc)
		next = lo.Add(time.Hour)
	case "week":
		back := (int(t.Weekday()) + 6) % 7 // Monday first
		lo = time.Date(y, mo, d-back, 0, 0, 0, 0, loc)
		next = lo.AddDate(0, 0, 7)
	case "month":
		lo = time.Date(y, mo, 1, 0, 0, 0, 0, loc)
		next = lo.AddDate(0, 1, 0)
	case "quarter":
		lo = time.Date(y, mo-(mo-1)%3, 1, 0, 0, 0, 0, loc)
		next = lo.AddDate(0, 3, 0)
	case "year":
		lo = time.Date(y, 1, 1, 0, 0, 0, 0, loc)
		next = lo.AddDate(1, 0, 0)
	default: // day
		lo = time.Date(y, mo, d, 0, 0, 0, 0, loc)
		next = lo.AddDate(0, 0, 1)
	}
	return lo, next.Add(-time.Second)
}

// otherField is the second field a term compares with, if any.
func (t Term) otherField() (string, bool) {
	switch t.Op {
	case "SAMEAS", "NSAMEAS", "GT_FIELD", "LT_FIELD", "GT_OR_EQUALS_FIELD", "LT_OR_EQUALS_FIELD", "MORETHAN", "LESSTHAN":
		f, _, _ := strings.Cut(t.Value, "@")
		return f, true
	}
	return "", false
}

func parseTime(s string) (time.Time, bool) {
	t, err := time.Parse(TimeFormat, s)
	return t, err == nil
}

var weekdays = map[string]int{"sunday": 0, "monday": 1, "tuesday": 2, "wednesday": 3, "thursday": 4, "friday": 5, "saturday": 6}
var months = map[string]int{"january": 1, "february": 2, "march": 3, "april": 4, "may": 5, "june": 6, "july": 7, "august": 8,
	"september": 9, "october": 10, "november": 11, "december": 12}

var datePartPattern = regexp.MustCompile(`gs\.datePart\(\s*'([a-z]+)'\s*,\s*'([A-Za-z0-9]+)'\s*,\s*'([A-Z]{2})'\s*\)`)

// matchExtended evaluates the operators of this file on the value v of
// t.Field.
func (t Term) matchExtended(v string, get Getter, k Kind) bool {
	switch t.Op {
	case "ON", "NOTON":
		p := strings.Split(t.Value, "@")
		if len(p) != 3 || v == "" {
			return false
		}
		in := Compare(v, p[1], k) >= 0 && Compare(v, p[2], k) <= 0
		return in == (t.Op == "ON")
	case "GT_FIELD", "LT_FIELD", "GT_OR_EQUALS_FIELD", "LT_OR_EQUALS_FIELD":
		other, _ := get(t.Value)
		if v == "" || other == "" {
			return false
		}
		c := Compare(v, other, k)
		return map[Op]bool{"GT_FIELD": c > 0, "LT_FIELD": c < 0, "GT_OR_EQUALS_FIELD": c >= 0, "LT_OR_EQUALS_FIELD": c <= 0}[t.Op]
	case "MORETHAN", "LESSTHAN":
		// sla_dueMORETHANactivity_due@day@before@1: "two or more days
		// previous to" activity_due; LESSTHAN@day@before@3: "no more than
		// three days prior".
		p := strings.Split(t.Value, "@")
		if len(p) != 4 {
			return false
		}
		n, err := strconv.Atoi(p[3])
		a, ok1 := parseTime(v)
		o, _ := get(p[0])
		b, ok2 := parseTime(o)
		if err != nil || !ok1 || !ok2 {
			return false
		}
		if p[2] == "before" {
			n = -n
		} else if p[2] != "after" {
			return false
		}
		bound, ok := shift(b, p[1], n)
		if !ok {
			return false
		}
		switch {
		case t.Op == "MORETHAN" && n <= 0:
			return a.Before(bound)
		case t.Op == "MORETHAN":
			return a.After(bound)
		case n <= 0:
			return !a.Before(bound) && !a.After(b)
		default:
			return !a.After(bound) && !a.Before(b)
		}
	case "DATEPART":
		// sla_dueDATEPARTMonday@javascript:gs.datePart('dayofweek','monday','EE')
		m := datePartPattern.FindStringSubmatch(t.Value)
		at, ok := parseTime(v)
		if m == nil || !ok {
			return false
		}
		var got, want int
		switch m[1] {
		case "dayofweek":
			got, want = int(at.Weekday()), weekdays[strings.ToLower(m[2])]
		case "month":
			got, want = int(at.Month()), months[strings.ToLower(m[2])]
		case "year", "hour", "dayofmonth":
			n, err := strconv.Atoi(m[2])
			if err != nil {
				return false
			}
			want = n
			got = map[string]int{"year": at.Year(), "hour": at.Hour(), "dayofmonth": at.Day()}[m[1]]
		default:
			return false
		}
		return map[string]bool{"EE": got == want, "GT": got > want, "GE": got >= want, "LT": got < want, "LE": got <= want, "NE": got != want}[m[3]]
	case "DYNAMIC", "VALCHANGES", "CHANGESFROM", "CHANGESTO":
		// Unknown dynamic filters match nothing; a query sees no change,
		// so the change operators of notification conditions match nothing.
		return false
	}
	return false
}

// sameAsUnit compares two date-times at a unit's granularity
// (sla_dueSAMEASactivity_due@day).
func sameAsUnit(v, other, unit string) bool {
	a, ok1 := parseTime(v)
	b, ok2 := parseTime(other)
	if !ok1 || !ok2 {
		return v == other
	}
	la, _ := span(a, unit)
	lb, _ := span(b, unit)
	return la.Equal(lb)
}
