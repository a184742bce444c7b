package fakeaad

import (
	"net/http"
	"strings"
	"testing"

	"github.com/m365snow/m365snow/internal/faults"
	"github.com/m365snow/m365snow/internal/wellknown"
)

func TestStateRoundTrip(t *testing.T) {
	env := newEnv(t, false)
	admin := env.userToken(t, "admin@contoso.onmicrosoft.com", "admin-pw", wellknown.GraphResource)
	r := env.graph(t, "POST", "/applications", admin, `{"displayName":"made through graph"}`)
	objID := r.body["id"].(string)
	pw := env.graph(t, "POST", "/applications/"+objID+"/addPassword", admin, `{}`)
	secret := pw.body["secretText"].(string)
	if _, err := env.srv.RotateSigningKey(""); err != nil {
		t.Fatal(err)
	}
	before, err := env.srv.ExportState()
	if err != nil {
		t.Fatal(err)
	}
	// A second server imports the export and behaves the same.
	other := newEnv(t, false)
	if err := other.srv.ImportState(before); err != nil {
		t.Fatalf("import: %v\n%s", err, before)
	}
	after, _ := other.srv.ExportState()
	if string(before) != string(after) {
		t.Fatalf("export/import is not stable:\n--- before\n%s\n--- after\n%s", before, after)
	}
	if got, want := other.srv.SigningKeyIDs(), env.srv.SigningKeyIDs(); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("keys %v, want %v", got, want)
	}
	appID := r.body["appId"].(string)
	admin2 := other.userToken(t, "admin@contoso.onmicrosoft.com", "admin-pw", wellknown.GraphResource)
	if r := other.graph(t, "POST", "/servicePrincipals", admin2, `{"appId":"`+appID+`"}`); r.status != 201 {
		t.Fatalf("%d %s", r.status, r.raw)
	}
	other.token(t, "/"+contosoID+"/oauth2/token", cc(appID, secret, wellknown.ConnectorResource))

	if err := env.srv.Reset(); err != nil {
		t.Fatal(err)
	}
	if s, _ := env.srv.ExportState(); strings.Contains(string(s), appID) || len(env.srv.SigningKeyIDs()) != 2 {
		t.Fatal("reset kept state made after construction")
	}
	for _, bad := range []string{"tenants: [{id: not-a-guid}]", "tennants: []", "tenants: []"} {
		if err := env.srv.ImportState([]byte(bad)); err == nil {
			t.Errorf("imported %q", bad)
		}
	}
}

func TestControlPlaneOverHTTP(t *testing.T) {
	env := newEnv(t, false)
	do := func(method, path, body string) response {
		req, _ := http.NewRequest(method, env.ts.URL+path, strings.NewReader(body))
		return env.do(t, req)
	}
	if r := do("GET", "/healthz", ""); r.status != 200 || r.body["service"] != "fakeaad" {
		t.Fatalf("healthz %d %s", r.status, r.raw)
	}
	// builtin-2 is the published next key; rotating to it publishes
	// builtin-3 as the new next one.
	if r := do("POST", "/__admin/keys/rotate", `{"key":"builtin-2"}`); r.status != 200 {
		t.Fatalf("rotate %d %s", r.status, r.raw)
	}
	if r := do("POST", "/__admin/keys/rotate", `{"key":"builtin-2"}`); r.status != 409 {
		t.Fatalf("rotating to the signing key: %d", r.status)
	}
	r := do("GET", "/__admin/keys", "")
	if len(r.body["published"].([]any)) != 3 || r.body["signing"] != r.body["published"].([]any)[1] {
		t.Fatalf("keys %s", r.raw)
	}
	if r := do("POST", "/__admin/keys/rollover", `{"overlap":"soon"}`); r.status != 400 {
		t.Fatalf("rollover with a bad overlap: %d", r.status)
	}
	// A status-only fault answers in Entra's error shape.
	if _, err := env.srv.Faults().Add(faults.Fault{Path: "/*/oauth2/token", Status: 503, Times: 1}); err != nil {
		t.Fatal(err)
	}
	r = env.post(t, "/"+contosoID+"/oauth2/token", cc(outboundID, "outbound-secret", connector))
	if r.status != 503 || r.body["error"] != "temporarily_unavailable" || !strings.HasPrefix(r.body["error_description"].(string), "AADSTS") {
		t.Fatalf("faulted token endpoint: %d %s", r.status, r.raw)
	}
	env.token(t, "/"+contosoID+"/oauth2/token", cc(outboundID, "outbound-secret", connector))
	if r := do("POST", "/__admin/clock", `{"advance":"3h"}`); r.status != 200 || r.body["now"] != "2026-03-02T12:00:00Z" {
		t.Fatalf("clock %d %s", r.status, r.raw)
	}
	checkSTSError(t, env.post(t, "/"+contosoID+"/oauth2/token", cc(outboundID, "short-lived", connector)), 401, "invalid_client", 7000222, "expired")
}

func TestNewValidatesOptions(t *testing.T) {
	f := testFixtureValue(t)
	for _, o := range []Options{{PublicURL: "", Fixture: f}, {PublicURL: "login.microsoftonline.com", Fixture: f}, {PublicURL: "http://x"}} {
		if _, err := New(o); err == nil {
			t.Errorf("New(%+v) accepted", o)
		}
	}
}
