package platform

import (
	"math/big"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/gorilla/mux"

	"github.com/m365snow/m365snow/fakesnow/encodedquery"
)

// The Aggregate API (GET /api/now/[v1|v2/]stats/{table}) counts and sums a
// table's records as GlideAggregate does.
//
// Wire details (docs/fidelity.md, "Aggregate API"), from ServiceNow's
// Aggregate API reference: sysparm_count, sysparm_{avg,min,max,sum}_fields,
// sysparm_group_by, sysparm_having (aggregate^field^operator^value, comma
// separated), sysparm_order_by (COUNT, AVG^field, field^DESC),
// sysparm_query and name=value pairs, sysparm_display_value; every number
// is a JSON string, averages carry four decimals ("1.5000"); grouped
// answers are a list of {"stats", "groupby_fields":[{"value","field"}]};
// a caller without read access to the table gets 403.

var aggregateFns = []string{"avg", "min", "max", "sum"}

type aggGroup struct {
	values, displays []string
	rows             []Record
}

func (i *Instance) aggregate(w http.ResponseWriter, r *http.Request, c *Caller) {
	table := mux.Vars(r)["table"]
	q := r.URL.Query()
	i.mu.RLock()
	defer i.mu.RUnlock()
	td, err := i.tableLocked(table)
	if err != nil {
		WriteError(w, http.StatusBadRequest, err.Error(), "")
		return
	}
	if !i.webServicesLocked(w, table) {
		return
	}
	if !i.aclAllowsLocked(c, table, OpRead) {
		// Modelled wording: the reference gives the status, not the body.
		WriteError(w, http.StatusForbidden, "User Not Authorized", "Read access to table "+table+" is required for aggregate queries")
		return
	}
	var rows []Record
	for _, rec := range i.selectAsLocked(readerFor(c), td, i.bindQueryLocked(c, nameValueQuery(q, td.def))) {
		if i.canSeeRowLocked(c, td.def, rec) {
			rows = append(rows, rec)
		}
	}
	validList := func(param string) []string {
		var out []string
		for _, f := range strings.Split(q.Get(param), ",") {
			if f = strings.TrimSpace(f); f != "" {
				if _, ok := i.fieldOfLocked(td.def, f); ok {
					out = append(out, f) // unknown fields are ignored
				}
			}
		}
		return out
	}
	spec := aggSpec{count: strings.EqualFold(q.Get("sysparm_count"), "true"), fields: map[string][]string{}}
	for _, fn := range aggregateFns {
		spec.fields[fn] = validList("sysparm_" + fn + "_fields")
	}
	groupBy := validList("sysparm_group_by")
	display := strings.ToLower(q.Get("sysparm_display_value"))
	if len(groupBy) == 0 {
		WriteResult(w, http.StatusOK, object{{key: "stats", obj: i.statsLocked(td, rows, spec)}})
		return
	}
	// Groups in order of their display values, as the reference's example
	// lists them (empty first).
	index := map[string]*aggGroup{}
	var groups []*aggGroup
	for _, rec := range rows {
		get := i.getterLocked(td, rec)
		g := &aggGroup{}
		for _, f := range groupBy {
			v, _ := get(f)
			fd, _ := i.fieldOfLocked(td.def, f)
			g.values = append(g.values, v)
			g.displays = append(g.displays, i.displayLocked(fd, v))
		}
		key := strings.Join(g.values, "\x00")
		if have, ok := index[key]; ok {
			have.rows = append(have.rows, rec)
			continue
		}
		g.rows = []Record{rec}
		index[key] = g
		groups = append(groups, g)
	}
	slices.SortStableFunc(groups, func(a, b *aggGroup) int {
		return strings.Compare(strings.ToLower(strings.Join(a.displays, "\x00")), strings.ToLower(strings.Join(b.displays, "\x00")))
	})
	groups = slices.DeleteFunc(groups, func(g *aggGroup) bool { return !i.havingLocked(td, g.rows, q.Get("sysparm_having")) })
	i.orderGroupsLocked(td, groups, groupBy, q.Get("sysparm_order_by"))
	list := make([]aggRow, 0, len(groups))
	for _, g := range groups {
		gb := make([]object, 0, len(groupBy))
		for k, f := range groupBy {
			switch display {
			case "true":
				gb = append(gb, object{{key: "value", str: g.displays[k]}, {key: "field", str: f}})
			case "all":
				gb = append(gb, object{{key: "display_value", str: g.displays[k]}, {key: "value", str: g.values[k]}, {key: "field", str: f}})
			default:
				gb = append(gb, object{{key: "value", str: g.values[k]}, {key: "field", str: f}})
			}
		}
		list = append(list, aggRow{Stats: i.statsLocked(td, g.rows, spec), GroupBy: gb})
	}
	WriteResult(w, http.StatusOK, list)
}

// aggRow is one group of a grouped answer.
type aggRow struct {
	Stats   object   `json:"stats"`
	GroupBy []object `json:"groupby_fields"`
}

type aggSpec struct {
	count  bool
	fields map[string][]string // avg/min/max/sum → fields
}

// statsLocked is the "stats" object of a set of rows.
func (i *Instance) statsLocked(td *tableData, rows []Record, spec aggSpec) object {
	out := object{}
	if spec.count {
		out = append(out, member{key: "count", str: strconv.Itoa(len(rows))})
	}
	for _, fn := range aggregateFns {
		if len(spec.fields[fn]) == 0 {
			continue
		}
		vals := object{}
		for _, f := range spec.fields[fn] {
			vals = append(vals, member{key: f, str: i.aggValueLocked(td, rows, fn, f)})
		}
		out = append(out, member{key: fn, obj: vals})
	}
	return out
}

// aggValueLocked computes one aggregate of field over rows; empty values
// take no part, as SQL aggregates skip NULL.
func (i *Instance) aggValueLocked(td *tableData, rows []Record, fn, field string) string {
	kind := i.kindLocked(td.def)(field)
	var best string
	sum := new(big.Rat)
	n := 0
	for _, rec := range rows {
		v, _ := i.getterLocked(td, rec)(field)
		if v == "" {
			continue
		}
		switch fn {
		case "min", "max":
			if n == 0 || (fn == "min" && encodedquery.Compare(v, best, kind) < 0) || (fn == "max" && encodedquery.Compare(v, best, kind) > 0) {
				best = v
			}
		default:
			x, ok := new(big.Rat).SetString(strings.TrimSpace(v))
			if !ok {
				continue
			}
			sum.Add(sum, x)
		}
		n++
	}
	switch fn {
	case "min", "max":
		return best
	case "sum":
		if sum.IsInt() {
			return sum.Num().String()
		}
		return strings.TrimRight(strings.TrimRight(sum.FloatString(4), "0"), ".")
	}
	if n == 0 {
		return ""
	}
	return new(big.Rat).Quo(sum, new(big.Rat).SetInt64(int64(n))).FloatString(4)
}

// havingLocked applies sysparm_having (aggregate^field^operator^value,
// comma separated) to a group's rows.
func (i *Instance) havingLocked(td *tableData, rows []Record, having string) bool {
	if having == "" {
		return true
	}
	for _, cond := range strings.Split(having, ",") {
		p := strings.Split(cond, "^")
		if len(p) != 4 {
			continue // malformed conditions are ignored (modelled)
		}
		fn := strings.ToLower(p[0])
		var got string
		if fn == "count" {
			got = strconv.Itoa(len(rows))
		} else if slices.Contains(aggregateFns, fn) {
			got = i.aggValueLocked(td, rows, fn, p[1])
		} else {
			continue
		}
		c := encodedquery.Compare(got, p[3], encodedquery.KindNumber)
		ok := map[string]bool{"=": c == 0, "!=": c != 0, ">": c > 0, ">=": c >= 0, "<": c < 0, "<=": c <= 0}[p[2]]
		if !ok {
			return false
		}
	}
	return true
}

// orderGroupsLocked applies sysparm_order_by: COUNT, AVG^field (any
// aggregate), or a group-by field, each optionally ^DESC.
func (i *Instance) orderGroupsLocked(td *tableData, groups []*aggGroup, groupBy []string, orderBy string) {
	if orderBy == "" {
		return
	}
	type key struct {
		fn, field string
		desc      bool
	}
	var keys []key
	for _, term := range strings.Split(orderBy, ",") {
		p := strings.Split(term, "^")
		k := key{}
		if n := len(p); n > 1 && strings.EqualFold(p[n-1], "DESC") {
			k.desc, p = true, p[:n-1]
		}
		switch fn := strings.ToLower(p[0]); {
		case fn == "count":
			k.fn = "count"
		case slices.Contains(aggregateFns, fn) && len(p) > 1:
			k.fn, k.field = fn, p[1]
		default:
			k.field = p[0]
		}
		keys = append(keys, k)
	}
	value := func(g *aggGroup, k key) string {
		switch k.fn {
		case "count":
			return strconv.Itoa(len(g.rows))
		case "":
			if at := slices.Index(groupBy, k.field); at >= 0 {
				return g.displays[at]
			}
			return ""
		}
		return i.aggValueLocked(td, g.rows, k.fn, k.field)
	}
	slices.SortStableFunc(groups, func(a, b *aggGroup) int {
		for _, k := range keys {
			kind := encodedquery.KindNumber
			if k.fn == "" || k.fn == "min" || k.fn == "max" {
				kind = encodedquery.KindString
			}
			c := encodedquery.Compare(value(a, k), value(b, k), kind)
			if k.desc {
				c = -c
			}
			if c != 0 {
				return c
			}
		}
		return 0
	})
}
