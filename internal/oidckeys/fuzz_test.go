package oidckeys

import (
	"crypto/rsa"
	"errors"
	"testing"

	"github.com/golang-jwt/jwt/v5"

	"github.com/m365snow/m365snow/internal/clock"
)

// FuzzVerifyWith feeds arbitrary strings to the verifier every party uses.
// It must never panic, must fail only with a *Failure, and must accept a
// token only when its signature verifies with the one known key and its
// claims meet the rules. `make test` runs the seeds; `go test -fuzz
// FuzzVerifyWith ./internal/oidckeys` explores.
func FuzzVerifyWith(f *testing.F) {
	keys, err := testKeys()
	if err != nil {
		f.Fatal(err)
	}
	now := clock.Epoch
	want := Want{Issuer: "https://sts.windows.net/tid/", Audiences: []string{"api://rest"}, Skew: DefaultSkew}
	sign := func(method jwt.SigningMethod, key any, kid string, claims jwt.MapClaims) string {
		tok := jwt.NewWithClaims(method, claims)
		tok.Header["kid"] = kid
		s, err := tok.SignedString(key)
		if err != nil {
			f.Fatal(err)
		}
		return s
	}
	valid := baseClaims(now)
	for _, seed := range []string{
		sign(jwt.SigningMethodRS256, keys[0], "k1", valid),
		sign(jwt.SigningMethodRS256, keys[1], "k1", valid),
		sign(jwt.SigningMethodRS256, keys[0], "unknown", valid),
		sign(jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, "k1", valid),
		sign(jwt.SigningMethodHS256, []byte("secret"), "k1", valid),
		sign(jwt.SigningMethodRS256, keys[0], "k1", jwt.MapClaims{"iss": want.Issuer, "aud": "api://rest", "exp": "soon", "nbf": []int{1}}),
		sign(jwt.SigningMethodRS256, keys[0], "k1", jwt.MapClaims{"iss": want.Issuer, "aud": []any{"x", 1, nil}, "exp": 1e300}),
		"", ".", "..", "a.b.c", "eyJhbGciOiJSUzI1NiJ9..", "eyJhbGciOiJSUzI1NiIsImtpZCI6ImsxIn0.e30.AAAA",
	} {
		f.Add(seed)
	}
	keyFor := func(kid string) (*rsa.PublicKey, error) {
		if kid != "k1" {
			return nil, errors.New("unknown kid")
		}
		return &keys[0].PublicKey, nil
	}
	f.Fuzz(func(t *testing.T, raw string) {
		claims, err := VerifyWith(raw, keyFor, want, now)
		if err != nil {
			var fl *Failure
			if !errors.As(err, &fl) || fl.Check == "" {
				t.Fatalf("error %v is not a *Failure naming its check", err)
			}
			return
		}
		// Accepted: it must really be an RS256 token signed by keys[0].
		if _, perr := jwt.NewParser(jwt.WithValidMethods([]string{"RS256"}), jwt.WithoutClaimsValidation()).
			Parse(raw, func(*jwt.Token) (any, error) { return &keys[0].PublicKey, nil }); perr != nil {
			t.Fatalf("accepted a token jwt rejects: %v", perr)
		}
		if iss, _ := claims["iss"].(string); iss != want.Issuer {
			t.Fatalf("accepted iss %q", iss)
		}
		if exp, err := claims.GetExpirationTime(); err != nil || exp == nil || now.After(exp.Add(DefaultSkew)) {
			t.Fatalf("accepted exp %v (%v)", exp, err)
		}
		if nbf, _ := claims.GetNotBefore(); nbf != nil && now.Add(DefaultSkew).Before(nbf.Time) {
			t.Fatalf("accepted nbf %v", nbf)
		}
	})
}
