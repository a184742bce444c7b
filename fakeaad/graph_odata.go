package fakeaad

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// OData query options as Microsoft Graph applies them to directory objects.
// The rules and the error wording come from Graph's documentation
// (microsoftgraph/microsoft-graph-docs-contrib concepts/aad-advanced-queries.md,
// concepts/query-parameters.md, concepts/paging.md) and from errors quoted in
// client code that met them (docs/fidelity-graph.md lists each with its source).

// maxPageSize and defaultPageSize: $top takes 1..999 on directory objects;
// without $top a page holds 100 objects.
const (
	maxPageSize     = 999
	defaultPageSize = 100
)

// filterProp says which $filter operators a property takes by default.
// eq, in, ne and not are understood for every listed property; ne and not
// need the advanced query parameters, as does endswith (and only on the
// properties that set endsWith).
type filterProp struct {
	startsWith bool
	endsWith   bool
	collection bool // filtered through any()
}

// odataSet describes one entity set.
type odataSet struct {
	name     string // entity set in URLs and @odata.context, e.g. applications
	resource string // resource name in filter errors, e.g. Application
	typ      string // microsoft.graph.application
	filter   map[string]filterProp
	// orderBy lists sortable properties; true means only with the advanced
	// query parameters.
	orderBy map[string]bool
	// defaults are the properties returned without $select, where Graph
	// returns fewer than it can select (users).
	defaults []string
}

// query is a parsed set of query options.
type query struct {
	set       *odataSet
	selected  []string
	filter    fexpr
	orderBy   string
	desc      bool
	top       int
	skip      int
	count     bool // $count=true honoured (advanced)
	search    string
	advanced  bool // ConsistencyLevel: eventual and $count=true
	eventual  bool
	rawSelect string
}

func errUnsupportedQuery(format string, args ...any) *graphError {
	return errGraph(http.StatusBadRequest, "Request_UnsupportedQuery", format, args...)
}

// errNeedsAdvanced is Graph's answer to an operator that exists only in
// advanced queries, sent without them.
func errNeedsAdvanced(op string) *graphError {
	return errUnsupportedQuery("Operator '%s' is not supported because the required parameters might be missing. Try adding $count=true query parameter and ConsistencyLevel:eventual header. Refer to https://aka.ms/graph-docs/advanced-queries for more information", op)
}

func (set *odataSet) errFilterProp(prop string) *graphError {
	return errUnsupportedQuery("Unsupported or invalid query filter clause specified for property '%s' of resource '%s'.", prop, set.resource)
}

// parseQuery reads $select, $filter, $orderby, $top, $count, $search and
// $skiptoken. selectable lists the properties of one full object.
func parseQuery(r *http.Request, set *odataSet, selectable map[string]any) (*query, *graphError) {
	v := r.URL.Query()
	q := &query{set: set, top: defaultPageSize}
	q.eventual = strings.EqualFold(strings.TrimSpace(r.Header.Get("ConsistencyLevel")), "eventual")
	q.count = strings.EqualFold(v.Get("$count"), "true")
	q.advanced = q.eventual && q.count
	if s := v.Get("$select"); s != "" {
		q.rawSelect = s
		for _, p := range strings.Split(s, ",") {
			p = strings.TrimSpace(p)
			if _, ok := selectable[p]; !ok {
				return nil, errGraph(http.StatusBadRequest, "BadRequest", "Parsing OData Select and Expand failed: Could not find a property named '%s' on type '%s'.", p, set.typ)
			}
			q.selected = append(q.selected, p)
		}
	}
	if t := v.Get("$top"); t != "" {
		n, err := strconv.Atoi(t)
		if err != nil || n < 1 || n > maxPageSize {
			return nil, errUnsupportedQuery("Invalid page size specified: '%s'. Must be between 1 and 999 inclusive.", t)
		}
		q.top = n
	}
	if s := v.Get("$search"); s != "" {
		if !q.eventual {
			return nil, errUnsupportedQuery("Request with $search query parameter only works through MSGraph with a special request header: 'ConsistencyLevel: eventual'")
		}
		q.search = s
	}
	if f := v.Get("$filter"); f != "" {
		p := &filterParser{set: set, advanced: q.advanced}
		e, ge := p.parse(f)
		if ge != nil {
			return nil, ge
		}
		q.filter = e
	}
	if o := strings.TrimSpace(v.Get("$orderby")); o != "" {
		prop, dir, _ := strings.Cut(o, " ")
		dir = strings.ToLower(strings.TrimSpace(dir))
		advancedOnly, ok := set.orderBy[prop]
		if !ok || (dir != "" && dir != "asc" && dir != "desc") {
			return nil, errUnsupportedQuery("Sorting not supported for current query.")
		}
		// $filter and $orderby together need the advanced parameters
		// whatever the property (aad-advanced-queries.md).
		if (advancedOnly || q.filter != nil) && !q.advanced {
			return nil, errUnsupportedQuery("Sorting not supported for current query.")
		}
		q.orderBy, q.desc = prop, dir == "desc"
	}
	if tok := v.Get("$skiptoken"); tok != "" {
		n, ok := decodeSkipToken(tok)
		if !ok {
			return nil, errGraph(http.StatusBadRequest, "Directory_ExpiredPageToken", "The specified page token value has expired and can no longer be included in your request.")
		}
		q.skip = n
	}
	return q, nil
}

// skip tokens are opaque to clients; this one carries the offset.
func encodeSkipToken(offset int) string {
	return "RFNwdAIAAQAAA" + base64.RawURLEncoding.EncodeToString([]byte("m365snow:"+strconv.Itoa(offset)))
}

func decodeSkipToken(tok string) (int, bool) {
	rest, ok := strings.CutPrefix(tok, "RFNwdAIAAQAAA")
	if !ok {
		return 0, false
	}
	b, err := base64.RawURLEncoding.DecodeString(rest)
	if err != nil {
		return 0, false
	}
	n, err := strconv.Atoi(strings.TrimPrefix(string(b), "m365snow:"))
	if err != nil || n < 0 || !strings.HasPrefix(string(b), "m365snow:") {
		return 0, false
	}
	return n, true
}

// normalize turns a rendered object into plain JSON values, so that filters
// compare the same types whatever Go types built the object.
func normalize(obj map[string]any) map[string]any {
	b, _ := json.Marshal(obj)
	var out map[string]any
	_ = json.Unmarshal(b, &out)
	return out
}

// context is the @odata.context URL for the set, with the $select list
// when there is one: …/$metadata#applications(appId,displayName).
func (q *query) context(entity bool) string {
	c := graphBase + "$metadata#" + q.set.name
	if len(q.selected) > 0 {
		c += "(" + strings.Join(q.selected, ",") + ")"
	}
	if entity {
		c += "/$entity"
	}
	return c
}

func (q *query) project(obj map[string]any) map[string]any {
	props := q.selected
	if len(props) == 0 {
		if props = q.set.defaults; props == nil {
			return obj
		}
	}
	out := make(map[string]any, len(props))
	for _, p := range props {
		out[p] = obj[p]
	}
	return out
}

// writeEntity answers a single object with $select applied.
func writeEntity(w http.ResponseWriter, r *http.Request, set *odataSet, obj map[string]any, status int) *graphError {
	q, e := parseQuery(r, set, obj)
	if e != nil {
		return e
	}
	out := q.project(obj)
	out["@odata.context"] = q.context(true)
	writeJSON(w, status, out)
	return nil
}

// writeCollection answers a collection: filter, search, order, count,
// page, select.
func writeCollection(w http.ResponseWriter, r *http.Request, set *odataSet, objs []map[string]any, selectable map[string]any) *graphError {
	q, e := parseQuery(r, set, selectable)
	if e != nil {
		return e
	}
	var kept []map[string]any
	for _, o := range objs {
		o = normalize(o)
		if q.filter != nil && !q.filter.eval(o, nil) {
			continue
		}
		if q.search != "" && !matchSearch(o, q.search) {
			continue
		}
		kept = append(kept, o)
	}
	if q.orderBy != "" {
		slices.SortStableFunc(kept, func(a, b map[string]any) int {
			c := strings.Compare(strings.ToLower(fmt.Sprint(a[q.orderBy])), strings.ToLower(fmt.Sprint(b[q.orderBy])))
			if q.desc {
				return -c
			}
			return c
		})
	}
	out := map[string]any{"@odata.context": q.context(false)}
	if q.advanced {
		// Without ConsistencyLevel: eventual, $count=true is silently
		// ignored (aad-advanced-queries.md, "Error handling").
		out["@odata.count"] = len(kept)
	}
	start := min(q.skip, len(kept))
	end := min(start+q.top, len(kept))
	page := make([]map[string]any, 0, end-start)
	for _, o := range kept[start:end] {
		page = append(page, q.project(o))
	}
	out["value"] = page
	if end < len(kept) {
		out["@odata.nextLink"] = nextLink(r, set.name, end)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// nextLink repeats the request's query options with a new $skiptoken, as
// Graph's directory nextLinks do.
func nextLink(r *http.Request, set string, offset int) string {
	v := r.URL.Query()
	v.Del("$skiptoken")
	keys := make([]string, 0, len(v))
	for k := range v {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var parts []string
	for _, k := range keys {
		for _, x := range v[k] {
			parts = append(parts, k+"="+odataEscape(x))
		}
	}
	parts = append(parts, "$skiptoken="+encodeSkipToken(offset))
	return graphBase + set + "?" + strings.Join(parts, "&")
}

// odataEscape escapes a query value but keeps the characters OData
// expressions are written with readable, as Graph's links do.
func odataEscape(s string) string {
	e := url.QueryEscape(s)
	r := strings.NewReplacer("%24", "$", "%28", "(", "%29", ")", "%2C", ",", "%27", "'", "%3A", ":", "%2F", "/")
	return r.Replace(e)
}

// matchSearch implements $search="property:word" as a prefix match on the
// words of the property, Graph's tokenized search on directory objects.
func matchSearch(o map[string]any, search string) bool {
	s := strings.Trim(search, `"`)
	prop, word, ok := strings.Cut(s, ":")
	if !ok {
		return false
	}
	v, _ := o[prop].(string)
	for _, f := range strings.FieldsFunc(strings.ToLower(v), func(r rune) bool { return r == ' ' || r == '-' || r == '_' || r == '.' || r == '@' }) {
		if strings.HasPrefix(f, strings.ToLower(word)) {
			return true
		}
	}
	return false
}

// ---- $filter ----

// fexpr is a parsed $filter expression; vars binds lambda variables.
type fexpr interface {
	eval(obj map[string]any, vars map[string]any) bool
}

type fAnd struct{ l, r fexpr }
type fOr struct{ l, r fexpr }
type fNot struct{ e fexpr }

func (e fAnd) eval(o map[string]any, v map[string]any) bool { return e.l.eval(o, v) && e.r.eval(o, v) }
func (e fOr) eval(o map[string]any, v map[string]any) bool  { return e.l.eval(o, v) || e.r.eval(o, v) }
func (e fNot) eval(o map[string]any, v map[string]any) bool { return !e.e.eval(o, v) }

// fCmp compares a property with literals: eq, ne, in, startswith, endswith.
type fCmp struct {
	path []string
	op   string
	vals []any
}

func resolve(path []string, o map[string]any, vars map[string]any) any {
	var cur any = o
	for i, seg := range path {
		if i == 0 {
			if v, ok := vars[seg]; ok {
				cur = v
				continue
			}
		}
		m, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = m[seg]
	}
	return cur
}

func equalValue(a, b any) bool {
	if as, ok := a.(string); ok {
		bs, ok := b.(string)
		return ok && strings.EqualFold(as, bs)
	}
	return a == b
}

func (e fCmp) eval(o map[string]any, vars map[string]any) bool {
	v := resolve(e.path, o, vars)
	switch e.op {
	case "eq", "in":
		return slices.ContainsFunc(e.vals, func(x any) bool { return equalValue(v, x) })
	case "ne":
		return !equalValue(v, e.vals[0])
	case "startswith", "endswith":
		s, ok := v.(string)
		p, _ := e.vals[0].(string)
		if !ok {
			return false
		}
		if e.op == "startswith" {
			return strings.HasPrefix(strings.ToLower(s), strings.ToLower(p))
		}
		return strings.HasSuffix(strings.ToLower(s), strings.ToLower(p))
	}
	return false
}

// fAny is prop/any(x: body).
type fAny struct {
	path []string
	name string
	body fexpr
}

func (e fAny) eval(o map[string]any, vars map[string]any) bool {
	list, _ := resolve(e.path, o, vars).([]any)
	for _, x := range list {
		inner := map[string]any{e.name: x}
		for k, v := range vars {
			inner[k] = v
		}
		if e.body.eval(o, inner) {
			return true
		}
	}
	return false
}

type token struct {
	kind string // word, string, (, ), ",", ":"
	text string
	pos  int
}

func tokenize(s string) ([]token, error) {
	var out []token
	i := 0
	for i < len(s) {
		c := s[i]
		switch {
		case c == ' ' || c == '\t':
			i++
		case c == '(' || c == ')' || c == ',' || c == ':':
			out = append(out, token{string(c), string(c), i})
			i++
		case c == '\'':
			var b strings.Builder
			j := i + 1
			for {
				if j >= len(s) {
					return nil, fmt.Errorf("unterminated string literal at position %d", i)
				}
				if s[j] == '\'' {
					if j+1 < len(s) && s[j+1] == '\'' {
						b.WriteByte('\'')
						j += 2
						continue
					}
					break
				}
				b.WriteByte(s[j])
				j++
			}
			out = append(out, token{"string", b.String(), i})
			i = j + 1
		default:
			j := i
			for j < len(s) && !strings.ContainsRune(" \t(),:'", rune(s[j])) {
				j++
			}
			out = append(out, token{"word", s[i:j], i})
			i = j
		}
	}
	return out, nil
}

type filterParser struct {
	set      *odataSet
	advanced bool
	toks     []token
	i        int
	src      string
	lambda   map[string]string // lambda variable -> collection property
}

func (p *filterParser) syntax() *graphError {
	pos := len(p.src)
	if p.i < len(p.toks) {
		pos = p.toks[p.i].pos
	}
	return errGraph(http.StatusBadRequest, "BadRequest", "Invalid filter clause: Syntax error at position %d in '%s'.", pos, p.src)
}

func (p *filterParser) peek() *token {
	if p.i < len(p.toks) {
		return &p.toks[p.i]
	}
	return nil
}

func (p *filterParser) keyword(k string) bool {
	t := p.peek()
	if t != nil && t.kind == "word" && strings.EqualFold(t.text, k) {
		p.i++
		return true
	}
	return false
}

func (p *filterParser) expect(kind string) bool {
	t := p.peek()
	if t != nil && t.kind == kind {
		p.i++
		return true
	}
	return false
}

func (p *filterParser) parse(src string) (fexpr, *graphError) {
	p.src = src
	toks, err := tokenize(src)
	if err != nil {
		return nil, errGraph(http.StatusBadRequest, "BadRequest", "Invalid filter clause: %s.", err)
	}
	p.toks = toks
	e, ge := p.or()
	if ge != nil {
		return nil, ge
	}
	if p.i != len(p.toks) {
		return nil, p.syntax()
	}
	return e, nil
}

func (p *filterParser) or() (fexpr, *graphError) {
	l, e := p.and()
	for e == nil && p.keyword("or") {
		var r fexpr
		if r, e = p.and(); e == nil {
			l = fOr{l, r}
		}
	}
	return l, e
}

func (p *filterParser) and() (fexpr, *graphError) {
	l, e := p.unary()
	for e == nil && p.keyword("and") {
		var r fexpr
		if r, e = p.unary(); e == nil {
			l = fAnd{l, r}
		}
	}
	return l, e
}

func (p *filterParser) unary() (fexpr, *graphError) {
	if p.keyword("not") {
		if !p.advanced {
			return nil, errNeedsAdvanced("Not")
		}
		e, ge := p.unary()
		if ge != nil {
			return nil, ge
		}
		return fNot{e}, nil
	}
	return p.primary()
}

func (p *filterParser) literal() (any, *graphError) {
	t := p.peek()
	if t == nil {
		return nil, p.syntax()
	}
	p.i++
	if t.kind == "string" {
		return t.text, nil
	}
	if t.kind != "word" {
		p.i--
		return nil, p.syntax()
	}
	switch strings.ToLower(t.text) {
	case "true":
		return true, nil
	case "false":
		return false, nil
	case "null":
		return nil, nil
	}
	if n, err := strconv.ParseFloat(t.text, 64); err == nil {
		return n, nil
	}
	// Unquoted GUIDs are Edm.Guid literals (resourceId eq 00000003-…).
	if len(t.text) == 36 && strings.Count(t.text, "-") == 4 {
		return strings.ToLower(t.text), nil
	}
	p.i--
	return nil, p.syntax()
}

// checkProp validates the property a comparison names and reports whether
// it is filterable; inside a lambda the variable stands for an element.
func (p *filterParser) checkProp(path []string) (filterProp, *graphError) {
	if coll, ok := p.lambda[path[0]]; ok {
		return filterProp{startsWith: true, endsWith: p.set.filter[coll].endsWith}, nil
	}
	name := strings.Join(path, "/")
	fp, ok := p.set.filter[name]
	if !ok || fp.collection {
		return fp, p.set.errFilterProp(name)
	}
	return fp, nil
}

func (p *filterParser) primary() (fexpr, *graphError) {
	t := p.peek()
	if t == nil {
		return nil, p.syntax()
	}
	if t.kind == "(" {
		p.i++
		e, ge := p.or()
		if ge != nil {
			return nil, ge
		}
		if !p.expect(")") {
			return nil, p.syntax()
		}
		return e, nil
	}
	if t.kind != "word" {
		return nil, p.syntax()
	}
	p.i++
	word := t.text
	// Functions: startswith(prop,'x'), endswith(prop,'x').
	if fn := strings.ToLower(word); (fn == "startswith" || fn == "endswith") && p.expect("(") {
		pt := p.peek()
		if pt == nil || pt.kind != "word" {
			return nil, p.syntax()
		}
		p.i++
		path := strings.Split(pt.text, "/")
		if !p.expect(",") {
			return nil, p.syntax()
		}
		lit, ge := p.literal()
		if ge != nil {
			return nil, ge
		}
		if _, ok := lit.(string); !ok || !p.expect(")") {
			return nil, p.syntax()
		}
		fp, ge := p.checkProp(path)
		if ge != nil {
			return nil, ge
		}
		if fn == "endswith" {
			if !fp.endsWith {
				return nil, p.set.errFilterProp(pt.text)
			}
			if !p.advanced {
				return nil, errNeedsAdvanced("endsWith")
			}
		} else if !fp.startsWith {
			return nil, p.set.errFilterProp(pt.text)
		}
		return fCmp{path, fn, []any{lit}}, nil
	}
	// Lambda: collection/any(x: body).
	if coll, ok := strings.CutSuffix(word, "/any"); ok || strings.HasSuffix(strings.ToLower(word), "/all") {
		if !ok {
			return nil, errUnsupportedQuery("Unsupported query: the 'all' lambda operator is not supported on directory objects.")
		}
		fp, known := p.set.filter[coll]
		if !known || !fp.collection {
			return nil, p.set.errFilterProp(coll)
		}
		if !p.expect("(") {
			return nil, p.syntax()
		}
		vt := p.peek()
		if vt == nil || vt.kind != "word" {
			return nil, p.syntax()
		}
		p.i++
		if !p.expect(":") {
			return nil, p.syntax()
		}
		if p.lambda == nil {
			p.lambda = map[string]string{}
		}
		p.lambda[vt.text] = coll
		body, ge := p.or()
		delete(p.lambda, vt.text)
		if ge != nil {
			return nil, ge
		}
		if !p.expect(")") {
			return nil, p.syntax()
		}
		return fAny{strings.Split(coll, "/"), vt.text, body}, nil
	}
	// Comparison: prop eq|ne literal, prop in (literal, …).
	path := strings.Split(word, "/")
	opTok := p.peek()
	if opTok == nil || opTok.kind != "word" {
		return nil, p.syntax()
	}
	op := strings.ToLower(opTok.text)
	p.i++
	switch op {
	case "eq", "ne":
		lit, ge := p.literal()
		if ge != nil {
			return nil, ge
		}
		if _, ge := p.checkProp(path); ge != nil {
			return nil, ge
		}
		if op == "ne" && !p.advanced {
			return nil, errNeedsAdvanced("NotEqualsMatch")
		}
		return fCmp{path, op, []any{lit}}, nil
	case "in":
		if !p.expect("(") {
			return nil, p.syntax()
		}
		var vals []any
		for {
			lit, ge := p.literal()
			if ge != nil {
				return nil, ge
			}
			vals = append(vals, lit)
			if p.expect(")") {
				break
			}
			if !p.expect(",") {
				return nil, p.syntax()
			}
		}
		if _, ge := p.checkProp(path); ge != nil {
			return nil, ge
		}
		return fCmp{path, "in", vals}, nil
	case "gt", "ge", "lt", "le":
		// No directory property this fake serves takes a range operator
		// (dates need the advanced parameters and are not indexed here).
		if p.peek() == nil {
			return nil, p.syntax()
		}
		p.i++
		return nil, p.set.errFilterProp(word)
	}
	p.i--
	return nil, p.syntax()
}
