// Package encodedquery parses and evaluates ServiceNow encoded queries, the
// sysparm_query language of the Table API ("active=true^ORDERBYnumber").
//
// Grammar, as ServiceNow documents it: terms <field><OP><value> joined by
// ^ (AND), ^OR (OR with the previous term, binding tighter than ^) and ^NQ
// (OR of whole blocks); ORDERBY<field> and ORDERBYDESC<field> anywhere; ^EQ
// as a no-op terminator; "^^" stands for a literal "^" inside a value.
// Field names are ServiceNow column names ([a-z0-9_], dot-walks with ".").
//
// Parse never fails: a term it cannot read is reported in Query.Invalid, and
// the caller decides what ServiceNow would do with it (by default, ignore it).
package encodedquery

import (
	"math"
	"strconv"
	"strings"
)

// Op is an encoded-query operator.
type Op string

// The operators, longest first, in the order Parse tries them.
var operators = []Op{
	"GT_OR_EQUALS_FIELD", "LT_OR_EQUALS_FIELD", "CHANGESFROM", "EMPTYSTRING", "RELATIVEGE", "RELATIVEGT", "RELATIVELE",
	"RELATIVELT", "RELATIVEEE", "ISNOTEMPTY", "STARTSWITH", "VALCHANGES", "CHANGESTO", "ENDSWITH", "NOT LIKE", "ANYTHING",
	"DATEPART", "GT_FIELD", "LT_FIELD", "LESSTHAN", "MORETHAN", "ISEMPTY", "NSAMEAS", "BETWEEN", "DYNAMIC", "NOT IN",
	"SAMEAS", "NOTON", "LIKE", "<=", ">=", "!=", "IN", "ON", "=", "<", ">",
}

// unary operators take no value.
var unary = map[Op]bool{"ISEMPTY": true, "ISNOTEMPTY": true, "ANYTHING": true, "EMPTYSTRING": true, "VALCHANGES": true}

// Term is one condition.
type Term struct {
	Field string
	Op    Op
	Value string
}

// Clause is a disjunction of terms (a^ORb).
type Clause []Term

// Block is a conjunction of clauses.
type Block []Clause

// Order is one sort key.
type Order struct {
	Field string
	Desc  bool
}

// Query is a parsed encoded query: the blocks are OR'ed (^NQ).
type Query struct {
	Blocks  []Block
	Order   []Order
	Invalid []string // pieces that are neither terms nor orderings
}

// Parse reads an encoded query.
func Parse(s string) Query {
	var q Query
	var block Block
	for _, piece := range split(s) {
		switch {
		case piece == "" || piece == "EQ":
			continue
		case strings.HasPrefix(piece, "ORDERBYDESC"):
			q.addOrder(strings.TrimPrefix(piece, "ORDERBYDESC"), true, piece)
			continue
		case strings.HasPrefix(piece, "ORDERBY"):
			q.addOrder(strings.TrimPrefix(piece, "ORDERBY"), false, piece)
			continue
		case strings.HasPrefix(piece, "NQ"):
			if len(block) > 0 {
				q.Blocks = append(q.Blocks, block)
			}
			block = nil
			piece = piece[2:]
		case strings.HasPrefix(piece, "OR") && len(block) > 0:
			if t, ok := parseTerm(piece[2:]); ok {
				last := len(block) - 1
				block[last] = append(block[last], t)
			} else {
				q.Invalid = append(q.Invalid, piece)
			}
			continue
		}
		if t, ok := parseTerm(piece); ok {
			block = append(block, Clause{t})
		} else if piece != "" {
			q.Invalid = append(q.Invalid, piece)
		}
	}
	if len(block) > 0 {
		q.Blocks = append(q.Blocks, block)
	}
	return q
}

func (q *Query) addOrder(field string, desc bool, piece string) {
	if !validField(field) {
		q.Invalid = append(q.Invalid, piece)
		return
	}
	q.Order = append(q.Order, Order{Field: field, Desc: desc})
}

// split cuts s at single carets; "^^" is a literal caret.
func split(s string) []string {
	var out []string
	var cur strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '^' {
			cur.WriteByte(s[i])
			continue
		}
		if i+1 < len(s) && s[i+1] == '^' {
			cur.WriteByte('^')
			i++
			continue
		}
		out = append(out, cur.String())
		cur.Reset()
	}
	return append(out, cur.String())
}

func isFieldByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '.'
}

func validField(f string) bool {
	if f == "" || f[0] == '.' || f[len(f)-1] == '.' || strings.Contains(f, "..") {
		return false
	}
	for i := 0; i < len(f); i++ {
		if !isFieldByte(f[i]) {
			return false
		}
	}
	return true
}

func parseTerm(piece string) (Term, bool) {
	i := 0
	for i < len(piece) && isFieldByte(piece[i]) {
		i++
	}
	field, rest := piece[:i], piece[i:]
	if !validField(field) {
		return Term{}, false
	}
	for _, op := range operators {
		if strings.HasPrefix(rest, string(op)) {
			value := rest[len(op):]
			if unary[op] && value != "" {
				return Term{}, false
			}
			return Term{Field: field, Op: op, Value: value}, true
		}
	}
	return Term{}, false
}

// Fields lists every field the query mentions, in order of appearance.
func (q Query) Fields() []string {
	var out []string
	seen := map[string]bool{}
	add := func(f string) {
		if !seen[f] {
			seen[f] = true
			out = append(out, f)
		}
	}
	for _, b := range q.Blocks {
		for _, c := range b {
			for _, t := range c {
				add(t.Field)
				if f, ok := t.otherField(); ok {
					add(f)
				}
			}
		}
	}
	for _, o := range q.Order {
		add(o.Field)
	}
	return out
}

// Without returns the query with every term and ordering on fields for
// which drop reports true. Clauses left empty disappear; a block left empty
// stays and matches every record, as a query whose only term ServiceNow
// ignored (an unknown field) returns the whole table.
func (q Query) Without(drop func(field string) bool) Query {
	out := Query{Invalid: q.Invalid}
	for _, b := range q.Blocks {
		var nb Block
		for _, c := range b {
			var nc Clause
			for _, t := range c {
				if f, ok := t.otherField(); drop(t.Field) || (ok && drop(f)) {
					continue
				}
				nc = append(nc, t)
			}
			if len(nc) > 0 {
				nb = append(nb, nc)
			}
		}
		out.Blocks = append(out.Blocks, nb)
	}
	for _, o := range q.Order {
		if !drop(o.Field) {
			out.Order = append(out.Order, o)
		}
	}
	return out
}

// Kind tells how a field's values compare.
type Kind int

const (
	// KindString compares case-insensitively, as ServiceNow's default
	// database collation does.
	KindString Kind = iota
	// KindNumber compares numerically.
	KindNumber
)

// Getter reads a field of the record being tested; ok is false for a field
// the record does not have.
type Getter func(field string) (value string, ok bool)

// Match reports whether the record read by get satisfies q. An empty query
// matches everything.
func (q Query) Match(get Getter, kind func(field string) Kind) bool {
	if len(q.Blocks) == 0 {
		return true
	}
	for _, b := range q.Blocks {
		if b.match(get, kind) {
			return true
		}
	}
	return false
}

func (b Block) match(get Getter, kind func(string) Kind) bool {
	for _, c := range b {
		ok := false
		for _, t := range c {
			if t.match(get, kind) {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	return true
}

func (t Term) match(get Getter, kind func(string) Kind) bool {
	v, _ := get(t.Field)
	k := kind(t.Field)
	switch t.Op {
	case "=":
		return Compare(v, t.Value, k) == 0
	case "!=":
		return Compare(v, t.Value, k) != 0
	case "LIKE":
		return strings.Contains(strings.ToLower(v), strings.ToLower(t.Value))
	case "NOT LIKE":
		return !strings.Contains(strings.ToLower(v), strings.ToLower(t.Value))
	case "STARTSWITH":
		return strings.HasPrefix(strings.ToLower(v), strings.ToLower(t.Value))
	case "ENDSWITH":
		return strings.HasSuffix(strings.ToLower(v), strings.ToLower(t.Value))
	case "IN", "NOT IN":
		in := false
		for _, x := range strings.Split(t.Value, ",") {
			if Compare(v, x, k) == 0 {
				in = true
				break
			}
		}
		return in == (t.Op == "IN")
	case "ISEMPTY", "EMPTYSTRING":
		return v == ""
	case "ISNOTEMPTY":
		return v != ""
	case "ANYTHING":
		return true
	case "<":
		return v != "" && Compare(v, t.Value, k) < 0
	case "<=":
		return v != "" && Compare(v, t.Value, k) <= 0
	case ">":
		return v != "" && Compare(v, t.Value, k) > 0
	case ">=":
		return v != "" && Compare(v, t.Value, k) >= 0
	case "BETWEEN":
		lo, hi, ok := strings.Cut(t.Value, "@")
		return ok && v != "" && Compare(v, lo, k) >= 0 && Compare(v, hi, k) <= 0
	case "SAMEAS", "NSAMEAS":
		f, unit, byUnit := strings.Cut(t.Value, "@")
		other, _ := get(f)
		same := Compare(v, other, k) == 0
		if byUnit {
			same = sameAsUnit(v, other, unit)
		}
		return same == (t.Op == "SAMEAS")
	}
	return t.matchExtended(v, get, k)
}

// Compare orders two values of a kind. Numbers that do not parse compare
// as text, so a malformed value never matches a numeric bound by accident.
// Parsing is linear in the input and yields a float64 (an exponent such as
// 1e99999 is +Inf, not a number with 99999 digits): queries are evaluated
// under the instance lock, so no value may cost more than its length.
func Compare(a, b string, k Kind) int {
	if k == KindNumber {
		x, okx := number(a)
		y, oky := number(b)
		if okx && oky {
			switch {
			case x.i != nil && y.i != nil:
				return cmpInt(*x.i, *y.i)
			case x.f < y.f:
				return -1
			case x.f > y.f:
				return 1
			}
			return 0
		}
	}
	return strings.Compare(strings.ToLower(a), strings.ToLower(b))
}

// num is a parsed number: exact when it is an int64, else a float64.
type num struct {
	i *int64
	f float64
}

func number(s string) (num, bool) {
	s = strings.TrimSpace(s)
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return num{i: &n, f: float64(n)}, true
	}
	if strings.Trim(s, "0123456789+-.eE") != "" {
		return num{}, false // only decimal notation: not "inf", "nan" or hex
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil && !(errorsIsRange(err) && (math.IsInf(f, 0) || f == 0)) {
		return num{}, false
	}
	if math.IsNaN(f) {
		return num{}, false
	}
	return num{f: f}, true
}

func errorsIsRange(err error) bool {
	ne, ok := err.(*strconv.NumError)
	return ok && ne.Err == strconv.ErrRange
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
