package fakeaad

import (
	"bytes"
	"context"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/AzureAD/microsoft-authentication-library-for-go/apps/confidential"
	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"

	"github.com/m365snow/m365snow/internal/wellknown"
)

// appCert is the certificate daemon's key pair: built-in signing key 3,
// public test material, registered on the app as a keyCredential.
func appCert(t testing.TB) *SigningKey {
	t.Helper()
	keys, err := builtinKeys()
	if err != nil {
		t.Fatal(err)
	}
	return keys[len(keys)-1]
}

func withCertificate(k *SigningKey) func(*Fixture) {
	return func(f *Fixture) {
		for i, a := range f.Tenants[0].Applications {
			if a.AppID == certID {
				f.Tenants[0].Applications[i].KeyCreds = []KeyCredentialFixture{{DisplayName: "daemon cert",
					Certificate: string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: k.Cert.Raw}))}}
			}
		}
	}
}

// MSAL Go's confidential client with a certificate: PS256, x5t#S256 in
// standard base64, aud = the discovered token endpoint.
func TestMSALConfidentialCertificate(t *testing.T) {
	k := appCert(t)
	env := newFlowEnv(t, true, withCertificate(k))
	cred, err := confidential.NewCredFromCert([]*x509.Certificate{k.Cert}, k.Private)
	if err != nil {
		t.Fatal(err)
	}
	app, err := confidential.New(env.ts.URL+"/"+contosoID, certID, cred, confidential.WithHTTPClient(env.ts.Client()), confidential.WithInstanceDiscovery(false))
	if err != nil {
		t.Fatal(err)
	}
	res, err := app.AcquireTokenByCredential(context.Background(), []string{wellknown.GraphResource + "/.default"})
	if err != nil {
		t.Fatalf("MSAL Go with a certificate: %v", err)
	}
	if _, c := decodeJWT(t, res.AccessToken); c["appid"] != certID || c["appidacr"] != "2" {
		t.Errorf("claims %v", c)
	}
	// A certificate the app does not have.
	other, _ := builtinKeys()
	cred2, _ := confidential.NewCredFromCert([]*x509.Certificate{other[0].Cert}, other[0].Private)
	app2, _ := confidential.New(env.ts.URL+"/"+contosoID, certID, cred2, confidential.WithHTTPClient(env.ts.Client()), confidential.WithInstanceDiscovery(false))
	if _, err := app2.AcquireTokenByCredential(context.Background(), []string{wellknown.GraphResource + "/.default"}); err == nil ||
		!strings.Contains(err.Error(), "AADSTS700027: The certificate with identifier used to sign the client assertion is not registered on application.") {
		t.Errorf("unregistered certificate: %v", err)
	}
}

// Hand-made assertions for each check: RS256 + x5t (MSAL Python's form),
// audience, lifetime, subject, signature and jti reuse.
func TestClientAssertionChecks(t *testing.T) {
	k := appCert(t)
	env := newFlowEnv(t, false, withCertificate(k))
	tokenURL := env.ts.URL + "/" + contosoID + "/oauth2/v2.0/token"
	now := env.clock.Now()
	s1, s256 := sha1.Sum(k.Cert.Raw), sha256.Sum256(k.Cert.Raw)
	sign := func(method jwt.SigningMethod, header map[string]any, claims jwt.MapClaims, key *rsa.PrivateKey) string {
		tok := jwt.NewWithClaims(method, claims)
		for h, v := range header {
			tok.Header[h] = v
		}
		s, err := tok.SignedString(key)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	claims := func(edit func(jwt.MapClaims)) jwt.MapClaims {
		c := jwt.MapClaims{"aud": tokenURL, "iss": certID, "sub": certID, "jti": uuid.NewString(), "nbf": now.Unix(), "exp": now.Add(10 * time.Minute).Unix()}
		if edit != nil {
			edit(c)
		}
		return c
	}
	x5t := map[string]any{"x5t": base64.URLEncoding.EncodeToString(s1[:])}
	x5tS256 := map[string]any{"x5t#S256": base64.RawURLEncoding.EncodeToString(s256[:])}
	post := func(assertion string) response {
		return env.post(t, "/"+contosoID+"/oauth2/v2.0/token", url.Values{"grant_type": {"client_credentials"}, "client_id": {certID},
			"scope": {wellknown.GraphResource + "/.default"}, "client_assertion_type": {clientAssertionType}, "client_assertion": {assertion}})
	}
	reused := sign(jwt.SigningMethodRS256, x5t, claims(nil), k.Private)
	other, _ := builtinKeys()
	for _, tc := range []struct {
		name      string
		assertion string
		status    int
		prefix    string
	}{
		{"RS256 with x5t", reused, 200, ""},
		{"PS256 with x5t#S256", sign(jwt.SigningMethodPS256, x5tS256, claims(nil), k.Private), 200, ""},
		{"v1 token endpoint as audience", sign(jwt.SigningMethodRS256, x5t, claims(func(c jwt.MapClaims) { c["aud"] = env.ts.URL + "/contoso.onmicrosoft.com/oauth2/token" }), k.Private), 200, ""},
		{"jti reused", reused, 401, "AADSTS50027:"},
		{"other audience", sign(jwt.SigningMethodRS256, x5t, claims(func(c jwt.MapClaims) { c["aud"] = env.ts.URL + "/" + fabrikamID + "/oauth2/v2.0/token" }), k.Private), 401, "AADSTS50027:"},
		{"expired", sign(jwt.SigningMethodRS256, x5t, claims(func(c jwt.MapClaims) { c["exp"] = now.Add(-10 * time.Minute).Unix() }), k.Private), 401, "AADSTS700024: Client assertion is not within its valid time range."},
		{"not yet valid", sign(jwt.SigningMethodRS256, x5t, claims(func(c jwt.MapClaims) { c["nbf"] = now.Add(time.Hour).Unix() }), k.Private), 401, "AADSTS700024:"},
		{"sub is not iss", sign(jwt.SigningMethodRS256, x5t, claims(func(c jwt.MapClaims) { c["sub"] = webID }), k.Private), 401, "AADSTS50048: Subject mismatches Issuer claim in the client assertion."},
		{"signed by another key", sign(jwt.SigningMethodRS256, x5t, claims(nil), other[0].Private), 401, "AADSTS700027: Client assertion failed signature validation."},
		{"not a JWT", "abc", 401, "AADSTS50027:"},
	} {
		r := post(tc.assertion)
		if r.status != tc.status || (tc.prefix != "" && !strings.HasPrefix(r.body["error_description"].(string), tc.prefix)) {
			t.Errorf("%s: %d %s", tc.name, r.status, r.raw)
		}
	}
	// Public clients present no assertion.
	r := env.post(t, "/"+contosoID+"/oauth2/v2.0/token", url.Values{"grant_type": {"password"}, "client_id": {nativeID}, "username": {"lynne@contoso.onmicrosoft.com"},
		"password": {"lynne-pw"}, "scope": {"User.Read"}, "client_assertion_type": {clientAssertionType}, "client_assertion": {reused}})
	if r.status != 400 || !strings.Contains(r.raw, "AADSTS700025") {
		t.Errorf("assertion from a public client: %d %s", r.status, r.raw)
	}
}

// MSAL Go's device code flow: the test plays the user on the
// verification page while MSAL polls.
func TestMSALDeviceCode(t *testing.T) {
	env := newFlowEnv(t, true, nil)
	app := msalPublic(t, env, "organizations", nativeID)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	dc, err := app.AcquireTokenByDeviceCode(ctx, []string{"User.Read"})
	if err != nil {
		t.Fatalf("device code: %v", err)
	}
	if len(dc.Result.UserCode) != 9 || !strings.HasPrefix(dc.Result.VerificationURL, env.ts.URL+"/devicelogin") ||
		!strings.Contains(dc.Result.Message, dc.Result.UserCode) {
		t.Fatalf("device code result %+v", dc.Result)
	}
	var wg sync.WaitGroup
	var res struct {
		ar  string
		err error
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		r, err := dc.AuthenticationResult(ctx)
		res.ar, res.err = r.Account.PreferredUsername, err
	}()
	b := env.browser(t)
	p := b.get(dc.Result.VerificationURL)
	if bad := b.submit(p, url.Values{"otc": {"WRONGCODE"}, "action": {"code"}}); !strings.HasPrefix(bad.errorText(), "AADSTS70018:") {
		t.Errorf("wrong user code: %q", bad.errorText())
	}
	p = b.submit(p, url.Values{"otc": {dc.Result.UserCode}, "action": {"code"}})
	p = b.submit(p, signInFields("lynne@contoso.onmicrosoft.com", "lynne-pw"))
	if !strings.Contains(p.body, "You have signed in") {
		t.Fatalf("approval page: %s", p.body)
	}
	wg.Wait()
	if res.err != nil || res.ar != "lynne@contoso.onmicrosoft.com" {
		t.Fatalf("MSAL device code token: %v %q", res.err, res.ar)
	}
}

// The device code polling answers on the wire.
func TestDeviceCodePolling(t *testing.T) {
	env := newFlowEnv(t, false, nil)
	start := func(path string) map[string]any {
		r := env.post(t, path, url.Values{"client_id": {nativeID}, "scope": {"User.Read offline_access"}})
		if r.status != 200 {
			t.Fatalf("devicecode: %d %s", r.status, r.raw)
		}
		return r.body
	}
	poll := func(dc string) response {
		return env.post(t, "/"+contosoID+"/oauth2/v2.0/token", url.Values{"grant_type": {deviceCodeGrant}, "client_id": {nativeID}, "device_code": {dc}})
	}
	d := start("/" + contosoID + "/oauth2/v2.0/devicecode")
	if d["expires_in"].(interface{ String() string }).String() != "900" || d["interval"].(interface{ String() string }).String() != "5" {
		t.Errorf("v2 devicecode body %v", d)
	}
	dc := d["device_code"].(string)
	expect := func(r response, errCode string, aadsts string) {
		t.Helper()
		if r.status != 400 || r.body["error"] != errCode || !strings.HasPrefix(r.body["error_description"].(string), aadsts) {
			t.Errorf("want %s %s: %d %s", errCode, aadsts, r.status, r.raw)
		}
	}
	expect(poll(dc), "authorization_pending", "AADSTS70016")
	expect(poll(dc), "slow_down", "AADSTS70016")
	env.clock.Advance(6 * time.Second)
	expect(poll(dc), "authorization_pending", "AADSTS70016")
	// Declined on the page.
	b := env.browser(t)
	p := b.submit(b.get(env.ts.URL+"/devicelogin"), url.Values{"otc": {d["user_code"].(string)}, "action": {"code"}})
	b.submit(p, url.Values{"action": {"decline"}})
	expect(poll(dc), "authorization_declined", "AADSTS70000")
	// Expired after 15 minutes.
	d2 := start("/" + contosoID + "/oauth2/v2.0/devicecode")
	env.clock.Advance(16 * time.Minute)
	expect(poll(d2["device_code"].(string)), "expired_token", "AADSTS70019")
	// v1 writes verification_url and strings.
	if r := env.post(t, "/"+contosoID+"/oauth2/devicecode", url.Values{"client_id": {nativeID}, "resource": {wellknown.GraphResource}}); r.body["verification_url"] == nil || r.body["expires_in"] != "900" {
		t.Errorf("v1 devicecode %s", r.raw)
	}
	if r := env.post(t, "/"+contosoID+"/oauth2/v2.0/devicecode", url.Values{"client_id": {"00000000-1111-4222-8333-444444444444"}, "scope": {"User.Read"}}); !strings.Contains(r.raw, "AADSTS700016") {
		t.Errorf("unknown app: %s", r.raw)
	}
}

// On-behalf-of: a middle-tier API trades the user's token for one to
// Microsoft Graph, with MSAL Go's confidential client.
func TestMSALOnBehalfOf(t *testing.T) {
	env := newFlowEnv(t, true, nil)
	user := env.token(t, "/"+contosoID+"/oauth2/v2.0/token", url.Values{"grant_type": {"password"}, "client_id": {nativeID},
		"username": {"lynne@contoso.onmicrosoft.com"}, "password": {"lynne-pw"}, "scope": {"api://middle/access_as_user"}})
	if _, c := decodeJWT(t, user); c["aud"] != middleID || c["scp"] != "access_as_user" {
		t.Fatalf("user token for the API: %v", c)
	}
	cred, _ := confidential.NewCredFromSecret("middle-secret")
	api, err := confidential.New(env.ts.URL+"/"+contosoID, middleID, cred, confidential.WithHTTPClient(env.ts.Client()), confidential.WithInstanceDiscovery(false))
	if err != nil {
		t.Fatal(err)
	}
	res, err := api.AcquireTokenOnBehalfOf(context.Background(), user, []string{wellknown.GraphResource + "/User.Read"})
	if err != nil {
		t.Fatalf("MSAL on-behalf-of: %v", err)
	}
	_, c := decodeJWT(t, res.AccessToken)
	if c["appid"] != middleID || c["upn"] != "lynne@contoso.onmicrosoft.com" || c["aud"] != wellknown.GraphResource {
		t.Errorf("OBO token %v", c)
	}
	// An app token, a token for another audience, an expired token.
	obo := func(assertion string) response {
		return env.post(t, "/"+contosoID+"/oauth2/v2.0/token", url.Values{"grant_type": {jwtBearerGrant}, "client_id": {middleID}, "client_secret": {"middle-secret"},
			"assertion": {assertion}, "requested_token_use": {"on_behalf_of"}, "scope": {wellknown.GraphResource + "/User.Read"}})
	}
	appOnly := env.token(t, "/"+contosoID+"/oauth2/v2.0/token", ccV2(webID, "web-secret", "api://middle/.default"))
	graphTok := env.token(t, "/"+contosoID+"/oauth2/v2.0/token", url.Values{"grant_type": {"password"}, "client_id": {nativeID},
		"username": {"lynne@contoso.onmicrosoft.com"}, "password": {"lynne-pw"}, "scope": {"User.Read"}})
	for name, a := range map[string]string{"app token": appOnly, "other audience": graphTok, "garbage": "x.y.z"} {
		if r := obo(a); r.status != 400 || !strings.HasPrefix(r.body["error_description"].(string), "AADSTS50013:") {
			t.Errorf("%s: %d %s", name, r.status, r.raw)
		}
	}
	env.clock.Advance(2 * time.Hour)
	if r := obo(user); !strings.Contains(r.raw, "AADSTS50013") || !strings.Contains(r.raw, "expired") {
		t.Errorf("expired assertion: %s", r.raw)
	}
	if r := env.post(t, "/"+contosoID+"/oauth2/v2.0/token", url.Values{"grant_type": {jwtBearerGrant}, "client_id": {middleID}, "client_secret": {"middle-secret"},
		"assertion": {user}, "requested_token_use": {"other"}}); !strings.Contains(r.raw, "AADSTS900144") {
		t.Errorf("requested_token_use: %s", r.raw)
	}
}

// Each blocked state answers with Entra's code, status and wording, and
// lifting it restores sign-in.
func TestBlockedStates(t *testing.T) {
	ropcForm := func(upn, pw string) url.Values {
		return url.Values{"grant_type": {"password"}, "client_id": {nativeID}, "username": {upn}, "password": {pw}, "scope": {"User.Read"}}
	}
	for _, tc := range []struct {
		block  Block
		form   url.Values
		status int
		errc   string
		prefix string
	}{
		{Block{State: "servicePrincipalDisabled", App: webID}, ccV2(webID, "web-secret", wellknown.GraphResource+"/.default"), 400, "unauthorized_client", "AADSTS7000112: Application '" + webID + "'(Web portal) is disabled."},
		{Block{State: "userDisabled", User: "lynne@contoso.onmicrosoft.com"}, ropcForm("lynne@contoso.onmicrosoft.com", "lynne-pw"), 400, "invalid_grant", "AADSTS50057: The user account is disabled."},
		{Block{State: "mfaRequired"}, ropcForm("lynne@contoso.onmicrosoft.com", "lynne-pw"), 400, "invalid_grant", "AADSTS50076: Due to a configuration change made by your administrator, or because you moved to a new location, you must use multi-factor authentication to access '00000003-0000-0000-c000-000000000000'."},
		{Block{State: "conditionalAccessBlocked", App: nativeID}, ropcForm("lynne@contoso.onmicrosoft.com", "lynne-pw"), 400, "invalid_grant", "AADSTS53003: Access has been blocked by Conditional Access policies. The access policy does not allow token issuance."},
		{Block{State: "passwordExpired", User: "lynne@contoso.onmicrosoft.com"}, ropcForm("lynne@contoso.onmicrosoft.com", "lynne-pw"), 400, "invalid_grant", "AADSTS50055: The password is expired."},
		{Block{State: "consentMissing", App: nativeID}, ropcForm("lynne@contoso.onmicrosoft.com", "lynne-pw"), 400, "invalid_grant", "AADSTS65001: The user or administrator has not consented to use the application with ID '" + nativeID + "' named 'Native tool'."},
		{Block{State: "throttled", App: nativeID, RetryAfter: 30}, ropcForm("lynne@contoso.onmicrosoft.com", "lynne-pw"), 429, "invalid_request", "AADSTS50196: The server terminated an operation because it encountered a client request loop."},
	} {
		env := newFlowEnv(t, false, nil)
		if r := env.post(t, "/"+contosoID+"/oauth2/v2.0/token", tc.form); r.status != 200 {
			t.Fatalf("%s: baseline %d %s", tc.block.State, r.status, r.raw)
		}
		// Through the control plane, as an inducement does.
		body, _ := json.Marshal(tc.block)
		req, _ := http.NewRequest(http.MethodPost, env.ts.URL+"/__admin/blocks", bytes.NewReader(body))
		if r := env.do(t, req); r.status != 200 {
			t.Fatalf("POST /__admin/blocks: %d %s", r.status, r.raw)
		}
		r := env.post(t, "/"+contosoID+"/oauth2/v2.0/token", tc.form)
		if r.status != tc.status || r.body["error"] != tc.errc || !strings.HasPrefix(r.body["error_description"].(string), tc.prefix) {
			t.Errorf("%s: %d %s", tc.block.State, r.status, r.raw)
		}
		if tc.block.State == "throttled" && r.header.Get("Retry-After") != "30" {
			t.Errorf("throttled: Retry-After %q", r.header.Get("Retry-After"))
		}
		del, _ := http.NewRequest(http.MethodDelete, env.ts.URL+"/__admin/blocks?state="+tc.block.State, nil)
		if r := env.do(t, del); r.status != 200 || strings.Contains(r.raw, tc.block.State) {
			t.Fatalf("DELETE /__admin/blocks: %d %s", r.status, r.raw)
		}
		if r := env.post(t, "/"+contosoID+"/oauth2/v2.0/token", tc.form); r.status != 200 {
			t.Errorf("%s: lifted but still %d %s", tc.block.State, r.status, r.raw)
		}
	}
}

// azidentity's ClientCertificateCredential, unmodified, on the fake's TLS
// listener (reference/aad.md §5.2).
func TestAzidentityClientCertificateCredential(t *testing.T) {
	k := appCert(t)
	env := newFlowEnv(t, true, withCertificate(k))
	opts := &azidentity.ClientCertificateCredentialOptions{
		ClientOptions:            azcore.ClientOptions{Cloud: cloud.Configuration{ActiveDirectoryAuthorityHost: env.ts.URL + "/"}, Transport: env.ts.Client()},
		DisableInstanceDiscovery: true,
	}
	cred, err := azidentity.NewClientCertificateCredential(contosoID, certID, []*x509.Certificate{k.Cert}, k.Private, opts)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := cred.GetToken(context.Background(), policy.TokenRequestOptions{Scopes: []string{wellknown.GraphResource + "/.default"}})
	if err != nil {
		t.Fatalf("azidentity: %v", err)
	}
	if _, c := decodeJWT(t, tok.Token); c["appid"] != certID || c["appidacr"] != "2" {
		t.Errorf("claims %v", c)
	}
	other, _ := builtinKeys()
	bad, _ := azidentity.NewClientCertificateCredential(contosoID, certID, []*x509.Certificate{other[0].Cert}, other[0].Private, opts)
	if _, err := bad.GetToken(context.Background(), policy.TokenRequestOptions{Scopes: []string{wellknown.GraphResource + "/.default"}}); err == nil || !strings.Contains(err.Error(), "AADSTS700027") {
		t.Errorf("unregistered certificate through azidentity: %v", err)
	}
}
