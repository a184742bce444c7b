package main

import (
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"strings"

	"github.com/m365snow/m365snow/fakesnow"
	"github.com/m365snow/m365snow/fakesnow/m365app"
	"github.com/m365snow/m365snow/internal/adminapi"
	"github.com/m365snow/m365snow/internal/wellknown"
	"github.com/m365snow/m365snow/world"
)

// A call is one step of the printed walk-through. The same value is
// rendered as a curl command for people and executed by the tests, so the
// commands a newcomer copies are the ones that are known to work.
type call struct {
	Note   string
	Method string
	URL    string // at a listen address
	Form   []field
	JSON   any
	// Login opens the UI session kept in the cookie jar; Token reads the
	// session's token (g_ck) from a UI page into $G_CK; Session sends the
	// cookie and the token as X-UserToken, as the instance's own pages do:
	// a real instance refuses a REST call with the cookie alone (KB0565021).
	Login, Token, Session bool
	// Bearer names the shell variable holding the token to send.
	Bearer string
	// Capture names the shell variable the answer's access_token (or
	// Field) goes to.
	Capture, Field string
	// Basic signs the call as "user:password" (curl -u), as an end user's
	// REST call may be.
	Basic string
	// Shows and Lacks are what the answer holds and does not hold: a
	// troubleshooting world's symptom before its fix, and after it. The
	// tests check them; the printed note says them.
	Shows, Lacks string
	// Want is the status the step answers with.
	Want int
	// CAFile, when the sandbox serves HTTPS (--tls), is the CA the
	// command trusts (curl --cacert), and nothing else.
	CAFile string
}

type field struct{ k, v string }

const jar = "m365snow.jar"

// walkthrough builds the steps that fit the world's state.
func walkthrough(w *world.World, name string) ([]call, error) {
	admin, ok := snowUser(w, "admin")
	if !ok {
		return nil, fmt.Errorf("the world has no ServiceNow admin with a password")
	}
	snow := w.SnowURL
	incident := "INC0010001"
	steps := []call{
		{Note: "Sign in to the instance as admin (a UI session, kept in " + jar + ")", Method: "POST", URL: snow + "/login.do",
			Form: []field{{"user_name", admin.UserName}, {"user_password", admin.Password}}, Login: true, Want: 302},
		{Note: "Open the UI: its page carries the session's token (g_ck), which REST calls of the session send as X-UserToken",
			Method: "GET", URL: snow + "/navpage.do", Session: true, Token: true, Want: 200},
		{Note: "Table API: the incidents", Method: "GET", Session: true, Want: 200,
			URL: snow + "/api/now/table/incident?sysparm_fields=number,short_description,caller_id&sysparm_limit=3"},
	}
	if w.Snow.App() == nil {
		return steps, nil
	}
	if strings.HasPrefix(name, "troubleshooting-") {
		// The generic steps would fail where the induced cause bites and
		// mislead: the symptom where end users meet it, the diagnostics
		// the guide names, the fix, and the symptom gone.
		rows, err := troubleshootingWalk(w, name)
		return append(steps, rows...), err
	}
	// Setup as the instance has it now: a saved world, or one whose
	// inducements changed it, describes itself as it is.
	setup, err := w.Snow.App().Walked()
	if err != nil {
		return nil, err
	}
	if setup == nil || !setup.HandshakeCompleted {
		steps = append(steps,
			call{Note: "Switch the current application to Microsoft 365 support integration", Method: "PUT", Session: true, Want: 200,
				URL: snow + "/api/now/ui/concoursepicker/application", JSON: map[string]string{"app_id": m365app.ScopeSysID}},
			call{Note: "Open Microsoft 365 Support > Setup: the steps walked so far", Method: "GET", Session: true, Want: 200,
				URL: snow + "/api/x_mioms_m365_assis/v1/setup/"},
			call{Note: "Recommended solutions on " + incident + " say what is missing", Method: "POST", Session: true, Want: 200,
				URL: snow + "/api/x_mioms_m365_assis/v1/incidents/" + incident + "/solutions"},
		)
		walk, walked, err := setupWalk(w, name)
		if err != nil || len(walk) == 0 {
			return steps, err
		}
		// Walked, the world works as its integrated counterpart does.
		steps = append(steps, walk...)
		setup = walked
	}
	return integrated(w, steps, setup)
}

// integrated adds the steps that show a set-up integration working: the
// Insights tab, the app's outbound token and connector call, and Microsoft
// calling in the way setup prescribes.
func integrated(w *world.World, steps []call, setup *m365app.SetupFixture) ([]call, error) {
	snow, aad, m365 := w.SnowURL, w.AADURL, w.M365URL
	incident := "INC0010001"
	steps = append(steps, call{Note: "Microsoft 365 Insights on " + incident + ": recommended solutions from its short description",
		Method: "POST", Session: true, Want: 200, URL: snow + "/api/x_mioms_m365_assis/v1/incidents/" + incident + "/solutions"})

	// Under the hood: the app's outbound token and connector call, with
	// the entity as the instance has it now.
	out, ok := liveEntity(w, strings.TrimSuffix(setup.OutboundProfile, " default_profile"))
	if ok && out.TokenURL != "" {
		tu, err := url.Parse(out.TokenURL)
		if err != nil {
			return nil, err
		}
		steps = append(steps,
			call{Note: "What the app does first: a client-credentials token from Azure AD with the outbound OAuth provider's credentials",
				Method: "POST", URL: aad + tu.Path, Capture: "OUT_TOKEN", Want: 200,
				Form: []field{{"grant_type", "client_credentials"}, {"client_id", out.ClientID}, {"client_secret", out.ClientSecret}, {"resource", wellknown.ConnectorResource}}},
			call{Note: "…and then the support connector, searching solutions for typed text", Method: "POST", Bearer: "OUT_TOKEN", Want: 200,
				URL:  m365 + "/api/v1/repositories/" + url.PathEscape(setup.RepositoryID) + "/solutions/search",
				JSON: map[string]string{"query": "teams meetings drop"}})
	}

	// Inbound: how Microsoft calls the instance in this world's mode.
	ping := snow + "/api/x_mioms_m365_assis/v1/inbound/ping"
	in := setup.Inbound
	switch {
	case in == nil || in.Skip:
		steps = append(steps, call{Note: "Insights only: the instance takes no inbound call, not even with a valid session",
			Method: "GET", Session: true, URL: ping, Want: 403})
	case in.ExternalOIDC:
		api, _ := liveEntity(w, in.Entity)
		user := setup.IntegrationUser.User
		secrets := world.AppSecrets(w.AADFixture, user)
		if len(secrets) == 0 {
			return nil, fmt.Errorf("no secret for the Rest User app %s", user)
		}
		tenant := tenantOf(out.TokenURL)
		steps = append(steps,
			call{Note: "Microsoft calling in (AAD mode): a token of the Rest User app for the Rest API app",
				Method: "POST", URL: aad + "/" + tenant + "/oauth2/token", Capture: "IN_TOKEN", Want: 200,
				Form: []field{{"grant_type", "client_credentials"}, {"client_id", user}, {"client_secret", secrets[0]}, {"resource", api.ClientID}}},
			call{Note: "…accepted by the app's inbound API", Method: "GET", URL: ping, Bearer: "IN_TOKEN", Want: 200})
	default:
		client, _ := liveEntity(w, in.Entity)
		user, _ := snowUser(w, setup.IntegrationUser.User)
		steps = append(steps,
			call{Note: "Microsoft calling in (Basic mode): the integration user's password grant at the instance",
				Method: "POST", URL: snow + "/oauth_token.do", Capture: "IN_TOKEN", Want: 200,
				Form: []field{{"grant_type", "password"}, {"client_id", client.ClientID}, {"client_secret", client.ClientSecret},
					{"username", user.UserName}, {"password", user.Password}}},
			call{Note: "…accepted by the app's inbound API", Method: "GET", URL: ping, Bearer: "IN_TOKEN", Want: 200})
	}
	return steps, nil
}

// snowUser reads a user with a password from the running instance.
func snowUser(w *world.World, name string) (fakesnow.UserFixture, bool) {
	for _, u := range snowUsers(w) {
		if u.UserName == name {
			return u, true
		}
	}
	return fakesnow.UserFixture{}, false
}

// snowUsers are the instance's users that have a password, with their
// roles, as the instance holds them now.
func snowUsers(w *world.World) []fakesnow.UserFixture {
	inst := w.Snow.Instance()
	users, err := inst.Query("sys_user", "ORDERBYuser_name")
	if err != nil {
		return nil
	}
	roleName := map[string]string{}
	if roles, err := inst.Query("sys_user_role", ""); err == nil {
		for _, r := range roles {
			roleName[r["sys_id"]] = r["name"]
		}
	}
	held := map[string][]string{}
	if grants, err := inst.Query("sys_user_has_role", "ORDERBYsys_created_on"); err == nil {
		for _, g := range grants {
			if g["state"] == "" || g["state"] == "active" {
				held[g["user"]] = append(held[g["user"]], roleName[g["role"]])
			}
		}
	}
	var out []fakesnow.UserFixture
	for _, u := range users {
		if u["user_password"] == "" {
			continue
		}
		out = append(out, fakesnow.UserFixture{UserName: u["user_name"], Password: u["user_password"], Roles: held[u["sys_id"]],
			WebServiceAccessOnly: u["web_service_access_only"] == "true"})
	}
	return out
}

// liveEntity reads an OAuth entity from the running instance.
func liveEntity(w *world.World, name string) (fakesnow.OAuthEntityFixture, bool) {
	rec, err := w.Snow.Instance().First("oauth_entity", "name="+name)
	if err != nil || rec == nil {
		return fakesnow.OAuthEntityFixture{}, false
	}
	return fakesnow.OAuthEntityFixture{Name: rec["name"], Type: rec["type"], ClientID: rec["client_id"],
		ClientSecret: rec["client_secret"], TokenURL: rec["token_url"]}, true
}

// tenantOf reads the tenant segment of an Azure AD token URL.
func tenantOf(tokenURL string) string {
	u, err := url.Parse(tokenURL)
	if err != nil {
		return "common"
	}
	seg := strings.Split(strings.Trim(u.Path, "/"), "/")
	return seg[0]
}

// curl renders a call as a bash command.
func (c call) curl() string {
	var b strings.Builder
	b.WriteString("curl -s" + cacert(c.CAFile))
	switch {
	case c.Login:
		b.WriteString(" -c " + jar + " -o /dev/null -w '%{http_code}\\n'")
	case c.Token:
		b.WriteString(" -b " + jar)
	case c.Session:
		b.WriteString(" -b " + jar + ` -H "X-UserToken: $G_CK"`)
	}
	switch c.Bearer {
	case "":
	case adminapi.TokenEnv:
		// Empty when the sandbox runs without a token, which the
		// control plane then does not ask for.
		b.WriteString(` -H "Authorization: Bearer ${` + c.Bearer + `:-}"`)
	default:
		b.WriteString(` -H "Authorization: Bearer $` + c.Bearer + `"`)
	}
	if c.Basic != "" {
		b.WriteString(" -u " + shellQuote(c.Basic))
	}
	if c.Method != "GET" && (c.Method != "POST" || (c.Form == nil && c.JSON == nil)) {
		b.WriteString(" -X " + c.Method)
	}
	b.WriteString(" " + shellWord(c.URL))
	for _, f := range c.Form {
		b.WriteString(" \\\n    --data-urlencode " + shellQuote(f.k+"="+f.v))
	}
	if c.JSON != nil {
		js, _ := json.Marshal(c.JSON)
		b.WriteString(" -H 'Content-Type: application/json' -d " + shellQuote(string(js)))
	}
	if c.Token {
		return "G_CK=$(" + b.String() + " \\\n    | sed -nE \"s/.*g_ck = '([^']+)'.*/\\1/p\"); echo \"$G_CK\""
	}
	if c.Capture != "" {
		return c.Capture + "=$(" + b.String() + " \\\n    | sed -E 's/.*\"" + c.field() + "\":\"([^\"]+)\".*/\\1/'); echo \"$" + c.Capture + "\" | cut -c1-60"
	}
	return b.String()
}

// field is the JSON member Capture reads.
func (c call) field() string {
	if c.Field != "" {
		return c.Field
	}
	return "access_token"
}

// cacert is curl's option to trust caFile, or nothing for plain HTTP.
func cacert(caFile string) string {
	if caFile == "" {
		return ""
	}
	return " --cacert " + shellQuote(caFile)
}

// trusting has steps trust caFile (--tls).
func trusting(steps []call, caFile string) []call {
	for i := range steps {
		steps[i].CAFile = caFile
	}
	return steps
}

// shellVar is a shell variable a URL may name ($CASE).
var shellVar = regexp.MustCompile(`\$[A-Z_]+`)

// shellWord quotes s for bash, leaving its $VARIABLES to expand.
func shellWord(s string) string {
	var b strings.Builder
	last := 0
	for _, m := range shellVar.FindAllStringIndex(s, -1) {
		if m[0] > last {
			b.WriteString(shellQuote(s[last:m[0]]))
		}
		b.WriteString(`"` + s[m[0]:m[1]] + `"`)
		last = m[1]
	}
	if last < len(s) || last == 0 {
		b.WriteString(shellQuote(s[last:]))
	}
	return b.String()
}

// shellQuote single-quotes s for bash.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
