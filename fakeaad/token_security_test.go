package fakeaad

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/m365snow/m365snow/internal/clock"
)

// TestClientSecretValidityWindow: a client secret is a password credential
// with startDateTime and endDateTime (Microsoft Graph passwordCredential
// resource); Entra accepts it only inside that window. Before its start the
// secret is not yet a credential of the app, so the request fails like any
// wrong secret (AADSTS7000215); after its end it fails as expired
// (AADSTS7000222). Clock: Epoch is 2026-03-02 09:00 UTC.
func TestClientSecretValidityWindow(t *testing.T) {
	const fixture = `
tenants:
  - id: 8b6a7f0e-3c2d-4e5f-9a1b-2c3d4e5f6a7b
    displayName: Contoso
    domains: [contoso.onmicrosoft.com]
    applications:
      - appId: 1f9c2e4a-6b8d-4f0e-a2c4-6e8a0c2e4f61
        displayName: Outbound
        passwordCredentials:
          - secret: next-quarter
            startDateTime: "2026-03-02T10:00:00Z"
            endDateTime: "2026-03-02T12:00:00Z"
          - secret: rotated
            startDateTime: "2026-01-01T00:00:00Z"
            endDateTime: "2026-03-02T08:00:00Z"
          - secret: current
`
	v1 := "/" + contosoID + "/oauth2/token"
	cases := []struct {
		name    string
		secret  string
		advance time.Duration
		status  int
		aadsts  int
	}{
		{"secret before its start date", "next-quarter", 0, 401, 7000215},
		{"a second before its start date", "next-quarter", time.Hour - time.Second, 401, 7000215},
		{"secret at its start date", "next-quarter", time.Hour, 200, 0},
		{"secret inside its window", "next-quarter", 2 * time.Hour, 200, 0},
		{"secret at its end date", "next-quarter", 3 * time.Hour, 200, 0},
		{"secret after its end date", "next-quarter", 3*time.Hour + time.Second, 401, 7000222},
		{"an expired secret beside a valid one", "rotated", 0, 401, 7000222},
		{"the valid secret beside them", "current", 0, 200, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			env := &testEnv{clock: clock.NewManual(clock.Epoch)}
			env.srv = newServerFromYAML(t, fixture, env)
			env.clock.Advance(c.advance)
			r := env.post(t, v1, cc(outboundID, c.secret, connector))
			if c.status == 200 {
				if r.status != 200 || r.body["access_token"] == nil {
					t.Fatalf("refused: %d %s", r.status, r.raw)
				}
				return
			}
			want := "Invalid client secret provided."
			if c.aadsts == 7000222 {
				want = "The provided client secret keys for app '" + outboundID + "' are expired."
			}
			checkSTSError(t, r, c.status, "invalid_client", c.aadsts, want)
		})
	}
}

// newServerFromYAML serves a fake built from fixture on 127.0.0.1:0.
func newServerFromYAML(t *testing.T, fixture string, env *testEnv) *Server {
	t.Helper()
	var n yaml.Node
	if err := yaml.Unmarshal([]byte(fixture), &n); err != nil {
		t.Fatal(err)
	}
	f, err := ParseFixture(n.Content[0])
	if err != nil {
		t.Fatal(err)
	}
	env.ts = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { env.srv.ServeHTTP(w, r) }))
	t.Cleanup(env.ts.Close)
	srv, err := New(Options{PublicURL: env.ts.URL, Clock: env.clock, Fixture: f})
	if err != nil {
		t.Fatal(err)
	}
	return srv
}

// TestClientAuthenticationEdges: RFC 6749 §2.3.1 — with HTTP Basic, the
// client id and secret are form-urlencoded first (so a "+" in a secret is
// sent as "%2B" and a raw "+" means a space); an empty client_secret is no
// secret at all (AADSTS7000218, as when it is missing); client credentials
// need a confidential client, and a public client such as the Azure CLI has
// no secret to send.
func TestClientAuthenticationEdges(t *testing.T) {
	const fixture = `
tenants:
  - id: 8b6a7f0e-3c2d-4e5f-9a1b-2c3d4e5f6a7b
    displayName: Contoso
    domains: [contoso.onmicrosoft.com]
    applications:
      - appId: 1f9c2e4a-6b8d-4f0e-a2c4-6e8a0c2e4f61
        displayName: Outbound
        passwordCredentials:
          - secret: "Zx8Q~a+b/c%zz"
`
	env := &testEnv{clock: clock.NewManual(clock.Epoch)}
	env.srv = newServerFromYAML(t, fixture, env)
	v1 := "/" + contosoID + "/oauth2/token"
	basic := func(id, secret string) response {
		form := url.Values{"grant_type": {"client_credentials"}, "resource": {connector}}
		req, _ := http.NewRequest(http.MethodPost, env.ts.URL+v1, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(id, secret)
		return env.do(t, req)
	}
	if r := basic(url.QueryEscape(outboundID), url.QueryEscape("Zx8Q~a+b/c%zz")); r.status != 200 {
		t.Fatalf("escaped Basic credentials refused: %d %s", r.status, r.raw)
	}
	// "%zz" is no escape: a secret that cannot be unescaped is taken as sent.
	if r := basic(outboundID, "Zx8Q~a+b/c%zz"); r.status != 200 {
		t.Fatalf("unescapable Basic credentials refused: %d %s", r.status, r.raw)
	}
	checkSTSError(t, basic(outboundID, "Zx8Q~a+b/c%2Bzz"), 401, "invalid_client", 7000215, "Invalid client secret provided.")
	checkSTSError(t, env.post(t, v1, cc(outboundID, "", connector)), 401, "invalid_client", 7000218, "'client_assertion' or 'client_secret'")
	checkSTSError(t, env.post(t, v1, url.Values{"grant_type": {"client_credentials"}, "client_id": {cliID}, "resource": {connector}}),
		401, "invalid_client", 7000218, "'client_assertion' or 'client_secret'")
	for _, seg := range []string{"organizations", "consumers", "common"} {
		checkSTSError(t, env.post(t, "/"+seg+"/oauth2/token", cc(outboundID, "Zx8Q~a+b/c%zz", connector)), 400, "invalid_request", 50059, "No tenant-identifying information found")
	}
}
