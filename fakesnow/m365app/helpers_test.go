package m365app_test

import (
	"net/url"
	"strings"
	"sync"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/m365snow/m365snow/fixtures"
	"github.com/m365snow/m365snow/internal/fixture"
	"github.com/m365snow/m365snow/internal/wellknown"
	"github.com/m365snow/m365snow/world"
)

const (
	contoso   = "8b6a7f0e-3c2d-4e5f-9a1b-2c3d4e5f6a7b"
	outbound  = "1f9c2e4a-6b8d-4f0e-a2c4-6e8a0c2e4f61"
	restAPI   = "3a5c7e9b-1d3f-4a5c-8e7a-9c1e3a5c7e92"
	restUser  = "5b7d9f1c-3e5a-4c7e-9a1c-3e5a7c9e1b83"
	inboundID = "0c4f5a6b7d8e9f0a1b2c3d4e5f6a7b8c"
	appSysID  = "6d05c93f1b7784507ddd4227cc4bcb9f"
	endpoint  = "https://dev12345.service-now.com/api/x_mioms_m365_assis/v1/inbound"
)

var passwords = map[string]string{
	"admin": "Snow-Admin-1!", "beth.anglin": "Snow-Beth-1!", "abel.tuter": "Snow-Abel-1!",
	"david.miller": "Snow-David-1!", "fred.luddy": "Snow-Fred-1!", "m365.integration": "Snow-Integration-1!",
}

type env struct {
	t        *testing.T
	w        *world.World
	mu       sync.Mutex
	sessions map[string]*world.UISession
}

// start runs a shipped world, optionally laid over with YAML.
func start(t *testing.T, name, overlay string) *env {
	t.Helper()
	f, err := fixture.Load(fixtures.FS, name)
	if err != nil {
		t.Fatal(err)
	}
	if overlay != "" {
		var n yaml.Node
		if err := yaml.Unmarshal([]byte(overlay), &n); err != nil {
			t.Fatal(err)
		}
		f.Snow = fixture.MergeNode(f.Snow, *n.Content[0])
	}
	w, err := world.Start(world.Options{Fixture: f})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	return &env{t: t, w: w, sessions: map[string]*world.UISession{}}
}

// as signs in through the UI, which works whatever the basic-auth property.
func (e *env) as(user string) world.Auth {
	e.t.Helper()
	e.mu.Lock()
	defer e.mu.Unlock()
	if ck := e.sessions[user]; ck != nil {
		return world.Session(ck)
	}
	ck, err := e.w.Login(user, passwords[user])
	if err != nil {
		e.t.Fatal(err)
	}
	e.sessions[user] = ck
	return world.Session(ck)
}

func (e *env) do(method, path string, auth world.Auth, body any) *world.Response {
	e.t.Helper()
	target := path
	if strings.HasPrefix(path, "/") {
		target = e.w.InstanceURL + path
	}
	r, err := e.w.Do(method, target, auth, body)
	if err != nil {
		e.t.Fatal(err)
	}
	return r
}

func (e *env) setup(method, step string, body any) *world.Response {
	return e.do(method, "/api/x_mioms_m365_assis/v1/setup"+step, e.as("admin"), body)
}

func (e *env) switchToApp() {
	e.t.Helper()
	if r := e.do("PUT", "/api/now/ui/concoursepicker/application", e.as("admin"), map[string]string{"app_id": appSysID}); r.Status != 200 {
		e.t.Fatalf("switching application: %s", r)
	}
}

// action runs an incident action as user and returns its result.
func (e *env) action(user, method, incident, action string, body any) map[string]any {
	e.t.Helper()
	r := e.do(method, "/api/x_mioms_m365_assis/v1/incidents/"+incident+"/"+action, e.as(user), body)
	if r.Status != 200 {
		e.t.Fatalf("%s %s as %s: %s", action, incident, user, r)
	}
	return r.Result()
}

func messages(res map[string]any) []string {
	var out []string
	list, _ := res["messages"].([]any)
	for _, m := range list {
		out = append(out, m.(map[string]any)["text"].(string))
	}
	return out
}

func wantMessages(t *testing.T, res map[string]any, want ...string) {
	t.Helper()
	got := messages(res)
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("messages %q, want %q (result %v)", got, want, res)
	}
}

func wantError(t *testing.T, r *world.Response, status int, message string) {
	t.Helper()
	if r.Status != status || r.ErrorMessage() != message {
		t.Fatalf("want %d %q, got %s", status, message, r)
	}
}

// m365Admin is a token of Contoso's Global Administrator for the admin portal.
func (e *env) m365Admin() world.Auth {
	tok, err := e.w.AADToken("contoso.onmicrosoft.com", url.Values{"grant_type": {"password"}, "client_id": {wellknown.AzureCLIAppID},
		"username": {"admin@contoso.onmicrosoft.com"}, "password": {"Contoso-Admin-1!"}, "resource": {wellknown.AdminPortalResource}})
	if err != nil {
		e.t.Fatal(err)
	}
	return world.Bearer(tok)
}

// integrateM365 is the M365 admin's part of the guide's step 9.
func (e *env) integrateM365(repo map[string]any) {
	e.t.Helper()
	base := "https://admin.microsoft.com/api/tenants/contoso.onmicrosoft.com/supportIntegration"
	if r := e.do("PUT", base, e.m365Admin(), map[string]string{"internalSupportTool": "ServiceNow", "applicationId": outbound}); r.Status != 200 {
		e.t.Fatalf("profile: %s", r)
	}
	if r := e.do("PUT", base+"/repositories/contoso-snow", e.m365Admin(), repo); r.Status/100 != 2 {
		e.t.Fatalf("repository: %s", r)
	}
}

// syslog returns the app's log messages.
func (e *env) syslog() []string {
	rows, err := e.w.Snow.Instance().Query("syslog", "sourceLIKEx_mioms_m365_assis")
	if err != nil {
		e.t.Fatal(err)
	}
	var out []string
	for _, r := range rows {
		out = append(out, r["message"])
	}
	return out
}

func (e *env) logged(substr string) bool {
	for _, m := range e.syslog() {
		if strings.Contains(m, substr) {
			return true
		}
	}
	return false
}
