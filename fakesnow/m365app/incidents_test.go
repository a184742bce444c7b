package m365app_test

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/m365snow/m365snow/fakesnow/m365app"
	"github.com/m365snow/m365snow/internal/faults"
	"github.com/m365snow/m365snow/internal/wellknown"
	"github.com/m365snow/m365snow/world"
)

func solutionIDs(res map[string]any) []string {
	var out []string
	list, _ := res["solutions"].([]any)
	for _, s := range list {
		out = append(out, s.(map[string]any)["id"].(string))
	}
	return out
}

func TestThreeStatesAndTheirMessages(t *testing.T) {
	e := start(t, "integrated-basic", "")
	// Complete: all three actions work.
	res := e.action("david.miller", "POST", "INC0010001", "solutions", nil)
	wantMessages(t, res)
	if ids := solutionIDs(res); len(ids) == 0 || ids[0] != "KB4498217" {
		t.Fatalf("solutions %v", ids)
	}
	res = e.action("david.miller", "POST", "INC0010001", "solutions", map[string]string{"searchText": "teams meeting drops"})
	if ids := solutionIDs(res); len(ids) == 0 || ids[0] != "KB4519135" || res["query"] != "teams meeting drops" {
		t.Fatalf("search %v", res)
	}
	if res := e.action("david.miller", "GET", "INC0010001", "servicehealth", nil); len(res["incidents"].([]any)) != 2 {
		t.Fatalf("service health %v", res)
	}
	// Final step missing: the admin changed an application setting.
	e.switchToApp()
	e.setup("PUT", "/settings", map[string]any{"adminEmail": "helpdesk@contoso.onmicrosoft.com"})
	for _, c := range []struct {
		user, action string
		body         any
	}{{"david.miller", "solutions", nil}, {"david.miller", "solutions", map[string]string{"searchText": "teams"}}, {"beth.anglin", "cases", nil}} {
		wantMessages(t, e.action(c.user, "POST", "INC0010001", c.action, c.body), m365app.MsgFinalIncomplete)
	}
	// A step missing: the repository ID cleared in the app's settings.
	settings := e.do("GET", "/api/now/table/x_mioms_m365_assis_setting", e.as("admin"), nil).ResultList()[0].(map[string]any)
	if r := e.do("PATCH", "/api/now/table/x_mioms_m365_assis_setting/"+settings["sys_id"].(string), e.as("admin"), map[string]string{"repository_id": ""}); r.Status != 200 {
		t.Fatalf("clearing the repository id: %s", r)
	}
	for _, c := range []struct {
		user, action string
		body         any
	}{{"david.miller", "solutions", nil}, {"david.miller", "solutions", map[string]string{"searchText": "teams"}}, {"beth.anglin", "cases", nil}} {
		wantMessages(t, e.action(c.user, "POST", "INC0010001", c.action, c.body), m365app.MsgSetupIncomplete)
	}
	if !e.logged("setup state is setup_incomplete") || !e.logged("setup state is final_incomplete") {
		t.Fatalf("states not logged: %q", e.syslog())
	}
}

func TestTabRoleAndViewMatrix(t *testing.T) {
	e := start(t, "integrated-basic", "")
	cases := []struct {
		user, view string
		tab        bool
		actions    string
		log        string
	}{
		{"admin", "default", true, "recommended_solutions,search_solutions,service_health_incidents,contact_microsoft_support,link_account", ""},
		{"beth.anglin", "default", true, "recommended_solutions,search_solutions,service_health_incidents,contact_microsoft_support,link_account", ""},
		{"david.miller", "default", true, "recommended_solutions,search_solutions,service_health_incidents", ""},
		{"abel.tuter", "default", false, "", "The Microsoft 365 Support tab is hidden from abel.tuter on INC0010003: the user has neither x_mioms_m365_assis.insights_user nor x_mioms_m365_assis.administrator."},
		{"beth.anglin", "ess", false, "", "The Microsoft 365 Support tab is not part of the incident form view 'ess' (beth.anglin opened INC0010003)"},
	}
	for _, c := range cases {
		r := e.do("GET", "/api/x_mioms_m365_assis/v1/incidents/INC0010003/form?sysparm_view="+c.view, e.as(c.user), nil)
		if r.Status != 200 {
			t.Fatalf("%s/%s: %s", c.user, c.view, r)
		}
		res := r.Result()
		tabs := []string{}
		for _, x := range res["tabs"].([]any) {
			tabs = append(tabs, x.(string))
		}
		hasTab := strings.Contains(strings.Join(tabs, ","), "Microsoft 365 Support")
		if hasTab != c.tab {
			t.Errorf("%s/%s: tabs %v", c.user, c.view, tabs)
		}
		if c.tab {
			var acts []string
			for _, a := range res["microsoft365Support"].(map[string]any)["actions"].([]any) {
				acts = append(acts, a.(string))
			}
			if strings.Join(acts, ",") != c.actions {
				t.Errorf("%s: actions %v", c.user, acts)
			}
		} else if _, ok := res["microsoft365Support"]; ok {
			t.Errorf("%s/%s: hidden tab's content sent", c.user, c.view)
		}
		if c.log != "" && !e.logged(c.log) {
			t.Errorf("%s/%s: no log %q in %q", c.user, c.view, c.log, e.syslog())
		}
	}
	// Without an app role the actions are refused too.
	wantError(t, e.do("POST", "/api/x_mioms_m365_assis/v1/incidents/INC0010003/solutions", e.as("abel.tuter"), nil), 403, "User Not Authorized")
	wantError(t, e.do("POST", "/api/x_mioms_m365_assis/v1/incidents/INC0010003/cases", e.as("david.miller"), nil), 403, "User Not Authorized")
	// A user who may not read incidents sees no form at all.
	wantError(t, e.do("GET", "/api/x_mioms_m365_assis/v1/incidents/INC0010003/form", e.as("fred.luddy"), nil), 404, "No Record found")
}

func TestPersistenceAcrossReopen(t *testing.T) {
	e := start(t, "integrated-basic", "")
	e.action("david.miller", "POST", "INC0010002", "solutions", nil)
	if r := e.do("PUT", "/api/x_mioms_m365_assis/v1/link_account/", e.as("beth.anglin"), map[string]string{"email": "admin@contoso.onmicrosoft.com"}); r.Status != 200 {
		t.Fatalf("link account: %s", r)
	}
	res := e.action("beth.anglin", "POST", "INC0010002", "cases", nil)
	wantMessages(t, res)
	c := res["case"].(map[string]any)
	if c["linked"] != true || c["contactEmail"] != "admin@contoso.onmicrosoft.com" {
		t.Fatalf("case %v", c)
	}
	form := e.do("GET", "/api/x_mioms_m365_assis/v1/incidents/INC0010002/form", e.as("beth.anglin"), nil).Result()["microsoft365Support"].(map[string]any)
	if sols := form["solutions"].([]any); len(sols) == 0 || sols[0].(map[string]any)["id"] != "KB4519135" {
		t.Fatalf("solutions after reopening: %v", form)
	}
	if cs := form["cases"].([]any); len(cs) != 1 || cs[0].(map[string]any)["caseNumber"] != c["caseNumber"] {
		t.Fatalf("cases after reopening: %v", form)
	}
	// Ticket details go to the connector and stay on the case.
	res = e.action("beth.anglin", "PATCH", "INC0010002", "cases/"+c["caseNumber"].(string), map[string]any{"details": map[string]string{"severity": "B"}})
	wantMessages(t, res)
	rows, _ := e.w.Snow.Instance().Query(m365app.TableCase, "case_number="+c["caseNumber"].(string))
	if len(rows) != 1 || rows[0]["details"] != "severity: B" {
		t.Fatalf("case row %v", rows)
	}
}

func TestRefusedSolutionWriteIsLogged(t *testing.T) {
	e := start(t, "integrated-basic", "")
	// The solutions table's create ACL is deactivated: with no active ACL
	// only admins may create. (Removing its only role would instead open
	// it to everyone, as a role-less ACL does.)
	inst := e.w.Snow.Instance()
	acl, _ := inst.First("sys_security_acl", "name="+m365app.TableSolution+"^operation=create")
	e.switchToApp() // the ACL is an application file of the app
	if r := e.do("PATCH", "/api/now/table/sys_security_acl/"+acl["sys_id"], e.as("admin"), map[string]string{"active": "false"}); r.Status != 200 {
		t.Fatalf("%s", r)
	}
	res := e.action("david.miller", "POST", "INC0010001", "solutions", nil)
	if len(solutionIDs(res)) == 0 || len(messages(res)) != 0 {
		t.Fatalf("the user still sees the solutions now: %v", res)
	}
	form := e.do("GET", "/api/x_mioms_m365_assis/v1/incidents/INC0010001/form", e.as("david.miller"), nil).Result()["microsoft365Support"].(map[string]any)
	if len(form["solutions"].([]any)) != 0 {
		t.Fatalf("solutions saved despite the ACL: %v", form)
	}
	if !e.logged("Could not save recommended solutions for INC0010001") || !e.logged("Security restricted: ACL Exception Insert Failed") {
		t.Fatalf("refused write not logged: %q", e.syslog())
	}
}

func TestContactNotAdminAndLinkAccount(t *testing.T) {
	e := start(t, "integrated-basic", "")
	res := e.action("beth.anglin", "POST", "INC0010001", "cases", nil)
	wantMessages(t, res, "beth.anglin@contoso.com is not a valid Microsoft 365 admin account. You need Microsoft 365 admin privileges to open a service request. In the app, link the admin account.")
	wantError(t, e.do("PUT", "/api/x_mioms_m365_assis/v1/link_account/", e.as("beth.anglin"), map[string]string{"email": "nope"}), 400, "Invalid email")
	wantError(t, e.do("PUT", "/api/x_mioms_m365_assis/v1/link_account/", e.as("david.miller"), map[string]string{"email": "a@b.c"}), 403, "User Not Authorized")
	e.do("PUT", "/api/x_mioms_m365_assis/v1/link_account/", e.as("beth.anglin"), map[string]string{"email": "helpdesk@contoso.onmicrosoft.com"})
	if res := e.action("beth.anglin", "POST", "INC0010001", "cases", nil); res["case"] == nil {
		t.Fatalf("case with a linked helpdesk admin: %v", res)
	}
}

func TestConnectorErrorsShowAppSupport(t *testing.T) {
	e := start(t, "integrated-basic", "")
	for _, f := range []faults.Fault{
		{Path: "/api/v1/repositories/*/solutions/search", Status: 500, Times: 1},
		{Path: "/api/v1/repositories/*/solutions/search", Malformed: true, Times: 1},
		{Path: "/api/v1/repositories/*/solutions/search", Status: 400, Body: `{"error":{"code":"BadRequest","message":"x"}}`, Times: 1},
	} {
		if _, err := e.w.M365.Faults().Add(f); err != nil {
			t.Fatal(err)
		}
		res := e.action("david.miller", "POST", "INC0010001", "solutions", nil)
		wantMessages(t, res, m365app.MsgAppSupport)
		if len(solutionIDs(res)) != 0 {
			t.Fatalf("solutions with a failing connector: %v", res)
		}
	}
	if !e.logged("the connector answered HTTP 500") || !e.logged("not valid JSON") {
		t.Fatalf("log %q", e.syslog())
	}
	// Ticket details refused.
	e.do("PUT", "/api/x_mioms_m365_assis/v1/link_account/", e.as("beth.anglin"), map[string]string{"email": "admin@contoso.onmicrosoft.com"})
	c := e.action("beth.anglin", "POST", "INC0010001", "cases", nil)["case"].(map[string]any)
	if _, err := e.w.M365.Faults().Add(faults.Fault{Method: "PATCH", Path: "/api/v1/repositories/*/cases/*", Status: 409, Times: 1}); err != nil {
		t.Fatal(err)
	}
	wantMessages(t, e.action("beth.anglin", "PATCH", "INC0010001", "cases/"+c["caseNumber"].(string), map[string]any{"details": map[string]string{"a": "b"}}), m365app.MsgTicketDetails)
	wantMessages(t, e.action("beth.anglin", "PATCH", "INC0010001", "cases/"+c["caseNumber"].(string), map[string]any{"details": map[string]string{"a": "b"}}))
}

func TestSilentFailuresShowInTheOutboundLog(t *testing.T) {
	e := start(t, "integrated-basic", "")
	// A wrong client secret in the outbound entity (a Global application file).
	inst := e.w.Snow.Instance()
	ent, _ := inst.First("oauth_entity", "name=contoso_outbound")
	if r := e.do("PATCH", "/api/now/table/oauth_entity/"+ent["sys_id"], e.as("admin"), map[string]string{"client_secret": "not-the-secret"}); r.Status != 200 {
		t.Fatalf("%s", r)
	}
	res := e.action("david.miller", "POST", "INC0010001", "solutions", nil)
	wantMessages(t, res)
	if len(solutionIDs(res)) != 0 {
		t.Fatalf("nothing should show up: %v", res)
	}
	rows, _ := inst.Query("sys_outbound_http_log", "hostname=login.microsoftonline.com^http_status=401")
	if len(rows) != 1 || !strings.Contains(rows[0]["response_body"], "AADSTS7000215") {
		t.Fatalf("outbound log %v", rows)
	}
	if !e.logged("returned nothing; see System Logs > Outbound HTTP Requests") {
		t.Fatalf("log %q", e.syslog())
	}
	// The fix: the right secret; the token is not cached after a failure.
	e.do("PATCH", "/api/now/table/oauth_entity/"+ent["sys_id"], e.as("admin"), map[string]string{"client_secret": "Out8Q~ContosoOutboundSecret.000000000000"})
	if ids := solutionIDs(e.action("david.miller", "POST", "INC0010001", "solutions", nil)); len(ids) == 0 {
		t.Fatal("no solutions after the fix")
	}
	// Connector unreachable.
	if _, err := e.w.M365.Faults().Add(faults.Fault{Path: "/api/v1/**", Drop: true, Times: 1}); err != nil {
		t.Fatal(err)
	}
	res = e.action("david.miller", "POST", "INC0010002", "solutions", nil)
	wantMessages(t, res)
	rows, _ = inst.Query("sys_outbound_http_log", "hostname=connector.rave.microsoft.com^http_statusISEMPTY")
	if len(rows) != 1 || rows[0]["error_message"] == "" {
		t.Fatalf("transport error row %v", rows)
	}
}

func TestInboundBasicMode(t *testing.T) {
	e := start(t, "integrated-basic", "")
	ping := "/api/x_mioms_m365_assis/v1/inbound/ping"
	tok := e.do("POST", "/oauth_token.do", nil, url.Values{"grant_type": {"password"}, "client_id": {inboundID},
		"client_secret": {"Inb-ContosoInboundSecret-1"}, "username": {"m365.integration"}, "password": {"Snow-Integration-1!"}})
	if tok.Status != 200 {
		t.Fatalf("%s", tok)
	}
	access := tok.JSON["access_token"].(string)
	if r := e.do("GET", ping, world.Bearer(access), nil); r.Status != 200 || r.Result()["user"] != "m365.integration" || r.Result()["inboundMode"] != "basic" {
		t.Fatalf("integration user's OAuth token: %s", r)
	}
	if r := e.do("GET", ping, world.Basic("m365.integration", "Snow-Integration-1!"), nil); r.Status != 200 {
		t.Fatalf("integration user's basic credentials: %s", r)
	}
	wantError(t, e.do("GET", ping, world.Basic("admin", "Snow-Admin-1!"), nil), 403, "User Not Authorized")
	wantError(t, e.do("GET", ping, e.as("admin"), nil), 401, "User Not Authenticated")
	aadTok, err := e.w.AADToken(contoso, url.Values{"grant_type": {"client_credentials"}, "client_id": {restUser},
		"client_secret": {"Usr8Q~ContosoRestUserSecret.000000000000"}, "resource": {restAPI}})
	if err != nil {
		t.Fatal(err)
	}
	wantError(t, e.do("GET", ping, world.Bearer(aadTok), nil), 401, "User Not Authenticated")
	for _, want := range []string{"is not the integration user selected in Setup", "authenticated by session", "not authenticated: Cannot find oauth_oidc_entity"} {
		if !e.logged(want) {
			t.Errorf("no log %q in %q", want, e.syslog())
		}
	}
}

func TestInboundAADMode(t *testing.T) {
	e := start(t, "integrated-aad", "")
	ping := "/api/x_mioms_m365_assis/v1/inbound/ping"
	token := func(resource string) string {
		tok, err := e.w.AADToken(contoso, url.Values{"grant_type": {"client_credentials"}, "client_id": {restUser},
			"client_secret": {"Usr8Q~ContosoRestUserSecret.000000000000"}, "resource": {resource}})
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	if r := e.do("GET", ping, world.Bearer(token(restAPI)), nil); r.Status != 200 || r.Result()["user"] != restUser || r.Result()["inboundMode"] != "aad" {
		t.Fatalf("Rest User token: %s", r)
	}
	wantError(t, e.do("GET", ping, world.Bearer(token(wellknown.GraphResource)), nil), 401, "User Not Authenticated")
	// Basic credentials are disallowed on this instance, and the session is
	// not the configured way.
	wantError(t, e.do("GET", ping, world.Basic("admin", "Snow-Admin-1!"), nil), 401, "User Not Authenticated")
	wantError(t, e.do("GET", ping, e.as("admin"), nil), 401, "User Not Authenticated")
	// An hour later the token is refused.
	tok := token(restAPI)
	e.w.Clock.Advance(66 * time.Minute)
	wantError(t, e.do("GET", ping, world.Bearer(tok), nil), 401, "User Not Authenticated")
	if !e.logged("not authenticated: OIDC token verification failed: expiry") {
		t.Fatalf("log %q", e.syslog())
	}
}

func TestInsightsOnly(t *testing.T) {
	e := start(t, "integrated-insights-only", "")
	wantError(t, e.do("GET", "/api/x_mioms_m365_assis/v1/inbound/ping", e.as("admin"), nil), 403, "User Not Authorized")
	if !e.logged("inbound calls are not configured: the app is set up for Insights only") {
		t.Fatalf("log %q", e.syslog())
	}
	wantError(t, e.do("POST", "/api/x_mioms_m365_assis/v1/incidents/INC0010001/cases", e.as("beth.anglin"), nil), 409, "Contact Microsoft Support is not available")
	form := e.do("GET", "/api/x_mioms_m365_assis/v1/incidents/INC0010001/form", e.as("beth.anglin"), nil).Result()["microsoft365Support"].(map[string]any)
	if strings.Contains(strings.Join(toStrings(form["actions"]), ","), "contact_microsoft_support") {
		t.Fatalf("Insights only offers service requests: %v", form["actions"])
	}
	if ids := solutionIDs(e.action("beth.anglin", "POST", "INC0010001", "solutions", nil)); len(ids) == 0 {
		t.Fatal("recommended solutions must work in Insights only")
	}
}

func toStrings(v any) []string {
	var out []string
	for _, x := range v.([]any) {
		out = append(out, x.(string))
	}
	return out
}
