package encodedquery

import (
	"runtime"
	"testing"
)

// TestHugeExponentCostsItsLength is the regression test of issue 11,
// defect 5: "1e99999" was parsed as an exact rational (10^99999, tens of
// kilobytes, built under the instance lock). A comparison must allocate
// next to nothing whatever the exponent. Memory, not wall-clock, is
// asserted: it is deterministic.
func TestHugeExponentCostsItsLength(t *testing.T) {
	cases := []struct {
		a, b string
		want int
	}{
		{"5", "1e999999", -1},
		{"1e999999", "1e999998", 0}, // both +Inf: equal as float64
		{"-1e999999", "3", -1},
		{"3", "1e-999999", 1},
		{"9223372036854775807", "9223372036854775806", 1}, // exact int64
		{"2.5", "10", -1},
		{"inf", "5", 1},   // not a number: text order ("i" > "5")
		{"nan", "nan", 0}, // text order
	}
	for _, c := range cases {
		if got := Compare(c.a, c.b, KindNumber); got != c.want {
			t.Errorf("Compare(%q, %q) = %d, want %d", c.a, c.b, got, c.want)
		}
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for range 10 {
		Compare("5", "1e999999", KindNumber)
	}
	runtime.ReadMemStats(&after)
	if grew := after.TotalAlloc - before.TotalAlloc; grew > 64<<10 {
		t.Errorf("10 comparisons with 1e999999 allocated %d bytes", grew)
	}
}

// TestBuiltQueriesCannotBeInjected: a value with ^OR, ^NQ or a trailing
// caret stays one value (defect 4).
func TestBuiltQueriesCannotBeInjected(t *testing.T) {
	for _, v := range []string{"X^ORcase_numberISNOTEMPTY", "X^NQactive=true", "X^", "^", "a^^b", "ORDERBYx"} {
		q := Equals("case_number", v).And("active", "=", "true").OrderBy("number", true)
		back := Parse(q.String())
		if len(back.Blocks) != 1 || len(back.Blocks[0]) != 2 || len(back.Blocks[0][0]) != 1 || len(back.Invalid) != 0 {
			t.Fatalf("%q: %q parsed as %+v", v, q.String(), back)
		}
		if got := back.Blocks[0][0][0]; got != (Term{Field: "case_number", Op: "=", Value: v}) {
			t.Errorf("%q: first term %+v", v, got)
		}
		get := func(f string) (string, bool) {
			return map[string]string{"case_number": v, "active": "true"}[f], true
		}
		if !q.Match(get, func(string) Kind { return KindString }) {
			t.Errorf("%q: built query does not match its own record", v)
		}
		if q.Match(func(f string) (string, bool) {
			return map[string]string{"case_number": "OTHER", "active": "true"}[f], true
		}, func(string) Kind { return KindString }) {
			t.Errorf("%q: built query matches another record", v)
		}
	}
}
