package platform

import "testing"

// TestBasicAuthRestriction models ServiceNow's "Basic authentication
// restriction" (ServiceNowDocs platform-security/authentication/
// basic-auth-restriction.md): enforcing blocks Basic requests unless the
// account is Web Services Access Only or holds snc_basic_auth_api_access;
// tracking mode blocks nothing.
func TestBasicAuthRestriction(t *testing.T) {
	e := newEnv(t)
	if err := e.inst.GrantRole(e.ids["david.miller"], RoleBasicAuthAPIAccess); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		enforce, user string
		status        int
	}{
		{"false", "beth.anglin", 200},
		{"false", "admin", 200},
		{"true", "beth.anglin", 401},
		{"true", "admin", 401},            // admin holds no exemption of its own
		{"true", "m365.integration", 200}, // Web service access only
		{"true", "david.miller", 200},     // snc_basic_auth_api_access
	}
	for _, c := range cases {
		if err := e.inst.SetProperty(PropBasicAuthRestrictionEnforce, c.enforce); err != nil {
			t.Fatal(err)
		}
		r := e.call(t, "GET", "/api/now/table/incident?sysparm_limit=1", c.user, "")
		if r.status != c.status {
			t.Errorf("enforce=%s %s: %d, want %d", c.enforce, c.user, r.status, c.status)
			continue
		}
		if c.status == 401 {
			wantUnauthenticated(t, r)
			if got := e.lastLog(t, "Authentication"); got != "Basic authentication refused for user "+c.user+": the basic authentication restriction is enforced (glide.authenticate.basic_auth.restriction.enforce=true) and the account is neither Web service access only nor granted snc_basic_auth_api_access" {
				t.Errorf("log %q", got)
			}
		}
	}
	// The UI is not Basic authentication.
	if err := e.inst.SetProperty(PropBasicAuthRestrictionEnforce, "true"); err != nil {
		t.Fatal(err)
	}
	sid, _ := e.uiLogin(t, "beth.anglin")
	if r := e.call(t, "GET", "/api/now/table/incident?sysparm_limit=1", "cookie:"+sid, ""); r.status != 200 {
		t.Errorf("UI session under enforcement: %d", r.status)
	}
}

// TestOutOfBoxSysIDs: the admin user and the base roles clients look up
// by sys_id have their out-of-box ids (oob_ids.go gives the sources).
func TestOutOfBoxSysIDs(t *testing.T) {
	e := newEnv(t)
	cases := []struct{ table, query, want string }{
		{"sys_user", "user_name=admin", "6816f79cc0a8016401c5a33be04be441"},
		{"sys_user_role", "name=admin", "2831a114c611228501d4ea6c309d626d"},
		{"sys_user_role", "name=itil", "282bf1fac6112285017366cb5f867469"},
	}
	for _, c := range cases {
		rec, err := e.inst.First(c.table, c.query)
		if err != nil || rec["sys_id"] != c.want {
			t.Errorf("%s %s: sys_id %q, want %s", c.table, c.query, rec["sys_id"], c.want)
		}
	}
	// A client written against a real instance reads admin by its id.
	r := e.call(t, "GET", "/api/now/table/sys_user/6816f79cc0a8016401c5a33be04be441?sysparm_fields=user_name", "beth.anglin", "")
	if r.status != 200 || r.record()["user_name"] != "admin" {
		t.Errorf("admin by sys_id: %d %s", r.status, r.raw)
	}
	// Other users get fresh random ids.
	if e.ids["beth.anglin"] == e.ids["admin"] || !ValidSysID(e.ids["beth.anglin"]) {
		t.Errorf("beth.anglin's id %q", e.ids["beth.anglin"])
	}
}

// TestUnknownSysparmIgnored: sysparm_* parameters the Table API does not
// know change nothing (reference/servicenow.md §2.2: the Backstage
// plugin's sysparm_count=true is simply ignored), and are not taken for
// name=value field filters.
func TestUnknownSysparmIgnored(t *testing.T) {
	e := newEnv(t)
	base := e.call(t, "GET", "/api/now/table/incident?sysparm_fields=number", "beth.anglin", "")
	for _, extra := range []string{"&sysparm_count=true", "&sysparm_nonsense=1", "&sysparm_query_category=reports", "&sysparm_number=INC0010002"} {
		r := e.call(t, "GET", "/api/now/table/incident?sysparm_fields=number"+extra, "beth.anglin", "")
		if r.status != 200 || len(r.result()) != len(base.result()) || r.header.Get("X-Total-Count") != "3" {
			t.Errorf("%s: %d, %d rows, X-Total-Count %s", extra, r.status, len(r.result()), r.header.Get("X-Total-Count"))
		}
	}
}
