package fakesnow

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/m365snow/m365snow/fixtures"
	"github.com/m365snow/m365snow/internal/clock"
	"github.com/m365snow/m365snow/internal/faults"
	"github.com/m365snow/m365snow/internal/fixture"
)

const testFixture = `
instance: dev777
properties: {glide.outbound_http_log.override.level: all}
roles:
  - {name: x_helpdesk, contains: [itil]}
users:
  - {user_name: admin, password: a, first_name: Ada, last_name: Admin, roles: [admin]}
  - {user_name: desk, password: d, roles: [x_helpdesk]}
  - {user_name: robot, password: r, web_service_access_only: true, roles: [itil]}
tables:
  oauth_entity: {access: package_private, read_access: false}
oidcProviderConfigurations:
  - {name: Contoso Azure, oidc_url: "https://login.microsoftonline.com/contoso.onmicrosoft.com/.well-known/openid-configuration", user_claim: appId, user_field: User ID}
oauthEntities:
  - {name: contoso_outbound, type: oauth_provider, client_id: 1f9c2e4a-6b8d-4f0e-a2c4-6e8a0c2e4f61, client_secret: s, default_grant_type: client_credentials, token_url: "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/token"}
  - {name: m365_inbound, type: client, client_id: 0c4f5a6b7d8e9f0a1b2c3d4e5f6a7b8c, client_secret: i}
  - {name: contoso_application_inbound_api, type: oidc_provider, client_id: 3a5c7e9b-1d3f-4a5c-8e7a-9c1e3a5c7e92, oidc_provider_configuration: Contoso Azure}
incidents:
  - {short_description: VPN is down, caller: desk}
`

func newServer(t *testing.T, doc string) (*Server, *httptest.Server) {
	t.Helper()
	var n yaml.Node
	if err := yaml.Unmarshal([]byte(doc), &n); err != nil {
		t.Fatal(err)
	}
	f, err := ParseFixture(n.Content[0])
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(Options{Clock: clock.NewManual(clock.Epoch), Fixture: f})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s)
	t.Cleanup(ts.Close)
	return s, ts
}

func get(t *testing.T, url, user, pw string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	req.SetBasicAuth(user, pw)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var body map[string]any
	_ = json.NewDecoder(res.Body).Decode(&body)
	return res.StatusCode, body
}

func TestFixtureLoads(t *testing.T) {
	s, ts := newServer(t, testFixture)
	if s.URL() != "https://dev777.service-now.com" {
		t.Errorf("URL %s", s.URL())
	}
	inst := s.Instance()
	// Roles through a fixture-defined containing role.
	if code, body := get(t, ts.URL+"/api/now/table/incident", "desk", "d"); code != 200 || len(body["result"].([]any)) != 1 {
		t.Fatalf("desk reads incidents: %d %v", code, body)
	}
	prof, err := inst.First("oauth_entity_profile", "name=contoso_outbound default_profile")
	if err != nil || prof["grant_type"] != "client_credentials" || prof["default"] != "true" {
		t.Fatalf("default profile %v %v", prof, err)
	}
	ent, _ := inst.First("oauth_entity", "name=contoso_application_inbound_api")
	cfg, _ := inst.First("oidc_provider_configuration", "name=Contoso Azure")
	if ent["oidc_provider_configuration"] != cfg["sys_id"] {
		t.Errorf("entity not linked to its provider configuration")
	}
	obj, _ := inst.First("sys_db_object", "name=oauth_entity")
	if obj["access"] != "package_private" || obj["read_access"] != "false" {
		t.Errorf("table access override %v", obj)
	}
	if inst.Property("glide.outbound_http_log.override.level") != "all" {
		t.Error("property not set")
	}
}

func TestFixtureErrors(t *testing.T) {
	bad := map[string]string{
		"unknown key":        "instance: x\nuserz: []",
		"unknown role":       "users: [{user_name: a, roles: [wizard]}]",
		"bad entity type":    "oauthEntities: [{name: a, type: saml}]",
		"unknown oidc ref":   "oauthEntities: [{name: a, type: oidc_provider, oidc_provider_configuration: nope}]",
		"unknown table":      "tables: {u_nothing: {access: public}}",
		"bad access value":   "tables: {incident: {access: everyone}}",
		"incident no caller": "incidents: [{short_description: x, caller: ghost}]",
		"records bad table":  "records: {u_nothing: [{a: b}]}",
	}
	for name, doc := range bad {
		t.Run(name, func(t *testing.T) {
			var n yaml.Node
			_ = yaml.Unmarshal([]byte(doc), &n)
			f, err := ParseFixture(n.Content[0])
			if err == nil {
				_, err = New(Options{Fixture: f})
			}
			if err == nil {
				t.Fatalf("accepted %q", doc)
			}
		})
	}
}

func TestStateRoundTripAndReset(t *testing.T) {
	s, ts := newServer(t, testFixture)
	req, _ := http.NewRequest("POST", ts.URL+"/api/now/table/incident", strings.NewReader(`{"short_description":"Printer on fire"}`))
	req.SetBasicAuth("desk", "d")
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil || res.StatusCode != 201 {
		t.Fatalf("create: %v %v", err, res.Status)
	}
	res.Body.Close()
	state, err := s.ExportState()
	if err != nil {
		t.Fatal(err)
	}
	other, ts2 := newServer(t, "instance: dev777\n")
	if err := other.ImportState(state); err != nil {
		t.Fatalf("import: %v", err)
	}
	again, _ := other.ExportState()
	if string(again) != string(state) {
		t.Fatal("export → import → export changed the state")
	}
	// The imported instance works: users, passwords, roles, records.
	code, body := get(t, ts2.URL+"/api/now/table/incident?sysparm_query=short_descriptionLIKEprinter", "desk", "d")
	if code != 200 || len(body["result"].([]any)) != 1 || body["result"].([]any)[0].(map[string]any)["number"] != "INC0010002" {
		t.Fatalf("imported instance: %d %v", code, body)
	}
	// Numbering continues after the imported records.
	rec, err := other.Instance().Insert("incident", map[string]string{"short_description": "next"})
	if err != nil || rec["number"] != "INC0010003" {
		t.Fatalf("next number %v %v", rec["number"], err)
	}
	if err := s.Reset(); err != nil {
		t.Fatal(err)
	}
	if _, body := get(t, ts.URL+"/api/now/table/incident", "desk", "d"); len(body["result"].([]any)) != 1 {
		t.Fatalf("reset kept new records: %v", body)
	}
	if err := s.ImportState([]byte("instance: dev999\n")); err == nil {
		t.Fatal("imported another instance's state")
	}
}

func TestControlPlaneAndFaults(t *testing.T) {
	s, ts := newServer(t, testFixture)
	res, err := http.Get(ts.URL + "/healthz")
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("healthz %v %v", err, res)
	}
	res.Body.Close()
	if _, err := s.Faults().Add(faults.Fault{Method: "GET", Path: "/api/now/table/*", Status: 503, Times: 1}); err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("GET", ts.URL+"/api/now/table/incident", nil)
	req.SetBasicAuth("admin", "a")
	res, _ = http.DefaultClient.Do(req)
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 503 || string(b) != `{"error":{"message":"Service Unavailable","detail":"fault injected by m365snow"},"status":"failure"}` {
		t.Fatalf("faulted: %d %s", res.StatusCode, b)
	}
	res, _ = http.Get(ts.URL + "/__admin/state")
	b, _ = io.ReadAll(res.Body)
	res.Body.Close()
	if !strings.Contains(string(b), "instance: dev777") || !strings.Contains(string(b), "records:") {
		t.Fatalf("state export over HTTP: %.200s", b)
	}
}

func TestShippedSandboxWorldLoads(t *testing.T) {
	w, err := fixture.Load(fixtures.FS, "sandbox")
	if err != nil {
		t.Fatal(err)
	}
	f, err := ParseFixture(&w.Snow)
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(Options{Fixture: f})
	if err != nil {
		t.Fatal(err)
	}
	if rs, _ := s.Instance().Query("incident", ""); len(rs) != 3 {
		t.Fatalf("%d incidents", len(rs))
	}
}

func TestAppInstallAndStateWithTheApp(t *testing.T) {
	s, ts := newServer(t, testFixture)
	res, err := http.Post(ts.URL+"/__admin/app/install", "application/json", strings.NewReader(`{"crossScopeAccessMissing":true}`))
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("install: %v %v", err, res.Status)
	}
	res.Body.Close()
	if res, _ := http.Post(ts.URL+"/__admin/app/install", "application/json", nil); res.StatusCode != 409 {
		t.Fatalf("second install: %d", res.StatusCode)
	}
	inst := s.Instance()
	if privs, _ := inst.Query("sys_scope_privilege", "target_nameINoauth_entity,oauth_entity_profile"); len(privs) != 0 {
		t.Fatalf("crossScopeAccessMissing installed %d of the guide's records", len(privs))
	}
	if code, _ := get(t, ts.URL+"/api/now/table/x_mioms_m365_assis_setting", "admin", "a"); code != 200 {
		t.Fatalf("the app's table: %d", code)
	}
	// The state, app included, survives export and import.
	w, err := fixture.Load(fixtures.FS, "integrated-basic")
	if err != nil {
		t.Fatal(err)
	}
	f, err := ParseFixture(&w.Snow)
	if err != nil {
		t.Fatal(err)
	}
	src, err := New(Options{Fixture: f})
	if err != nil {
		t.Fatal(err)
	}
	state, err := src.ExportState()
	if err != nil {
		t.Fatal(err)
	}
	dst, err := New(Options{Fixture: &Fixture{Instance: "dev12345"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := dst.ImportState(state); err != nil {
		t.Fatal(err)
	}
	if dst.App() == nil {
		t.Fatal("import did not install the app")
	}
	settings, err := dst.Instance().First("x_mioms_m365_assis_setting", "")
	if err != nil || settings["repository_id"] != "contoso-snow" || settings["handshake_completed"] != "true" {
		t.Fatalf("Setup state after import: %v %v", settings, err)
	}
	again, _ := dst.ExportState()
	if string(again) != string(state) {
		t.Fatal("export → import → export changed the state")
	}
}
