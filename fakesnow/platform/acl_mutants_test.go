package platform

import (
	"strings"
	"testing"
)

// TestRolelessACLAdmitsEverySignedInUser: an active ACL that asks for no
// role (and no condition or script) is passed by every signed-in user, and
// where several ACLs match one object and operation the caller needs to
// pass one of them (ServiceNow ACL evaluation, SND-SRAPI ACL pages,
// reference/servicenow.md §5). So a role-less read ACL beside the itil one
// opens incident to a user with no role, for the table and for a field.
// Mutant: auth.go allows(), `c.roles["admin"] || m.roles == nil` → `&&`.
func TestRolelessACLAdmitsEverySignedInUser(t *testing.T) {
	e := newEnv(t)
	if r := e.call(t, "GET", "/api/now/table/incident", "abel.tuter", ""); len(r.result()) != 0 {
		t.Fatalf("abel reads incidents before any change: %s", r.raw)
	}
	if r := e.call(t, "POST", "/api/now/table/sys_security_acl", "admin", `{"name":"incident","operation":"read","type":"record","active":"true"}`); r.status != 201 {
		t.Fatalf("%d %s", r.status, r.raw)
	}
	if r := e.call(t, "GET", "/api/now/table/incident", "abel.tuter", ""); len(r.result()) != 3 {
		t.Fatalf("an active role-less ACL does not admit abel: %s", r.raw)
	}

	// A field ACL for incident_manager hides description from beth.anglin
	// (itil); a role-less one beside it shows it again.
	role, _ := e.inst.First("sys_user_role", "name=incident_manager")
	acl, err := e.inst.Insert("sys_security_acl", map[string]string{"name": "incident.description", "operation": "read", "type": "record", "active": "true"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.inst.Insert("sys_security_acl_role", map[string]string{"sys_security_acl": acl["sys_id"], "sys_user_role": role["sys_id"]}); err != nil {
		t.Fatal(err)
	}
	hasDescription := func() bool {
		r := e.call(t, "GET", "/api/now/table/incident?sysparm_fields=number,description&sysparm_limit=1", "beth.anglin", "")
		if len(r.result()) != 1 {
			t.Fatalf("beth reads incidents: %s", r.raw)
		}
		return strings.Contains(r.raw, `"description"`)
	}
	if hasDescription() {
		t.Fatal("a field ACL for incident_manager shows description to itil")
	}
	if _, err := e.inst.Insert("sys_security_acl", map[string]string{"name": "incident.description", "operation": "read", "type": "record", "active": "true"}); err != nil {
		t.Fatal(err)
	}
	if !hasDescription() {
		t.Fatal("a role-less field ACL beside it does not show description")
	}
}
