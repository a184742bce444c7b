package platform

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/m365snow/m365snow/fakesnow/encodedquery"
)

// AccessError is a refusal by the cross-scope policy or an ACL.
type AccessError struct {
	// Message is ServiceNow's text, e.g. "Read operation against
	// 'oauth_entity' from scope 'x_mioms_m365_assis' has been refused due to
	// the table's cross-scope access policy".
	Message string
	// ACL is true when a record ACL (not the scope policy) refused.
	ACL bool
}

func (e *AccessError) Error() string { return e.Message }

// IsAccessError reports whether err is a policy or ACL refusal.
func IsAccessError(err error) bool {
	var a *AccessError
	return errors.As(err, &a)
}

func opWord(op Op) string {
	return strings.ToUpper(string(op[:1])) + string(op[1:])
}

// crossScopeLocked applies the runtime policy for code of scope (sys_id)
// touching table (reference/servicenow.md §6.2): table application access
// first, then the app's cross-scope privileges when it enforces them.
func (i *Instance) crossScopeLocked(scopeID, table string, op Op) *AccessError {
	td := i.tables[table]
	owner, err := i.scopeIDLocked(td.def.Scope)
	if err != nil || owner == scopeID {
		return nil
	}
	caller := i.tables["sys_scope"].rows[scopeID]
	if caller == nil {
		return &AccessError{Message: fmt.Sprintf("%s operation against '%s' refused: unknown calling scope", opWord(op), table)}
	}
	obj := i.findLocked("sys_db_object", "name", table)
	allowed := obj != nil && obj["access"] == "public" && obj["read_access"] == "true"
	switch op {
	case OpCreate:
		allowed = allowed && obj["create_access"] == "true"
	case OpWrite:
		allowed = allowed && obj["update_access"] == "true"
	case OpDelete:
		allowed = allowed && obj["delete_access"] == "true"
	}
	if !allowed {
		return &AccessError{Message: fmt.Sprintf("%s operation against '%s' from scope '%s' has been refused due to the table's cross-scope access policy",
			opWord(op), table, caller["scope"])}
	}
	if caller["runtime_access_tracking"] == "enforcing" {
		privs := i.tables["sys_scope_privilege"]
		for _, id := range privs.order {
			p := privs.rows[id]
			if p["source_scope"] == scopeID && p["target_scope"] == owner && p["target_name"] == table &&
				p["target_type"] == "sys_db_object" && p["operation"] == string(op) && p["status"] == "allowed" {
				return nil
			}
		}
		return &AccessError{Message: fmt.Sprintf("%s operation on table '%s' from scope '%s' was denied. The application '%s' must declare a cross scope access privilege. Please contact the application admin to update their access requests.",
			opWord(op), table, caller["name"], caller["name"])}
	}
	return nil
}

// AppContext is how an application's server-side code runs: inside its
// scope, on behalf of a user. Every table access passes the cross-scope
// policy; Secure operations also pass the user's ACLs (GlideRecordSecure),
// plain ones do not (GlideRecord). Refusals are logged with the app's scope
// as source, prefixed "Security restricted: " as the platform does.
type AppContext struct {
	inst    *Instance
	scopeID string
	scope   string
	user    *Caller
}

// App returns an AppContext for the application whose namespace is scope.
func (i *Instance) App(scope string, user *Caller) (*AppContext, error) {
	i.mu.RLock()
	id, err := i.scopeIDLocked(scope)
	i.mu.RUnlock()
	if err != nil {
		return nil, err
	}
	return &AppContext{inst: i, scopeID: id, scope: scope, user: user}, nil
}

// User is who the code runs as.
func (a *AppContext) User() *Caller { return a.user }

// Instance returns the platform (for URL and clock).
func (a *AppContext) Instance() *Instance { return a.inst }

// ScopeID is the app's sys_scope sys_id.
func (a *AppContext) ScopeID() string { return a.scopeID }

func (a *AppContext) refuse(e *AccessError) error {
	a.inst.logLocked(LevelError, a.scope, "Security restricted: "+e.Message, a.user.UserName)
	return e
}

func (a *AppContext) check(table string, op Op, secure bool) error {
	if _, err := a.inst.tableLocked(table); err != nil {
		return err
	}
	if e := a.inst.crossScopeLocked(a.scopeID, table, op); e != nil {
		return a.refuse(e)
	}
	if secure && !a.inst.aclAllowsLocked(a.user, table, op) {
		verb := map[Op]string{OpRead: "Read", OpCreate: "Insert", OpWrite: "Update", OpDelete: "Delete"}[op]
		return a.refuse(&AccessError{ACL: true, Message: fmt.Sprintf("ACL Exception %s Failed due to security constraints (table %s, user %s)", verb, table, a.user.UserName)})
	}
	return nil
}

// Query reads records of table matching an encoded query.
func (a *AppContext) Query(table, query string) ([]Record, error) {
	a.inst.mu.Lock() // a refusal writes the log
	defer a.inst.mu.Unlock()
	if err := a.check(table, OpRead, false); err != nil {
		return nil, err
	}
	var out []Record
	for _, r := range a.inst.selectLocked(a.inst.tables[table], encodedquery.Parse(query)) {
		out = append(out, r.Clone())
	}
	return out, nil
}

// Get reads one record.
func (a *AppContext) Get(table, sysID string) (Record, error) {
	a.inst.mu.Lock()
	defer a.inst.mu.Unlock()
	if err := a.check(table, OpRead, false); err != nil {
		return nil, err
	}
	r, ok := a.inst.tables[table].rows[sysID]
	if !ok {
		return nil, ErrNotFound
	}
	return r.Clone(), nil
}

// Insert creates a record; secure applies the user's ACLs.
func (a *AppContext) Insert(table string, values map[string]string, secure bool) (Record, error) {
	a.inst.mu.Lock()
	defer a.inst.mu.Unlock()
	if err := a.check(table, OpCreate, secure); err != nil {
		return nil, err
	}
	return a.inst.insertLocked(table, values, a.user.UserName, a.scopeID, false)
}

// Update changes a record; secure applies the user's ACLs.
func (a *AppContext) Update(table, sysID string, values map[string]string, secure bool) (Record, error) {
	a.inst.mu.Lock()
	defer a.inst.mu.Unlock()
	if err := a.check(table, OpWrite, secure); err != nil {
		return nil, err
	}
	return a.inst.updateLocked(table, sysID, values, a.user.UserName)
}

// Delete removes a record; secure applies the user's ACLs.
func (a *AppContext) Delete(table, sysID string, secure bool) error {
	a.inst.mu.Lock()
	defer a.inst.mu.Unlock()
	if err := a.check(table, OpDelete, secure); err != nil {
		return err
	}
	return a.inst.deleteLocked(table, sysID)
}

// CanAccess reports whether the user's ACLs allow op on table (what
// GlideRecordSecure would check), without touching any record.
func (a *AppContext) CanAccess(table string, op Op) bool {
	a.inst.mu.RLock()
	defer a.inst.mu.RUnlock()
	return a.inst.aclAllowsLocked(a.user, table, op)
}

// Log writes a system log line with the app's scope as source (gs.info,
// gs.warn, gs.error in a scoped app).
func (a *AppContext) Log(level, message string) {
	a.inst.Log(level, a.scope, message, a.user.UserName)
}

// HTTP returns the app's outbound client; every call it makes is a row of
// sys_outbound_http_log.
func (a *AppContext) HTTP() *http.Client { return a.inst.Outbound(a.scope, a.user.UserName) }

// Property reads a system property.
func (a *AppContext) Property(name string) string { return a.inst.Property(name) }

// CurrentApp is the sys_id of the calling user's current application.
func (a *AppContext) CurrentApp() string { return a.inst.CurrentApp(a.user.SysID) }

// OtherApplicationRefusal returns the platform's refusal of an edit made
// while another application is current, or nil when the app's own scope is
// current.
func (a *AppContext) OtherApplicationRefusal() *AccessError {
	i := a.inst
	i.mu.RLock()
	defer i.mu.RUnlock()
	cur := i.currentAppLocked(a.user.SysID)
	if cur == a.scopeID {
		return nil
	}
	scopes := i.tables["sys_scope"].rows
	return &AccessError{Message: otherApplicationMessage(scopes[a.scopeID]["name"], scopes[cur]["name"])}
}
