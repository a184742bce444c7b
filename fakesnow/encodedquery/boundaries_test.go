package encodedquery

import (
	"reflect"
	"testing"
)

// TestComparisonBoundaries pins the edges of every ordering operator. The
// Table API is the connector's only way to find incidents, and an
// off-by-one at a bound silently adds or drops a record.
//
// ServiceNow documents (reference/servicenow.md §2.3, SND-QUERY): "<" and
// ">" are strict, "<=" and ">=" include the bound, and BETWEEN is an
// inclusive range written lo@hi. An empty field satisfies none of them: the
// platform stores an empty value as NULL, and a NULL compared with anything
// is not true in SQL, so "priority<3" does not return incidents with no
// priority (use ISEMPTY for those).
func TestComparisonBoundaries(t *testing.T) {
	rec := map[string]string{"priority": "10", "short_description": "mail", "description": "", "impact": "", "opened_at": "2026-03-02 09:00:00"}
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
		// The bound itself.
		{"priority<10", false},
		{"priority<=10", true},
		{"priority>10", false},
		{"priority>=10", true},
		{"priority=10.0", true}, // numeric equality, not textual
		{"priority!=10.0", false},
		// One step either side.
		{"priority<11", true},
		{"priority<=9", false},
		{"priority>9", true},
		{"priority>=11", false},
		// BETWEEN includes both ends and nothing outside them.
		{"priorityBETWEEN10@20", true},
		{"priorityBETWEEN1@10", true},
		{"priorityBETWEEN11@20", false},
		{"priorityBETWEEN1@9", false},
		{"priorityBETWEEN10", false}, // no @: not a range
		{"opened_atBETWEEN2026-03-02 09:00:00@2026-03-02 10:00:00", true},
		{"opened_atBETWEEN2026-03-01 00:00:00@2026-03-02 08:59:59", false},
		// Text compares case-insensitively, at the bound too.
		{"short_description<=MAIL", true},
		{"short_description>=MAIL", true},
		{"short_description<MAIL", false},
		{"short_description>MAIL", false},
		// An empty field satisfies no comparison, even one that would hold
		// for the empty string as text.
		{"description<a", false},
		{"description<=a", false},
		{"description>=", false},
		{"descriptionBETWEEN@z", false},
		{"impact<5", false},
		{"impact<=5", false},
		{"impact>=", false},
		{"impactBETWEEN@5", false},
		// ...while the unary operators say what it is.
		{"descriptionISEMPTY", true},
		{"descriptionEMPTYSTRING", true},
		{"short_descriptionISEMPTY", false},
		{"short_descriptionISNOTEMPTY", true},
		{"descriptionISNOTEMPTY", false},
		{"short_descriptionEMPTYSTRING", false},
		// IN and NOT IN over a list, numerically.
		{"priorityIN9,10.0", true},
		{"priorityIN9,11", false},
		{"priorityNOT IN9,11", true},
		{"priorityNOT IN10", false},
		// Text operators.
		{"short_descriptionSTARTSWITHma", true},
		{"short_descriptionSTARTSWITHail", false},
		{"short_descriptionENDSWITHail", true},
		{"short_descriptionENDSWITHma", false},
		{"short_descriptionLIKEAI", true},
		{"short_descriptionNOT LIKEAI", false},
		{"short_descriptionNOT LIKExyz", true},
		// SAMEAS / NSAMEAS compare two fields.
		{"descriptionSAMEASimpact", true},
		{"descriptionNSAMEASimpact", false},
		{"priorityNSAMEASimpact", true},
	}
	for _, c := range cases {
		if got := Parse(c.q).Match(get, kind); got != c.want {
			t.Errorf("%q matched %v, want %v", c.q, got, c.want)
		}
	}
}

// TestNewQueryBlocks pins ^NQ: it ORs whole condition blocks (SND-QUERY,
// "short_descriptionISEMPTY^NQdescriptionISNOTEMPTY"). A block with no
// condition adds nothing to the OR; were it kept, it would match every
// record and turn a narrow query into "all rows".
func TestNewQueryBlocks(t *testing.T) {
	rec := map[string]string{"active": "true", "priority": "3"}
	get := func(f string) (string, bool) { v, ok := rec[f]; return v, ok }
	kind := func(string) Kind { return KindString }
	cases := []struct {
		q      string
		blocks int
		want   bool
	}{
		{"^NQactive=false", 1, false},
		{"NQactive=false", 1, false},
		{"active=false^NQ", 1, false},
		{"active=false^NQ^NQpriority=4", 2, false},
		{"active=false^NQ^NQpriority=3", 2, true},
		{"^EQ^NQactive=false^EQ", 1, false},
		{"ORDERBYpriority^NQactive=false", 1, false},
	}
	for _, c := range cases {
		q := Parse(c.q)
		if len(q.Blocks) != c.blocks {
			t.Errorf("Parse(%q) has %d blocks, want %d: %+v", c.q, len(q.Blocks), c.blocks, q.Blocks)
		}
		if got := q.Match(get, kind); got != c.want {
			t.Errorf("%q matched %v, want %v", c.q, got, c.want)
		}
	}
}

// TestSplitEdges pins the caret handling: "^^" is a literal caret inside a
// value, a single trailing caret ends the last term, and OR only joins a
// term when there is one before it.
func TestSplitEdges(t *testing.T) {
	cases := []struct {
		in   string
		want []string
	}{
		{"a=1^", []string{"a=1", ""}},
		{"a=x^^", []string{"a=x^"}},
		{"a=x^^^b=2", []string{"a=x^", "b=2"}},
		{"^", []string{"", ""}},
		{"", []string{""}},
	}
	for _, c := range cases {
		if got := split(c.in); !reflect.DeepEqual(got, c.want) {
			t.Errorf("split(%q) = %q, want %q", c.in, got, c.want)
		}
	}
	if q := Parse("a=1^"); !reflect.DeepEqual(q, Query{Blocks: []Block{{{{"a", "=", "1"}}}}}) {
		t.Errorf("trailing caret: %+v", q)
	}
}

// TestFieldNames pins what counts as a column name: lower-case letters,
// digits, underscores, and dot-walks between names (SND-REST
// "company.stock_symbol=NYX"), never a leading, trailing or doubled dot.
func TestFieldNames(t *testing.T) {
	cases := []struct {
		field string
		ok    bool
	}{
		{"caller_id", true},
		{"caller_id.user_name", true},
		{"u_0", true},
		{"a", true},
		{"z9", true},
		{"", false},
		{".caller_id", false},
		{"caller_id.", false},
		{"caller_id..name", false},
		{"Caller", false},
		{"caller-id", false},
		{"caller{id", false},
		{"caller`id", false},
		{"caller/id", false},
		{"caller:id", false},
	}
	for _, c := range cases {
		if got := validField(c.field); got != c.ok {
			t.Errorf("validField(%q) = %v, want %v", c.field, got, c.ok)
		}
	}
	if q := Parse("ORDERBYcaller_id.name^ORDERBYDESC.x"); !reflect.DeepEqual(q.Order, []Order{{"caller_id.name", false}}) || !reflect.DeepEqual(q.Invalid, []string{"ORDERBYDESC.x"}) {
		t.Errorf("orderings %+v invalid %q", q.Order, q.Invalid)
	}
}

// TestWithoutKeepsOtherBlocks: dropping unknown fields must not change the
// other blocks or clauses (ServiceNow ignores only the invalid term, SND-TABLE).
func TestWithoutKeepsOtherBlocks(t *testing.T) {
	q := Parse("bogus=1^ORactive=true^priority=3^NQcaller_idSAMEASbogus^ORpriority=4")
	w := q.Without(func(f string) bool { return f == "bogus" })
	want := Query{Blocks: []Block{
		{{{"active", "=", "true"}}, {{"priority", "=", "3"}}},
		{{{"priority", "=", "4"}}},
	}}
	if !reflect.DeepEqual(w, want) {
		t.Fatalf("Without = %+v\nwant      %+v", w, want)
	}
	if got := q.Fields(); !reflect.DeepEqual(got, []string{"bogus", "active", "priority", "caller_id"}) {
		t.Fatalf("Fields = %q", got)
	}
}
