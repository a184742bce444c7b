package fakeaad

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/m365snow/m365snow/internal/clock"
)

// Two tenants: Contoso holds the apps the guide asks for, Fabrikam exists to
// prove that tenants do not leak into each other.
const testFixture = `
tenants:
  - id: 8b6a7f0e-3c2d-4e5f-9a1b-2c3d4e5f6a7b
    displayName: Contoso
    domains: [contoso.onmicrosoft.com]
    users:
      - userPrincipalName: admin@contoso.onmicrosoft.com
        displayName: Megan Bowen
        givenName: Megan
        surname: Bowen
        mail: megan@contoso.com
        password: admin-pw
        roles: [Global Administrator]
      - userPrincipalName: helpdesk@contoso.onmicrosoft.com
        displayName: Alex Wilber
        password: helpdesk-pw
        roles: [Helpdesk Administrator]
      - userPrincipalName: lynne@contoso.onmicrosoft.com
        displayName: Lynne Robbins
        password: lynne-pw
      - userPrincipalName: gone@contoso.onmicrosoft.com
        password: gone-pw
        accountEnabled: false
    applications:
      - appId: 1f9c2e4a-6b8d-4f0e-a2c4-6e8a0c2e4f61
        displayName: Outbound
        passwordCredentials:
          - secret: outbound-secret
          - secret: short-lived
            endDateTime: "2026-03-02T10:00:00Z"
      - appId: 3a5c7e9b-1d3f-4a5c-8e7a-9c1e3a5c7e92
        displayName: Rest API
        passwordCredentials:
          - secret: restapi-secret
      - appId: 5b7d9f1c-3e5a-4c7e-9a1c-3e5a7c9e1b83
        displayName: Rest User
        passwordCredentials:
          - secret: restuser-secret
      - appId: 7e9f1a2b-3c4d-4e5f-8a9b-0c1d2e3f4a5b
        displayName: Modern API
        identifierUris: [api://modern]
        accessTokenVersion: 2
      - appId: 9a8b7c6d-5e4f-4a3b-2c1d-0e9f8a7b6c5d
        displayName: Registered without principal
        servicePrincipal: false
        passwordCredentials:
          - secret: nosp-secret
      - appId: 2c4e6a8b-0d2f-4a6c-8e0a-2c4e6a8b0d2f
        displayName: Multi-tenant tool
        signInAudience: AzureADMultipleOrgs
        passwordCredentials:
          - secret: multi-secret
      - appId: 6f5e4d3c-2b1a-4098-8765-43210fedcba9
        displayName: Shared API
        signInAudience: AzureADMultipleOrgs
        identifierUris: [api://shared]
        accessTokenVersion: 2
  - id: 4d3c2b1a-0f9e-4d8c-b7a6-5f4e3d2c1b0a
    displayName: Fabrikam
    domains: [fabrikam.onmicrosoft.com]
    users:
      - userPrincipalName: admin@fabrikam.onmicrosoft.com
        password: fab-pw
        roles: [Service Support Administrator]
    servicePrincipals:
      - appId: 2c4e6a8b-0d2f-4a6c-8e0a-2c4e6a8b0d2f
      - appId: 6f5e4d3c-2b1a-4098-8765-43210fedcba9
`

const (
	contosoID  = "8b6a7f0e-3c2d-4e5f-9a1b-2c3d4e5f6a7b"
	fabrikamID = "4d3c2b1a-0f9e-4d8c-b7a6-5f4e3d2c1b0a"
	outboundID = "1f9c2e4a-6b8d-4f0e-a2c4-6e8a0c2e4f61"
	restAPIID  = "3a5c7e9b-1d3f-4a5c-8e7a-9c1e3a5c7e92"
	restUserID = "5b7d9f1c-3e5a-4c7e-9a1c-3e5a7c9e1b83"
	modernID   = "7e9f1a2b-3c4d-4e5f-8a9b-0c1d2e3f4a5b"
	noSPID     = "9a8b7c6d-5e4f-4a3b-2c1d-0e9f8a7b6c5d"
	multiID    = "2c4e6a8b-0d2f-4a6c-8e0a-2c4e6a8b0d2f"
	sharedID   = "6f5e4d3c-2b1a-4098-8765-43210fedcba9"
	cliID      = "04b07795-8ddb-461a-bbee-02f9e1bf7b46"
	connector  = "https://connector.rave.microsoft.com"
)

func testFixtureValue(t testing.TB) *Fixture {
	t.Helper()
	var n yaml.Node
	if err := yaml.Unmarshal([]byte(testFixture), &n); err != nil {
		t.Fatal(err)
	}
	f, err := ParseFixture(n.Content[0])
	if err != nil {
		t.Fatal(err)
	}
	return f
}

type testEnv struct {
	srv   *Server
	ts    *httptest.Server
	clock *clock.Manual
}

// newEnv serves a fresh fake on 127.0.0.1:0; the public URL is the listen
// URL unless tls is set, in which case the server speaks HTTPS.
func newEnv(t testing.TB, tls bool) *testEnv {
	t.Helper()
	env := &testEnv{clock: clock.NewManual(clock.Epoch)}
	var h http.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { env.srv.ServeHTTP(w, r) })
	if tls {
		env.ts = httptest.NewTLSServer(h)
	} else {
		env.ts = httptest.NewServer(h)
	}
	t.Cleanup(env.ts.Close)
	srv, err := New(Options{PublicURL: env.ts.URL, Clock: env.clock, Fixture: testFixtureValue(t)})
	if err != nil {
		t.Fatal(err)
	}
	env.srv = srv
	return env
}

type response struct {
	status int
	header http.Header
	body   map[string]any
	raw    string
}

func (e *testEnv) do(t testing.TB, req *http.Request) response {
	t.Helper()
	resp, err := e.ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	out := response{status: resp.StatusCode, header: resp.Header, raw: string(b)}
	d := json.NewDecoder(strings.NewReader(string(b)))
	d.UseNumber()
	_ = d.Decode(&out.body)
	return out
}

func (e *testEnv) post(t testing.TB, path string, form url.Values) response {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, e.ts.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return e.do(t, req)
}

func (e *testEnv) get(t testing.TB, path string) response {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, e.ts.URL+path, nil)
	return e.do(t, req)
}

// token gets an access token or fails the test.
func (e *testEnv) token(t testing.TB, path string, form url.Values) string {
	t.Helper()
	r := e.post(t, path, form)
	if r.status != 200 {
		t.Fatalf("POST %s: %d %s", path, r.status, r.raw)
	}
	return r.body["access_token"].(string)
}

func cc(clientID, secret, resource string) url.Values {
	return url.Values{"grant_type": {"client_credentials"}, "client_id": {clientID}, "client_secret": {secret}, "resource": {resource}}
}

func ccV2(clientID, secret, scope string) url.Values {
	return url.Values{"grant_type": {"client_credentials"}, "client_id": {clientID}, "client_secret": {secret}, "scope": {scope}}
}

func ropc(upn, password, resource string) url.Values {
	return url.Values{"grant_type": {"password"}, "client_id": {cliID}, "username": {upn}, "password": {password}, "resource": {resource}}
}

// decodeJWT splits a token into header and claims without verifying it.
func decodeJWT(t testing.TB, tok string) (map[string]any, map[string]any) {
	t.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %q", tok)
	}
	var h, c map[string]any
	for i, dst := range []*map[string]any{&h, &c} {
		b, err := base64.RawURLEncoding.DecodeString(parts[i])
		if err != nil {
			t.Fatal(err)
		}
		d := json.NewDecoder(strings.NewReader(string(b)))
		d.UseNumber()
		if err := d.Decode(dst); err != nil {
			t.Fatal(err)
		}
	}
	return h, c
}
