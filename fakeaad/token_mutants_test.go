package fakeaad

import (
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
