package platform_test

import (
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"gopkg.in/yaml.v3"

	"github.com/m365snow/m365snow/fakeaad"
	"github.com/m365snow/m365snow/fakesnow/platform"
	"github.com/m365snow/m365snow/internal/clock"
	"github.com/m365snow/m365snow/internal/hostmap"
)

// The AAD-mode inbound path of the guide, end to end: a token from a real
// fakeaad, validated by the instance through discovery and JWKS fetched over
// the (host-mapped) wire.

const (
	tenant    = "8b6a7f0e-3c2d-4e5f-9a1b-2c3d4e5f6a7b"
	restAPI   = "3a5c7e9b-1d3f-4a5c-8e7a-9c1e3a5c7e92"
	restUser  = "5b7d9f1c-3e5a-4c7e-9a1c-3e5a7c9e1b83"
	aadConfig = `
tenants:
  - id: ` + tenant + `
    displayName: Contoso
    domains: [contoso.onmicrosoft.com]
    applications:
      - appId: ` + restAPI + `
        displayName: Rest API
      - appId: ` + restUser + `
        displayName: Rest User
        passwordCredentials: [{secret: rest-user-secret}]
`
)

type oidcEnv struct {
	inst  *platform.Instance
	snow  *httptest.Server
	aad   *httptest.Server
	clock *clock.Manual
}

func newOIDCEnv(t *testing.T) *oidcEnv {
	t.Helper()
	e := &oidcEnv{clock: clock.NewManual(clock.Epoch)}
	var n yaml.Node
	if err := yaml.Unmarshal([]byte(aadConfig), &n); err != nil {
		t.Fatal(err)
	}
	fx, err := fakeaad.ParseFixture(n.Content[0])
	if err != nil {
		t.Fatal(err)
	}
	aad, err := fakeaad.New(fakeaad.Options{PublicURL: "https://login.microsoftonline.com", Clock: e.clock, Fixture: fx})
	if err != nil {
		t.Fatal(err)
	}
	e.aad = httptest.NewServer(aad)
	t.Cleanup(e.aad.Close)
	hosts := hostmap.New()
	if err := hosts.Set("login.microsoftonline.com", e.aad.URL); err != nil {
		t.Fatal(err)
	}
	e.inst, err = platform.New(platform.Options{URL: "https://dev12345.service-now.com", Clock: e.clock, Transport: &hostmap.Transport{Map: hosts}})
	if err != nil {
		t.Fatal(err)
	}
	e.snow = httptest.NewServer(e.inst)
	t.Cleanup(e.snow.Close)
	// The guide's configuration: OIDC provider with UserClaim appId and
	// User Field "User ID", entity whose client id is the Rest API app,
	// integration user named after the Rest User app.
	cfg, err := e.inst.Insert("oidc_provider_configuration", map[string]string{"name": "Contoso Azure",
		"oidc_url":   "https://login.microsoftonline.com/contoso.onmicrosoft.com/.well-known/openid-configuration",
		"user_claim": "appId", "user_field": "User ID"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.inst.Insert("oauth_entity", map[string]string{"name": "contoso_application_inbound_api", "type": "oidc_provider",
		"client_id": restAPI, "client_secret": "x", "oidc_provider_configuration": cfg["sys_id"]}); err != nil {
		t.Fatal(err)
	}
	u, err := e.inst.Insert("sys_user", map[string]string{"user_name": restUser, "first_name": "Rest", "last_name": "User", "web_service_access_only": "true"})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.inst.GrantRole(u["sys_id"], "itil"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.inst.Insert("incident", map[string]string{"short_description": "Exchange mail flow delayed"}); err != nil {
		t.Fatal(err)
	}
	return e
}

func (e *oidcEnv) aadToken(t *testing.T) string {
	t.Helper()
	res, err := http.PostForm(e.aad.URL+"/"+tenant+"/oauth2/token", url.Values{"grant_type": {"client_credentials"},
		"client_id": {restUser}, "client_secret": {"rest-user-secret"}, "resource": {restAPI}})
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

func (e *oidcEnv) get(t *testing.T, token string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", e.snow.URL+"/api/now/table/incident", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

func (e *oidcEnv) lastOIDCLog(t *testing.T) string {
	rows, _ := e.inst.Query("syslog", "source=OIDC")
	if len(rows) == 0 {
		return ""
	}
	return rows[len(rows)-1]["message"]
}

func TestOIDCRoundTrip(t *testing.T) {
	e := newOIDCEnv(t)
	tok := e.aadToken(t)
	if code, body := e.get(t, tok); code != 200 || !strings.Contains(body, "Exchange mail flow delayed") {
		t.Fatalf("fakeaad token refused: %d %s", code, body)
	}
	// The same token, once the entity's Client ID no longer names the
	// token's audience, is refused.
	ent, _ := e.inst.First("oauth_entity", "name=contoso_application_inbound_api")
	if _, err := e.inst.Update("oauth_entity", ent["sys_id"], map[string]string{"client_id": "00000000-aaaa-bbbb-cccc-000000000000"}); err != nil {
		t.Fatal(err)
	}
	if code, _ := e.get(t, tok); code != 401 {
		t.Fatalf("token accepted after the client id changed: %d", code)
	}
	if got := e.lastOIDCLog(t); got != "Cannot find oauth_oidc_entity for issuer https://sts.windows.net/"+tenant+"/ with client_ids "+restAPI {
		t.Errorf("log %q", got)
	}
}

func signingKey(t *testing.T) ([]byte, any) {
	t.Helper()
	b, err := os.ReadFile("../../fakeaad/keys/signing-1.pem")
	if err != nil {
		t.Fatal(err)
	}
	blk, _ := pem.Decode(b)
	k, err := x509.ParsePKCS1PrivateKey(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	pub, _ := x509.MarshalPKIXPublicKey(&k.PublicKey)
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub}), k
}

func claimsOf(t *testing.T, tok string) (jwt.MapClaims, string) {
	parts := strings.Split(tok, ".")
	hb, _ := base64.RawURLEncoding.DecodeString(parts[0])
	cb, _ := base64.RawURLEncoding.DecodeString(parts[1])
	var h map[string]any
	c := jwt.MapClaims{}
	_ = json.Unmarshal(hb, &h)
	_ = json.Unmarshal(cb, &c)
	return c, h["kid"].(string)
}

func TestOIDCNegativeMatrix(t *testing.T) {
	e := newOIDCEnv(t)
	valid := e.aadToken(t)
	pubPEM, key := signingKey(t)
	base, kid := claimsOf(t, valid)
	sign := func(mod func(jwt.MapClaims), method jwt.SigningMethod, k any) string {
		c := jwt.MapClaims{}
		for kk, v := range base {
			c[kk] = v
		}
		mod(c)
		tok := jwt.NewWithClaims(method, c)
		tok.Header["kid"] = kid
		s, err := tok.SignedString(k)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	same := func(jwt.MapClaims) {}
	if code, _ := e.get(t, sign(same, jwt.SigningMethodRS256, key)); code != 200 {
		t.Fatal("a re-signed copy of a valid token must pass, or the matrix proves nothing")
	}
	tampered := strings.Split(valid, ".")
	payload, _ := base64.RawURLEncoding.DecodeString(tampered[1])
	tampered[1] = base64.RawURLEncoding.EncodeToString([]byte(strings.Replace(string(payload), `"ver":"1.0"`, `"ver":"1.1"`, 1)))
	now := e.clock.Now()
	cases := []struct {
		name, token, log string
	}{
		{"bad signature", strings.Join(tampered, "."), "signature: the signature does not verify"},
		{"wrong issuer", sign(func(c jwt.MapClaims) { c["iss"] = "https://sts.windows.net/4d3c2b1a-0f9e-4d8c-b7a6-5f4e3d2c1b0a/" }, jwt.SigningMethodRS256, key), "issuer: iss"},
		{"wrong audience", sign(func(c jwt.MapClaims) { c["aud"] = "api://someone-else" }, jwt.SigningMethodRS256, key), "Cannot find oauth_oidc_entity for issuer"},
		{"expired beyond the skew", sign(func(c jwt.MapClaims) { c["exp"] = now.Add(-6 * time.Minute).Unix() }, jwt.SigningMethodRS256, key), "expiry: expired at"},
		{"not yet valid", sign(func(c jwt.MapClaims) { c["nbf"] = now.Add(time.Hour).Unix() }, jwt.SigningMethodRS256, key), "not before"},
		{"unknown user claim value", sign(func(c jwt.MapClaims) { c["appid"] = "11111111-2222-3333-4444-555555555555" }, jwt.SigningMethodRS256, key), "no user with user_name = 11111111-2222-3333-4444-555555555555"},
		{"user claim missing", sign(func(c jwt.MapClaims) { delete(c, "appid") }, jwt.SigningMethodRS256, key), `user claim "appId" is missing`},
		{"alg none", sign(same, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType), `algorithm: alg "none" is not accepted`},
		{"HS256 keyed with the public key", sign(same, jwt.SigningMethodHS256, pubPEM), `algorithm: alg "HS256" is not accepted`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, body := e.get(t, c.token)
			if code != 401 || !strings.Contains(body, "User Not Authenticated") {
				t.Fatalf("status %d: %s", code, body)
			}
			if got := e.lastOIDCLog(t); !strings.Contains(got, c.log) {
				t.Fatalf("log %q, want it to contain %q", got, c.log)
			}
		})
	}
	// JTI verification cannot pass with Azure AD tokens, which carry uti,
	// not jti — the reason integrators switch it off.
	cfg, _ := e.inst.First("oidc_provider_configuration", "name=Contoso Azure")
	_, _ = e.inst.Update("oidc_provider_configuration", cfg["sys_id"], map[string]string{"enable_jti_verification": "true"})
	if code, _ := e.get(t, valid); code != 401 || !strings.Contains(e.lastOIDCLog(t), "JTI claim verification failed") {
		t.Fatalf("JTI check: %d %s", code, e.lastOIDCLog(t))
	}
	_, _ = e.inst.Update("oidc_provider_configuration", cfg["sys_id"], map[string]string{"enable_jti_verification": "false"})
	// The instance's clock decides expiry: an hour later the token is dead.
	e.clock.Advance(66 * time.Minute)
	if code, _ := e.get(t, valid); code != 401 {
		t.Fatalf("expired real token accepted: %d", code)
	}
	// Discovery and keys were fetched through the logged outbound client.
	rows, _ := e.inst.Query("sys_outbound_http_log", "hostname=login.microsoftonline.com")
	if len(rows) < 2 || rows[0]["http_status"] != "200" {
		t.Fatalf("outbound log of the OIDC fetches: %v", rows)
	}
}
