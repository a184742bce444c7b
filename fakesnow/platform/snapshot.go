package platform

import (
	"fmt"
	"sort"
)

// Snapshot returns every record of every table, in insertion order, keyed
// by table name. OAuth tokens and sessions are not part of it: after a
// restore, callers sign in again.
func (i *Instance) Snapshot() map[string][]Record {
	i.mu.RLock()
	defer i.mu.RUnlock()
	out := map[string][]Record{}
	for name, td := range i.tables {
		rows := make([]Record, 0, len(td.order))
		for _, id := range td.order {
			rows = append(rows, td.rows[id].Clone())
		}
		out[name] = rows
	}
	return out
}

// TableNames lists the instance's tables, sorted.
func (i *Instance) TableNames() []string {
	i.mu.RLock()
	defer i.mu.RUnlock()
	out := make([]string, 0, len(i.tables))
	for n := range i.tables {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// Restore replaces the records of each table named in snap (others keep
// theirs) and forgets every token and session. Records keep their sys_id
// and system fields.
func (i *Instance) Restore(snap map[string][]Record) error {
	i.mu.Lock()
	defer i.mu.Unlock()
	for name := range snap {
		if _, ok := i.tables[name]; !ok {
			return fmt.Errorf("restore: %w", &InvalidTableError{Name: name})
		}
	}
	// Restore reference targets first so references resolve by sys_id.
	names := make([]string, 0, len(snap))
	for n := range snap {
		names = append(names, n)
	}
	sort.Slice(names, func(a, b int) bool {
		return restoreRank(names[a]) < restoreRank(names[b]) || (restoreRank(names[a]) == restoreRank(names[b]) && names[a] < names[b])
	})
	for _, name := range names {
		td := i.tables[name]
		td.rows, td.order, td.nextNumber = map[string]Record{}, nil, 10001
		for _, rec := range snap[name] {
			if _, err := i.insertLocked(name, rec, rec["sys_created_by"], "", true); err != nil {
				return fmt.Errorf("restore %s: %w", name, err)
			}
			// Keep the exported system fields exactly.
			stored := td.rows[td.order[len(td.order)-1]]
			for _, k := range []string{"sys_updated_on", "sys_updated_by", "sys_mod_count", "sys_created_on", "sys_created_by"} {
				if v, ok := rec[k]; ok {
					stored[k] = v
				}
			}
		}
	}
	i.tokens, i.sessions, i.jtis = map[string]*oauthToken{}, map[string]uiSession{}, map[string]struct{}{}
	i.secVersion++
	return nil
}

func restoreRank(table string) int {
	switch table {
	case "sys_scope":
		return 0
	case "sys_user", "sys_user_role", "sys_ui_view", "oidc_provider_configuration":
		return 1
	case "oauth_entity", "sys_security_acl":
		return 2
	}
	return 3
}
