package m365app_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/m365snow/m365snow/fakesnow/m365app"
)

func steps(r map[string]any) map[string]any { m, _ := r["steps"].(map[string]any); return m }

func TestSetupRefusals(t *testing.T) {
	e := start(t, "prerequisites-basic", "")
	wantError(t, e.do("GET", "/api/x_mioms_m365_assis/v1/setup/", e.as("beth.anglin"), nil), 403, "User Not Authorized")
	// The guide's first step: switch the scope to the app.
	wantError(t, e.setup("GET", "/", nil), 403,
		"This record is in the Microsoft 365 support integration application, but Global is the current application. To edit this record, switch to the Microsoft 365 support integration application.")
	e.switchToApp()
	if r := e.setup("GET", "/", nil); r.Status != 200 || r.Result()["state"] != m365app.StateSetupIncomplete {
		t.Fatalf("open: %s", r)
	}
}

func TestSetupBasicMode(t *testing.T) {
	e := start(t, "prerequisites-basic", "")
	e.switchToApp()
	r := e.setup("GET", "/", nil)
	opts := r.Result()["options"].(map[string]any)
	if !strings.Contains(string(r.Body), `"name":"contoso_outbound default_profile"`) || len(opts["inboundClients"].([]any)) != 1 {
		t.Fatalf("options %v", opts)
	}
	cases := []struct {
		method, step string
		body         any
		status       int
		message      string
		doneStep     string
	}{
		{"POST", "/consent", map[string]bool{"agree": false}, 400, "Consent required", ""},
		{"POST", "/consent", map[string]bool{"agree": true}, 200, "", "consent"},
		{"PUT", "/outbound", map[string]string{"profile": "nope"}, 400, "Invalid Outbound OAuth Provider", ""},
		{"PUT", "/outbound", map[string]string{"profile": ""}, 400, "Invalid Outbound OAuth Provider", ""},
		{"PUT", "/outbound", map[string]string{"profile": "contoso_outbound default_profile"}, 200, "", "outboundProvider"},
		{"PUT", "/inbound", map[string]any{"externalOIDC": true, "entity": "m365_inbound"}, 400, "Invalid Inbound OAuth Provider", ""},
		{"PUT", "/inbound", map[string]any{"entity": "contoso_outbound"}, 400, "Invalid Inbound OAuth Provider", ""},
		{"PUT", "/inbound", map[string]any{"entity": "m365_inbound"}, 200, "", "inboundProvider"},
		{"PUT", "/integration_user", map[string]any{"skip": true}, 400, "Invalid Integration User", ""},
		{"PUT", "/integration_user", map[string]any{"user": "nobody"}, 400, "Invalid Integration User", ""},
		{"PUT", "/integration_user", map[string]any{"user": "m365.integration"}, 200, "", "integrationUser"},
		{"PUT", "/repository", map[string]string{"repositoryId": "contoso snow"}, 400, "Invalid Repository ID", ""},
		{"PUT", "/repository", map[string]string{"repositoryId": "contoso-snow"}, 200, "", "repositoryId"},
		{"PUT", "/settings", map[string]any{"adminEmail": "not an email"}, 400, "Invalid Application Settings", ""},
		{"PUT", "/settings", map[string]any{"adminEmail": "admin@contoso.onmicrosoft.com", "testEnvironment": true}, 200, "", "applicationSettings"},
		{"PUT", "/settings", map[string]any{"adminEmail": "a@b.c", "colour": "red"}, 400, "Invalid request", ""},
	}
	for _, c := range cases {
		r := e.setup(c.method, c.step, c.body)
		if r.Status != c.status || (c.message != "" && r.ErrorMessage() != c.message) {
			t.Fatalf("%s %s %v: %s", c.method, c.step, c.body, r)
		}
		if c.doneStep != "" && steps(r.Result())[c.doneStep] != true {
			t.Fatalf("%s not done after %s: %v", c.doneStep, c.step, r.Result())
		}
	}
	r = e.setup("GET", "/complete", nil)
	want := map[string]any{"outboundAppId": outbound, "repositoryId": "contoso-snow", "endpoint": endpoint, "clientId": inboundID, "userName": "m365.integration"}
	vals := r.Result()["values"].(map[string]any)
	for k, v := range want {
		if vals[k] != v {
			t.Errorf("completion %s = %v, want %v", k, vals[k], v)
		}
	}
	if r.Result()["state"] != m365app.StateFinalIncomplete {
		t.Fatalf("state %v", r.Result()["state"])
	}
	// End users are told the final step is missing.
	wantMessages(t, e.action("admin", "POST", "INC0010001", "solutions", nil), m365app.MsgFinalIncomplete)
	// Next before the M365 admin saved the Organization profile.
	r = e.setup("POST", "/complete", nil)
	if r.Status != 409 || r.ErrorMessage() != "Unable to complete the integration" || !strings.Contains(string(r.Body), "OrganizationProfileMissing") {
		t.Fatalf("early Next: %s", r)
	}
	e.integrateM365(map[string]any{"endpoint": vals["endpoint"], "authenticationType": "Basic Auth", "clientId": vals["clientId"],
		"clientSecret": "Inb-ContosoInboundSecret-1", "refreshTokenExpiry": 864000, "restUsername": vals["userName"], "restUserPassword": "Snow-Integration-1!"})
	r = e.setup("POST", "/complete", nil)
	if r.Status != 200 || r.Result()["state"] != m365app.StateComplete {
		t.Fatalf("Next: %s", r)
	}
	calls := e.w.M365.InboundCalls()
	if len(calls) != 1 || !strings.HasSuffix(calls[0].URL, "/inbound/ping") || calls[0].Status != 200 {
		t.Fatalf("the handshake's inbound test: %+v", calls)
	}
	if res := e.action("admin", "POST", "INC0010001", "solutions", nil); len(messages(res)) != 0 || len(res["solutions"].([]any)) == 0 {
		t.Fatalf("solutions after Setup: %v", res)
	}
	// Re-entering a step with the same value keeps the integration; a new
	// value needs Next again.
	e.setup("PUT", "/repository", map[string]string{"repositoryId": "contoso-snow"})
	if r := e.setup("GET", "/", nil); r.Result()["state"] != m365app.StateComplete {
		t.Fatalf("unchanged step reset the state: %v", r.Result()["state"])
	}
	e.setup("PUT", "/settings", map[string]any{"adminEmail": "helpdesk@contoso.onmicrosoft.com"})
	if r := e.setup("GET", "/", nil); r.Result()["state"] != m365app.StateFinalIncomplete {
		t.Fatalf("changed step kept the state: %v", r.Result()["state"])
	}
}

func TestSetupAADMode(t *testing.T) {
	e := start(t, "prerequisites-aad", "")
	e.switchToApp()
	e.setup("POST", "/consent", map[string]bool{"agree": true})
	e.setup("PUT", "/outbound", map[string]string{"profile": "contoso_outbound default_profile"})
	wantError(t, e.setup("PUT", "/inbound", map[string]any{"externalOIDC": false, "entity": "contoso_application_inbound_api"}), 400, "Invalid Inbound OAuth Provider")
	if r := e.setup("PUT", "/inbound", map[string]any{"externalOIDC": true, "entity": "contoso_application_inbound_api"}); r.Status != 200 {
		t.Fatalf("inbound: %s", r)
	}
	r := e.setup("PUT", "/integration_user", map[string]any{"user": "00000000-0000-0000-0000-000000000000"})
	if r.Status != 400 || !strings.Contains(string(r.Body), "type the Client ID of the Rest User app") {
		t.Fatalf("unknown typed user: %s", r)
	}
	e.setup("PUT", "/integration_user", map[string]any{"user": restUser})
	e.setup("PUT", "/repository", map[string]string{"repositoryId": "contoso-snow"})
	e.setup("PUT", "/settings", map[string]any{"adminEmail": "admin@contoso.onmicrosoft.com"})
	vals := e.setup("GET", "/complete", nil).Result()["values"].(map[string]any)
	if vals["clientId"] != restAPI || vals["userName"] != restUser {
		t.Fatalf("AAD completion values %v", vals)
	}
	e.integrateM365(map[string]any{"endpoint": endpoint, "authenticationType": "AAD Auth", "clientId": restAPI,
		"restUsername": restUser, "restUserPassword": "Usr8Q~ContosoRestUserSecret.000000000000"})
	if r := e.setup("POST", "/complete", nil); r.Status != 200 {
		t.Fatalf("Next: %s", r)
	}
	for _, c := range e.w.M365.InboundCalls() {
		if strings.Contains(c.URL, "oauth_token.do") || c.Status != 200 {
			t.Fatalf("AAD mode inbound calls %+v", e.w.M365.InboundCalls())
		}
	}
}

func TestSetupInsightsOnly(t *testing.T) {
	e := start(t, "prerequisites-insights-only", "")
	e.switchToApp()
	e.setup("POST", "/consent", map[string]bool{"agree": true})
	e.setup("PUT", "/outbound", map[string]string{"profile": "contoso_outbound default_profile"})
	e.setup("PUT", "/inbound", map[string]any{"skip": true})
	wantError(t, e.setup("PUT", "/integration_user", map[string]any{"user": "admin"}), 400, "Invalid Integration User")
	e.setup("PUT", "/integration_user", map[string]any{"skip": true})
	e.setup("PUT", "/repository", map[string]string{"repositoryId": "contoso-snow"})
	e.setup("PUT", "/settings", map[string]any{"adminEmail": "admin@contoso.onmicrosoft.com"})
	vals := e.setup("GET", "/complete", nil).Result()["values"].(map[string]any)
	if vals["clientId"] != "" || vals["userName"] != "" || vals["outboundAppId"] != outbound {
		t.Fatalf("blank where skipped: %v", vals)
	}
	e.integrateM365(map[string]any{"endpoint": endpoint, "authenticationType": "AAD Auth", "clientId": "ignored", "restUsername": "ignored", "restUserPassword": "ignored"})
	if r := e.setup("POST", "/complete", nil); r.Status != 200 || r.Result()["state"] != m365app.StateComplete {
		t.Fatalf("Next: %s", r)
	}
	if n := len(e.w.M365.InboundCalls()); n != 0 {
		t.Fatalf("Insights only made %d inbound calls", n)
	}
}

func TestCrossScopeRefusalOnSetup(t *testing.T) {
	e := start(t, "integrated-basic", "")
	e.switchToApp()
	const msg = "Read operation against 'oauth_entity' from scope 'x_mioms_m365_assis' has been refused due to the table's cross-scope access policy"
	obj := e.do("GET", "/api/now/table/sys_db_object?sysparm_query=name%3Doauth_entity", e.as("admin"), nil).ResultList()[0].(map[string]any)
	// sys_db_object is a Global application file: switch to Global to edit it.
	if r := e.do("PATCH", "/api/now/table/sys_db_object/"+obj["sys_id"].(string), e.as("admin"), map[string]string{"read_access": "false"}); r.Status != 403 {
		t.Fatalf("edit from the app's scope: %s", r)
	}
	e.do("PUT", "/api/now/ui/concoursepicker/application", e.as("admin"), map[string]string{"app_id": "global"})
	e.do("PATCH", "/api/now/table/sys_db_object/"+obj["sys_id"].(string), e.as("admin"), map[string]string{"read_access": "false"})
	e.switchToApp()
	wantError(t, e.setup("GET", "/", nil), 403, msg)
	if !e.logged("Security restricted: " + msg) {
		t.Fatalf("no system log entry: %q", e.syslog())
	}
	e.do("PUT", "/api/now/ui/concoursepicker/application", e.as("admin"), map[string]string{"app_id": "global"})
	e.do("PATCH", "/api/now/table/sys_db_object/"+obj["sys_id"].(string), e.as("admin"), map[string]string{"read_access": "true"})
	e.switchToApp()
	if r := e.setup("GET", "/", nil); r.Status != 200 {
		t.Fatalf("after the fix: %s", r)
	}
}

func TestMissingCrossScopeAccessRecords(t *testing.T) {
	e := start(t, "prerequisites-basic", "app: {crossScopeAccessMissing: true}\n")
	e.switchToApp()
	wantError(t, e.setup("GET", "/", nil), 403, "Read operation on table 'oauth_entity' from scope 'Microsoft 365 support integration' was denied. The application 'Microsoft 365 support integration' must declare a cross scope access privilege. Please contact the application admin to update their access requests.")
	// The guide: create them manually.
	for _, table := range []string{"oauth_entity", "oauth_entity_profile"} {
		if r := e.do("POST", "/api/now/table/sys_scope_privilege", e.as("admin"), map[string]string{"source_scope": appSysID, "target_scope": "global",
			"target_name": table, "target_type": "sys_db_object", "operation": "read", "status": "allowed"}); r.Status != 201 {
			t.Fatalf("creating the record: %s", r)
		}
	}
	if r := e.setup("GET", "/", nil); r.Status != 200 {
		t.Fatalf("after creating them: %s", r)
	}
}

// Walked reads back exactly the Setup each shipped world walked (the
// sandbox describes running worlds, saved ones included, from it).
func TestWalkedReadsTheLiveSetup(t *testing.T) {
	for _, name := range []string{"integrated-basic", "integrated-aad", "integrated-insights-only", "integrated-basic-multitenant", "prerequisites-basic"} {
		t.Run(name, func(t *testing.T) {
			e := start(t, name, "")
			got, err := e.w.Snow.App().Walked()
			if err != nil {
				t.Fatal(err)
			}
			want := e.w.SnowFixture.App.Setup
			if want == nil {
				want = &m365app.SetupFixture{}
			}
			if got == nil {
				got = &m365app.SetupFixture{}
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("Walked() = %+v\nwant      %+v", got, want)
			}
		})
	}
}
