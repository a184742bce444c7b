package fakeaad

import (
	"encoding/base64"
	"encoding/json"
	"net/url"
	"testing"

	"github.com/m365snow/m365snow/internal/wellknown"
)

// Tests written for mutants of token.go that lived through the rest of the
// suite (docs/testing.md, "Every survivor").

// TestV1UserTokenCarriesCallerIP: a v1.0 access token issued for a user
// carries ipaddr, "the IP address the user authenticated from" (Microsoft
// identity platform, access token claims reference); the fake's caller is on
// the loopback.
func TestV1UserTokenCarriesCallerIP(t *testing.T) {
	env := newEnv(t, false)
	tok := env.token(t, "/"+contosoID+"/oauth2/token", ropc("admin@contoso.onmicrosoft.com", "admin-pw", wellknown.GraphResource))
	if _, c := decodeJWT(t, tok); c["ipaddr"] != "127.0.0.1" {
		t.Errorf("ipaddr %v, want 127.0.0.1", c["ipaddr"])
	}
}

// TestGenericTenantGrantWithoutTenant: on /organizations and /common a
// grant must carry its tenant. A refresh token nobody issued names none and
// is a malformed grant (AADSTS9002313, as on a tenant's own endpoint); an
// on-behalf-of assertion whose tid is no tenant of the directory fails as an
// assertion (AADSTS50013), since the assertion is what names the tenant.
func TestGenericTenantGrantWithoutTenant(t *testing.T) {
	env := newFlowEnv(t, false, nil)
	foreign := unsignedJWT(t, map[string]any{"tid": "00000000-1111-4222-8333-444444444444", "aud": middleID})
	for _, seg := range []string{"organizations", "common"} {
		path := "/" + seg + "/oauth2/v2.0/token"
		checkSTSError(t, env.post(t, path, url.Values{"grant_type": {"refresh_token"}, "client_id": {nativeID}, "refresh_token": {"not-a-token"}}),
			400, "invalid_grant", 9002313, "Invalid request. Request is malformed or invalid.")
		checkSTSError(t, env.post(t, path, url.Values{"grant_type": {jwtBearerGrant}, "client_id": {middleID}, "client_secret": {"middle-secret"},
			"assertion": {foreign}, "requested_token_use": {"on_behalf_of"}, "scope": {wellknown.GraphResource + "/User.Read"}}),
			400, "invalid_grant", 50013, "The assertion names no tenant of this directory.")
	}
}

// unsignedJWT is a JWT-shaped string with claims and no valid signature.
func unsignedJWT(t *testing.T, claims map[string]any) string {
	t.Helper()
	b, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	return "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9." + base64.RawURLEncoding.EncodeToString(b) + ".c2ln"
}

// TestClientAssertionType: a client assertion is only read together with
// client_assertion_type, whose one value is
// urn:ietf:params:oauth:client-assertion-type:jwt-bearer (RFC 7523 §2.2;
// Microsoft identity platform, certificate credentials). Missing, it is a
// missing parameter (AADSTS900144); any other value is refused by name.
func TestClientAssertionType(t *testing.T) {
	env := newFlowEnv(t, false, nil)
	post := func(assertionType []string) response {
		form := url.Values{"grant_type": {"client_credentials"}, "client_id": {certID},
			"scope": {wellknown.GraphResource + "/.default"}, "client_assertion": {"a.b.c"}}
		if assertionType != nil {
			form["client_assertion_type"] = assertionType
		}
		return env.post(t, "/"+contosoID+"/oauth2/v2.0/token", form)
	}
	checkSTSError(t, post(nil), 400, "invalid_request", 900144, "The request body must contain the following parameter: 'client_assertion_type'.")
	checkSTSError(t, post([]string{""}), 400, "invalid_request", 900144, "The request body must contain the following parameter: 'client_assertion_type'.")
	checkSTSError(t, post([]string{"urn:ietf:params:oauth:client-assertion-type:saml2-bearer"}), 400, "invalid_request", 70002,
		"The client_assertion_type 'urn:ietf:params:oauth:client-assertion-type:saml2-bearer' is not supported")
}

// TestScopeWithEmptyResource: a v2 scope is "<resource>/<permission>"; one
// that starts with "/" names no resource, and is neither Microsoft Graph's
// short form nor the empty resource. Entra's exact code for this shape is
// not documented; the fake answers as for any resource it does not know
// (AADSTS500011), naming the scope as sent, so the client sees its typo.
func TestScopeWithEmptyResource(t *testing.T) {
	env := newEnv(t, false)
	checkSTSError(t, env.post(t, "/"+contosoID+"/oauth2/v2.0/token", ccV2(outboundID, "outbound-secret", "/.default")),
		400, "invalid_resource", 500011, "The resource principal named /.default was not found in the tenant named Contoso.")
}
