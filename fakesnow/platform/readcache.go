package platform

import "github.com/m365snow/m365snow/fakesnow/encodedquery"

// readCache keeps what Table API reads computed — the rows a query
// selects and each record's JSON in a view — until a write makes them
// stale. An entry is valid while the instance's core version (writes to
// any table but the logs, which reference nothing and nothing references)
// and its own table's version are those it was computed at; display values
// of references follow other tables, hence the core version. Reads of the
// same list are the common load on the fake (CI suites polling, the
// sandbox), and this turns them into lookups (docs/benchmarks.md).
type readCache struct {
	queries map[string]cachedRows
	renders map[string]cachedJSON
}

type cachedRows struct {
	core, table int
	rows        []Record
}

type cachedJSON struct {
	core, table int
	json        []byte
}

// maxCached bounds each map; past it the map starts over, which is cheap
// and keeps memory flat under any load.
const maxCached = 20000

// selectCachedLocked is selectLocked for an encoded query string, cached.
// The caller holds i.mu (read or write); the cache has its own lock.
func (i *Instance) selectCachedLocked(td *tableData, query string) []Record {
	key := td.def.Name + "\x00" + query
	i.cacheMu.Lock()
	c, ok := i.reads.queries[key]
	i.cacheMu.Unlock()
	if ok && c.core == i.coreVersion && c.table == td.version {
		return c.rows
	}
	rows := i.selectLocked(td, encodedquery.Parse(query))
	i.cacheMu.Lock()
	if i.reads.queries == nil || len(i.reads.queries) >= maxCached {
		i.reads.queries = map[string]cachedRows{}
	}
	i.reads.queries[key] = cachedRows{i.coreVersion, td.version, rows}
	i.cacheMu.Unlock()
	return rows
}

// renderJSONLocked is a record's JSON in a view, cached; viewKey is
// v.key().
func (i *Instance) renderJSONLocked(td *tableData, rec Record, v view, viewKey string) []byte {
	key := td.def.Name + "\x00" + rec["sys_id"] + "\x00" + viewKey
	i.cacheMu.Lock()
	c, ok := i.reads.renders[key]
	i.cacheMu.Unlock()
	if ok && c.core == i.coreVersion && c.table == td.version {
		return c.json
	}
	b := i.renderLocked(td, rec, v, viewNamesLocked(td, v)).appendJSON(nil)
	i.cacheMu.Lock()
	if i.reads.renders == nil || len(i.reads.renders) >= maxCached {
		i.reads.renders = map[string]cachedJSON{}
	}
	i.reads.renders[key] = cachedJSON{i.coreVersion, td.version, b}
	i.cacheMu.Unlock()
	return b
}
