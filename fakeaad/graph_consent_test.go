package fakeaad

import (
	"net/url"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/m365snow/m365snow/internal/wellknown"
)

func buildFixture(t *testing.T, src string) (*Fixture, error) {
	t.Helper()
	var n yaml.Node
	if err := yaml.Unmarshal([]byte(src), &n); err != nil {
		t.Fatal(err)
	}
	f, err := ParseFixture(n.Content[0])
	if err != nil {
		return nil, err
	}
	_, err = f.build()
	return f, err
}

const consentWorld = `
tenants:
  - id: 8b6a7f0e-3c2d-4e5f-9a1b-2c3d4e5f6a7b
    displayName: Contoso
    domains: [contoso.onmicrosoft.com]
    users:
      - userPrincipalName: lynne@contoso.onmicrosoft.com
        password: lynne-pw
    applications:
      - appId: 1f9c2e4a-6b8d-4f0e-a2c4-6e8a0c2e4f61
        displayName: Outbound
        passwordCredentials: [{secret: outbound-secret}]
        grantedAppRoles:
          00000003-0000-0000-c000-000000000000: [User.Read.All]
      - appId: 7e9f1a2b-3c4d-4e5f-8a9b-0c1d2e3f4a5b
        displayName: Cases API
        identifierUris: [api://cases]
        graph:
          appRoles:
            - {id: b2d4f6a8-0c1e-4a3c-8e5a-7c9e1b3d5f70, value: Cases.ReadWrite.All, displayName: Write cases, allowedMemberTypes: [Application], isEnabled: true}
          api:
            oauth2PermissionScopes:
              - {id: 8a0d2c4e-6f1b-4d3a-9c5e-7b9d1f3a5c7e, value: Cases.Read, type: User, isEnabled: true, adminConsentDisplayName: Read cases}
    consents:
      - client: 1f9c2e4a-6b8d-4f0e-a2c4-6e8a0c2e4f61
        resource: 7e9f1a2b-3c4d-4e5f-8a9b-0c1d2e3f4a5b
        appRoles: [Cases.ReadWrite.All]
        scopes: [Cases.Read]
`

// Fixture consents become assignments and grants that tokens follow, and
// they survive an export and re-import.
func TestFixtureConsents(t *testing.T) {
	f, err := buildFixture(t, consentWorld)
	if err != nil {
		t.Fatal(err)
	}
	env := newEnv(t, false)
	if err := env.srv.ImportState(mustMarshalFixture(t, f)); err != nil {
		t.Fatal(err)
	}
	for round := 0; round < 2; round++ {
		graphTok := env.token(t, "/"+contosoID+"/oauth2/token", cc(outboundID, "outbound-secret", wellknown.GraphResource))
		casesTok := env.token(t, "/"+contosoID+"/oauth2/token", cc(outboundID, "outbound-secret", "api://cases"))
		if r := rolesOf(t, graphTok); len(r) != 1 || r[0] != "User.Read.All" {
			t.Errorf("round %d: Graph roles %v", round, r)
		}
		if r := rolesOf(t, casesTok); len(r) != 1 || r[0] != "Cases.ReadWrite.All" {
			t.Errorf("round %d: Cases roles %v", round, r)
		}
		r := env.post(t, "/"+contosoID+"/oauth2/v2.0/token", map[string][]string{"grant_type": {"password"}, "client_id": {outboundID}, "client_secret": {"outbound-secret"},
			"username": {"lynne@contoso.onmicrosoft.com"}, "password": {"lynne-pw"}, "scope": {"api://cases/Cases.Read"}})
		if r.status != 200 {
			t.Fatalf("round %d: delegated: %d %s", round, r.status, r.raw)
		}
		state, err := env.srv.ExportState()
		if err != nil || !strings.Contains(string(state), "consents:") || !strings.Contains(string(state), "Cases.ReadWrite.All") {
			t.Fatalf("round %d: export %v\n%s", round, err, state)
		}
		if err := env.srv.ImportState(state); err != nil {
			t.Fatalf("round %d: re-import: %v\n%s", round, err, state)
		}
	}

	bad := []struct{ name, from, to, want string }{
		{"an app role the resource lacks", "appRoles: [Cases.ReadWrite.All]", "appRoles: [Cases.Nope]", `defines no app role "Cases.Nope"`},
		{"a scope the resource lacks", "scopes: [Cases.Read]", "scopes: [Cases.Nope]", `defines no scope "Cases.Nope"`},
		{"a client without a principal", "resource: 7e9f1a2b-3c4d-4e5f-8a9b-0c1d2e3f4a5b\n", "resource: 9a8b7c6d-5e4f-4a3b-2c1d-0e9f8a7b6c5d\n", "need a service principal"},
		{"a Graph role that does not exist", "[User.Read.All]", "[User.Write.Everything]", `defines no app role "User.Write.Everything"`},
		{"a graph property that does not exist", "passwordCredentials: [{secret: outbound-secret}]", "passwordCredentials: [{secret: outbound-secret}]\n        graph: {colour: red}", "Property 'colour' does not exist"},
	}
	for _, c := range bad {
		t.Run(c.name, func(t *testing.T) {
			if !strings.Contains(consentWorld, c.from) {
				t.Fatalf("fixture lacks %q", c.from)
			}
			_, err := buildFixture(t, strings.Replace(consentWorld, c.from, c.to, 1))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %v, want %q", err, c.want)
			}
		})
	}
}

func mustMarshalFixture(t *testing.T, f *Fixture) []byte {
	t.Helper()
	b, err := yaml.Marshal(f)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Accepting the sign-in page's consent prompt records a Principal
// oauth2PermissionGrant for the scopes asked for: that user's tokens carry
// them, other users' still need consent.
func TestConsentPromptRecordsAGrant(t *testing.T) {
	env := newFlowEnv(t, false, func(f *Fixture) { f.Blocked = []Block{{State: "consentMissing", App: webID}} })
	ropcWeb := func(upn, pw string) response {
		return env.post(t, "/"+contosoID+"/oauth2/v2.0/token", url.Values{"grant_type": {"password"}, "client_id": {webID}, "client_secret": {"web-secret"},
			"username": {upn}, "password": {pw}, "scope": {"https://graph.microsoft.com/User.Read.All"}})
	}
	if r := ropcWeb("lynne@contoso.onmicrosoft.com", "lynne-pw"); !strings.Contains(r.raw, "AADSTS65001") {
		t.Fatalf("before consent: %s", r.raw)
	}
	b := env.browser(t)
	v := url.Values{"client_id": {webID}, "redirect_uri": {webRedir}, "response_type": {"code"}, "scope": {"openid https://graph.microsoft.com/User.Read.All"}, "state": {"st"}}
	p := b.submit(b.get(env.ts.URL+"/"+contosoID+"/oauth2/v2.0/authorize?"+v.Encode()), signInFields("lynne@contoso.onmicrosoft.com", "lynne-pw"))
	if q := b.submit(p, url.Values{"action": {"accept"}}).redirectParams(t); q.Get("code") == "" {
		t.Fatalf("accepted consent: %v", q)
	}
	r := ropcWeb("lynne@contoso.onmicrosoft.com", "lynne-pw")
	if r.status != 200 {
		t.Fatalf("after consent: %s", r.raw)
	}
	if _, c := decodeJWT(t, r.body["access_token"].(string)); c["scp"] != "User.Read.All" {
		t.Errorf("scp %v", c["scp"])
	}
	if r := ropcWeb("admin@contoso.onmicrosoft.com", "admin-pw"); !strings.Contains(r.raw, "AADSTS65001") {
		t.Errorf("another user: %s", r.raw)
	}
	state, _ := env.srv.ExportState()
	if !strings.Contains(string(state), "user: lynne@contoso.onmicrosoft.com") {
		t.Errorf("the user's grant is not in the export:\n%s", state)
	}
}
