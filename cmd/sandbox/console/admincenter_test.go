package console

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/m365snow/m365snow/world"
)

const contoso = "8b6a7f0e-3c2d-4e5f-9a1b-2c3d4e5f6a7b"

func withContoso(_ *world.World, o *Options) {
	o.Tenants = []Tenant{{ID: contoso, Domain: "contoso.onmicrosoft.com", Admin: "admin@contoso.onmicrosoft.com", Password: "Contoso-Admin-1!"}}
}

// TestSetupCompletesThroughTheAdminCenter is the guide's whole Setup on
// prerequisites-basic, by forms only: the ServiceNow admin's steps, the
// Microsoft 365 admin's Basic information and repository in the admin
// center with the completion page's values, then Next — after which the
// admin center shows the handshake and the connector the cases.
func TestSetupCompletesThroughTheAdminCenter(t *testing.T) {
	t.Parallel()
	_, srv := startWorld(t, "prerequisites-basic", withContoso)
	// Before: the tenant's support integration is empty.
	resp, body := do(t, "GET", srv.URL+"/admin-center", nil)
	if resp.StatusCode != 200 || strings.Contains(body, `class="err"`) || !strings.Contains(body, `<strong id="tool">none</strong>`) || !strings.Contains(body, "No repositories.") {
		t.Fatalf("GET /admin-center before: %d\n%s", resp.StatusCode, body)
	}
	for _, st := range []struct {
		path string
		form url.Values
	}{
		{"/setup/scope", url.Values{}},
		{"/setup/consent", url.Values{"agree": {"yes"}}},
		{"/setup/outbound", url.Values{"profile": {"contoso_outbound default_profile"}}},
		{"/setup/inbound", url.Values{"entity": {"m365_inbound"}}},
		{"/setup/user", url.Values{"user": {"m365.integration"}}},
		{"/setup/repository", url.Values{"repositoryId": {"contoso-snow"}}},
		{"/setup/settings", url.Values{"adminEmail": {"admin@contoso.onmicrosoft.com"}, "testEnvironment": {"on"}}},
		{"/admin-center/basic", url.Values{"tenant": {contoso}, "internalSupportTool": {"ServiceNow"}, "applicationId": {"1f9c2e4a-6b8d-4f0e-a2c4-6e8a0c2e4f61"}}},
		{"/admin-center/repository", url.Values{"tenant": {contoso}, "id": {"contoso-snow"}, "endpoint": {"https://dev12345.service-now.com/api/x_mioms_m365_assis/v1/inbound"},
			"authenticationType": {"Basic Auth"}, "clientId": {"0c4f5a6b7d8e9f0a1b2c3d4e5f6a7b8c"}, "clientSecret": {"Inb-ContosoInboundSecret-1"},
			"refreshTokenExpiry": {"86400"}, "restUsername": {"m365.integration"}, "restUserPassword": {"Snow-Integration-1!"}}},
		{"/setup/complete", url.Values{}},
	} {
		loc, status, body := walk(t, srv.URL, st.path, st.form)
		if status != 200 || loc == "" || strings.Contains(body, `class="err"`) {
			t.Fatalf("POST %s: %d (%q)\n%s", st.path, status, loc, body)
		}
		if st.path == "/setup/complete" && (!strings.Contains(body, "Integration completed") || !strings.Contains(body, `<strong id="state">complete</strong>`)) {
			t.Errorf("after Next:\n%s", body)
		}
	}
	_, body = do(t, "GET", srv.URL+"/admin-center", nil)
	for _, want := range []string{`<strong id="tool">ServiceNow</strong>`, `<strong id="appid">1f9c2e4a-6b8d-4f0e-a2c4-6e8a0c2e4f61</strong>`,
		"<td>contoso-snow</td>", "<td>Basic Auth</td>", `<span class="ok">completed</span>`, "(basic inbound)"} {
		if !strings.Contains(body, want) {
			t.Errorf("admin center after Next: no %q in\n%s", want, body)
		}
	}
	// The integration works: a case opened from the incident (as admin:
	// prerequisites-basic grants no one the app's roles yet) is the
	// connector's, linked to the incident.
	if status, body := walkNoRedirect(t, srv.URL+"/incident", url.Values{"as": {"admin"}, "action": {"link"}, "email": {"admin@contoso.onmicrosoft.com"}}); status != 200 {
		t.Fatalf("link: %d\n%s", status, body)
	}
	if status, body := walkNoRedirect(t, srv.URL+"/incident", url.Values{"as": {"admin"}, "action": {"contact"}, "title": {"Mail is not syncing"}}); status != 200 || strings.Contains(body, `class="err"`) {
		t.Fatalf("contact: %d\n%s", status, body)
	}
	_, body = do(t, "GET", srv.URL+"/admin-center", nil)
	if !strings.Contains(body, "<td>INC0010001</td><td>Mail is not syncing</td><td>admin@contoso.onmicrosoft.com</td>") || !strings.Contains(body, "<td>yes</td>") {
		t.Errorf("the connector's cases:\n%s", body)
	}
}

func walkNoRedirect(t *testing.T, u string, form url.Values) (int, string) {
	t.Helper()
	resp, body := do(t, "POST", u, form)
	return resp.StatusCode, body
}

// TestAdminCenterRefusals: the admin portal's validation reaches the
// visitor as a 400 on the page, the form kept.
func TestAdminCenterRefusals(t *testing.T) {
	t.Parallel()
	_, srv := startWorld(t, "prerequisites-basic", withContoso)
	tests := []struct {
		path string
		form url.Values
		want string
	}{
		{"/admin-center/basic", url.Values{"tenant": {contoso}, "internalSupportTool": {"Jira"}, "applicationId": {"x"}}, "internalSupportTool"},
		{"/admin-center/repository", url.Values{"tenant": {contoso}, "id": {"r1"}, "endpoint": {"not a url"}, "authenticationType": {"Basic Auth"}}, "is not an absolute http(s) URL"},
		{"/admin-center/repository", url.Values{"tenant": {contoso}, "id": {"r1"}, "endpoint": {"https://x.example"}, "authenticationType": {"Basic Auth"}, "refreshTokenExpiry": {"soon"}}, "want seconds"},
		{"/admin-center/repository", url.Values{"tenant": {contoso}, "id": {"a/b"}, "endpoint": {"https://x.example"}}, "give the Repository ID"},
	}
	for _, tc := range tests {
		resp, body := do(t, "POST", srv.URL+tc.path, tc.form)
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, tc.want) {
			t.Errorf("POST %s %v: %d, want 400 with %q\n%s", tc.path, tc.form, resp.StatusCode, tc.want, body)
		}
	}
	if resp, _ := do(t, "POST", srv.URL+"/admin-center/basic", url.Values{"tenant": {"nope"}}); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("unknown tenant: %d", resp.StatusCode)
	}
	if resp, _ := do(t, "POST", srv.URL+"/admin-center/nothing", url.Values{"tenant": {contoso}}); resp.StatusCode != http.StatusNotFound {
		t.Errorf("unknown form: %d", resp.StatusCode)
	}
}
