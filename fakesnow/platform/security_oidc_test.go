package platform_test

import (
	"strings"
	"testing"

	"github.com/golang-jwt/jwt/v5"
)

// TestInactiveOIDCProviderEntity: an External OIDC Provider entity has an
// Active flag (SND-OIDC); validation looks for an *active* entity whose
// Client ID is the token's aud (reference §4.3 step 1). Deactivating it is
// how an admin stops accepting a provider's tokens.
func TestInactiveOIDCProviderEntity(t *testing.T) {
	e := newOIDCEnv(t)
	tok := e.aadToken(t)
	if code, body := e.get(t, tok); code != 200 {
		t.Fatalf("valid token refused: %d %s", code, body)
	}
	ent, _ := e.inst.First("oauth_entity", "name=contoso_application_inbound_api")
	if _, err := e.inst.Update("oauth_entity", ent["sys_id"], map[string]string{"active": "false"}); err != nil {
		t.Fatal(err)
	}
	if code, _ := e.get(t, tok); code != 401 {
		t.Fatalf("inactive entity still validates: %d", code)
	}
	if got := e.lastOIDCLog(t); !strings.HasPrefix(got, "Cannot find oauth_oidc_entity for issuer") {
		t.Errorf("log %q", got)
	}
}

// TestOIDCUserDeactivatedAfterTokenIssued: the request runs as the user the
// claim names (reference §4.3 step 4), and that user must still be able to
// sign in: active and not locked out.
func TestOIDCUserDeactivatedAfterTokenIssued(t *testing.T) {
	for _, change := range []map[string]string{{"active": "false"}, {"locked_out": "true"}} {
		e := newOIDCEnv(t)
		tok := e.aadToken(t)
		if code, _ := e.get(t, tok); code != 200 {
			t.Fatalf("valid token refused: %d", code)
		}
		u, _ := e.inst.First("sys_user", "user_name="+restUser)
		if _, err := e.inst.Update("sys_user", u["sys_id"], change); err != nil {
			t.Fatal(err)
		}
		if code, _ := e.get(t, tok); code != 401 {
			t.Fatalf("%v: token of a user who can no longer sign in accepted: %d", change, code)
		}
	}
}

// TestOIDCReplayedJTI: with JTI verification on, a token's jti may be used
// once; ServiceNow logs "JTI claim verification failed, duplicated JTI
// found" for the second use (reference §4.3, OKTA-GUIDE). RFC 7519 §4.1.7:
// jti "can be used to prevent the JWT from being replayed".
func TestOIDCReplayedJTI(t *testing.T) {
	e := newOIDCEnv(t)
	base, kid := claimsOf(t, e.aadToken(t))
	_, key := signingKey(t)
	withJTI := func(jti string) string {
		c := jwt.MapClaims{}
		for k, v := range base {
			c[k] = v
		}
		c["jti"] = jti
		tok := jwt.NewWithClaims(jwt.SigningMethodRS256, c)
		tok.Header["kid"] = kid
		s, err := tok.SignedString(key)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	cfg, _ := e.inst.First("oidc_provider_configuration", "name=Contoso Azure")
	if _, err := e.inst.Update("oidc_provider_configuration", cfg["sys_id"], map[string]string{"enable_jti_verification": "true"}); err != nil {
		t.Fatal(err)
	}
	first := withJTI("7f4d2c1e-0000-4000-8000-000000000001")
	if code, body := e.get(t, first); code != 200 {
		t.Fatalf("first use refused: %d %s %s", code, body, e.lastOIDCLog(t))
	}
	if code, _ := e.get(t, first); code != 401 {
		t.Fatalf("replayed jti accepted: %d", code)
	}
	if got := e.lastOIDCLog(t); got != "OIDC token verification failed: JTI claim verification failed, duplicated JTI found (entity contoso_application_inbound_api)" {
		t.Errorf("log %q", got)
	}
	// Another jti is another token.
	if code, _ := e.get(t, withJTI("7f4d2c1e-0000-4000-8000-000000000002")); code != 200 {
		t.Fatalf("a fresh jti refused: %d %s", code, e.lastOIDCLog(t))
	}
}
