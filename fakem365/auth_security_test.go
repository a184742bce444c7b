package fakem365_test

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/golang-jwt/jwt/v5"

	"github.com/m365snow/m365snow/fakeaad"
	"github.com/m365snow/m365snow/internal/wellknown"
)

// resign copies a fakeaad token, lets mod change its claims and signs it
// again with the fakeaad key that signed it, so that only the changed claim
// can make the connector refuse it.
func resign(t *testing.T, tok string, mod func(jwt.MapClaims)) string {
	t.Helper()
	parts := strings.Split(tok, ".")
	hb, _ := base64.RawURLEncoding.DecodeString(parts[0])
	cb, _ := base64.RawURLEncoding.DecodeString(parts[1])
	var header map[string]any
	claims := jwt.MapClaims{}
	if json.Unmarshal(hb, &header) != nil || json.Unmarshal(cb, &claims) != nil {
		t.Fatalf("not a JWT: %s", tok)
	}
	for i := 1; i <= 3; i++ {
		b, err := os.ReadFile(fmt.Sprintf("../fakeaad/keys/signing-%d.pem", i))
		if err != nil {
			t.Fatal(err)
		}
		k, err := fakeaad.ParseSigningKey(b)
		if err != nil {
			t.Fatal(err)
		}
		if k.KID != header["kid"] {
			continue
		}
		mod(claims)
		out := jwt.NewWithClaims(jwt.SigningMethodRS256, claims)
		out.Header["kid"] = k.KID
		s, err := out.SignedString(k.Private)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	t.Fatalf("no built-in key has kid %v", header["kid"])
	return ""
}

// TestConnectorTenantClaimIsNotAPath: the connector finds the token's
// tenant by its tid claim, which Entra documents as the tenant's GUID
// (Microsoft identity platform access token claims reference, "tid"). A tid
// carrying "/", "?" or "#" would rewrite the discovery URL the keys are
// fetched from — "contoso/.well-known/openid-configuration#" still reaches
// Contoso's real document — so such a token is refused before any fetch.
func TestConnectorTenantClaimIsNotAPath(t *testing.T) {
	e := newEnv(t)
	e.integrate(t, "Basic Auth")
	good := e.appToken(t, contoso, outbound, "outbound-secret", wellknown.ConnectorResource)
	query := map[string]string{"query": "outlook mail not syncing", "incidentNumber": "INC0010001"}
	// The re-signed original passes, so the refusals below are the tid's.
	wantAPIError(t, e.do(t, "POST", connector("contoso-snow")+"/solutions/search", resign(t, good, func(jwt.MapClaims) {}), query), 409, "HandshakeRequired", "final Setup step")
	for _, tid := range []string{
		contoso + "/.well-known/openid-configuration#",
		contoso + "/.well-known/openid-configuration?",
		contoso + "/v2.0",
		contoso + "#",
		"",
	} {
		t.Run(tid, func(t *testing.T) {
			tok := resign(t, good, func(c jwt.MapClaims) { c["tid"] = tid })
			wantAPIError(t, e.do(t, "POST", connector("contoso-snow")+"/solutions/search", tok, query), 401, "InvalidAuthenticationToken", "The token names no tenant (tid).")
		})
	}
}

// TestBearerSchemeRequired: RFC 6750 §2.1 sends an access token as
// "Authorization: Bearer <token>"; a bare token, or one under another
// scheme, is no bearer credential, and Microsoft's APIs answer 401
// InvalidAuthenticationToken.
func TestBearerSchemeRequired(t *testing.T) {
	e := newEnv(t)
	e.integrate(t, "Basic Auth")
	app := e.appToken(t, contoso, outbound, "outbound-secret", wellknown.ConnectorResource)
	admin := e.adminToken(t, "admin@contoso.onmicrosoft.com", "admin-pw")
	cases := []struct {
		name, url, method, header string
		body                      any
	}{
		{"bare token at the connector", connector("contoso-snow") + "/solutions/search", "POST", app, map[string]string{"query": "mail"}},
		{"Basic scheme at the connector", connector("contoso-snow") + "/solutions/search", "POST", "Basic " + app, map[string]string{"query": "mail"}},
		{"bare token at the admin portal", portal(contoso), "GET", admin, nil},
		{"empty Bearer at the admin portal", portal(contoso), "GET", "Bearer  ", nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := e.raw(t, c.method, c.url, c.header, c.body)
			wantAPIError(t, r, 401, "InvalidAuthenticationToken", "The request carries no bearer token.")
		})
	}
	// With the scheme, the same admin token is accepted.
	if r := e.do(t, "GET", portal(contoso), admin, nil); r.status != 200 {
		t.Fatalf("admin with Bearer: %d %s", r.status, r.raw)
	}
}

// raw is do with the Authorization header exactly as given.
func (e *env) raw(t *testing.T, method, rawURL, authorization string, body any) resp {
	t.Helper()
	var b []byte
	if body != nil {
		b, _ = json.Marshal(body)
	}
	req, _ := http.NewRequest(method, rawURL, strings.NewReader(string(b)))
	req.Header.Set("Authorization", authorization)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := e.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	all, _ := io.ReadAll(res.Body)
	out := resp{status: res.StatusCode, raw: string(all)}
	_ = json.Unmarshal(all, &out.body)
	return out
}
