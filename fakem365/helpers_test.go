package fakem365_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/m365snow/m365snow/fakeaad"
	"github.com/m365snow/m365snow/fakem365"
	"github.com/m365snow/m365snow/fakem365/contracttest"
	"github.com/m365snow/m365snow/internal/clock"
	"github.com/m365snow/m365snow/internal/fixture"
	"github.com/m365snow/m365snow/internal/hostmap"
	"github.com/m365snow/m365snow/internal/wellknown"
)

const (
	contoso   = "8b6a7f0e-3c2d-4e5f-9a1b-2c3d4e5f6a7b"
	fabrikam  = "4d3c2b1a-0f9e-4d8c-b7a6-5f4e3d2c1b0a"
	outbound  = "1f9c2e4a-6b8d-4f0e-a2c4-6e8a0c2e4f61"
	otherApp  = "7a6b5c4d-3e2f-4a1b-9c8d-7e6f5a4b3c2d"
	restAPI   = "3a5c7e9b-1d3f-4a5c-8e7a-9c1e3a5c7e92"
	restUser  = "5b7d9f1c-3e5a-4c7e-9a1c-3e5a7c9e1b83"
	fabOut    = "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
	inboundID = "0c4f5a6b7d8e9f0a1b2c3d4e5f6a7b8c"
	endpoint  = "https://dev12345.service-now.com/api/x_mioms_m365_assis/v1/inbound"
)

type env struct {
	m365   *fakem365.Server
	aad    *fakeaad.Server
	clock  *clock.Manual
	client *http.Client
	snow   *contracttest.StandIn
	hosts  *hostmap.Map
}

func newEnv(t testing.TB) *env {
	t.Helper()
	e := &env{clock: clock.NewManual(clock.Epoch), hosts: hostmap.New()}
	e.client = e.hosts.Client(nil)
	world, err := fixture.Load(os.DirFS("testdata"), "world")
	if err != nil {
		t.Fatal(err)
	}
	af, err := fakeaad.ParseFixture(&world.AAD)
	if err != nil {
		t.Fatal(err)
	}
	e.aad, err = fakeaad.New(fakeaad.Options{PublicURL: "https://login.microsoftonline.com", Clock: e.clock, Fixture: af})
	if err != nil {
		t.Fatal(err)
	}
	mf, err := fakem365.ParseFixture(&world.M365)
	if err != nil {
		t.Fatal(err)
	}
	e.m365, err = fakem365.New(fakem365.Options{Clock: e.clock, Transport: &hostmap.Transport{Map: e.hosts}, Fixture: mf})
	if err != nil {
		t.Fatal(err)
	}
	e.snow = contracttest.NewStandIn(e.client, e.clock)
	e.snow.ClientID, e.snow.ClientSecret, e.snow.UserName, e.snow.Password = inboundID, "inbound-secret", "m365.integration", "integration-pw"
	e.snow.MetadataURL, e.snow.RestAPI, e.snow.RestUser = "https://login.microsoftonline.com/"+contoso+"/.well-known/openid-configuration", restAPI, restUser
	for host, h := range map[string]http.Handler{"login.microsoftonline.com": e.aad, "graph.microsoft.com": e.aad,
		"connector.rave.microsoft.com": e.m365, "admin.microsoft.com": e.m365, "dev12345.service-now.com": e.snow} {
		ts := httptest.NewServer(h)
		t.Cleanup(ts.Close)
		if err := e.hosts.Set(host, ts.URL); err != nil {
			t.Fatal(err)
		}
	}
	return e
}

type resp struct {
	status int
	body   map[string]any
	raw    string
}

func (e *env) do(t testing.TB, method, rawURL, token string, body any) resp {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = strings.NewReader(string(b))
	}
	req, _ := http.NewRequestWithContext(context.Background(), method, rawURL, rd)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := e.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	out := resp{status: res.StatusCode, raw: string(b)}
	_ = json.Unmarshal(b, &out.body)
	return out
}

func (e *env) aadToken(t testing.TB, tenant string, form url.Values) string {
	t.Helper()
	res, err := e.client.PostForm("https://login.microsoftonline.com/"+tenant+"/oauth2/token", form)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var body map[string]any
	_ = json.NewDecoder(res.Body).Decode(&body)
	tok, _ := body["access_token"].(string)
	if tok == "" {
		t.Fatalf("no token: %v", body)
	}
	return tok
}

// adminToken is a user token for the admin portal.
func (e *env) adminToken(t testing.TB, upn, pw string) string {
	tenant := strings.SplitN(upn, "@", 2)[1]
	return e.aadToken(t, tenant, url.Values{"grant_type": {"password"}, "client_id": {wellknown.AzureCLIAppID},
		"username": {upn}, "password": {pw}, "resource": {wellknown.AdminPortalResource}})
}

// appToken is an app token for the connector.
func (e *env) appToken(t testing.TB, tenant, appID, secret, resource string) string {
	return e.aadToken(t, tenant, url.Values{"grant_type": {"client_credentials"}, "client_id": {appID}, "client_secret": {secret}, "resource": {resource}})
}

func portal(tenant string) string {
	return "https://admin.microsoft.com/api/tenants/" + tenant + "/supportIntegration"
}

func connector(repo string) string {
	return "https://connector.rave.microsoft.com/api/v1/repositories/" + repo
}

func wantAPIError(t testing.TB, r resp, status int, code, contains string) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d: %s", r.status, status, r.raw)
	}
	e, _ := r.body["error"].(map[string]any)
	if e["code"] != code || !strings.Contains(e["message"].(string), contains) {
		t.Fatalf("error %v, want %s containing %q", e, code, contains)
	}
}

// integrate performs the M365 admin's part: Organization profile and a
// repository of the given authentication type.
func (e *env) integrate(t testing.TB, authType string) {
	t.Helper()
	admin := e.adminToken(t, "admin@contoso.onmicrosoft.com", "admin-pw")
	if r := e.do(t, "PUT", portal(contoso), admin, map[string]string{"internalSupportTool": "ServiceNow", "applicationId": outbound}); r.status != 200 {
		t.Fatalf("profile: %d %s", r.status, r.raw)
	}
	repo := map[string]any{"endpoint": endpoint, "authenticationType": authType, "clientId": inboundID, "clientSecret": "inbound-secret",
		"refreshTokenExpiry": 864000, "restUsername": "m365.integration", "restUserPassword": "integration-pw"}
	if authType == "AAD Auth" {
		repo = map[string]any{"endpoint": endpoint, "authenticationType": authType, "clientId": restAPI, "restUsername": restUser, "restUserPassword": "rest-user-secret"}
	}
	if r := e.do(t, "PUT", portal(contoso)+"/repositories/contoso-snow", admin, repo); r.status != 201 {
		t.Fatalf("repository: %d %s", r.status, r.raw)
	}
}

func (e *env) handshake(t testing.TB, mode, clientID, user string) resp {
	t.Helper()
	tok := e.appToken(t, contoso, outbound, "outbound-secret", wellknown.ConnectorResource)
	return e.do(t, "POST", connector("contoso-snow")+"/handshake", tok, map[string]any{
		"instanceUrl": "https://dev12345.service-now.com", "endpoint": endpoint, "inboundMode": mode, "outboundAppId": outbound,
		"clientId": clientID, "userName": user, "adminEmail": "megan@contoso.com", "sso": false, "testEnvironment": true})
}
