package platform

import "github.com/m365snow/m365snow/fakesnow/encodedquery"

// Structured queries and single-section read-modify-writes for app code
// (issue 11, defects 4 and 8). Apps build queries from values
// (encodedquery.Equals and friends) rather than splicing a caller's input
// into an encoded query string; and a check followed by a write happens
// under one hold of the instance lock, so two concurrent requests cannot
// both see "absent" and both insert.

// Select reads records of table matching a query built from values.
func (a *AppContext) Select(table string, q encodedquery.Query) ([]Record, error) {
	a.inst.mu.Lock() // a refusal writes the log
	defer a.inst.mu.Unlock()
	if err := a.check(table, OpRead, false); err != nil {
		return nil, err
	}
	var out []Record
	for _, r := range a.inst.selectLocked(a.inst.tables[table], q) {
		out = append(out, r.Clone())
	}
	return out, nil
}

// InsertUnless inserts values into table unless a record matches exists;
// it returns the first matching record, or the new one and inserted=true.
// secure applies the user's ACLs to the insert.
func (a *AppContext) InsertUnless(table string, exists encodedquery.Query, values map[string]string, secure bool) (rec Record, inserted bool, err error) {
	a.inst.mu.Lock()
	defer a.inst.mu.Unlock()
	if err := a.check(table, OpRead, false); err != nil {
		return nil, false, err
	}
	if found := a.inst.selectLocked(a.inst.tables[table], exists); len(found) > 0 {
		return found[0].Clone(), false, nil
	}
	if err := a.check(table, OpCreate, secure); err != nil {
		return nil, false, err
	}
	rec, err = a.inst.insertLocked(table, values, a.user.UserName, a.scopeID, false)
	return rec, err == nil, err
}

// Upsert updates the first record of table matching match with values, or
// inserts values when none matches. secure applies the user's ACLs.
func (a *AppContext) Upsert(table string, match encodedquery.Query, values map[string]string, secure bool) (Record, error) {
	a.inst.mu.Lock()
	defer a.inst.mu.Unlock()
	if err := a.check(table, OpRead, false); err != nil {
		return nil, err
	}
	if found := a.inst.selectLocked(a.inst.tables[table], match); len(found) > 0 {
		if err := a.check(table, OpWrite, secure); err != nil {
			return nil, err
		}
		return a.inst.updateLocked(table, found[0]["sys_id"], values, a.user.UserName)
	}
	if err := a.check(table, OpCreate, secure); err != nil {
		return nil, err
	}
	return a.inst.insertLocked(table, values, a.user.UserName, a.scopeID, false)
}

// Modify reads a record and writes what change returns for it, in one
// lock section: change sees the record as it is now, not as an earlier
// read saw it. A nil or empty map from change writes nothing and returns
// the record as it is. secure applies the user's ACLs to the write.
func (a *AppContext) Modify(table, sysID string, change func(current Record) map[string]string, secure bool) (Record, error) {
	a.inst.mu.Lock()
	defer a.inst.mu.Unlock()
	if err := a.check(table, OpRead, false); err != nil {
		return nil, err
	}
	cur, ok := a.inst.tables[table].rows[sysID]
	if !ok {
		return nil, ErrNotFound
	}
	values := change(cur.Clone())
	if len(values) == 0 {
		return cur.Clone(), nil
	}
	if err := a.check(table, OpWrite, secure); err != nil {
		return nil, err
	}
	return a.inst.updateLocked(table, sysID, values, a.user.UserName)
}
