package platform

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

func TestListIncidentsWireShape(t *testing.T) {
	e := newEnv(t)
	r := e.call(t, "GET", "/api/now/table/incident?sysparm_limit=2", "beth.anglin", "")
	if r.status != 200 {
		t.Fatalf("%d %s", r.status, r.raw)
	}
	if r.header.Get("X-Total-Count") != "3" || r.header.Get("Content-Type") != "application/json;charset=UTF-8" {
		t.Errorf("headers %v", r.header)
	}
	// Recorded real Link headers (paging.go): the client's parameters in
	// their order, offset appended, prev even on the first page.
	wantLink := `<https://dev12345.service-now.com/api/now/table/incident?sysparm_limit=2&sysparm_offset=0>;rel="first",` +
		`<https://dev12345.service-now.com/api/now/table/incident?sysparm_limit=2&sysparm_offset=-2>;rel="prev",` +
		`<https://dev12345.service-now.com/api/now/table/incident?sysparm_limit=2&sysparm_offset=2>;rel="next",` +
		`<https://dev12345.service-now.com/api/now/table/incident?sysparm_limit=2&sysparm_offset=2>;rel="last"`
	if got := r.header.Get("Link"); got != wantLink {
		t.Errorf("Link\n got %s\nwant %s", got, wantLink)
	}
	rows := r.result()
	if len(rows) != 2 {
		t.Fatalf("%d rows", len(rows))
	}
	inc := rows[0].(map[string]any)
	if inc["number"] != "INC0010001" || inc["short_description"] != "Email is not syncing on mobile" {
		t.Errorf("first incident %v", inc)
	}
	if !regexp.MustCompile(`^[0-9a-f]{32}$`).MatchString(inc["sys_id"].(string)) {
		t.Errorf("sys_id %v", inc["sys_id"])
	}
	if inc["sys_created_on"] != "2026-03-02 09:00:00" || inc["sys_mod_count"] != "0" || inc["sys_created_by"] != "system" {
		t.Errorf("system fields %v %v %v", inc["sys_created_on"], inc["sys_mod_count"], inc["sys_created_by"])
	}
	if inc["active"] != "true" || inc["priority"] != "3" || inc["state"] != "1" {
		t.Errorf("typed values must be strings: %v %v %v", inc["active"], inc["priority"], inc["state"])
	}
	caller := inc["caller_id"].(map[string]any)
	if caller["value"] != e.ids["abel.tuter"] || caller["link"] != "https://dev12345.service-now.com/api/now/table/sys_user/"+e.ids["abel.tuter"] {
		t.Errorf("reference %v", caller)
	}
	if inc["assigned_to"] != "" {
		t.Errorf("empty reference %#v, want \"\"", inc["assigned_to"])
	}
	// Second page keeps the original parameters and adds prev.
	r = e.call(t, "GET", "/api/now/v2/table/incident?sysparm_limit=2&sysparm_offset=2&sysparm_query=active%3Dtrue", "beth.anglin", "")
	if len(r.result()) != 1 || !strings.Contains(r.header.Get("Link"), `<https://dev12345.service-now.com/api/now/v2/table/incident?sysparm_limit=2&sysparm_offset=0&sysparm_query=active%3Dtrue>;rel="prev"`) {
		t.Errorf("page 2: %d rows, Link %s", len(r.result()), r.header.Get("Link"))
	}
	if strings.Contains(r.header.Get("Link"), `rel="next"`) {
		t.Error("last page has a next link")
	}
}

func TestDisplayValuesAndFields(t *testing.T) {
	e := newEnv(t)
	base := "/api/now/table/incident?sysparm_query=number%3DINC0010002&sysparm_fields=number,state,caller_id,caller_id.user_name,priority,nonsense"
	cases := []struct {
		params string
		want   map[string]any
	}{
		{"", map[string]any{"number": "INC0010002", "state": "1", "priority": "3", "caller_id.user_name": "abel.tuter",
			"caller_id": map[string]any{"link": "https://dev12345.service-now.com/api/now/table/sys_user/" + e.ids["abel.tuter"], "value": e.ids["abel.tuter"]}}},
		{"&sysparm_exclude_reference_link=true", map[string]any{"caller_id": e.ids["abel.tuter"]}},
		{"&sysparm_display_value=true", map[string]any{"state": "New", "priority": "3 - Moderate", "caller_id.user_name": "abel.tuter",
			"caller_id": map[string]any{"display_value": "Abel Tuter", "link": "https://dev12345.service-now.com/api/now/table/sys_user/" + e.ids["abel.tuter"]}}},
		{"&sysparm_display_value=true&sysparm_exclude_reference_link=true", map[string]any{"caller_id": "Abel Tuter"}},
		{"&sysparm_display_value=all", map[string]any{"state": map[string]any{"display_value": "New", "value": "1"},
			"caller_id": map[string]any{"display_value": "Abel Tuter", "link": "https://dev12345.service-now.com/api/now/table/sys_user/" + e.ids["abel.tuter"], "value": e.ids["abel.tuter"]}}},
	}
	for _, c := range cases {
		r := e.call(t, "GET", base+c.params, "beth.anglin", "")
		rows := r.result()
		if len(rows) != 1 {
			t.Fatalf("%s: %s", c.params, r.raw)
		}
		got := rows[0].(map[string]any)
		if _, ok := got["nonsense"]; ok || len(got) != 5 {
			t.Errorf("%s: fields %v (invalid names are dropped, the rest kept)", c.params, got)
		}
		for k, v := range c.want {
			if fmt.Sprint(got[k]) != fmt.Sprint(v) {
				t.Errorf("%s: %s = %v, want %v", c.params, k, got[k], v)
			}
		}
	}
}

func TestQueries(t *testing.T) {
	e := newEnv(t)
	count := func(q string) int {
		t.Helper()
		r := e.call(t, "GET", "/api/now/table/incident?"+q, "beth.anglin", "")
		if r.status != 200 {
			t.Fatalf("%s: %d %s", q, r.status, r.raw)
		}
		return len(r.result())
	}
	// "vpn" appears only in "VPN is down": LIKE is case-insensitive.
	cases := map[string]int{
		"sysparm_query=" + url.QueryEscape("short_descriptionLIKEvpn"):                              1,
		"sysparm_query=" + url.QueryEscape("short_descriptionLIKEvpn^ORshort_descriptionLIKEteams"): 2,
		"sysparm_query=" + url.QueryEscape("numberININC0010001,INC0010003"):                         2,
		"sysparm_query=" + url.QueryEscape("caller_id.user_name=abel.tuter^numberSTARTSWITHINC"):    3,
		"sysparm_query=" + url.QueryEscape("numberENDSWITH2^NQnumberENDSWITH3"):                     2,
		"sysparm_query=" + url.QueryEscape("short_descriptionISEMPTY"):                              0,
		"sysparm_query=" + url.QueryEscape("bogus_field=1^numberENDSWITH1"):                         1, // unknown field ignored
		"number=INC0010003": 1, // name-value pair
		"sysparm_query=" + url.QueryEscape("descriptionISEMPTY^ORDERBYDESCnumber") + "&sysparm_limit=1": 1,
	}
	for q, want := range cases {
		if got := count(q); got != want {
			t.Errorf("%s: %d rows, want %d", q, got, want)
		}
	}
	r := e.call(t, "GET", "/api/now/table/incident?sysparm_query="+url.QueryEscape("ORDERBYDESCnumber"), "beth.anglin", "")
	if first := r.result()[0].(map[string]any)["number"]; first != "INC0010003" {
		t.Errorf("ORDERBYDESC: first %v", first)
	}
	if err := e.inst.SetProperty(PropInvalidQueryNoRows, "true"); err != nil {
		t.Fatal(err)
	}
	if got := count("sysparm_query=" + url.QueryEscape("bogus_field=1^numberENDSWITH1")); got != 0 {
		t.Errorf("with %s=true an unknown field must return no rows, got %d", PropInvalidQueryNoRows, got)
	}
}

func TestWrites(t *testing.T) {
	e := newEnv(t)
	r := e.call(t, "POST", "/api/now/table/incident", "beth.anglin", `{"short_description":"Printer on fire","caller_id":"`+e.ids["abel.tuter"]+`","impact":2,"active":true,"sys_created_by":"mallory","colour":"red"}`)
	if r.status != 201 {
		t.Fatalf("%d %s", r.status, r.raw)
	}
	rec := r.record()
	id := rec["sys_id"].(string)
	if r.header.Get("Location") != "https://dev12345.service-now.com/api/now/table/incident/"+id {
		t.Errorf("Location %s", r.header.Get("Location"))
	}
	if rec["number"] != "INC0010004" || rec["sys_created_by"] != "beth.anglin" || rec["impact"] != "2" {
		t.Errorf("created %v", rec)
	}
	if rec["caller_id"].(map[string]any)["value"] != e.ids["abel.tuter"] {
		t.Errorf("a reference given by sys_id: %v", rec["caller_id"])
	}
	e.clock.Advance(90)
	r = e.call(t, "PATCH", "/api/now/table/incident/"+id+"?sysparm_fields=state,sys_mod_count,sys_updated_by", "beth.anglin", `{"state":"2"}`)
	if r.status != 200 || r.record()["state"] != "2" || r.record()["sys_mod_count"] != "1" || len(r.record()) != 3 {
		t.Fatalf("patch: %d %s", r.status, r.raw)
	}
	r = e.call(t, "PUT", "/api/now/table/incident/"+id, "david.miller", `{"state":"6"}`)
	if r.status != 200 || r.record()["sys_mod_count"] != "2" || r.record()["sys_updated_by"] != "david.miller" {
		t.Fatalf("put by a contained role: %d %s", r.status, r.raw)
	}
	// Deleting incidents is admin-only in the base ACLs.
	wantError(t, e.call(t, "DELETE", "/api/now/table/incident/"+id, "beth.anglin", ""), 403, "Operation Failed", "ACL Exception Delete Failed due to security constraints")
	if r := e.call(t, "DELETE", "/api/now/table/incident/"+id, "admin", ""); r.status != 204 || r.raw != "" {
		t.Fatalf("delete: %d %q", r.status, r.raw)
	}
	wantError(t, e.call(t, "GET", "/api/now/table/incident/"+id, "admin", ""), 404, "No Record found", "Record doesn't exist or ACL restricts the record retrieval")
}

func TestTableAPIErrors(t *testing.T) {
	e := newEnv(t)
	inc, _ := e.inst.First("incident", "")
	big := `{"short_description":"` + strings.Repeat("x", 10485760) + `"}`
	cases := []struct {
		name, method, path, auth, body string
		status                         int
		message, detail                string
	}{
		{"unknown table", "GET", "/api/now/table/u_nothing", "admin", "", 400, "Invalid table u_nothing", "<null>"},
		{"unknown table on write", "POST", "/api/now/table/u_nothing", "admin", `{}`, 400, "Invalid table u_nothing", "<null>"},
		{"unknown record", "GET", "/api/now/table/incident/0123456789abcdef0123456789abcdef", "admin", "", 404, "No Record found", "Record doesn't exist or ACL restricts the record retrieval"},
		{"malformed sys_id", "PATCH", "/api/now/table/incident/nope", "admin", `{}`, 404, "No Record found", ""},
		{"create denied by ACL", "POST", "/api/now/table/incident", "abel.tuter", `{"short_description":"x"}`, 403, "Operation Failed", "ACL Exception Insert Failed due to security constraints"},
		{"update denied by ACL", "PATCH", "/api/now/table/sys_user/" + e.ids["abel.tuter"], "beth.anglin", `{"title":"x"}`, 403, "Operation Failed", "ACL Exception Update Failed due to security constraints"},
		{"single read denied by ACL", "GET", "/api/now/table/incident/" + inc["sys_id"], "abel.tuter", "", 404, "No Record found", ""},
		{"malformed JSON", "POST", "/api/now/table/incident", "beth.anglin", `{"short_description":`, 400, "Exception while reading request", "not valid JSON"},
		{"oversized body", "POST", "/api/now/table/incident", "beth.anglin", big, 400, "Exception while reading request", fmt.Sprintf("Rejected large REST payload with content-length = %d bytes. Max allowed: 10485760 bytes.", len(big))},
		{"bad integer", "POST", "/api/now/table/incident", "beth.anglin", `{"impact":"high"}`, 400, "Operation Failed", "not an integer"},
		{"system log is admin only", "GET", "/api/now/table/syslog/" + inc["sys_id"], "beth.anglin", "", 404, "No Record found", ""},
		{"unknown scripted API", "GET", "/api/x_acme_app/v1/thing", "admin", "", 400, "Requested URI does not represent any resource", "<null>"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			wantError(t, e.call(t, c.method, c.path, c.auth, c.body), c.status, c.message, c.detail)
		})
	}
	// A list the caller may not read is empty, not an error.
	r := e.call(t, "GET", "/api/now/table/incident", "abel.tuter", "")
	if r.status != 200 || len(r.result()) != 0 || r.header.Get("X-Total-Count") != "0" {
		t.Errorf("unreadable list: %d %s", r.status, r.raw)
	}
	// v1 answers an empty list with 404.
	wantError(t, e.call(t, "GET", "/api/now/v1/table/incident?sysparm_query=number%3Dnone", "admin", ""), 404, "No Record found", "")
	// Web-service access switched off for a table.
	obj, _ := e.inst.First("sys_db_object", "name=incident")
	if _, err := e.inst.Update("sys_db_object", obj["sys_id"], map[string]string{"ws_access": "false"}); err != nil {
		t.Fatal(err)
	}
	wantError(t, e.call(t, "GET", "/api/now/table/incident", "admin", ""), 403, "User Not Authorized", "via web services is not allowed")
}

func TestRolesAndContainment(t *testing.T) {
	e := newEnv(t)
	c, err := e.inst.Caller("david.miller")
	if err != nil {
		t.Fatal(err)
	}
	if !c.HasRole("incident_manager") || !c.HasRole("itil") || c.HasRole("admin") || !c.HasRole("snc_internal") {
		t.Fatalf("roles of an incident_manager: %v", c.roles)
	}
	// Granting a role through the Table API takes effect at once.
	role, _ := e.inst.First("sys_user_role", "name=itil")
	if r := e.call(t, "POST", "/api/now/table/sys_user_has_role", "admin", `{"user":"`+e.ids["abel.tuter"]+`","role":"`+role["sys_id"]+`"}`); r.status != 201 {
		t.Fatalf("grant: %d %s", r.status, r.raw)
	}
	if r := e.call(t, "GET", "/api/now/table/incident", "abel.tuter", ""); len(r.result()) != 3 {
		t.Fatalf("after grant: %s", r.raw)
	}
	// Removing the role from the incident ACL locks itil users out.
	acl, _ := e.inst.First("sys_security_acl", "name=incident^operation=read")
	link, _ := e.inst.First("sys_security_acl_role", "sys_security_acl="+acl["sys_id"]+"^sys_user_role="+role["sys_id"])
	if r := e.call(t, "DELETE", "/api/now/table/sys_security_acl_role/"+link["sys_id"], "admin", ""); r.status != 204 {
		t.Fatalf("%d %s", r.status, r.raw)
	}
	if r := e.call(t, "GET", "/api/now/table/incident", "beth.anglin", ""); len(r.result()) != 0 {
		t.Fatalf("itil still reads incidents: %s", r.raw)
	}
	if r := e.call(t, "GET", "/api/now/table/incident", "david.miller", ""); len(r.result()) != 3 {
		t.Fatalf("incident_manager lost access: %s", r.raw)
	}
}

func TestSyslogQueryableBySource(t *testing.T) {
	e := newEnv(t)
	e.inst.Log(LevelError, "x_mioms_m365_assis", "Recommended solutions failed", "beth.anglin")
	e.inst.Log(LevelInfo, "x_other_app", "hello", "")
	count := func(q string) int {
		r := e.call(t, "GET", "/api/now/table/syslog?sysparm_query="+url.QueryEscape(q), "admin", "")
		return len(r.result())
	}
	if n := count("sourceLIKEx_mioms_m365_assis"); n != 1 {
		t.Errorf("sourceLIKEx_mioms_m365_assis: %d", n)
	}
	if n := count("sourceLIKEx_mioms_m365"); n != 1 {
		t.Errorf("prefix filter: %d", n)
	}
	if n := count("sourceLIKEx_mioms_m365_assit"); n != 0 {
		t.Errorf("the guide's misspelt filter found %d rows", n)
	}
	if n := count("level=2^sourceSTARTSWITHx_"); n != 1 {
		t.Errorf("level filter: %d", n)
	}
}

func TestNewOAuthClientGetsAClientID(t *testing.T) {
	e := newEnv(t)
	r := e.call(t, "POST", "/api/now/table/oauth_entity", "admin", `{"name":"new_inbound","type":"client","client_secret":"s"}`)
	if r.status != 201 || !regexp.MustCompile(`^[0-9a-f]{32}$`).MatchString(r.record()["client_id"].(string)) {
		t.Fatalf("%d %s", r.status, r.raw)
	}
}
