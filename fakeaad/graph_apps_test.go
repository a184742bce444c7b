package fakeaad

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/m365snow/m365snow/internal/wellknown"
)

func newCert(t testing.TB, cn string, from time.Time) (*rsa.PrivateKey, string) {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: cn},
		NotBefore: from.Add(-time.Hour), NotAfter: from.AddDate(1, 0, 0)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return key, base64.StdEncoding.EncodeToString(der)
}

// proof is the proof-of-possession JWT of concepts/application-rollkey-prooftoken.md.
func proof(t testing.TB, key *rsa.PrivateKey, objectID string, nbf time.Time, life time.Duration) string {
	t.Helper()
	tok, err := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.MapClaims{
		"aud": "00000002-0000-0000-c000-000000000000", "iss": objectID,
		"nbf": nbf.Unix(), "exp": nbf.Add(life).Unix(),
	}).SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func (e *testEnv) graphJSON(t testing.TB, method, path, token string, body any) response {
	t.Helper()
	b, _ := json.Marshal(body)
	return e.graph(t, method, path, token, string(b))
}

// The application resource's properties round-trip, per property, in the
// shapes of Graph's application-post-applications.md and
// application-update.md examples.
func TestGraphApplicationProperties(t *testing.T) {
	env := newEnv(t, false)
	admin := env.userToken(t, "admin@contoso.onmicrosoft.com", "admin-pw", wellknown.GraphResource)
	scopeID, roleID := "8a0d2c4e-6f1b-4d3a-9c5e-7b9d1f3a5c7e", "b2d4f6a8-0c1e-4a3c-8e5a-7c9e1b3d5f70"
	create := map[string]any{
		"@odata.type":    "#microsoft.graph.application",
		"displayName":    "ServiceNow inbound API",
		"signInAudience": "AzureADMyOrg",
		"identifierUris": []string{"api://servicenow-inbound", "https://api.contoso.onmicrosoft.com/sn"},
		"tags":           []string{"servicenow"},
		"api": map[string]any{
			"requestedAccessTokenVersion": 2,
			"oauth2PermissionScopes": []map[string]any{{"id": scopeID, "value": "Cases.Read", "type": "User", "isEnabled": true,
				"adminConsentDisplayName": "Read cases", "adminConsentDescription": "Read support cases"}},
		},
		"appRoles": []map[string]any{{"id": roleID, "value": "Cases.ReadWrite.All", "displayName": "Write cases",
			"description": "Write all cases", "allowedMemberTypes": []string{"Application"}, "isEnabled": true}},
		"requiredResourceAccess": []map[string]any{{"resourceAppId": wellknown.GraphAppID,
			"resourceAccess": []map[string]any{{"id": "e1fe6dd8-ba31-4d61-89e7-88639da4683d", "type": "Scope"}}}},
		"web": map[string]any{"redirectUris": []string{"https://dev1.service-now.com/oauth_redirect.do"}, "logoutUrl": "https://dev1.service-now.com/logout.do",
			"implicitGrantSettings": map[string]any{"enableIdTokenIssuance": true, "enableAccessTokenIssuance": false}},
		"spa":            map[string]any{"redirectUris": []string{"https://spa.contoso.com/"}},
		"publicClient":   map[string]any{"redirectUris": []string{"https://login.microsoftonline.com/common/oauth2/nativeclient"}},
		"optionalClaims": map[string]any{"accessToken": []map[string]any{{"name": "idtyp", "essential": false, "source": nil, "additionalProperties": []string{}}}},
	}
	r := env.graphJSON(t, "POST", "/applications", admin, create)
	if r.status != 201 {
		t.Fatalf("create: %d %s", r.status, r.raw)
	}
	id := r.body["id"].(string)
	appID := r.body["appId"].(string)

	get := func() map[string]any {
		r := env.graph(t, "GET", "/applications/"+id, admin, "")
		if r.status != 200 {
			t.Fatalf("get: %d %s", r.status, r.raw)
		}
		return r.body
	}
	path := func(m map[string]any, p string) any {
		var cur any = m
		for _, seg := range strings.Split(p, ".") {
			cur = cur.(map[string]any)[seg]
		}
		b, _ := json.Marshal(cur)
		return string(b)
	}
	checks := []struct{ prop, want string }{
		{"identifierUris", `["api://servicenow-inbound","https://api.contoso.onmicrosoft.com/sn"]`},
		{"tags", `["servicenow"]`},
		{"api.requestedAccessTokenVersion", `2`},
		{"api.oauth2PermissionScopes", `[{"adminConsentDescription":"Read support cases","adminConsentDisplayName":"Read cases","id":"` + scopeID + `","isEnabled":true,"origin":"Application","type":"User","value":"Cases.Read"}]`},
		{"appRoles", `[{"allowedMemberTypes":["Application"],"description":"Write all cases","displayName":"Write cases","id":"` + roleID + `","isEnabled":true,"origin":"Application","value":"Cases.ReadWrite.All"}]`},
		{"requiredResourceAccess", `[{"resourceAccess":[{"id":"e1fe6dd8-ba31-4d61-89e7-88639da4683d","type":"Scope"}],"resourceAppId":"00000003-0000-0000-c000-000000000000"}]`},
		{"web.redirectUris", `["https://dev1.service-now.com/oauth_redirect.do"]`},
		{"web.logoutUrl", `"https://dev1.service-now.com/logout.do"`},
		{"web.implicitGrantSettings", `{"enableAccessTokenIssuance":false,"enableIdTokenIssuance":true}`},
		{"spa.redirectUris", `["https://spa.contoso.com/"]`},
		{"publicClient.redirectUris", `["https://login.microsoftonline.com/common/oauth2/nativeclient"]`},
		{"optionalClaims.accessToken", `[{"additionalProperties":[],"essential":false,"name":"idtyp","source":null}]`},
		{"signInAudience", `"AzureADMyOrg"`},
	}
	app := get()
	for _, c := range checks {
		if got := path(app, c.prop); got != c.want {
			t.Errorf("%s = %s, want %s", c.prop, got, c.want)
		}
	}

	// PATCH merges: a complex value keeps what the patch leaves out, a
	// collection is replaced (OData 4.0 §11.4.3; application-update.md).
	r = env.graphJSON(t, "PATCH", "/applications(appId='"+appID+"')", admin, map[string]any{
		"web":  map[string]any{"redirectUris": []string{"https://dev2.service-now.com/oauth_redirect.do"}},
		"tags": []string{},
	})
	if r.status != 204 {
		t.Fatalf("patch: %d %s", r.status, r.raw)
	}
	app = get()
	for _, c := range []struct{ prop, want string }{
		{"web.redirectUris", `["https://dev2.service-now.com/oauth_redirect.do"]`},
		{"web.logoutUrl", `"https://dev1.service-now.com/logout.do"`},
		{"web.implicitGrantSettings", `{"enableAccessTokenIssuance":false,"enableIdTokenIssuance":true}`},
		{"tags", `[]`},
		{"displayName", `"ServiceNow inbound API"`},
		{"api.requestedAccessTokenVersion", `2`},
	} {
		if got := path(app, c.prop); got != c.want {
			t.Errorf("after PATCH %s = %s, want %s", c.prop, got, c.want)
		}
	}

	// The resource issues what it is configured for: a v2 token whose aud
	// is the appId, found by either identifier URI.
	env.graphJSON(t, "POST", "/servicePrincipals", admin, map[string]any{"appId": appID})
	tok := env.token(t, "/"+contosoID+"/oauth2/v2.0/token", ccV2(outboundID, "outbound-secret", "https://api.contoso.onmicrosoft.com/sn/.default"))
	if _, c := decodeJWT(t, tok); c["aud"] != appID || c["ver"] != "2.0" || c["idtyp"] != "app" {
		t.Errorf("token for the new API (v2, idtyp optional claim): %v", c)
	}
	// Without the optional claim there is no idtyp (reference/aad.md §0.14).
	tok = env.token(t, "/"+contosoID+"/oauth2/v2.0/token", ccV2(outboundID, "outbound-secret", "api://modern/.default"))
	if _, c := decodeJWT(t, tok); c["idtyp"] != nil {
		t.Errorf("idtyp without the optional claim: %v", c)
	}

	// Mistakes get Graph's errors.
	bad := []struct {
		name   string
		method string
		body   map[string]any
		code   string
		msg    string
	}{
		{"unknown property", "POST", map[string]any{"displayName": "x", "colour": "red"}, "Request_BadRequest", "Property 'colour' does not exist on type 'microsoft.graph.application'."},
		{"missing displayName", "POST", map[string]any{"signInAudience": "AzureADMyOrg"}, "Request_BadRequest", "Property 'displayName' is required."},
		{"identifier URI on an unverified domain", "POST", map[string]any{"displayName": "x", "identifierUris": []string{"https://fabrikam.com/api"}}, "HostNameNotOnVerifiedDomain",
			"Values of identifierUris property must use a verified domain of the organization or its subdomain: 'https://fabrikam.com/api'"},
		{"identifier URI in use", "POST", map[string]any{"displayName": "x", "identifierUris": []string{"api://modern"}}, "Request_BadRequest", "Another object with the same value for property identifierUris already exists."},
		{"token version 3", "POST", map[string]any{"displayName": "x", "api": map[string]any{"requestedAccessTokenVersion": 3}}, "Request_BadRequest", "requestedAccessTokenVersion"},
		{"personal accounts", "POST", map[string]any{"displayName": "x", "signInAudience": "PersonalMicrosoftAccount"}, "Request_BadRequest", "signInAudience"},
		{"wrong type", "POST", map[string]any{"displayName": "x", "tags": "one"}, "BadRequest", "Cannot convert the literal"},
		{"removing an enabled scope", "PATCH", map[string]any{"api": map[string]any{"oauth2PermissionScopes": []any{}}}, "CannotDeleteOrUpdateEnabledEntitlement",
			"Permission (scope or role) cannot be deleted or updated unless disabled first."},
		{"a key that is not a certificate", "PATCH", map[string]any{"keyCredentials": []map[string]any{{"type": "AsymmetricX509Cert", "usage": "Verify", "key": "bm90IGEgY2VydA=="}}},
			"Request_BadRequest", "Key value is invalid certificate"},
	}
	for _, c := range bad {
		t.Run(c.name, func(t *testing.T) {
			p := "/applications"
			if c.method == "PATCH" {
				p += "/" + id
			}
			checkGraphError(t, env.graphJSON(t, c.method, p, admin, c.body), 400, c.code, c.msg)
		})
	}
	// Disabling first, then removing, is allowed.
	scopes := app["api"].(map[string]any)["oauth2PermissionScopes"].([]any)
	scopes[0].(map[string]any)["isEnabled"] = false
	if r := env.graphJSON(t, "PATCH", "/applications/"+id, admin, map[string]any{"api": map[string]any{"oauth2PermissionScopes": scopes}}); r.status != 204 {
		t.Fatalf("disable scope: %d %s", r.status, r.raw)
	}
	if r := env.graphJSON(t, "PATCH", "/applications/"+id, admin, map[string]any{"api": map[string]any{"oauth2PermissionScopes": []any{}}}); r.status != 204 {
		t.Fatalf("remove disabled scope: %d %s", r.status, r.raw)
	}
}

// Certificates: added by PATCH, rolled by addKey/removeKey with a proof of
// possession signed by a current certificate (application-addkey.md).
func TestGraphApplicationKeys(t *testing.T) {
	env := newEnv(t, false)
	admin := env.userToken(t, "admin@contoso.onmicrosoft.com", "admin-pw", wellknown.GraphResource)
	now := env.clock.Now()
	r := env.graphJSON(t, "POST", "/applications", admin, map[string]any{"displayName": "cert app"})
	id := r.body["id"].(string)
	key1, cert1 := newCert(t, "first", now)
	key2, cert2 := newCert(t, "second", now)
	_, cert3 := newCert(t, "third", now)

	// Without a certificate there is nothing to prove possession of.
	checkGraphError(t, env.graphJSON(t, "POST", "/applications/"+id+"/addKey", admin, map[string]any{
		"keyCredential": map[string]any{"type": "AsymmetricX509Cert", "usage": "Verify", "key": cert2}, "passwordCredential": nil,
		"proof": proof(t, key1, id, now, 10*time.Minute)}), 400, "Request_BadRequest", "no valid certificate")

	r = env.graphJSON(t, "PATCH", "/applications/"+id, admin, map[string]any{"keyCredentials": []map[string]any{
		{"type": "AsymmetricX509Cert", "usage": "Verify", "key": cert1, "displayName": "CN=first"}}})
	if r.status != 204 {
		t.Fatalf("patch key: %d %s", r.status, r.raw)
	}
	r = env.graph(t, "GET", "/applications/"+id+"?$select=keyCredentials", admin, "")
	kc := r.body["keyCredentials"].([]any)[0].(map[string]any)
	if kc["key"] != nil || kc["type"] != "AsymmetricX509Cert" || kc["usage"] != "Verify" || len(kc["customKeyIdentifier"].(string)) != 40 {
		t.Errorf("key credential read back %v", kc)
	}
	firstKeyID := kc["keyId"].(string)

	add := func(cert, proofTok string) response {
		return env.graphJSON(t, "POST", "/applications/"+id+"/addKey", admin, map[string]any{
			"keyCredential":      map[string]any{"type": "AsymmetricX509Cert", "usage": "Verify", "key": cert},
			"passwordCredential": nil, "proof": proofTok})
	}
	bad := []struct{ name, proof, msg string }{
		{"signed by a key the app does not hold", proof(t, key2, id, now, 10*time.Minute), "Proof of possession validation failed"},
		{"issued by another object", proof(t, key1, "00000000-0000-0000-0000-000000000001", now, 10*time.Minute), "Proof of possession validation failed"},
		{"living longer than ten minutes", proof(t, key1, id, now, time.Hour), "at most 10 minutes"},
		{"expired", proof(t, key1, id, now.Add(-time.Hour), 10*time.Minute), "Proof of possession validation failed"},
		{"missing", "", "the proof parameter is required"},
	}
	for _, c := range bad {
		t.Run(c.name, func(t *testing.T) {
			checkGraphError(t, add(cert2, c.proof), 400, "Request_BadRequest", c.msg)
		})
	}
	r = add(cert2, proof(t, key1, id, now, 10*time.Minute))
	if r.status != 200 || r.body["@odata.context"] != "https://graph.microsoft.com/v1.0/$metadata#microsoft.graph.keyCredential" || r.body["key"] != nil {
		t.Fatalf("addKey: %d %s", r.status, r.raw)
	}
	// The new certificate proves possession to remove the old one.
	r = env.graphJSON(t, "POST", "/applications/"+id+"/removeKey", admin, map[string]any{"keyId": firstKeyID, "proof": proof(t, key2, id, now, 10*time.Minute)})
	if r.status != 204 {
		t.Fatalf("removeKey: %d %s", r.status, r.raw)
	}
	r = env.graph(t, "GET", "/applications/"+id, admin, "")
	if keys := r.body["keyCredentials"].([]any); len(keys) != 1 || keys[0].(map[string]any)["displayName"] != "CN=second" {
		t.Errorf("keys after roll: %v", keys)
	}
	// A PATCH that echoes the keys read back (without key) keeps them.
	r = env.graphJSON(t, "PATCH", "/applications/"+id, admin, map[string]any{"keyCredentials": r.body["keyCredentials"]})
	if r.status != 204 {
		t.Fatalf("echo keys: %d %s", r.status, r.raw)
	}
	checkGraphError(t, add(cert3, proof(t, key1, id, now, 10*time.Minute)), 400, "Request_BadRequest", "Proof of possession validation failed")

	// The exported world carries the certificate.
	state, err := env.srv.ExportState()
	if err != nil || !strings.Contains(string(state), "keyCredentials") {
		t.Fatalf("export: %v\n%s", err, state)
	}
	if strings.Count(string(state), "keyCredentials") != 1 {
		t.Errorf("the certificate is exported twice:\n%s", state)
	}
	if err := env.srv.ImportState(state); err != nil {
		t.Fatalf("re-import: %v", err)
	}
	r = env.graph(t, "GET", "/applications/"+id, admin, "")
	if keys := r.body["keyCredentials"].([]any); len(keys) != 1 || keys[0].(map[string]any)["displayName"] != "CN=second" {
		t.Errorf("keys after re-import: %v", keys)
	}
}
