package platform

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/m365snow/m365snow/fakesnow/encodedquery"
)

// Record is one row, field name → internal value (ServiceNow's "value", as
// strings). Records handed out are copies.
type Record map[string]string

// Clone copies a record.
func (r Record) Clone() Record {
	out := make(Record, len(r))
	for k, v := range r {
		out[k] = v
	}
	return out
}

// TimeFormat is the internal format of glide_date_time values (UTC).
const TimeFormat = "2006-01-02 15:04:05"

// ErrNotFound is returned for a record that does not exist.
var ErrNotFound = errors.New("record not found")

// InvalidTableError is returned for a table the instance does not have.
type InvalidTableError struct{ Name string }

func (e *InvalidTableError) Error() string { return "Invalid table " + e.Name }

// ValueError rejects a value a field cannot hold.
type ValueError struct{ Field, Msg string }

func (e *ValueError) Error() string { return fmt.Sprintf("field %s: %s", e.Field, e.Msg) }

type tableData struct {
	def        *Table
	rows       map[string]Record
	order      []string // insertion order of sys_ids
	nextNumber int
	version    int // bumped by every write to the table (see readCache)
}

var sysIDPattern = regexp.MustCompile(`^[0-9a-f]{32}$`)

func newSysID() string { return strings.ReplaceAll(uuid.NewString(), "-", "") }

// ValidSysID reports whether s looks like a sys_id.
func ValidSysID(s string) bool { return sysIDPattern.MatchString(s) }

func (i *Instance) now() string { return i.clock.Now().UTC().Format(TimeFormat) }

func (i *Instance) tableLocked(name string) (*tableData, error) {
	td, ok := i.tables[name]
	if !ok {
		return nil, &InvalidTableError{Name: name}
	}
	return td, nil
}

// normalize turns an input value into the stored form of its field.
func (i *Instance) normalizeLocked(f *Field, v string) (string, error) {
	switch f.Type {
	case TypeBoolean:
		switch strings.ToLower(strings.TrimSpace(v)) {
		case "true", "1", "yes":
			return "true", nil
		case "false", "0", "no", "":
			return "false", nil
		}
		return "", &ValueError{f.Name, fmt.Sprintf("%q is not a boolean", v)}
	case TypeInteger:
		if v == "" {
			return "", nil
		}
		n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		if err != nil {
			return "", &ValueError{f.Name, fmt.Sprintf("%q is not an integer", v)}
		}
		return strconv.FormatInt(n, 10), nil
	case TypeDateTime:
		if v == "" {
			return "", nil
		}
		if t, err := time.Parse(TimeFormat, v); err == nil {
			return t.Format(TimeFormat), nil
		}
		if t, err := time.Parse(time.RFC3339, v); err == nil {
			return t.UTC().Format(TimeFormat), nil
		}
		return "", &ValueError{f.Name, fmt.Sprintf("%q is not a date-time (YYYY-MM-DD HH:MM:SS)", v)}
	}
	// A reference keeps the value given: "false: Treats input values as
	// actual values and stored them in the database without manipulation"
	// (Table API reference, sysparm_input_display_value). Names resolve
	// only as display input (inputDisplayLocked).
	return v, nil
}

// resolveRefLocked accepts a sys_id, or a display value that names exactly
// one target record, as ServiceNow does for reference display input
// (sysparm_input_display_value=true).
func (i *Instance) resolveRefLocked(table, v string) string {
	if v == "" {
		return ""
	}
	td := i.tables[table]
	if td == nil {
		return v
	}
	if _, ok := td.rows[v]; ok {
		return v
	}
	df := td.def.displayField()
	match := ""
	for _, id := range td.order {
		if strings.EqualFold(td.rows[id][df], v) {
			if match != "" {
				return v // ambiguous: keep what was given
			}
			match = id
		}
	}
	if match != "" {
		return match
	}
	return v
}

// maxNumberCounter bounds a table's number counter: ServiceNow keeps it
// in sys_number_counter.number, an integer column (32-bit). A given number
// beyond it is stored as given but does not move the counter, so the next
// number never overflows (issue 11, defect 9: INC9223372036854775807 made
// the next one INC-9223372036854775808).
const maxNumberCounter = 1<<31 - 1

// insertLocked adds a record. values may carry sys_id (32 hex, or any id
// for system inserts); sys_* fields are otherwise set here. scope is the
// application the record belongs to, for application files.
func (i *Instance) insertLocked(table string, values map[string]string, actor, scope string, system bool) (Record, error) {
	td, err := i.tableLocked(table)
	if err != nil {
		return nil, err
	}
	rec := Record{}
	for _, f := range td.def.Fields {
		if f.system {
			continue
		}
		v, given := values[f.Name]
		if !given {
			v = f.Default
		}
		nv, err := i.normalizeLocked(f, v)
		if err != nil {
			return nil, err
		}
		rec[f.Name] = nv
	}
	id := values["sys_id"]
	switch {
	case id == "":
		if id = i.oobSysIDLocked(table, values); id == "" {
			id = newSysID()
		}
	case !system && !ValidSysID(id):
		return nil, &ValueError{"sys_id", fmt.Sprintf("%q is not a 32-character sys_id", id)}
	}
	if _, dup := td.rows[id]; dup {
		return nil, &ValueError{"sys_id", fmt.Sprintf("a record with sys_id %s already exists in %s", id, table)}
	}
	now := i.now()
	rec["sys_id"] = id
	for k, def := range map[string]string{"sys_created_on": now, "sys_updated_on": now, "sys_created_by": actor, "sys_updated_by": actor, "sys_mod_count": "0"} {
		if v := values[k]; system && v != "" {
			rec[k] = v
		} else {
			rec[k] = def
		}
	}
	if td.def.ApplicationFile {
		if v := values["sys_scope"]; system && v != "" {
			scope = v
		}
		if scope == "" {
			scope = "global"
		}
		rec["sys_scope"] = scope
	}
	if td.def.NumberPrefix != "" {
		if rec["number"] == "" {
			rec["number"] = fmt.Sprintf("%s%07d", td.def.NumberPrefix, td.nextNumber)
			td.nextNumber++
		} else if n, err := strconv.Atoi(strings.TrimPrefix(rec["number"], td.def.NumberPrefix)); err == nil && n >= td.nextNumber && n < maxNumberCounter {
			td.nextNumber = n + 1
		}
	}
	if table == "sys_user" {
		rec["name"] = strings.TrimSpace(rec["first_name"] + " " + rec["last_name"])
	}
	if err := i.writeRulesLocked(td, rec, values, actor, true, system); err != nil {
		return nil, err
	}
	if table == "oauth_entity" && rec["type"] == "client" && rec["client_secret"] == "" && !system {
		// "Leave this field blank to have the instance auto-generate" the
		// Client Secret (the OAuth endpoint form, docs/fidelity.md).
		rec["client_secret"] = newOpaqueToken()[:32]
	}
	if table == "oauth_entity" && rec["type"] == "client" && rec["client_id"] == "" {
		// "Create an OAuth API endpoint for external clients" fills in a
		// generated 32-hex Client ID when it is left blank.
		rec["client_id"] = newSysID()
	}
	td.rows[id] = rec
	td.order = append(td.order, id)
	i.touchLocked(table)
	return rec.Clone(), nil
}

// updateLocked changes fields of a record; sys_* fields are not settable.
func (i *Instance) updateLocked(table, sysID string, values map[string]string, actor string) (Record, error) {
	td, err := i.tableLocked(table)
	if err != nil {
		return nil, err
	}
	old, ok := td.rows[sysID]
	if !ok {
		return nil, ErrNotFound
	}
	rec := old.Clone()
	for name, v := range values {
		f, ok := td.def.byName[name]
		if !ok || f.system {
			continue // unknown and system fields are ignored, as on ServiceNow
		}
		nv, err := i.normalizeLocked(f, v)
		if err != nil {
			return nil, err
		}
		rec[name] = nv
	}
	n, _ := strconv.Atoi(rec["sys_mod_count"])
	rec["sys_mod_count"] = strconv.Itoa(n + 1)
	rec["sys_updated_on"] = i.now()
	rec["sys_updated_by"] = actor
	if table == "sys_user" {
		rec["name"] = strings.TrimSpace(rec["first_name"] + " " + rec["last_name"])
		if rec["locked_out"] == "true" && old["locked_out"] != "true" {
			// Locking out "locks the user out and kills sessions" (SND-USER).
			i.endSessionsLocked(sysID)
		}
	}
	if err := i.writeRulesLocked(td, rec, values, actor, false, actor == "system"); err != nil {
		return nil, err
	}
	td.rows[sysID] = rec
	i.touchLocked(table)
	return rec.Clone(), nil
}

func (i *Instance) deleteLocked(table, sysID string) error {
	td, err := i.tableLocked(table)
	if err != nil {
		return err
	}
	if _, ok := td.rows[sysID]; !ok {
		return ErrNotFound
	}
	delete(td.rows, sysID)
	if k := slices.Index(td.order, sysID); k >= 0 {
		td.order = slices.Delete(td.order, k, k+1)
	}
	i.touchLocked(table)
	return nil
}

// securityTables change who may do what; caches of roles and ACLs follow
// their version.
var securityTables = map[string]bool{
	"sys_user": true, "sys_user_role": true, "sys_user_role_contains": true, "sys_user_has_role": true,
	"sys_security_acl": true, "sys_security_acl_role": true,
}

func (i *Instance) touchLocked(table string) {
	if securityTables[table] {
		i.secVersion++
	}
	if td := i.tables[table]; td != nil {
		td.version++
	}
	if !logTables[table] {
		i.coreVersion++
	}
}

// logTables only grow, and no record refers to their rows: writing to
// them leaves what other tables render unchanged.
var logTables = map[string]bool{"syslog": true, "sys_outbound_http_log": true}

// getterLocked reads fields of rec in table as the platform does,
// dot-walking references.
func (i *Instance) getterLocked(td *tableData, rec Record) encodedquery.Getter {
	return i.getterAsLocked(nil, td, rec)
}

// getterAsLocked reads fields of rec for rd: password fields read as their
// outward value (secretValue), and for a request's caller a field or
// referenced row it may not read reads as empty (fieldaccess.go).
func (i *Instance) getterAsLocked(rd *reader, td *tableData, rec Record) encodedquery.Getter {
	return func(field string) (string, bool) {
		cur, def := rec, td.def
		if strings.IndexByte(field, '.') < 0 {
			f, ok := def.byName[field]
			if !ok {
				return "", false
			}
			if !i.fieldReadableLocked(rd, def, f) {
				return "", true
			}
			if isSecret(f) {
				return secretValue(f, cur), true
			}
			return cur[field], true
		}
		parts := strings.Split(field, ".")
		for k, p := range parts {
			f, ok := def.byName[p]
			if !ok {
				return "", false
			}
			if !i.fieldReadableLocked(rd, def, f) {
				return "", true
			}
			v := cur[p]
			if k == len(parts)-1 {
				if isSecret(f) {
					v = secretValue(f, cur)
				}
				return v, true
			}
			if f.Type != TypeReference {
				return "", false
			}
			target := i.tables[f.Reference]
			if target == nil {
				return "", false
			}
			next, ok := target.rows[v]
			if !ok {
				return "", true // empty reference: the walk yields nothing
			}
			if rd != nil && (!i.tableReadableLocked(rd, f.Reference) || !i.canSeeRowLocked(rd.c, target.def, next)) {
				return "", true // a row the caller may not read yields nothing
			}
			cur, def = next, target.def
		}
		return "", false
	}
}

// fieldOf resolves a possibly dot-walked field to its definition.
func (i *Instance) fieldOfLocked(def *Table, field string) (*Field, bool) {
	if strings.IndexByte(field, '.') < 0 {
		f, ok := def.byName[field]
		return f, ok
	}
	parts := strings.Split(field, ".")
	for k, p := range parts {
		f, ok := def.byName[p]
		if !ok {
			return nil, false
		}
		if k == len(parts)-1 {
			return f, true
		}
		if f.Type != TypeReference || i.tables[f.Reference] == nil {
			return nil, false
		}
		def = i.tables[f.Reference].def
	}
	return nil, false
}

func (i *Instance) kindLocked(def *Table) func(string) encodedquery.Kind {
	return func(field string) encodedquery.Kind {
		if f, ok := i.fieldOfLocked(def, field); ok && f.Type == TypeInteger {
			return encodedquery.KindNumber
		}
		return encodedquery.KindString
	}
}

// prepareQuery applies ServiceNow's rule for terms on unknown fields: they
// are ignored, unless glide.invalid_query.returns_no_rows is true, in which
// case the query matches nothing. ok is false in that second case.
func (i *Instance) prepareQueryLocked(def *Table, q encodedquery.Query) (encodedquery.Query, bool) {
	unknown := func(f string) bool { _, ok := i.fieldOfLocked(def, f); return !ok }
	bad := len(q.Invalid) > 0
	for _, f := range q.Fields() {
		if unknown(f) {
			bad = true
		}
	}
	if bad && i.propertyLocked("glide.invalid_query.returns_no_rows") == "true" {
		return q, false
	}
	return q.Without(unknown), true
}

// selectLocked returns the records of a table matching q, ordered by q's
// ORDERBY terms (insertion order otherwise). The records are not copies.
func (i *Instance) selectLocked(td *tableData, q encodedquery.Query) []Record {
	return i.selectAsLocked(nil, td, q)
}

// selectAsLocked is selectLocked with fields read as rd may read them.
func (i *Instance) selectAsLocked(rd *reader, td *tableData, q encodedquery.Query) []Record {
	q, ok := i.prepareQueryLocked(td.def, q)
	if !ok {
		return nil
	}
	kind := i.kindLocked(td.def)
	var out []Record
	for _, id := range td.order {
		rec := td.rows[id]
		if q.Match(i.getterAsLocked(rd, td, rec), kind) {
			out = append(out, rec)
		}
	}
	if len(q.Order) > 0 {
		slices.SortStableFunc(out, func(a, b Record) int {
			ga, gb := i.getterAsLocked(rd, td, a), i.getterAsLocked(rd, td, b)
			for _, o := range q.Order {
				va, _ := ga(o.Field)
				vb, _ := gb(o.Field)
				c := encodedquery.Compare(va, vb, kind(o.Field))
				if o.Desc {
					c = -c
				}
				if c != 0 {
					return c
				}
			}
			return 0
		})
	}
	return out
}

// System-level record access: no ACLs, no scope policy. Fixtures, the
// control plane and app installation use it; requests never do.

// Insert adds a record as the system.
func (i *Instance) Insert(table string, values map[string]string) (Record, error) {
	i.mu.Lock()
	defer i.mu.Unlock()
	return i.insertLocked(table, values, "system", "", true)
}

// Update changes a record as the system.
func (i *Instance) Update(table, sysID string, values map[string]string) (Record, error) {
	i.mu.Lock()
	defer i.mu.Unlock()
	return i.updateLocked(table, sysID, values, "system")
}

// Delete removes a record as the system.
func (i *Instance) Delete(table, sysID string) error {
	i.mu.Lock()
	defer i.mu.Unlock()
	return i.deleteLocked(table, sysID)
}

// Get returns a copy of a record.
func (i *Instance) Get(table, sysID string) (Record, error) {
	i.mu.RLock()
	defer i.mu.RUnlock()
	td, err := i.tableLocked(table)
	if err != nil {
		return nil, err
	}
	rec, ok := td.rows[sysID]
	if !ok {
		return nil, ErrNotFound
	}
	return rec.Clone(), nil
}

// Query returns copies of the records matching an encoded query.
func (i *Instance) Query(table, query string) ([]Record, error) {
	i.mu.RLock()
	defer i.mu.RUnlock()
	td, err := i.tableLocked(table)
	if err != nil {
		return nil, err
	}
	var out []Record
	for _, r := range i.selectLocked(td, encodedquery.Parse(query)) {
		out = append(out, r.Clone())
	}
	return out, nil
}

// First returns the first record matching a query, or ErrNotFound.
func (i *Instance) First(table, query string) (Record, error) {
	rs, err := i.Query(table, query)
	if err != nil {
		return nil, err
	}
	if len(rs) == 0 {
		return nil, ErrNotFound
	}
	return rs[0], nil
}

// Table returns a table's definition.
func (i *Instance) Table(name string) (*Table, bool) {
	i.mu.RLock()
	defer i.mu.RUnlock()
	td, ok := i.tables[name]
	if !ok {
		return nil, false
	}
	return td.def, true
}
