package console

import (
	"encoding/json"
	"html/template"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/m365snow/m365snow/internal/clock"
	"github.com/m365snow/m365snow/world"
)

const token = "console-test-token"

// startConsole serves a console over an integrated-basic world whose
// control planes need token, and returns both.
func startConsole(t *testing.T) (*world.World, *httptest.Server) {
	t.Helper()
	return startWorld(t, "integrated-basic", nil)
}

// startWorld serves a console over the named world; more, when set,
// completes its options.
func startWorld(t *testing.T, name string, more func(*world.World, *Options)) (*world.World, *httptest.Server) {
	t.Helper()
	f, err := world.Load(name)
	if err != nil {
		t.Fatal(err)
	}
	w, err := world.Start(world.Options{Fixture: f, Clock: &clock.Manual{}, AdminToken: token})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	var users []User
	for _, u := range w.SnowFixture.Users {
		users = append(users, User{Name: u.UserName, Password: u.Password, Roles: u.Roles, WebServiceOnly: u.WebServiceAccessOnly})
	}
	opts := Options{
		Parties: []Party{
			{Name: "fakesnow", Title: "ServiceNow instance", Hosts: w.InstanceHost, URL: w.SnowURL},
			{Name: "fakeaad", Title: "Azure AD, Microsoft Graph", URL: w.AADURL},
			{Name: "fakem365", Title: "Microsoft 365", URL: w.M365URL},
		},
		AdminToken:   token,
		Users:        users,
		Apps:         []App{{Name: "ServiceNow M365 Support", Tenant: "contoso.onmicrosoft.com", ClientID: "app-id-1", Secret: "s3cret"}},
		Repositories: []Repository{{Tenant: "contoso.onmicrosoft.com", ID: "repo-1", AuthenticationType: "Basic", State: "saved"}},
	}
	if more != nil {
		more(w, &opts)
	}
	srv := httptest.NewServer(New(opts))
	t.Cleanup(srv.Close)
	return w, srv
}

// client sends the token as the cookie a browser keeps after ?token=, and
// does not follow redirects so that the tests see them.
func client() *http.Client {
	return &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func do(t *testing.T, method, u string, form url.Values, hdr ...string) (*http.Response, string) {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, u, body)
	if err != nil {
		t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	req.AddCookie(&http.Cookie{Name: tokenCookie, Value: token})
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func TestPagesShowTheWorld(t *testing.T) {
	t.Parallel()
	w, srv := startConsole(t)
	tests := []struct {
		path string
		want []string
	}{
		{"/", []string{"<h1>The world at a glance</h1>", w.SnowURL, w.AADURL, w.M365URL, w.InstanceHost,
			// A user's password and the curl that reads it.
			"admin", "/api/now/table/sys_user?sysparm_query=user_name=admin",
			"app-id-1", "client_credentials", "repo-1",
			// Read live through the Table API: the fixture's OAuth entity.
			"<h2 id=\"entities\">ServiceNow OAuth entities</h2>"}},
		{"/journal", []string{"<h1>Request journal</h1>", "<details>", `<label for="party">Party</label>`}},
		{"/time", []string{"<h1>Time, faults and reset</h1>", `action="/clock"`, `action="/faults"`, `action="/reset"`, "2026-"}},
		{"/style.css", []string{":focus-visible"}},
	}
	for _, tc := range tests {
		resp, body := do(t, "GET", srv.URL+tc.path, nil)
		if resp.StatusCode != 200 {
			t.Errorf("GET %s: %d %s", tc.path, resp.StatusCode, body)
			continue
		}
		if strings.Contains(body, `class="err"`) {
			t.Errorf("GET %s shows an error: %s", tc.path, body)
		}
		for _, want := range tc.want {
			if !strings.Contains(body, want) {
				t.Errorf("GET %s: no %q in\n%s", tc.path, want, body)
			}
		}
	}
}

func TestWorldPageReadsOAuthEntitiesThroughTheTableAPI(t *testing.T) {
	t.Parallel()
	w, srv := startConsole(t)
	entities, err := w.Snow.Instance().Query("oauth_entity", "ORDERBYname")
	if err != nil || len(entities) == 0 {
		t.Fatalf("integrated-basic has no OAuth entity to show (%v)", err)
	}
	_, body := do(t, "GET", srv.URL+"/", nil)
	for _, e := range entities {
		if !strings.Contains(body, e["client_id"]) {
			t.Errorf("entity %q's client id %q is not shown", e["name"], e["client_id"])
		}
	}
	// The console is a client like any other: its read is in the journal.
	_, jbody := do(t, "GET", srv.URL+"/journal?party=fakesnow&path=/api/now/table/oauth_entity", nil)
	if !strings.Contains(jbody, "GET /api/now/table/oauth_entity") {
		t.Errorf("the console's Table API read is not in the journal:\n%s", jbody)
	}
}

func TestJournalFiltersByParty(t *testing.T) {
	t.Parallel()
	w, srv := startConsole(t)
	for _, u := range []string{w.SnowURL + "/api/now/table/incident", w.AADURL + "/common/v2.0/.well-known/openid-configuration"} {
		resp, err := http.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	tests := []struct {
		query      string
		want, miss string
	}{
		{"party=fakeaad", "fakeaad GET /common/v2.0/.well-known/openid-configuration", "fakesnow GET /api/now/table/incident"},
		{"party=fakesnow&path=/api/now/table/incident", "fakesnow GET /api/now/table/incident", "openid-configuration"},
		// Unauthenticated: the instance's 401, marked as a warning.
		{"status=4xx", `<span class="warn">401</span> fakesnow GET /api/now/table/incident`, "openid-configuration"},
		{"", "fakeaad GET /common/v2.0/.well-known/openid-configuration", "No requests recorded"},
		{"status=5xx", "No requests recorded that match the filter", "openid-configuration"},
	}
	for _, tc := range tests {
		_, body := do(t, "GET", srv.URL+"/journal?"+tc.query, nil)
		if !strings.Contains(body, tc.want) || strings.Contains(body, tc.miss) {
			t.Errorf("?%s: want %q and not %q in\n%s", tc.query, tc.want, tc.miss, body)
		}
	}
	// A filter the journal refuses is shown, not a 5xx.
	resp, body := do(t, "GET", srv.URL+"/journal?status=abc", nil)
	if resp.StatusCode != 200 || !strings.Contains(body, `class="err"`) || !strings.Contains(body, "want a status such as 401") {
		t.Errorf("a bad status filter: %d\n%s", resp.StatusCode, body)
	}
}

func TestAdvanceMovesEveryPartysClockOnce(t *testing.T) {
	t.Parallel()
	w, srv := startConsole(t)
	before := w.Clock.Now()
	resp, _ := do(t, "POST", srv.URL+"/clock", url.Values{"advance": {"61m"}})
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/time?msg=Advanced") {
		t.Fatalf("POST /clock: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	// The parties share one clock: advanced once, not once per party.
	if got := w.Clock.Now().Sub(before); got != 61*time.Minute {
		t.Errorf("the clock moved %v, want 61m", got)
	}
	for _, bad := range []string{"", "soon", "-5m"} {
		if resp, _ := do(t, "POST", srv.URL+"/clock", url.Values{"advance": {bad}}); resp.StatusCode != 400 {
			t.Errorf("advance %q: %d, want 400", bad, resp.StatusCode)
		}
	}
}

func TestFaultsInjectShowClearAndReset(t *testing.T) {
	t.Parallel()
	w, srv := startConsole(t)
	resp, _ := do(t, "POST", srv.URL+"/faults", url.Values{"party": {"fakeaad"}, "method": {"POST"}, "path": {"/*/oauth2/v2.0/token"}, "effect": {"status"}, "status": {"503"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("POST /faults: %d", resp.StatusCode)
	}
	// The fault is the fake's, where the world's inducements put them.
	list := w.AAD.Faults().List()
	if len(list) != 1 || list[0].Status != 503 || list[0].Path != "/*/oauth2/v2.0/token" {
		t.Fatalf("fakeaad's faults: %+v", list)
	}
	_, body := do(t, "GET", srv.URL+"/time", nil)
	if !strings.Contains(body, "<code>/*/oauth2/v2.0/token</code> 503") || !strings.Contains(body, `value="`+list[0].ID+`"`) {
		t.Errorf("the fault is not listed:\n%s", body)
	}
	resp, _ = do(t, "POST", srv.URL+"/faults", url.Values{"party": {"fakesnow"}, "path": {"/api/**"}, "effect": {"drop"}})
	if resp.StatusCode != http.StatusSeeOther || len(w.Snow.Faults().List()) != 1 || !w.Snow.Faults().List()[0].Drop {
		t.Fatalf("drop fault: %d %+v", resp.StatusCode, w.Snow.Faults().List())
	}
	resp, _ = do(t, "POST", srv.URL+"/faults/clear", url.Values{"party": {"fakeaad"}, "id": {list[0].ID}})
	if resp.StatusCode != http.StatusSeeOther || len(w.AAD.Faults().List()) != 0 {
		t.Errorf("clear one: %d %+v", resp.StatusCode, w.AAD.Faults().List())
	}
	resp, _ = do(t, "POST", srv.URL+"/faults/clear", url.Values{"party": {"all"}})
	if resp.StatusCode != http.StatusSeeOther || len(w.Snow.Faults().List()) != 0 {
		t.Errorf("clear all: %d %+v", resp.StatusCode, w.Snow.Faults().List())
	}
	// Refusals: the fake's own validation reaches the visitor as a 400.
	for _, form := range []url.Values{
		{"party": {"fakeaad"}, "path": {"no-slash"}, "status": {"503"}},
		{"party": {"fakeaad"}, "path": {"/x"}, "status": {"abc"}},
		{"party": {"nobody"}, "path": {"/x"}, "status": {"503"}},
		{"party": {"all"}, "path": {"/x"}, "status": {"503"}},
	} {
		if resp, body := do(t, "POST", srv.URL+"/faults", form); resp.StatusCode != 400 {
			t.Errorf("POST /faults %v: %d %s, want 400", form, resp.StatusCode, body)
		}
	}

	// Reset: a record changed since the start goes back.
	if err := w.Snow.Instance().SetProperty("x_m365snow.console_test", "changed"); err != nil {
		t.Fatal(err)
	}
	resp, _ = do(t, "POST", srv.URL+"/reset", url.Values{"party": {"all"}})
	if resp.StatusCode != http.StatusSeeOther || !strings.Contains(resp.Header.Get("Location"), "fakesnow") {
		t.Fatalf("POST /reset: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	if got := w.Snow.Instance().Property("x_m365snow.console_test"); got != "" {
		t.Errorf("reset kept a property set after start: %q", got)
	}
}

func TestGuard(t *testing.T) {
	t.Parallel()
	_, srv := startConsole(t)
	plain := func(method, u string, hdr map[string]string) *http.Response {
		req, _ := http.NewRequest(method, u, strings.NewReader("advance=1m"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		for k, v := range hdr {
			if k == "Host" {
				req.Host = v
			} else {
				req.Header.Set(k, v)
			}
		}
		resp, err := client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	auth := map[string]string{"Authorization": "Bearer " + token}
	with := func(k, v string) map[string]string {
		return map[string]string{"Authorization": "Bearer " + token, k: v}
	}
	tests := []struct {
		name, method, path string
		hdr                map[string]string
		want               int
	}{
		{"no token", "GET", "/", nil, 401},
		{"wrong token", "GET", "/", map[string]string{"Authorization": "Bearer nope"}, 401},
		{"bearer token", "GET", "/time", auth, 200},
		{"foreign host (DNS rebinding)", "GET", "/", with("Host", "evil.example:8083"), 403},
		{"form from another site", "POST", "/clock", with("Origin", "http://evil.example"), 403},
		{"form from another site (Fetch metadata)", "POST", "/clock", with("Sec-Fetch-Site", "cross-site"), 403},
		{"form from the console itself", "POST", "/clock", with("Origin", srv.URL), 303},
		{"unknown page", "GET", "/nowhere", auth, 404},
	}
	for _, tc := range tests {
		if got := plain(tc.method, srv.URL+tc.path, tc.hdr).StatusCode; got != tc.want {
			t.Errorf("%s: %d, want %d", tc.name, got, tc.want)
		}
	}
	// ?token= sets the cookie and drops the token from the address.
	resp := plain("GET", srv.URL+"/journal?party=fakeaad&token="+token, nil)
	if resp.StatusCode != 303 || resp.Header.Get("Location") != "/journal?party=fakeaad" {
		t.Fatalf("?token=: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	ck := resp.Cookies()
	if len(ck) != 1 || ck[0].Value != token || !ck[0].HttpOnly || ck[0].SameSite != http.SameSiteStrictMode {
		t.Errorf("cookie: %+v", ck)
	}
}

// The console reads the fakes' JSON; a shape change there must show here.
func TestJournalDecodesTheFakesEntries(t *testing.T) {
	t.Parallel()
	w, srv := startConsole(t)
	resp, err := http.Get(w.SnowURL + "/api/now/table/incident")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	req, _ := http.NewRequest("GET", w.SnowURL+"/__admin/requests?path=/api/now/table/incident", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	r2, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var raw struct {
		Requests []struct {
			RequestID string `json:"requestId"`
		} `json:"requests"`
	}
	json.NewDecoder(r2.Body).Decode(&raw)
	r2.Body.Close()
	if len(raw.Requests) != 1 {
		t.Fatalf("journal: %+v", raw)
	}
	_, body := do(t, "GET", srv.URL+"/journal?path=/api/now/table/incident", nil)
	if !strings.Contains(body, raw.Requests[0].RequestID) || !strings.Contains(body, "User Not Authenticated") {
		t.Errorf("entry %s with its response body not shown:\n%s", raw.Requests[0].RequestID, body)
	}
}

func TestIncidentTabShowsRecommendedSolutions(t *testing.T) {
	t.Parallel()
	w, srv := startConsole(t)
	resp, body := do(t, "GET", srv.URL+"/incident", nil)
	if resp.StatusCode != 200 || !strings.Contains(body, `<label for="number">Incident number</label>`) || !strings.Contains(body, `value="INC0010001"`) {
		t.Fatalf("GET /incident: %d\n%s", resp.StatusCode, body)
	}
	resp, body = do(t, "POST", srv.URL+"/incident", url.Values{"number": {"INC0010001"}})
	if resp.StatusCode != 200 || strings.Contains(body, `class="err"`) || !strings.Contains(body, "Recommended solutions for") {
		t.Fatalf("POST /incident: %d\n%s", resp.StatusCode, body)
	}
	// What the tab shows is what the app saved on the incident.
	saved, err := w.Snow.Instance().Query("x_mioms_m365_assis_solution", "")
	if err != nil || len(saved) == 0 {
		t.Fatalf("no solutions saved (%v):\n%s", err, body)
	}
	for _, s := range saved {
		if !strings.Contains(body, template.HTMLEscapeString(s["title"])) {
			t.Errorf("solution %q not shown", s["title"])
		}
	}
	for _, bad := range []string{"../x", "INC 1", "<script>"} {
		if resp, _ := do(t, "POST", srv.URL+"/incident", url.Values{"number": {bad}}); resp.StatusCode != 400 {
			t.Errorf("number %q: %d, want 400", bad, resp.StatusCode)
		}
	}
}

// The guide's System Logs filter is misspelt (x_mioms_m365_assit): the
// page shows that it finds nothing while the scope's name finds the entry
// (features/troubleshooting-setup-state.feature, @log-filter).
func TestSystemLogsWithTheGuidesFilter(t *testing.T) {
	t.Parallel()
	w, srv := startConsole(t)
	w.Snow.Instance().Log("2", "x_mioms_m365_assis", "console test: solutions refused", "david.miller")
	tests := []struct {
		source string
		found  bool
	}{{"", true}, {"x_mioms_m365_assis", true}, {"x_mioms_m365", true}, {"x_mioms_m365_assit", false}}
	for _, tc := range tests {
		resp, body := do(t, "GET", srv.URL+"/logs?source="+tc.source, nil)
		if resp.StatusCode != 200 || strings.Contains(body, `class="err"`) {
			t.Fatalf("?source=%s: %d\n%s", tc.source, resp.StatusCode, body)
		}
		if got := strings.Contains(body, "console test: solutions refused"); got != tc.found {
			t.Errorf("?source=%s: entry shown %v, want %v", tc.source, got, tc.found)
		}
		if !tc.found && !strings.Contains(body, "No log entries match “x_mioms_m365_assit”") {
			t.Errorf("?source=%s does not say it found nothing", tc.source)
		}
	}
}

// TestSessionsOpenAgainAfterAReset: the console works in UI sessions; a
// reset forgets them on the instance, and the console signs in again
// rather than showing the instance's 401.
func TestSessionsOpenAgainAfterAReset(t *testing.T) {
	t.Parallel()
	_, srv := startConsole(t)
	for i, step := range []string{"GET /logs", "POST /reset", "GET /logs"} {
		method, path, _ := strings.Cut(step, " ")
		var form url.Values
		if method == "POST" {
			form = url.Values{"party": {"all"}}
		}
		resp, body := do(t, method, srv.URL+path, form)
		if resp.StatusCode >= 400 || strings.Contains(body, `class="err"`) {
			t.Fatalf("step %d, %s: %d\n%s", i, step, resp.StatusCode, body)
		}
		if method == "GET" && !strings.Contains(body, "curl -s -b &#39;JSESSIONID=") {
			t.Errorf("step %d: the curl does not carry the session:\n%s", i, body)
		}
	}
}

// TestWorldPageShowsOIDCProviderConfigurations: the AAD mode's OIDC
// provider configuration, read live through the Table API.
func TestWorldPageShowsOIDCProviderConfigurations(t *testing.T) {
	t.Parallel()
	w, srv := startWorld(t, "prerequisites-aad", nil)
	cfgs, err := w.Snow.Instance().Query("oidc_provider_configuration", "ORDERBYname")
	if err != nil || len(cfgs) == 0 {
		t.Fatalf("prerequisites-aad has no OIDC provider configuration (%v)", err)
	}
	resp, body := do(t, "GET", srv.URL+"/", nil)
	if resp.StatusCode != 200 || strings.Contains(body, `class="err"`) {
		t.Fatalf("GET /: %d\n%s", resp.StatusCode, body)
	}
	for _, c := range cfgs {
		if !strings.Contains(body, "<td>"+c["name"]+"</td><td><code>"+c["oidc_url"]+"</code></td><td>"+c["user_claim"]+"</td>") {
			t.Errorf("configuration %q not shown:\n%s", c["name"], body)
		}
	}
}
