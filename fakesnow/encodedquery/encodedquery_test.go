package encodedquery

import (
	"reflect"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	cases := []struct {
		in   string
		want Query
	}{
		{"", Query{}},
		{"active=true", Query{Blocks: []Block{{{{"active", "=", "true"}}}}}},
		{"active=true^EQ", Query{Blocks: []Block{{{{"active", "=", "true"}}}}}},
		{"a=1^b=2^ORc=3", Query{Blocks: []Block{{{{"a", "=", "1"}}, {{"b", "=", "2"}, {"c", "=", "3"}}}}}},
		{"short_descriptionISEMPTY^NQdescriptionISNOTEMPTY", Query{Blocks: []Block{
			{{{"short_description", "ISEMPTY", ""}}}, {{{"description", "ISNOTEMPTY", ""}}}}}},
		{"stateNOT IN6,7^numberSTARTSWITHINC", Query{Blocks: []Block{{{{"state", "NOT IN", "6,7"}}, {{"number", "STARTSWITH", "INC"}}}}}},
		{"active=true^ORDERBYnumber^ORDERBYDESCsys_created_on", Query{
			Blocks: []Block{{{{"active", "=", "true"}}}},
			Order:  []Order{{"number", false}, {"sys_created_on", true}}}},
		{"sourceLIKEx_mioms_m365", Query{Blocks: []Block{{{{"source", "LIKE", "x_mioms_m365"}}}}}},
		{"messageNOT LIKEerror", Query{Blocks: []Block{{{{"message", "NOT LIKE", "error"}}}}}},
		{"priority<=2^impact>=1^urgency!=3", Query{Blocks: []Block{{{{"priority", "<=", "2"}}, {{"impact", ">=", "1"}}, {{"urgency", "!=", "3"}}}}}},
		{"caller_id.user_name=abel.tuter", Query{Blocks: []Block{{{{"caller_id.user_name", "=", "abel.tuter"}}}}}},
		{"short_description=a^^b", Query{Blocks: []Block{{{{"short_description", "=", "a^b"}}}}}},
		{"priorityBETWEEN1@3^caller_idSAMEASopened_by", Query{Blocks: []Block{{{{"priority", "BETWEEN", "1@3"}}, {{"caller_id", "SAMEAS", "opened_by"}}}}}},
		// An OR without a preceding term, a term without an operator and a
		// unary operator with a value are invalid; the rest still parses.
		{"ORa=1^active^b=2^cISEMPTYx", Query{Blocks: []Block{{{{"b", "=", "2"}}}}, Invalid: []string{"ORa=1", "active", "cISEMPTYx"}}},
		{"=x^ORDERBY^ORDERBYBad", Query{Invalid: []string{"=x", "ORDERBY", "ORDERBYBad"}}},
		// A field whose name starts with "or" is a field, not an OR.
		{"order_id=5", Query{Blocks: []Block{{{{"order_id", "=", "5"}}}}}},
	}
	for _, c := range cases {
		got := Parse(c.in)
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("Parse(%q)\n got %+v\nwant %+v", c.in, got, c.want)
		}
	}
}

func TestMatch(t *testing.T) {
	rec := map[string]string{
		"number": "INC0010002", "active": "true", "priority": "10", "impact": "2", "short_description": "VPN is down",
		"description": "", "caller_id": "abc", "opened_by": "abc", "sys_created_on": "2026-03-02 09:00:00",
	}
	get := func(f string) (string, bool) { v, ok := rec[f]; return v, ok }
	kind := func(f string) Kind {
		if f == "priority" || f == "impact" {
			return KindNumber
		}
		return KindString
	}
	cases := []struct {
		q    string
		want bool
	}{
		{"", true},
		{"active=true", true},
		{"active=TRUE", true},
		{"active!=true", false},
		{"short_descriptionLIKEvpn", true},
		{"short_descriptionNOT LIKEvpn", false},
		{"numberSTARTSWITHinc", true},
		{"numberENDSWITH0002", true},
		{"priority>9", true},
		{"priority<9", false}, // numeric, not lexical ("10" < "9" as text)
		{"priorityIN1,10,100", true},
		{"priorityNOT IN1,10", false},
		{"priorityBETWEEN5@10", true},
		{"descriptionISEMPTY", true},
		{"descriptionISNOTEMPTY", false},
		{"missingISEMPTY", true},
		{"missing=x", false},
		{"caller_idSAMEASopened_by", true},
		{"caller_idNSAMEASopened_by", false},
		{"sys_created_on>=2026-03-02 00:00:00^sys_created_on<2026-03-03 00:00:00", true},
		{"active=false^ORpriority=10", true},
		{"active=false^priority=10", false},
		{"active=false^NQimpact=2", true},
		{"active=false^NQimpact=3", false},
		{"descriptionANYTHING", true},
		{"priority<", false},
	}
	for _, c := range cases {
		if got := Parse(c.q).Match(get, kind); got != c.want {
			t.Errorf("%q matched %v, want %v", c.q, got, c.want)
		}
	}
}

func TestFieldsAndWithout(t *testing.T) {
	q := Parse("active=true^ORbogus=1^nope=2^caller_idSAMEASghost^ORDERBYbogus^ORDERBYnumber")
	if got := strings.Join(q.Fields(), ","); got != "active,bogus,nope,caller_id,ghost,number" {
		t.Fatalf("Fields = %s", got)
	}
	known := map[string]bool{"active": true, "caller_id": true, "number": true}
	w := q.Without(func(f string) bool { return !known[f] })
	want := Query{Blocks: []Block{{{{"active", "=", "true"}}}}, Order: []Order{{"number", false}}}
	if !reflect.DeepEqual(w, want) {
		t.Fatalf("Without = %+v", w)
	}
}

// FuzzParse checks that no input makes the parser or the matcher panic, and
// that what Parse reads survives a round trip of its fields.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"", "a=1", "a=1^ORb=2^NQc!=3^ORDERBYDESCd", "^^^", "OR", "NQ", "ORDERBY", "aBETWEEN", "a.b.=1", "xIN", "^EQ^", "a<=^b>="} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		q := Parse(s)
		for _, fld := range q.Fields() {
			if fld == "" {
				t.Fatalf("empty field name from %q", s)
			}
		}
		rec := map[string]string{"a": "1", "b": "x"}
		_ = q.Match(func(f string) (string, bool) { v, ok := rec[f]; return v, ok }, func(string) Kind { return KindNumber })
		_ = q.Without(func(f string) bool { return f == "a" }).Match(func(string) (string, bool) { return "", false }, func(string) Kind { return KindString })
	})
}
