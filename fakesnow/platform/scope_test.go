package platform

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestCrossScopeMatrix(t *testing.T) {
	const (
		layer1 = "%s operation against 'oauth_entity' from scope 'x_acme_app' has been refused due to the table's cross-scope access policy"
		layer2 = "%s operation on table 'oauth_entity' from scope 'Acme App' was denied. The application 'Acme App' must declare a cross scope access privilege. Please contact the application admin to update their access requests."
	)
	cases := []struct {
		name      string
		access    map[string]string // sys_db_object fields for oauth_entity
		priv      string            // status of a read/create privilege; "" for none
		tracking  string
		op        Op
		wantError string
	}{
		{"public, can read, privilege allowed", map[string]string{}, "allowed", "enforcing", OpRead, ""},
		{"public, can read, no privilege, enforcing", map[string]string{}, "", "enforcing", OpRead, fmt.Sprintf(layer2, "Read")},
		{"public, can read, privilege requested", map[string]string{}, "requested", "enforcing", OpRead, fmt.Sprintf(layer2, "Read")},
		{"public, can read, privilege denied", map[string]string{}, "denied", "enforcing", OpRead, fmt.Sprintf(layer2, "Read")},
		{"public, can read, no privilege, not enforcing", map[string]string{}, "", "none", OpRead, ""},
		{"public, cannot read, privilege allowed", map[string]string{"read_access": "false"}, "allowed", "enforcing", OpRead, fmt.Sprintf(layer1, "Read")},
		{"this scope only, privilege allowed", map[string]string{"access": "package_private"}, "allowed", "enforcing", OpRead, fmt.Sprintf(layer1, "Read")},
		{"this scope only, not enforcing", map[string]string{"access": "package_private"}, "", "none", OpRead, fmt.Sprintf(layer1, "Read")},
		{"create without can create", map[string]string{}, "allowed", "enforcing", OpCreate, fmt.Sprintf(layer1, "Create")},
		{"create with can create and privilege", map[string]string{"create_access": "true"}, "allowed", "enforcing", OpCreate, ""},
		{"create needs can read too", map[string]string{"create_access": "true", "read_access": "false"}, "allowed", "enforcing", OpCreate, fmt.Sprintf(layer1, "Create")},
		{"write without can update", map[string]string{}, "allowed", "enforcing", OpWrite, fmt.Sprintf(layer1, "Write")},
		{"delete with can delete but no privilege", map[string]string{"delete_access": "true"}, "", "enforcing", OpDelete, fmt.Sprintf(layer2, "Delete")},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t)
			scopeID, err := e.inst.CreateScope("x_acme_app", "Acme App", "1.0.0", "Acme", c.tracking, "")
			if err != nil {
				t.Fatal(err)
			}
			obj, _ := e.inst.First("sys_db_object", "name=oauth_entity")
			if _, err := e.inst.Update("sys_db_object", obj["sys_id"], c.access); err != nil {
				t.Fatal(err)
			}
			if c.priv != "" {
				if _, err := e.inst.Insert("sys_scope_privilege", map[string]string{"source_scope": scopeID, "target_scope": GlobalScope,
					"target_name": "oauth_entity", "target_type": "sys_db_object", "operation": string(c.op), "status": c.priv}); err != nil {
					t.Fatal(err)
				}
			}
			user, _ := e.inst.Caller("admin")
			app, err := e.inst.App("x_acme_app", user)
			if err != nil {
				t.Fatal(err)
			}
			ent, _ := e.inst.First("oauth_entity", "name=m365_inbound")
			switch c.op {
			case OpRead:
				_, err = app.Query("oauth_entity", "type=client")
			case OpCreate:
				_, err = app.Insert("oauth_entity", map[string]string{"name": "new", "type": "client"}, false)
			case OpWrite:
				_, err = app.Update("oauth_entity", ent["sys_id"], map[string]string{"comments": "x"}, false)
			case OpDelete:
				err = app.Delete("oauth_entity", ent["sys_id"], false)
			}
			if c.wantError == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if err == nil || err.Error() != c.wantError {
				t.Fatalf("error %v\nwant %s", err, c.wantError)
			}
			if !IsAccessError(err) {
				t.Errorf("%T is not an AccessError", err)
			}
			if got := e.lastLog(t, "x_acme_app"); got != "Security restricted: "+c.wantError {
				t.Errorf("system log %q", got)
			}
		})
	}
}

func TestAppOwnTablesAndSecureWrites(t *testing.T) {
	e := newEnv(t)
	if _, err := e.inst.CreateScope("x_acme_app", "Acme App", "1.0.0", "Acme", "enforcing", ""); err != nil {
		t.Fatal(err)
	}
	if err := e.inst.AddRole("x_acme_app.user", "Acme user", "x_acme_app"); err != nil {
		t.Fatal(err)
	}
	if err := e.inst.DefineTable(&Table{Name: "x_acme_app_note", Label: "Note", Scope: "x_acme_app",
		Fields:   []*Field{{Name: "text", Label: "Text"}},
		ACLRoles: map[Op][]string{OpRead: {"x_acme_app.user"}, OpCreate: {"x_acme_app.user"}}}); err != nil {
		t.Fatal(err)
	}
	if err := e.inst.GrantRole(e.ids["beth.anglin"], "x_acme_app.user"); err != nil {
		t.Fatal(err)
	}
	beth, _ := e.inst.Caller("beth.anglin")
	abel, _ := e.inst.Caller("abel.tuter")
	for name, c := range map[string]*Caller{"with role": beth, "without role": abel} {
		app, _ := e.inst.App("x_acme_app", c)
		// Its own table needs no cross-scope privilege.
		if _, err := app.Insert("x_acme_app_note", map[string]string{"text": "plain"}, false); err != nil {
			t.Fatalf("%s: plain insert refused: %v", name, err)
		}
		_, err := app.Insert("x_acme_app_note", map[string]string{"text": "secure"}, true)
		if (err == nil) != (name == "with role") {
			t.Fatalf("%s: secure insert err = %v", name, err)
		}
		if err != nil && err.Error() != "ACL Exception Insert Failed due to security constraints (table x_acme_app_note, user abel.tuter)" {
			t.Errorf("ACL refusal %q", err)
		}
	}
	// The app's table is read by the Table API like any other.
	r := e.call(t, "GET", "/api/now/table/x_acme_app_note", "beth.anglin", "")
	if r.status != 200 || len(r.result()) != 3 {
		t.Fatalf("%d %s", r.status, r.raw)
	}
}

func TestCurrentApplication(t *testing.T) {
	e := newEnv(t)
	scopeID, _ := e.inst.CreateScope("x_acme_app", "Acme App", "1.0.0", "Acme", "none", "")
	admin, _ := e.inst.Caller("admin")
	app, _ := e.inst.App("x_acme_app", admin)
	if refusal := app.OtherApplicationRefusal(); refusal == nil ||
		refusal.Message != "This record is in the Acme App application, but Global is the current application. To edit this record, switch to the Acme App application." {
		t.Fatalf("refusal %v", refusal)
	}
	// The application picker switches the current application.
	r := e.call(t, "PUT", "/api/now/ui/concoursepicker/application", "admin", `{"app_id":"`+scopeID+`"}`)
	if r.status != 200 || r.record()["current"].(map[string]any)["scope"] != "x_acme_app" {
		t.Fatalf("picker: %d %s", r.status, r.raw)
	}
	if app.OtherApplicationRefusal() != nil {
		t.Fatal("still refused after switching")
	}
	pref, err := e.inst.First("sys_user_preference", "name=apps.current_app^user="+e.ids["admin"])
	if err != nil || pref["value"] != scopeID {
		t.Fatalf("preference %v %v", pref, err)
	}
	wantError(t, e.call(t, "PUT", "/api/now/ui/concoursepicker/application", "beth.anglin", `{"app_id":"global"}`), 403, "User Not Authorized", "admin")

	// Records created while an app is current belong to it.
	r = e.call(t, "POST", "/api/now/table/sys_properties", "admin", `{"name":"x_acme_app.colour","value":"blue"}`)
	if r.record()["sys_scope"].(map[string]any)["value"] != scopeID {
		t.Fatalf("new record's scope %v", r.record()["sys_scope"])
	}
	// An interactive admin may not edit a Global application file while
	// Acme App is current; a web-service caller is not bound by it.
	sid := newSessionID()
	e.inst.mu.Lock()
	e.inst.sessions[sid] = uiSession{user: e.ids["admin"], token: newUserToken()}
	e.inst.mu.Unlock()
	ent, _ := e.inst.First("oauth_entity", "name=m365_inbound")
	wantError(t, e.call(t, "PATCH", "/api/now/table/oauth_entity/"+ent["sys_id"], "cookie:"+sid, `{"comments":"x"}`), 403, "Operation Failed",
		"This record is in the Global application, but Acme App is the current application. To edit this record, switch to the Global application.")
	if r := e.call(t, "PATCH", "/api/now/table/oauth_entity/"+ent["sys_id"], "admin", `{"comments":"x"}`); r.status != 200 {
		t.Fatalf("web service edit: %d %s", r.status, r.raw)
	}
	// A user may not read or change another user's preferences.
	r = e.call(t, "GET", "/api/now/table/sys_user_preference", "beth.anglin", "")
	if len(r.result()) != 0 {
		t.Fatalf("another user's preferences visible: %s", r.raw)
	}
	wantError(t, e.call(t, "PATCH", "/api/now/table/sys_user_preference/"+pref["sys_id"], "beth.anglin", `{"value":"global"}`), 404, "No Record found", "")
}

func TestOutboundLog(t *testing.T) {
	e := newEnv(t)
	aad := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.WriteHeader(401)
		fmt.Fprintf(w, `{"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided. (%d bytes read)"}`, len(b))
	}))
	defer aad.Close()
	if err := e.hosts.Set("login.microsoftonline.com", aad.URL); err != nil {
		t.Fatal(err)
	}
	admin, _ := e.inst.Caller("beth.anglin")
	app, _ := e.inst.App(GlobalScope, admin)
	post := func() {
		req, _ := http.NewRequest("POST", "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/token",
			strings.NewReader("grant_type=client_credentials&client_id=abc&client_secret=s3cr3t&resource=https%3A%2F%2Fconnector.rave.microsoft.com"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Authorization", "Basic c2VjcmV0")
		res, err := app.HTTP().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		if !strings.Contains(string(b), "AADSTS7000215") {
			t.Fatalf("the caller must still read the body: %s", b)
		}
	}
	post()
	// Basic level (the default): no headers, no bodies.
	rows, _ := e.inst.Query("sys_outbound_http_log", "hostnameLIKElogin.microsoftonline.com")
	if len(rows) != 1 {
		t.Fatalf("%d rows", len(rows))
	}
	row := rows[0]
	if row["url"] != "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/token" || row["http_status"] != "401" ||
		row["http_method"] != "POST" || row["path"] != "/contoso.onmicrosoft.com/oauth2/token" || row["sys_created_by"] != "beth.anglin" ||
		row["request_body"] != "" || row["response_body"] != "" || row["source_scope"] != "global" {
		t.Fatalf("row %v", row)
	}
	// All: bodies clipped to the content limit, secrets and Authorization masked.
	_ = e.inst.SetProperty(PropOutboundLogLevel, "all")
	_ = e.inst.SetProperty(PropOutboundBodyLimit, "90")
	post()
	rows, _ = e.inst.Query("sys_outbound_http_log", "hostname=login.microsoftonline.com^ORDERBYDESCsys_mod_count")
	row = rows[len(rows)-1]
	if !strings.Contains(row["request_body"], "client_secret=********") || strings.Contains(row["request_body"], "s3cr3t") || len(row["request_body"]) > 90 {
		t.Errorf("request body %q", row["request_body"])
	}
	if row["response_body"] != `{"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provid` {
		t.Errorf("response body %q", row["response_body"])
	}
	if !strings.Contains(row["request_headers"], "Authorization: Basic ********") || strings.Contains(row["request_headers"], "c2VjcmV0") {
		t.Errorf("headers %q", row["request_headers"])
	}
	// A host without a route: the transport error is the diagnostic.
	res, err := app.HTTP().Get("https://connector.rave.microsoft.com/api/v1/repositories/r1/solutions/search")
	if err == nil {
		res.Body.Close()
		t.Fatal("unmapped host reached")
	}
	rows, _ = e.inst.Query("sys_outbound_http_log", "hostname=connector.rave.microsoft.com")
	if len(rows) != 1 || rows[0]["http_status"] != "" || !strings.Contains(rows[0]["error_message"], `no route to host "connector.rave.microsoft.com"`) {
		t.Fatalf("transport error row %v", rows)
	}
}
