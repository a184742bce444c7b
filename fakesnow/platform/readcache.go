package platform

import (
	"crypto/sha256"
	"strconv"
	"strings"

	"github.com/m365snow/m365snow/fakesnow/encodedquery"
)

// readCache keeps what Table API reads computed — the rows a query
// selects and each record's JSON in a view — until a write makes them
// stale. An entry is valid while the instance's core version (writes to
// any table but the logs, which reference nothing and nothing references)
// and its own table's version are those it was computed at; display values
// of references follow other tables, hence the core version. Reads of the
// same list are the common load on the fake (CI suites polling, the
// sandbox), and this turns them into lookups (docs/benchmarks.md).
//
// Memory is bounded in bytes, not entries (issue 11, defect 5): keys are
// fixed-size digests of what a request asked for, never the raw
// sysparm_fields or sysparm_query, and each map starts over once its
// entries' estimated size passes its budget.
type readCache struct {
	queries     map[cacheKey]stamped[[]Record]
	renders     map[cacheKey]stamped[[]byte]
	queryBytes  int
	renderBytes int
}

// cacheKey names an entry: a table, a record (renders only) and a digest
// of the query or view.
type cacheKey struct {
	table, id string
	digest    [sha256.Size]byte
}

// stamped is a cached value with the versions it was computed at.
type stamped[T any] struct {
	core, table int
	value       T
}

// Budgets of the two maps. Entries are estimated at their value's size
// plus a fixed overhead; a list of 10,000 rows costs 8 bytes a row (the
// records themselves are the store's).
const (
	maxQueryCacheBytes  = 16 << 20
	maxRenderCacheBytes = 32 << 20
	entryOverhead       = 128
)

// cachedLocked answers m[key] while its stamp is current, else computes,
// stores and answers it. The caller holds i.mu (read or write); the maps
// have their own lock, i.cacheMu.
func cachedLocked[T any](i *Instance, m *map[cacheKey]stamped[T], used *int, budget int, td *tableData, key cacheKey, size func(T) int, compute func() T) T {
	i.cacheMu.Lock()
	c, ok := (*m)[key]
	i.cacheMu.Unlock()
	if ok && c.core == i.coreVersion && c.table == td.version {
		return c.value
	}
	v := compute()
	cost := size(v) + len(key.table) + len(key.id) + entryOverhead
	i.cacheMu.Lock()
	if *m == nil || *used+cost > budget {
		*m, *used = map[cacheKey]stamped[T]{}, 0
	}
	if cost <= budget {
		if old, ok := (*m)[key]; ok {
			*used -= size(old.value) + len(key.table) + len(key.id) + entryOverhead
		}
		(*m)[key] = stamped[T]{i.coreVersion, td.version, v}
		*used += cost
	}
	i.cacheMu.Unlock()
	return v
}

// selectCachedLocked is selectAsLocked, cached. A selection that depends
// on who reads — it names a dot-walked field, or a field rd may not read —
// is cached per caller; any other is shared.
func (i *Instance) selectCachedLocked(rd *reader, td *tableData, q encodedquery.Query) []Record {
	var b strings.Builder
	b.WriteString(q.String())
	b.WriteString("\x00")
	b.WriteString(strconv.Itoa(len(q.Invalid)))
	if rd != nil {
		for _, f := range q.Fields() {
			if strings.IndexByte(f, '.') >= 0 || !i.pathReadableLocked(rd, td.def, f) {
				b.WriteString("\x00" + rd.c.SysID)
				break
			}
		}
	}
	key := cacheKey{table: td.def.Name, digest: sha256.Sum256([]byte(b.String()))}
	return cachedLocked(i, &i.reads.queries, &i.reads.queryBytes, maxQueryCacheBytes, td, key,
		func(rs []Record) int { return 8 * len(rs) },
		func() []Record { return i.selectAsLocked(rd, td, q) })
}

// renderKeyLocked digests a view as rd sees it (names from
// visibleNamesLocked); a dot-walk makes it the caller's own.
func (i *Instance) renderKeyLocked(rd *reader, td *tableData, v view, names []string) [sha256.Size]byte {
	h := sha256.New()
	h.Write([]byte(v.display + "\x00" + strconv.FormatBool(v.excludeLink) + "\x00" + v.version + "\x00" + v.dates.key + "\x00"))
	walks := false
	for _, n := range names {
		h.Write([]byte(n))
		h.Write([]byte{','})
		walks = walks || strings.IndexByte(n, '.') >= 0
	}
	if rd != nil && walks {
		h.Write([]byte("\x00" + rd.c.SysID))
	}
	var d [sha256.Size]byte
	h.Sum(d[:0])
	return d
}

// renderJSONLocked is a record's JSON in a view as rd sees it, cached;
// names and viewKey come from visibleNamesLocked and renderKeyLocked.
func (i *Instance) renderJSONLocked(rd *reader, td *tableData, rec Record, v view, names []string, viewKey [sha256.Size]byte) []byte {
	key := cacheKey{table: td.def.Name, id: rec["sys_id"], digest: viewKey}
	return cachedLocked(i, &i.reads.renders, &i.reads.renderBytes, maxRenderCacheBytes, td, key,
		func(b []byte) int { return cap(b) },
		func() []byte { return i.renderLocked(rd, td, rec, v, names).appendJSON(nil) })
}
