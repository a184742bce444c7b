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
	queries map[string]stamped[[]Record]
	renders map[string]stamped[[]byte]
}

// stamped is a cached value with the versions it was computed at.
type stamped[T any] struct {
	core, table int
	value       T
}

// maxCached bounds each map; past it the map starts over, which is cheap
// and keeps memory flat under any load.
const maxCached = 20000

// cachedLocked answers m[key] while its stamp is current, else computes,
// stores and answers it. The caller holds i.mu (read or write); the maps
// have their own lock, i.cacheMu.
func cachedLocked[T any](i *Instance, m *map[string]stamped[T], td *tableData, key string, compute func() T) T {
	i.cacheMu.Lock()
	c, ok := (*m)[key]
	i.cacheMu.Unlock()
	if ok && c.core == i.coreVersion && c.table == td.version {
		return c.value
	}
	v := compute()
	i.cacheMu.Lock()
	if *m == nil || len(*m) >= maxCached {
		*m = map[string]stamped[T]{}
	}
	(*m)[key] = stamped[T]{i.coreVersion, td.version, v}
	i.cacheMu.Unlock()
	return v
}

// selectCachedLocked is selectLocked for an encoded query string, cached.
func (i *Instance) selectCachedLocked(td *tableData, query string) []Record {
	return cachedLocked(i, &i.reads.queries, td, td.def.Name+"\x00"+query, func() []Record {
		return i.selectLocked(td, encodedquery.Parse(query))
	})
}

// renderJSONLocked is a record's JSON in a view, cached; viewKey is
// v.key().
func (i *Instance) renderJSONLocked(td *tableData, rec Record, v view, viewKey string) []byte {
	return cachedLocked(i, &i.reads.renders, td, td.def.Name+"\x00"+rec["sys_id"]+"\x00"+viewKey, func() []byte {
		return i.renderLocked(td, rec, v, viewNamesLocked(td, v)).appendJSON(nil)
	})
}
