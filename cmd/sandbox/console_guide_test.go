package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/m365snow/m365snow/internal/localca"
	"github.com/m365snow/m365snow/world"
)

// consoleOf is the console's address in a started sandbox's output.
func consoleOf(t *testing.T, out string) string {
	t.Helper()
	m := consoleLine.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no console in the output:\n%s", out)
	}
	return m[1]
}

func get(t *testing.T, u string) (int, string) {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func postForm(t *testing.T, u string, form url.Values) (int, string) {
	t.Helper()
	resp, err := http.PostForm(u, form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestConsoleSetupStartsWithTheCounterpartsChoices: in a prerequisites-*
// world the wizard's fields start with what integrated-* chose, the values
// setupWalk prints as commands.
func TestConsoleSetupStartsWithTheCounterpartsChoices(t *testing.T) {
	t.Parallel()
	_, out := start(t, "prerequisites-basic")
	c := consoleOf(t, out)
	if status, body := postForm(t, c+"/setup/scope", url.Values{}); status != 200 {
		t.Fatalf("switch: %d\n%s", status, body)
	}
	tests := []struct{ step, want string }{
		{"outbound", `<option value="contoso_outbound default_profile" selected>`},
		{"inbound", `<option value="m365_inbound" selected>`},
		{"user", `value="m365.integration"`},
		{"repository", `value="contoso-snow"`},
		{"settings", `value="admin@contoso.onmicrosoft.com"`},
	}
	for _, tc := range tests {
		if status, body := get(t, c+"/setup?step="+tc.step); status != 200 || !strings.Contains(body, tc.want) {
			t.Errorf("step %s: %d, no %q in\n%s", tc.step, status, tc.want, body)
		}
	}
	// The admin center: contoso's admin signs in; the forms hold the
	// counterpart's Basic information and repository.
	status, body := get(t, c+"/admin-center")
	for _, want := range []string{"signed in as admin@contoso.onmicrosoft.com", `value="1f9c2e4a-6b8d-4f0e-a2c4-6e8a0c2e4f61"`,
		`value="contoso-snow"`, `<option selected>Basic Auth</option>`, `value="Snow-Integration-1!"`, `value="864000"`} {
		if status != 200 || !strings.Contains(body, want) || strings.Contains(body, `class="err"`) {
			t.Errorf("admin center: %d, no %q in\n%s", status, want, body)
		}
	}
}

// TestConsoleInducesTroubleshootingRows: the console lists the guide's
// rows with their worlds, and inducing row 9 on integrated-basic (through
// the sandbox's /__admin/troubleshooting, that is world.Induce) makes its
// symptom show on the incident tab and its diagnostic in the outbound
// HTTP log, where the guide says.
func TestConsoleInducesTroubleshootingRows(t *testing.T) {
	t.Parallel()
	w, out := start(t, "integrated-basic")
	c := consoleOf(t, out)
	status, body := get(t, c+"/troubleshooting")
	for _, want := range []string{`<h2 id="row-1">Row 1</h2>`, `<h2 id="row-16">Row 16</h2>`, `<h2 id="row-cross-scope">`,
		"Click the button for Microsoft recommended solutions but nothing shows up",
		`<input type="hidden" name="world" value="troubleshooting-9">`,
		"Nothing to induce: integrated-basic holds this cause as it is."} {
		if status != 200 || !strings.Contains(body, want) {
			t.Fatalf("GET /troubleshooting: %d, no %q\n%s", status, want, body)
		}
	}
	if i, j := strings.Index(body, `id="row-2"`), strings.Index(body, `id="row-10"`); i < 0 || j < i {
		t.Errorf("rows out of order: row 2 at %d, row 10 at %d", i, j)
	}
	solutions := url.Values{"as": {"david.miller"}, "action": {"solutions"}}
	if status, body := postForm(t, c+"/incident", solutions); status != 200 || strings.Contains(body, `id="nothing"`) || !strings.Contains(body, "<li><a href=") {
		t.Fatalf("before inducing, solutions show: %d\n%s", status, body)
	}
	status, body = postForm(t, c+"/troubleshooting", url.Values{"world": {"troubleshooting-9"}})
	if status != 200 || !strings.Contains(body, "Induced the cause of row 9") {
		t.Fatalf("induce row 9: %d\n%s", status, body)
	}
	// The row itself says so, beside its symptom button.
	if i, j, k := strings.Index(body, `id="row-9"`), strings.Index(body, "Induced: now open the symptom."), strings.Index(body, `id="row-10"`); i < 0 || j < i || j > k {
		t.Errorf("row 9 does not say it was induced (%d, %d, %d)", i, j, k)
	}
	// The guide's row 9: "nothing shows up".
	if status, body := postForm(t, c+"/incident", solutions); status != 200 || !strings.Contains(body, `id="nothing"`) || strings.Contains(body, `class="err"`) {
		t.Errorf("row 9's symptom: %d\n%s", status, body)
	}
	// Its diagnostic: the outbound HTTP log filtered on the token host
	// shows the token request refused for the wrong secret.
	if status, body := get(t, c+"/outbound?host=login.microsoftonline.com"); status != 200 || !strings.Contains(body, "<td>401</td>") || !strings.Contains(body, "AADSTS7000215") {
		t.Errorf("row 9's log entry: %d\n%s", status, body)
	}
	// Row 10 is a fault on the connector, induced the same way.
	if status, body := postForm(t, c+"/troubleshooting", url.Values{"world": {"troubleshooting-10"}}); status != 200 || len(w.M365.Faults().List()) != 1 {
		t.Errorf("induce row 10: %d %+v\n%s", status, w.M365.Faults().List(), body)
	}
	for _, tc := range []struct {
		world string
		want  int
	}{{"integrated-basic", 400}, {"troubleshooting-nope", 400}, {"../troubleshooting-9", 400}} {
		if status, body := postForm(t, c+"/troubleshooting", url.Values{"world": {tc.world}}); status != tc.want {
			t.Errorf("induce %q: %d, want %d\n%s", tc.world, status, tc.want, body)
		}
	}
}

// TestTroubleshootingEndpoint: the sandbox's own list of rows, in the
// guide's order, each with the world its inducements start from.
func TestTroubleshootingEndpoint(t *testing.T) {
	t.Parallel()
	rows, err := troubleshootingRows()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) < 17 || rows[0].World != "troubleshooting-1" || rows[8].World != "troubleshooting-9" || rows[len(rows)-1].World != "troubleshooting-cross-scope" {
		t.Fatalf("rows: %+v", rows)
	}
	for _, r := range rows {
		if r.StartsFrom != "integrated-basic" || r.Description == "" {
			t.Errorf("%s starts from %q (%q)", r.World, r.StartsFrom, r.Description)
		}
	}
	// Row 11 extends row 9: its inducements are row 9's.
	if len(rows[10].Induce) != 1 || rows[10].Induce[0] != rows[8].Induce[0] {
		t.Errorf("row 11's inducements %q, row 9's %q", rows[10].Induce, rows[8].Induce)
	}
}

// TestConsoleWalksEveryPrerequisitesWorld: in each prerequisites-* world,
// the console's Setup and admin center forms, posted with the values they
// start with, complete the integration — the guide's whole Setup by
// clicking, in every auth mode.
func TestConsoleWalksEveryPrerequisitesWorld(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"prerequisites-basic", "prerequisites-aad", "prerequisites-insights-only", "prerequisites-basic-multitenant"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			w, out := start(t, name)
			c := consoleOf(t, out)
			o := withGuide(consoleOptions(w, ""), w, name, nil)
			ch := o.Setup
			if ch == nil {
				t.Fatal("no Setup choices from the integrated-* counterpart")
			}
			on := func(b bool) string {
				if b {
					return "on"
				}
				return ""
			}
			steps := []struct {
				path string
				form url.Values
			}{
				{"/setup/scope", url.Values{}},
				{"/setup/consent", url.Values{"agree": {"yes"}}},
				{"/setup/outbound", url.Values{"profile": {ch.OutboundProfile}}},
				{"/setup/inbound", url.Values{"skip": {on(ch.InboundSkip)}, "externalOIDC": {on(ch.ExternalOIDC)}, "entity": {ch.InboundEntity}}},
				{"/setup/user", url.Values{"skip": {on(ch.UserSkip)}, "user": {ch.User}}},
				{"/setup/repository", url.Values{"repositoryId": {ch.RepositoryID}}},
				{"/setup/settings", url.Values{"sso": {on(ch.SSO)}, "adminEmail": {ch.AdminEmail}, "testEnvironment": {on(ch.TestEnvironment)}}},
			}
			for _, tn := range o.Tenants {
				if tn.ApplicationID == "" {
					continue
				}
				r := tn.Repository
				steps = append(steps,
					struct {
						path string
						form url.Values
					}{"/admin-center/basic", url.Values{"tenant": {tn.ID}, "internalSupportTool": {tn.InternalSupportTool}, "applicationId": {tn.ApplicationID}}},
					struct {
						path string
						form url.Values
					}{"/admin-center/repository", url.Values{"tenant": {tn.ID}, "id": {r.ID}, "endpoint": {r.Endpoint}, "authenticationType": {r.AuthenticationType},
						"clientId": {r.ClientID}, "clientSecret": {r.ClientSecret}, "refreshTokenExpiry": {fmt.Sprint(r.RefreshTokenExpiry)},
						"restUsername": {r.RestUsername}, "restUserPassword": {r.RestUserPassword}}})
			}
			steps = append(steps, struct {
				path string
				form url.Values
			}{"/setup/complete", url.Values{}})
			for _, st := range steps {
				if status, body := postForm(t, c+st.path, st.form); status != 200 || strings.Contains(body, `class="err"`) {
					t.Fatalf("POST %s %v: %d\n%s", st.path, st.form, status, body)
				}
			}
			if _, body := get(t, c+"/setup?step=complete"); !strings.Contains(body, `<strong id="state">complete</strong>`) {
				t.Errorf("after Next:\n%s", body)
			}
		})
	}
}

// TestConsoleWithAnAdminToken: with a token the console wants it once as
// ?token= (then a cookie), and its own calls — the fakes' control planes
// and the sandbox's /__admin/troubleshooting — carry it.
func TestConsoleWithAnAdminToken(t *testing.T) {
	t.Parallel()
	const token = "console-token-test"
	ctx, cancel := context.WithCancel(context.Background())
	var out, errOut syncBuffer
	ready := make(chan *world.World, 1)
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"--world", "integrated-basic", "--admin-token", token, "--snow-listen", "127.0.0.1:0", "--aad-listen", "127.0.0.1:0",
			"--m365-listen", "127.0.0.1:0", "--proxy-listen", "", "--listen", "127.0.0.1:0"}, &out, &errOut, func(w *world.World) { ready <- w })
	}()
	var w *world.World
	select {
	case w = <-ready:
	case code := <-done:
		t.Fatalf("sandbox exited with %d: %s", code, errOut.String())
	}
	defer func() {
		cancel()
		<-done
	}()
	m := regexp.MustCompile(`Console: (http://127\.0\.0\.1:\d+)/\?token=`).FindStringSubmatch(out.String())
	if m == nil {
		t.Fatalf("no console line in:\n%s", out.String())
	}
	c := m[1]
	if status, _ := get(t, c+"/troubleshooting"); status != http.StatusUnauthorized {
		t.Errorf("without the token: %d, want 401", status)
	}
	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar}
	resp, err := client.Get(c + "/troubleshooting?token=" + token)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || strings.Contains(string(b), `class="err"`) || !strings.Contains(string(b), `id="row-9"`) {
		t.Fatalf("with the token: %d\n%s", resp.StatusCode, b)
	}
	resp, err = client.PostForm(c+"/troubleshooting", url.Values{"world": {"troubleshooting-10"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || len(w.M365.Faults().List()) != 1 {
		t.Errorf("induce with the token: %d, faults %+v", resp.StatusCode, w.M365.Faults().List())
	}
}

// TestConsoleShowsEveryTroubleshootingRow: for every row of the guide's
// table, on integrated-basic, the console's Induce button and then its
// symptom button (or the steps the row needs first) show what the guide's
// Problem column says.
func TestConsoleShowsEveryTroubleshootingRow(t *testing.T) {
	t.Parallel()
	const (
		setupSteps = "Please contact your ServiceNow admin and ask them to complete the setup steps for the app."
		finalStep  = "Please contact your ServiceNow admin and ask them to complete the final set up step for the app."
		appSupport = "Please contact app support."
		nothing    = `id="nothing"`
		search     = "teams meetings drop"
	)
	as := func(user, action string, kv ...string) url.Values {
		v := url.Values{"as": {user}, "action": {action}}
		for i := 0; i+1 < len(kv); i += 2 {
			v.Set(kv[i], kv[i+1])
		}
		return v
	}
	link := as("beth.anglin", "link", "email", "admin@contoso.onmicrosoft.com")
	contact := as("beth.anglin", "contact")
	tests := []struct {
		row   string
		steps []url.Values // posted to /incident in order; the last shows the symptom
		get   string       // or a page to open instead
		want  string
	}{
		{row: "1", get: "/incident?as=abel.tuter", want: `id="no-tab"`},
		{row: "2", steps: []url.Values{as("david.miller", "solutions")}, want: setupSteps},
		{row: "3", steps: []url.Values{as("david.miller", "solutions")}, want: finalStep},
		{row: "4", steps: []url.Values{as("david.miller", "solutions", "searchText", search)}, want: setupSteps},
		{row: "5", steps: []url.Values{as("david.miller", "solutions", "searchText", search)}, want: finalStep},
		{row: "6", steps: []url.Values{contact}, want: setupSteps},
		{row: "7", steps: []url.Values{contact}, want: finalStep},
		{row: "8", steps: []url.Values{contact}, want: "beth.anglin@contoso.com is not a valid Microsoft 365 admin account. You need Microsoft 365 admin privileges to open a service request. In the app, link the admin account."},
		{row: "9", steps: []url.Values{as("david.miller", "solutions")}, want: nothing},
		{row: "10", steps: []url.Values{as("david.miller", "solutions")}, want: appSupport},
		{row: "11", steps: []url.Values{as("david.miller", "solutions", "searchText", search)}, want: nothing},
		{row: "12", steps: []url.Values{as("david.miller", "solutions", "searchText", search)}, want: appSupport},
		{row: "13", steps: []url.Values{link, contact}, want: "No message and no case: nothing happened."},
		{row: "14", steps: []url.Values{as("david.miller", "solutions")}, want: "<li>None saved.</li>"},
		{row: "15", steps: []url.Values{link, contact}, want: "<li>No cases.</li>"},
		{row: "16", steps: []url.Values{link, contact, as("beth.anglin", "details", "case", "CASE", "detail", "Severity", "value", "B")},
			want: "Unable to save ticket details. Please contact App Support."},
		{row: "cross-scope", get: "/setup", want: "has been refused due to the table&#39;s cross-scope access policy"},
	}
	caseNumber := regexp.MustCompile(`<strong id="case">([^<]+)</strong>`)
	for _, tc := range tests {
		t.Run("row "+tc.row, func(t *testing.T) {
			t.Parallel()
			_, out := start(t, "integrated-basic")
			c := consoleOf(t, out)
			status, body := postForm(t, c+"/troubleshooting", url.Values{"world": {"troubleshooting-" + tc.row}})
			if status != 200 || !strings.Contains(body, "Induced the cause of row "+tc.row) {
				t.Fatalf("induce: %d\n%s", status, body)
			}
			if tc.row == "cross-scope" {
				// Setup first asks to switch to the app's scope (the
				// guide's step 1); the refusal comes after.
				if status, body := postForm(t, c+"/setup/scope", url.Values{}); status >= 400 {
					t.Fatalf("switch: %d\n%s", status, body)
				}
			}
			if tc.get != "" {
				status, body = get(t, c+tc.get)
			}
			number := ""
			for _, form := range tc.steps {
				if form.Get("case") == "CASE" {
					form.Set("case", number)
				}
				status, body = postForm(t, c+"/incident", form)
				if m := caseNumber.FindStringSubmatch(body); m != nil {
					number = m[1]
				}
			}
			if status != 200 || !strings.Contains(body, tc.want) {
				t.Errorf("row %s: %d, no %q in\n%s", tc.row, status, tc.want, body)
			}
		})
	}
}

// TestConsoleOverTLS: with --tls the console is https:// and reaches the
// https:// parties and the sandbox's own address trusting the sandbox's CA.
func TestConsoleOverTLS(t *testing.T) {
	t.Parallel()
	caDir := t.TempDir()
	_, out := start(t, "integrated-basic", "--tls", "--ca-dir", caDir)
	m := regexp.MustCompile(`Console: (https://127\.0\.0\.1:\d+)/`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no https console in:\n%s", out)
	}
	pem, err := os.ReadFile(filepath.Join(caDir, localca.CertFile))
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	for _, page := range []string{"/", "/troubleshooting", "/admin-center", "/logs", "/incident", "/setup"} {
		resp, err := client.Get(m[1] + page)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || strings.Contains(string(b), `class="err"`) || strings.Contains(string(b), "certificate") {
			t.Errorf("GET %s over TLS: %d\n%s", page, resp.StatusCode, b)
		}
		// Every command the page prints trusts the CA, as the sandbox's
		// own printed commands do; without it curl refuses the fakes.
		text := html.UnescapeString(string(b))
		want := "curl -s --cacert " + filepath.Join(caDir, localca.CertFile) + " "
		if n, trusted := strings.Count(text, "curl -s"), strings.Count(text, want); n != trusted {
			t.Errorf("GET %s: %d of %d printed commands do not start %q", page, n-trusted, n, want)
		}
		if page == "/" {
			m := regexp.MustCompile(`(?m)(curl -s --cacert \S+ -b '[^']+' -H 'X-UserToken: [^']+' -X GET 'https://[^']+/api/now/table/oauth_entity[^']*')`).FindStringSubmatch(text)
			if m == nil {
				t.Fatalf("no OAuth entities command on the world page:\n%s", text)
			}
			if _, err := exec.LookPath("curl"); err != nil {
				t.Logf("not run: the world page's command as printed needs curl (%v)", err)
				continue
			}
			cmd := exec.Command("bash", "-c", m[1])
			cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()} // no CA bundle or proxy from the environment
			got, err := cmd.CombinedOutput()
			if err != nil || !strings.Contains(string(got), `"client_id":`) {
				t.Errorf("the world page's command as printed: %v\n%s\n%s", err, m[1], got)
			}
		}
	}
}

// TestConsoleInduceOnAWorldWithoutTheCause: a row whose cause needs records
// the running world lacks is refused on the page, with the sandbox's reason.
func TestConsoleInduceOnAWorldWithoutTheCause(t *testing.T) {
	t.Parallel()
	_, out := start(t, "prerequisites-basic")
	c := consoleOf(t, out)
	status, body := postForm(t, c+"/troubleshooting", url.Values{"world": {"troubleshooting-2"}})
	if status != http.StatusBadRequest || !strings.Contains(body, `<p class="err" role="alert">inducing troubleshooting-2`) ||
		!strings.Contains(body, "no x_mioms_m365_assis_setting record where admin_emailISNOTEMPTY") || !strings.Contains(body, `id="row-2"`) {
		t.Errorf("row 2 on prerequisites-basic: %d\n%s", status, body)
	}
}

// TestWorldPageCurlsWork runs the World page's Table API commands as a
// person would paste them, in the world that refuses Basic
// (prerequisites-insights-only: m365snow.inbound.basic_auth.allowed=false),
// where the -u commands the page used to print answered 401.
func TestWorldPageCurlsWork(t *testing.T) {
	t.Parallel()
	_, out := start(t, "prerequisites-insights-only")
	status, page := get(t, consoleOf(t, out)+"/")
	if status != http.StatusOK {
		t.Fatalf("world page: %d\n%s", status, page)
	}
	page = html.UnescapeString(page)
	if strings.Contains(page, "curl -s -u") {
		t.Error("the world page prints a Basic (-u) command in a world that refuses Basic")
	}
	curls := regexp.MustCompile(`curl -s -b 'JSESSIONID=([^']+)' -H 'X-UserToken: ([^']+)' -X GET '([^']+/api/now/table/[^']+)'`).FindAllStringSubmatch(page, -1)
	if len(curls) < 3 { // at least a user, the OAuth entities, the OIDC configurations
		t.Fatalf("%d Table API commands on the world page:\n%s", len(curls), page)
	}
	for _, m := range curls {
		req, _ := http.NewRequest("GET", m[3], nil)
		req.AddCookie(&http.Cookie{Name: "JSESSIONID", Value: m[1]})
		req.Header.Set("X-UserToken", m[2])
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !strings.HasPrefix(string(b), `{"result":[`) {
			t.Errorf("%s: %d %.200s", m[3], resp.StatusCode, b)
		}
	}
}
