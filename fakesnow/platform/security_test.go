package platform

import (
	"encoding/base64"
	"net/url"
	"strings"
	"testing"
)

// listNames reads a list and returns one field of each row.
func (e *env) listField(t *testing.T, user, table, params, field string) []string {
	t.Helper()
	r := e.call(t, "GET", "/api/now/table/"+table+"?"+params, user, "")
	if r.status != 200 {
		t.Fatalf("%s %s: %d %s", table, params, r.status, r.raw)
	}
	var out []string
	for _, row := range r.result() {
		v, _ := row.(map[string]any)[field].(string)
		out = append(out, v)
	}
	return out
}

// TestPasswordsAreNeverMatchedOrShownInClear is issue 11, defect 1 (the
// password oracle): no query form matches a password or client secret
// against its clear text, and reads show a digest or a mask. Sources in
// docs/fidelity.md ("Security-relevant behaviour").
func TestPasswordsAreNeverMatchedOrShownInClear(t *testing.T) {
	e := newEnv(t)
	q := func(s string) string { return "sysparm_query=" + url.QueryEscape(s) }
	empty := []struct {
		name, user, table, params string
	}{
		{"STARTSWITH the right prefix", "abel.tuter", "sys_user", q("user_name=admin^user_passwordSTARTSWITHadmin-")},
		{"equality, clear text", "abel.tuter", "sys_user", q("user_password=admin-pw")},
		{"name=value parameter", "abel.tuter", "sys_user", "user_name=admin&user_password=admin-pw"},
		{"OR branch", "abel.tuter", "sys_user", q("user_name=nobody^ORuser_passwordLIKEadmin")},
		{"NQ block", "abel.tuter", "sys_user", q("user_name=nobody^NQuser_passwordSTARTSWITHa")},
		{"dot-walk from incident", "beth.anglin", "incident", q("caller_id.user_passwordSTARTSWITHabel")},
		{"admin, clear text", "admin", "sys_user", q("user_passwordSTARTSWITHadmin-")},
		{"admin, client secret prefix", "admin", "oauth_entity", q("client_secretSTARTSWITHinbound")},
		{"admin, client secret", "admin", "oauth_entity", q("client_secret=inbound-secret")},
	}
	for _, c := range empty {
		if got := e.listField(t, c.user, c.table, c.params, "sys_id"); len(got) != 0 {
			t.Errorf("%s: %d rows match", c.name, len(got))
		}
	}
	// A non-admin orders by a password it may not read as by an empty
	// value: insertion order (admin first), not the passwords' order
	// ("abel.tuter-pw" < "admin-pw").
	if got := e.listField(t, "abel.tuter", "sys_user", q("ORDERBYuser_password^ORDERBYDESCsys_created_on"), "user_name"); len(got) < 2 || got[0] != "admin" {
		t.Errorf("ORDERBYuser_password as a non-admin: %v", got)
	}
	// What a read shows, a query matches: the mask of a set secret.
	if got := e.listField(t, "admin", "oauth_entity", q("client_secret=********"), "client_secret"); len(got) != 1 || got[0] != "********" {
		t.Errorf("client_secret=********: %v", got)
	}
	// Admins read a one-way password as a digest (value and display
	// value); other users do not get the field at all.
	for _, dv := range []string{"false", "true"} {
		r := e.call(t, "GET", "/api/now/table/sys_user/"+e.ids["admin"]+"?sysparm_fields=user_name,user_password&sysparm_display_value="+dv, "admin", "")
		got, _ := r.record()["user_password"].(string)
		if raw, err := base64.StdEncoding.DecodeString(got); err != nil || len(raw) != 32 || strings.Contains(r.raw, "admin-pw") {
			t.Errorf("display %s: user_password %q, want a digest: %s", dv, got, r.raw)
		}
	}
	r := e.call(t, "GET", "/api/now/table/sys_user/"+e.ids["admin"], "beth.anglin", "")
	if _, ok := r.record()["user_password"]; ok || r.status != 200 {
		t.Errorf("a non-admin reads user_password: %s", r.raw)
	}
	r = e.call(t, "GET", "/api/now/table/oauth_entity?sysparm_display_value=all", "admin", "")
	cs, _ := r.result()[0].(map[string]any)["client_secret"].(map[string]any)
	if cs["value"] != "********" || cs["display_value"] != "********" || strings.Contains(r.raw, "inbound-secret") {
		t.Errorf("client_secret shown as %v", cs)
	}
}

// TestDotWalksApplyEveryTablesACLs is issue 11, defect 2: a user who may
// not read incidents learns nothing of them through a table that
// references incidents, in sysparm_fields, sysparm_query or ORDERBY; a
// field ACL applies alike.
func TestDotWalksApplyEveryTablesACLs(t *testing.T) {
	e := newEnv(t)
	if err := e.inst.DefineTable(&Table{Name: "u_note", Label: "Note", Fields: []*Field{
		{Name: "incident", Type: TypeReference, Reference: "incident"}, {Name: "text"},
	}, ACLRoles: map[Op][]string{OpRead: {"snc_internal"}}}); err != nil {
		t.Fatal(err)
	}
	incs, _ := e.inst.Query("incident", "ORDERBYnumber")
	for k, inc := range incs {
		if _, err := e.inst.Update("incident", inc["sys_id"], map[string]string{"description": []string{"zeta secret", "alpha secret", "mu secret"}[k]}); err != nil {
			t.Fatal(err)
		}
		if _, err := e.inst.Insert("u_note", map[string]string{"incident": inc["sys_id"], "text": inc["number"]}); err != nil {
			t.Fatal(err)
		}
	}
	q := func(s string) string { return "sysparm_query=" + url.QueryEscape(s) }
	// abel.tuter reads notes but not incidents.
	if n := len(e.listField(t, "abel.tuter", "incident", "", "sys_id")); n != 0 {
		t.Fatalf("abel.tuter reads %d incidents", n)
	}
	r := e.call(t, "GET", "/api/now/table/u_note?sysparm_fields=text,incident.description,incident.caller_id.email,incident", "abel.tuter", "")
	if len(r.result()) != 3 || strings.Contains(r.raw, "secret") || strings.Contains(r.raw, "@example.com") {
		t.Errorf("dot-walk through an unreadable table: %s", r.raw)
	}
	row := r.result()[0].(map[string]any)
	if _, ok := row["incident.description"]; ok || row["text"] != "INC0010001" {
		t.Errorf("row %v: unreadable dot-walks are left out, readable fields stay", row)
	}
	for _, c := range []struct{ name, params string }{
		{"LIKE", q("incident.descriptionLIKEsecret")},
		{"STARTSWITH", q("incident.descriptionSTARTSWITHalpha")},
		{"SAMEAS", q("textSAMEASincident.number")},
		{"deeper walk", q("incident.caller_id.emailLIKEexample")},
	} {
		if got := e.listField(t, "abel.tuter", "u_note", c.params, "text"); len(got) != 0 {
			t.Errorf("%s through an unreadable table matches %v", c.name, got)
		}
	}
	if got := e.listField(t, "abel.tuter", "u_note", q("ORDERBYincident.description"), "text"); strings.Join(got, ",") != "INC0010001,INC0010002,INC0010003" {
		t.Errorf("ORDERBY an unreadable dot-walk sorts by it: %v", got)
	}
	// The same reads by someone who may read incidents see them.
	if got := e.listField(t, "beth.anglin", "u_note", q("incident.descriptionSTARTSWITHalpha"), "text"); strings.Join(got, ",") != "INC0010002" {
		t.Errorf("beth.anglin: %v", got)
	}
	if got := e.listField(t, "beth.anglin", "u_note", q("ORDERBYincident.description"), "text"); strings.Join(got, ",") != "INC0010002,INC0010003,INC0010001" {
		t.Errorf("beth.anglin ORDERBY: %v", got)
	}
	// A field ACL: incident.description for incident_manager only.
	role, _ := e.inst.First("sys_user_role", "name=incident_manager")
	acl, err := e.inst.Insert("sys_security_acl", map[string]string{"name": "incident.description", "operation": "read", "type": "record"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.inst.Insert("sys_security_acl_role", map[string]string{"sys_security_acl": acl["sys_id"], "sys_user_role": role["sys_id"]}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		user, table, params, field string
		want                       int
	}{
		{"beth.anglin", "incident", q("descriptionLIKEsecret"), "number", 0},
		{"beth.anglin", "u_note", q("incident.descriptionLIKEsecret"), "text", 0},
		{"david.miller", "incident", q("descriptionLIKEsecret"), "number", 3},
		{"david.miller", "u_note", q("incident.descriptionLIKEsecret"), "text", 3},
	} {
		if got := e.listField(t, c.user, c.table, c.params, c.field); len(got) != c.want {
			t.Errorf("%s %s %s: %d rows, want %d", c.user, c.table, c.params, len(got), c.want)
		}
	}
	r = e.call(t, "GET", "/api/now/table/incident?sysparm_fields=number,description", "beth.anglin", "")
	if strings.Contains(r.raw, "secret") || !strings.Contains(r.raw, "INC0010001") {
		t.Errorf("field ACL ignored in sysparm_fields: %s", r.raw)
	}
	r = e.call(t, "GET", "/api/now/table/incident/"+incs[0]["sys_id"], "beth.anglin", "")
	if _, ok := r.record()["description"]; ok || r.status != 200 {
		t.Errorf("field ACL ignored on a record read: %s", r.raw)
	}
}
