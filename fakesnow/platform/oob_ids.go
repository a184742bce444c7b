package platform

// Out-of-box sys_ids: records every instance ships with carry the same
// sys_id on every instance, and clients and scripts written against a real
// instance look them up by it. Only ids confirmed from public sources are
// listed (docs/fidelity.md, "Out-of-box sys_ids"):
//
//   - sys_user admin 6816f79cc0a8016401c5a33be04be441: the opened_by of the
//     incident the Batch API reference creates as admin, and countless
//     public scripts;
//   - sys_user_role admin 2831a114c611228501d4ea6c309d626d and itil
//     282bf1fac6112285017366cb5f867469: ServiceNow's own documentation links
//     sys_user_role.do?sys_id=2831a114… as the admin role, and public
//     ServiceNow SDK apps ("itil, sys_id verified live against
//     sys_user_role") use both.
//
// Other records get random sys_ids, as records created on an instance do.
var oobSysIDs = map[string]map[string]string{
	"sys_user":      {"admin": "6816f79cc0a8016401c5a33be04be441"},
	"sys_user_role": {"admin": "2831a114c611228501d4ea6c309d626d", "itil": "282bf1fac6112285017366cb5f867469"},
}

// oobKey is the field that names an out-of-box record of each table.
var oobKey = map[string]string{"sys_user": "user_name", "sys_user_role": "name"}

// oobSysIDLocked is the out-of-box sys_id for a record about to be
// inserted without one, or "" (also when the id is taken).
func (i *Instance) oobSysIDLocked(table string, values map[string]string) string {
	ids := oobSysIDs[table]
	if ids == nil {
		return ""
	}
	id := ids[values[oobKey[table]]]
	if id == "" {
		return ""
	}
	if _, taken := i.tables[table].rows[id]; taken {
		return ""
	}
	return id
}
