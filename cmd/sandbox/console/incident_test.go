package console

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/m365snow/m365snow/fakesnow/m365app"
)

// TestIncidentTabActions walks the Microsoft 365 Support tab's actions as
// the users the guide's rows name, on integrated-basic: the tab hidden from
// a user without the app's roles (row 1), Contact Microsoft Support before
// and after Link Account (row 8), ticket details, service health.
func TestIncidentTabActions(t *testing.T) {
	t.Parallel()
	_, srv := startConsole(t)
	post := func(form url.Values) (int, string) {
		t.Helper()
		resp, body := do(t, "POST", srv.URL+"/incident", form)
		return resp.StatusCode, body
	}
	// Row 1: abel.tuter has neither role; david.miller sees the tab, but
	// not in the ess view.
	for _, tc := range []struct {
		query string
		tab   bool
	}{{"as=abel.tuter", false}, {"as=david.miller", true}, {"as=david.miller&view=ess", false}} {
		resp, body := do(t, "GET", srv.URL+"/incident?"+tc.query, nil)
		if resp.StatusCode != 200 || strings.Contains(body, `class="err"`) {
			t.Fatalf("GET /incident?%s: %d\n%s", tc.query, resp.StatusCode, body)
		}
		if got := strings.Contains(body, `<h2 id="tab">Microsoft 365 Support</h2>`); got != tc.tab || strings.Contains(body, `id="no-tab"`) == tc.tab {
			t.Errorf("?%s: tab shown %v, want %v\n%s", tc.query, got, tc.tab, body)
		}
	}
	// Row 8: beth.anglin's own email is no Microsoft 365 admin. The guide:
	// "{EmailAddress} is not a valid Microsoft 365 admin account. You need
	// Microsoft 365 admin privileges to open a service request. In the
	// app, link the admin account."
	status, body := post(url.Values{"as": {"beth.anglin"}, "action": {"contact"}})
	if want := m365app.MsgNotAdmin("beth.anglin@contoso.com"); status != 200 || !strings.Contains(body, want) {
		t.Fatalf("contact before linking: %d, no %q\n%s", status, want, body)
	}
	status, body = post(url.Values{"as": {"beth.anglin"}, "action": {"link"}, "email": {"admin@contoso.onmicrosoft.com"}})
	if status != 200 || !strings.Contains(body, `<strong id="linked">admin@contoso.onmicrosoft.com</strong>`) {
		t.Fatalf("link account: %d\n%s", status, body)
	}
	status, body = post(url.Values{"as": {"beth.anglin"}, "action": {"contact"}, "title": {"Teams meetings drop"}})
	m := regexp.MustCompile(`<strong id="case">([^<]+)</strong>`).FindStringSubmatch(body)
	if status != 200 || m == nil || strings.Contains(body, `class="err"`) {
		t.Fatalf("contact after linking: %d\n%s", status, body)
	}
	// The form reopened lists the case the connector linked.
	if !strings.Contains(body, "<li>"+m[1]+" — Teams meetings drop") {
		t.Errorf("case %s not on the reopened form:\n%s", m[1], body)
	}
	status, body = post(url.Values{"as": {"beth.anglin"}, "action": {"details"}, "case": {m[1]}, "detail": {"Severity"}, "value": {"B"}})
	if status != 200 || strings.Contains(body, `class="err"`) || !strings.Contains(body, `<strong id="case">`+m[1]) {
		t.Errorf("ticket details: %d\n%s", status, body)
	}
	status, body = post(url.Values{"as": {"david.miller"}, "action": {"servicehealth"}})
	if status != 200 || strings.Contains(body, `class="err"`) || !strings.Contains(body, `<h3 id="health">Service health incidents</h3>`) {
		t.Errorf("service health: %d\n%s", status, body)
	}
	// Refusals: the console's own checks and the app's, as 400s.
	for _, form := range []url.Values{
		{"as": {"beth.anglin"}, "action": {"nope"}},
		{"as": {"beth.anglin"}, "action": {"details"}, "case": {"../x"}},
		{"as": {"nobody"}, "action": {"solutions"}},
		{"as": {"beth.anglin"}, "action": {"link"}, "email": {"not an email"}},
		{"as": {"abel.tuter"}, "action": {"solutions"}},
	} {
		if status, body := post(form); status != http.StatusBadRequest {
			t.Errorf("POST /incident %v: %d, want 400\n%s", form, status, body)
		}
	}
}
