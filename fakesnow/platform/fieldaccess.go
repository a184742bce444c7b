package platform

import "strings"

// Field and dot-walk access for requests (issue 11, defect 2).
//
// A request reads a field only if the caller may: on every table a
// dot-walked path crosses, the table's read ACL must pass, the field's own
// read ACL (a sys_security_acl named "table.field") must pass when one
// exists, and the referenced row must be one the caller may see (own-rows
// tables). The same rule applies wherever a request names a field:
// sysparm_fields, sysparm_query terms (including SAMEAS targets), ORDERBY
// and name=value parameters. A field the caller may not read is left out
// of answers; in queries and orderings it reads as empty, so a filter on it
// tells nothing about its value.

// reader is who reads, for one request. A nil *reader is the platform
// itself (app code through AppContext, fixtures): no ACLs apply.
type reader struct {
	c    *Caller
	memo map[string]bool // "table\x00field" → field readable
}

// readerFor returns the reader of a request's caller; admins and the
// system pass every ACL, so they get nil.
func readerFor(c *Caller) *reader {
	if c == nil || c.roles["admin"] {
		return nil
	}
	return &reader{c: c, memo: map[string]bool{}}
}

// fieldReadableLocked applies a field's read ACL. password fields are
// readable by admins only: ServiceNow ships a field ACL on
// sys_user.user_password that only admin passes (community answer,
// docs/fidelity.md); the fake applies it to every one-way password field.
func (i *Instance) fieldReadableLocked(rd *reader, def *Table, f *Field) bool {
	if rd == nil {
		return true
	}
	key := def.Name + "\x00" + f.Name
	if ok, seen := rd.memo[key]; seen {
		return ok
	}
	ok := f.Type != TypePassword
	if ok {
		if m := i.aclMemoLocked(def.Name+"."+f.Name, OpRead); m.exists {
			ok = m.allows(rd.c)
		}
	}
	rd.memo[key] = ok
	return ok
}

// tableReadableLocked applies a table's read ACL, memoized per request.
func (i *Instance) tableReadableLocked(rd *reader, table string) bool {
	if rd == nil {
		return true
	}
	key := table + "\x00"
	if ok, seen := rd.memo[key]; seen {
		return ok
	}
	ok := i.aclAllowsLocked(rd.c, table, OpRead)
	rd.memo[key] = ok
	return ok
}

// pathReadableLocked reports whether the caller may read a (possibly
// dot-walked) field of def whatever the row: every table's read ACL and
// every field's ACL on the path pass. The first table's own read ACL is
// the caller's to check (the Table API refuses the whole read first).
func (i *Instance) pathReadableLocked(rd *reader, def *Table, path string) bool {
	if rd == nil {
		return true
	}
	for k, p := range strings.Split(path, ".") {
		if k > 0 && !i.tableReadableLocked(rd, def.Name) {
			return false
		}
		f, ok := def.byName[p]
		if !ok {
			return true // unknown fields are the query's business
		}
		if !i.fieldReadableLocked(rd, def, f) {
			return false
		}
		if f.Type != TypeReference || i.tables[f.Reference] == nil {
			return true
		}
		def = i.tables[f.Reference].def
	}
	return true
}

// pathCrossesOwnRowsLocked reports whether a dot-walk reaches a table
// whose rows the caller sees only when they are theirs: then what the path
// yields depends on the row and the caller.
func (i *Instance) pathCrossesOwnRowsLocked(def *Table, path string) bool {
	parts := strings.Split(path, ".")
	for _, p := range parts[:len(parts)-1] {
		f, ok := def.byName[p]
		if !ok || f.Type != TypeReference || i.tables[f.Reference] == nil {
			return false
		}
		def = i.tables[f.Reference].def
		if def.OwnRows != "" {
			return true
		}
	}
	return false
}
