package console

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/m365snow/m365snow/world"
)

// walk posts a form and follows the console's redirect, as a browser with
// JavaScript off does; it returns the redirect and the page it leads to.
func walk(t *testing.T, base, path string, form url.Values) (string, int, string) {
	t.Helper()
	resp, body := do(t, "POST", base+path, form)
	if resp.StatusCode != http.StatusSeeOther {
		return "", resp.StatusCode, body
	}
	loc := resp.Header.Get("Location")
	resp, body = do(t, "GET", base+loc, nil)
	return loc, resp.StatusCode, body
}

// TestSetupWizardWalksTheGuide walks prerequisites-basic's Setup through
// the console's forms, screen by screen as the guide has them ("Set up
// Microsoft 365 support integration application", steps 1–9), and checks
// each screen against the app's own Setup API.
func TestSetupWizardWalksTheGuide(t *testing.T) {
	t.Parallel()
	w, srv := startWorld(t, "prerequisites-basic", func(_ *world.World, o *Options) {
		o.Setup = &SetupChoices{OutboundProfile: "contoso_outbound default_profile", InboundEntity: "m365_inbound",
			User: "m365.integration", RepositoryID: "contoso-snow", AdminEmail: "admin@contoso.onmicrosoft.com", TestEnvironment: true}
	})
	// The guide's step 1: Global is current, so Setup refuses; the page
	// offers the switch.
	resp, body := do(t, "GET", srv.URL+"/setup", nil)
	if resp.StatusCode != 200 || !strings.Contains(body, "Switch the scope to Microsoft 365 support integration") || !strings.Contains(body, `action="/setup/scope"`) ||
		!strings.Contains(body, "but Global is the current application") {
		t.Fatalf("GET /setup before the switch: %d\n%s", resp.StatusCode, body)
	}
	loc, status, body := walk(t, srv.URL, "/setup/scope", url.Values{})
	if status != 200 || !strings.Contains(body, "<h2 id=\"step\">Consent</h2>") {
		t.Fatalf("after the switch (%s): %d\n%s", loc, status, body)
	}
	steps := []struct {
		path     string
		form     url.Values
		wantLoc  string
		wantPage string
	}{
		{"/setup/consent", url.Values{"agree": {"yes"}}, "step=outbound", `<option value="contoso_outbound default_profile" selected>`},
		{"/setup/outbound", url.Values{"profile": {"contoso_outbound default_profile"}}, "step=inbound", `<option value="m365_inbound" selected>`},
		{"/setup/inbound", url.Values{"entity": {"m365_inbound"}}, "step=user", `value="m365.integration"`},
		{"/setup/user", url.Values{"user": {"m365.integration"}}, "step=repository", `value="contoso-snow"`},
		{"/setup/repository", url.Values{"repositoryId": {"contoso-snow"}}, "step=settings", `value="admin@contoso.onmicrosoft.com"`},
		{"/setup/settings", url.Values{"adminEmail": {"admin@contoso.onmicrosoft.com"}, "testEnvironment": {"on"}}, "step=complete",
			"Step - 6 Complete the integration"},
	}
	for _, st := range steps {
		loc, status, body := walk(t, srv.URL, st.path, st.form)
		if status != 200 || !strings.Contains(loc, st.wantLoc) || !strings.Contains(body, st.wantPage) || strings.Contains(body, `class="err"`) {
			t.Fatalf("POST %s %v → %q: %d\n%s", st.path, st.form, loc, status, body)
		}
	}
	// The completion page: the values the Microsoft 365 admin types into
	// the admin center (the guide's "Step - 6 Complete the integration").
	_, body = do(t, "GET", srv.URL+"/setup?step=complete", nil)
	for _, want := range []string{
		"<th scope=\"row\">Outbound App ID</th><td><code>1f9c2e4a-6b8d-4f0e-a2c4-6e8a0c2e4f61</code>",
		"<th scope=\"row\">Repository ID</th><td><code>contoso-snow</code>",
		"<th scope=\"row\">Endpoint</th><td><code>https://dev12345.service-now.com/api/x_mioms_m365_assis/v1/inbound</code>",
		"<th scope=\"row\">Client ID</th><td><code>0c4f5a6b7d8e9f0a1b2c3d4e5f6a7b8c</code>",
		"<th scope=\"row\">User Name</th><td><code>m365.integration</code>",
		`<strong id="state">`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("completion page: no %q in\n%s", want, body)
		}
	}
	// What the pages said is what the instance holds.
	walked, err := w.Snow.App().Walked()
	if err != nil || walked == nil || walked.RepositoryID != "contoso-snow" || walked.Settings == nil || !walked.Settings.TestEnv || walked.HandshakeCompleted {
		t.Errorf("the instance's Setup: %+v %v", walked, err)
	}
	// Next before the admin center holds the repository: the connector
	// refuses the handshake and the page says why (no 5xx from the console
	// for the party's refusal).
	resp, body = do(t, "POST", srv.URL+"/setup/complete", url.Values{})
	if resp.StatusCode == http.StatusSeeOther || !strings.Contains(body, "Unable to complete the integration") {
		t.Errorf("Next without the admin center's repository: %d\n%s", resp.StatusCode, body)
	}
}

// TestSetupStepRefusals: the app's own validation reaches the visitor as a
// 400 with the app's message, on the step's screen.
func TestSetupStepRefusals(t *testing.T) {
	t.Parallel()
	_, srv := startWorld(t, "prerequisites-basic", nil)
	if resp, _ := do(t, "POST", srv.URL+"/setup/scope", url.Values{}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("switch: %d", resp.StatusCode)
	}
	tests := []struct {
		path string
		form url.Values
		want string
	}{
		{"/setup/consent", url.Values{}, "Consent required"},
		{"/setup/outbound", url.Values{"profile": {"nope"}}, "Invalid Outbound OAuth Provider"},
		{"/setup/inbound", url.Values{}, "Invalid Inbound OAuth Provider"},
		{"/setup/repository", url.Values{"repositoryId": {"a b"}}, "Invalid Repository ID"},
		{"/setup/settings", url.Values{"adminEmail": {"not-an-email"}}, "Invalid Application Settings"},
		{"/setup/complete", url.Values{}, "Setup incomplete"},
	}
	for _, tc := range tests {
		resp, body := do(t, "POST", srv.URL+tc.path, tc.form)
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, `class="err"`) || !strings.Contains(body, tc.want) {
			t.Errorf("POST %s %v: %d, want 400 with %q\n%s", tc.path, tc.form, resp.StatusCode, tc.want, body)
		}
	}
	if resp, _ := do(t, "POST", srv.URL+"/setup/nowhere", url.Values{}); resp.StatusCode != http.StatusNotFound {
		t.Errorf("an unknown step: %d, want 404", resp.StatusCode)
	}
}
