package oidckeys

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/m365snow/m365snow/internal/clock"
)

var testKeys = sync.OnceValues(func() ([2]*rsa.PrivateKey, error) {
	var out [2]*rsa.PrivateKey
	for i := range out {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			return out, err
		}
		out[i] = k
	}
	return out, nil
})

type issuer struct {
	srv       *httptest.Server
	key       *rsa.PrivateKey
	kid       string
	metaHits  atomic.Int32
	jwksHits  atomic.Int32
	published atomic.Bool
}

func newIssuer(t *testing.T) *issuer {
	t.Helper()
	keys, err := testKeys()
	if err != nil {
		t.Fatal(err)
	}
	is := &issuer{key: keys[0], kid: "k1"}
	is.published.Store(true)
	mux := http.NewServeMux()
	mux.HandleFunc("/tid/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		is.metaHits.Add(1)
		_ = json.NewEncoder(w).Encode(map[string]string{"issuer": "https://sts.windows.net/tid/", "jwks_uri": is.srv.URL + "/keys"})
	})
	mux.HandleFunc("/keys", func(w http.ResponseWriter, r *http.Request) {
		is.jwksHits.Add(1)
		var keys []map[string]string
		if is.published.Load() {
			keys = append(keys, map[string]string{"kty": "RSA", "kid": is.kid,
				"n": base64.RawURLEncoding.EncodeToString(is.key.N.Bytes()),
				"e": base64.RawURLEncoding.EncodeToString(big.NewInt(int64(is.key.E)).Bytes())})
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"keys": keys})
	})
	mux.HandleFunc("/broken/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "nope", http.StatusInternalServerError)
	})
	is.srv = httptest.NewServer(mux)
	t.Cleanup(is.srv.Close)
	return is
}

func (is *issuer) sign(t *testing.T, claims jwt.MapClaims, method jwt.SigningMethod, key any, kid string) string {
	t.Helper()
	tok := jwt.NewWithClaims(method, claims)
	tok.Header["kid"] = kid
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func baseClaims(now time.Time) jwt.MapClaims {
	return jwt.MapClaims{"iss": "https://sts.windows.net/tid/", "aud": "api://rest", "appid": "rest-user",
		"iat": now.Add(-5 * time.Minute).Unix(), "nbf": now.Add(-5 * time.Minute).Unix(), "exp": now.Add(time.Hour).Unix()}
}

func TestVerify(t *testing.T) {
	is := newIssuer(t)
	clk := clock.NewManual(clock.Epoch)
	src := NewSource(is.srv.Client(), clk)
	now := clk.Now()
	keys, _ := testKeys()
	expect := Expect{MetadataURL: is.srv.URL + "/tid/.well-known/openid-configuration", Audiences: []string{"api://rest"}, Skew: 5 * time.Minute}
	pubDER, _ := x509.MarshalPKIXPublicKey(&is.key.PublicKey)

	with := func(k string, v any) jwt.MapClaims { c := baseClaims(now); c[k] = v; return c }
	cases := []struct {
		name  string
		token string
		want  Check
	}{
		{"valid", is.sign(t, baseClaims(now), jwt.SigningMethodRS256, is.key, "k1"), ""},
		{"audience list", is.sign(t, with("aud", []string{"other", "api://rest"}), jwt.SigningMethodRS256, is.key, "k1"), ""},
		{"within skew after expiry", is.sign(t, with("exp", now.Add(-4*time.Minute).Unix()), jwt.SigningMethodRS256, is.key, "k1"), ""},
		{"another key under the same kid", is.sign(t, baseClaims(now), jwt.SigningMethodRS256, keys[1], "k1"), CheckSignature},
		{"unknown kid", is.sign(t, baseClaims(now), jwt.SigningMethodRS256, is.key, "k9"), CheckKey},
		{"alg none", is.sign(t, baseClaims(now), jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, "k1"), CheckAlgorithm},
		{"HS256 keyed with the public key", is.sign(t, baseClaims(now), jwt.SigningMethodHS256, pubDER, "k1"), CheckAlgorithm},
		{"wrong issuer", is.sign(t, with("iss", "https://sts.windows.net/other/"), jwt.SigningMethodRS256, is.key, "k1"), CheckIssuer},
		{"wrong audience", is.sign(t, with("aud", "api://other"), jwt.SigningMethodRS256, is.key, "k1"), CheckAudience},
		{"expired beyond skew", is.sign(t, with("exp", now.Add(-6*time.Minute).Unix()), jwt.SigningMethodRS256, is.key, "k1"), CheckExpiry},
		{"no exp", is.sign(t, with("exp", nil), jwt.SigningMethodRS256, is.key, "k1"), CheckExpiry},
		{"not yet valid", is.sign(t, with("nbf", now.Add(10*time.Minute).Unix()), jwt.SigningMethodRS256, is.key, "k1"), CheckNotBefore},
		{"not a JWT", "abc", CheckMalformed},
		{"tampered payload", tamper(is.sign(t, baseClaims(now), jwt.SigningMethodRS256, is.key, "k1")), CheckSignature},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			claims, err := src.Verify(context.Background(), c.token, expect)
			if c.want == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				if v, _ := Claim(claims, "appId"); v != "rest-user" {
					t.Fatalf("Claim(appId) = %q", v)
				}
				return
			}
			var f *Failure
			if !errors.As(err, &f) || f.Check != c.want {
				t.Fatalf("got %v, want a %q failure", err, c.want)
			}
		})
	}
}

func tamper(tok string) string {
	parts := strings.Split(tok, ".")
	payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
	payload = []byte(strings.Replace(string(payload), "rest-user", "rest-admn", 1))
	parts[1] = base64.RawURLEncoding.EncodeToString(payload)
	return strings.Join(parts, ".")
}

func TestCachingAndRefetch(t *testing.T) {
	is := newIssuer(t)
	clk := clock.NewManual(clock.Epoch)
	src := NewSource(is.srv.Client(), clk)
	expect := Expect{MetadataURL: is.srv.URL + "/tid/.well-known/openid-configuration", Audiences: []string{"api://rest"}, CacheTTL: time.Hour}
	tok := is.sign(t, baseClaims(clk.Now()), jwt.SigningMethodRS256, is.key, "k1")
	for range 3 {
		if _, err := src.Verify(context.Background(), tok, expect); err != nil {
			t.Fatal(err)
		}
	}
	if is.metaHits.Load() != 1 || is.jwksHits.Load() != 1 {
		t.Fatalf("fetched metadata %d and keys %d times, want once each", is.metaHits.Load(), is.jwksHits.Load())
	}
	// A new kid forces one refetch even inside the TTL.
	is.kid = "k2"
	tok2 := is.sign(t, baseClaims(clk.Now()), jwt.SigningMethodRS256, is.key, "k2")
	if _, err := src.Verify(context.Background(), tok2, expect); err != nil {
		t.Fatal(err)
	}
	if is.jwksHits.Load() != 2 {
		t.Fatalf("unknown kid did not refetch (hits %d)", is.jwksHits.Load())
	}
	clk.Advance(2 * time.Hour)
	tok3 := is.sign(t, baseClaims(clk.Now()), jwt.SigningMethodRS256, is.key, "k2")
	if _, err := src.Verify(context.Background(), tok3, expect); err != nil {
		t.Fatal(err)
	}
	if is.metaHits.Load() != 2 {
		t.Fatalf("expired cache not refreshed (metadata hits %d)", is.metaHits.Load())
	}
	src.Flush()
	is.published.Store(false)
	var f *Failure
	if _, err := src.Verify(context.Background(), tok3, expect); !errors.As(err, &f) || f.Check != CheckKey {
		t.Fatalf("withdrawn key: %v", err)
	}
	expect.MetadataURL = is.srv.URL + "/broken/.well-known/openid-configuration"
	if _, err := src.Verify(context.Background(), tok3, expect); !errors.As(err, &f) || f.Check != CheckMetadata || !strings.Contains(f.Detail, "HTTP 500") {
		t.Fatalf("broken metadata: %v", err)
	}
}

func TestClaimCaseInsensitive(t *testing.T) {
	c := jwt.MapClaims{"appid": "a", "AppId2": 3}
	if v, ok := Claim(c, "appId"); !ok || v != "a" {
		t.Fatalf("appId → %q %v", v, ok)
	}
	if _, ok := Claim(c, "appid2"); ok {
		t.Fatal("a non-string claim must not match")
	}
	if _, ok := Claim(c, "oid"); ok {
		t.Fatal("absent claim found")
	}
	if _, err := Unverified("x.y"); err == nil {
		t.Fatal("Unverified accepted garbage")
	}
}
