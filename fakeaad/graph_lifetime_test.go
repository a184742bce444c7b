package fakeaad

import (
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/m365snow/m365snow/internal/wellknown"
)

// resigned returns tok with its nbf and exp moved to the given instants and
// signed again with the server's active key: a token Entra could have issued.
func (e *testEnv) resigned(t *testing.T, tok string, nbf, exp time.Time) string {
	t.Helper()
	claims := jwt.MapClaims{}
	if _, _, err := jwt.NewParser().ParseUnverified(tok, claims); err != nil {
		t.Fatal(err)
	}
	claims["nbf"], claims["exp"] = nbf.Unix(), exp.Unix()
	e.srv.mu.RLock()
	k := e.srv.keys.active(e.srv.clock.Now())
	e.srv.mu.RUnlock()
	j := jwt.NewWithClaims(jwt.SigningMethodRS256, claims)
	j.Header["kid"] = k.KID
	s, err := j.SignedString(k.Private)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// Regression for issue 11 item 9: Graph accepted a token whose nbf was two
// hours ahead and allowed no skew on exp, unlike the other two parties. It
// now validates lifetime with internal/oidckeys' rules: 5 minutes either way
// (Microsoft.IdentityModel's DefaultClockSkew).
func TestGraphLifetimeUsesSharedSkew(t *testing.T) {
	env := newEnv(t, false)
	admin := env.userToken(t, "admin@contoso.onmicrosoft.com", "admin-pw", wellknown.GraphResource)
	now := env.clock.Now()
	cases := []struct {
		name     string
		nbf, exp time.Time
		refused  string // "" when Graph must accept the token
	}{
		{"nbf two hours ahead", now.Add(2 * time.Hour), now.Add(3 * time.Hour), "Lifetime validation failed, the token is not yet valid."},
		{"nbf six minutes ahead", now.Add(6 * time.Minute), now.Add(time.Hour), "Lifetime validation failed, the token is not yet valid."},
		{"nbf four minutes ahead (within skew)", now.Add(4 * time.Minute), now.Add(time.Hour), ""},
		{"expired four minutes ago (within skew)", now.Add(-time.Hour), now.Add(-4 * time.Minute), ""},
		{"expired six minutes ago", now.Add(-time.Hour), now.Add(-6 * time.Minute), "Lifetime validation failed, the token is expired."},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := env.graph(t, "GET", "/applications", env.resigned(t, admin, c.nbf, c.exp), "")
			if c.refused == "" {
				if r.status != 200 {
					t.Fatalf("status %d, want 200: %s", r.status, r.raw)
				}
				return
			}
			checkGraphError(t, r, 401, "InvalidAuthenticationToken", c.refused)
		})
	}
}
