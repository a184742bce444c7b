package encodedquery

import "strings"

// Building queries from values, never from spliced strings: code that puts
// a caller's input into a query builds it here, so no "^", "^OR" or "^NQ"
// in the input can add terms (issue 11, defect 4).

// Where is the query field op value.
func Where(field string, op Op, value string) Query {
	return Query{}.And(field, op, value)
}

// Equals is the query field=value.
func Equals(field, value string) Query { return Where(field, "=", value) }

// And adds a term that every result must also satisfy. On a query with
// several ^NQ blocks it is added to each block.
func (q Query) And(field string, op Op, value string) Query {
	t := Term{Field: field, Op: op, Value: value}
	out := q.clone()
	if len(out.Blocks) == 0 {
		out.Blocks = []Block{{}}
	}
	for k := range out.Blocks {
		out.Blocks[k] = append(out.Blocks[k], Clause{t})
	}
	return out
}

// OrderBy adds a sort key.
func (q Query) OrderBy(field string, desc bool) Query {
	out := q.clone()
	out.Order = append(out.Order, Order{Field: field, Desc: desc})
	return out
}

func (q Query) clone() Query {
	out := Query{Order: append([]Order(nil), q.Order...), Invalid: append([]string(nil), q.Invalid...)}
	for _, b := range q.Blocks {
		out.Blocks = append(out.Blocks, append(Block(nil), b...))
	}
	return out
}

// String encodes the query, escaping every "^" in values as "^^", so that
// Parse(q.String()) has q's terms.
func (q Query) String() string {
	var parts []string
	esc := func(s string) string { return strings.ReplaceAll(s, "^", "^^") }
	for bi, b := range q.Blocks {
		for ci, c := range b {
			for ti, t := range c {
				p := esc(t.Field) + string(t.Op) + esc(t.Value)
				switch {
				case ti > 0:
					p = "OR" + p
				case bi > 0 && ci == 0:
					p = "NQ" + p
				}
				parts = append(parts, p)
			}
		}
	}
	for _, o := range q.Order {
		if o.Desc {
			parts = append(parts, "ORDERBYDESC"+o.Field)
		} else {
			parts = append(parts, "ORDERBY"+o.Field)
		}
	}
	return strings.Join(parts, "^")
}
