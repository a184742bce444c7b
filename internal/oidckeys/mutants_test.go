package oidckeys

import (
	"context"
	"crypto/rsa"
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

// provider is an identity provider whose discovery document and key set a
// test can change between requests, the way Entra rotates its signing keys
// and tenants move.
type provider struct {
	srv      *httptest.Server
	mu       sync.Mutex
	meta     map[string]any
	jwks     []map[string]string
	status   int
	body     string
	metaHits atomic.Int32
	jwksHits atomic.Int32
}

func newProvider(t *testing.T) *provider {
	t.Helper()
	keys, err := testKeys()
	if err != nil {
		t.Fatal(err)
	}
	p := &provider{status: http.StatusOK}
	mux := http.NewServeMux()
	mux.HandleFunc("/tid/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		p.metaHits.Add(1)
		p.mu.Lock()
		defer p.mu.Unlock()
		if p.status != http.StatusOK {
			w.WriteHeader(p.status)
			_, _ = w.Write([]byte(p.body))
			return
		}
		_ = json.NewEncoder(w).Encode(p.meta)
	})
	mux.HandleFunc("/keys", func(w http.ResponseWriter, r *http.Request) {
		p.jwksHits.Add(1)
		p.mu.Lock()
		defer p.mu.Unlock()
		_ = json.NewEncoder(w).Encode(map[string]any{"keys": p.jwks})
	})
	p.srv = httptest.NewServer(mux)
	t.Cleanup(p.srv.Close)
	p.meta = map[string]any{"issuer": "https://sts.windows.net/tid/", "jwks_uri": p.srv.URL + "/keys"}
	p.jwks = []map[string]string{rsaJWK("k1", keys[0].N, keys[0].E)}
	return p
}

func rsaJWK(kid string, n *big.Int, e int) map[string]string {
	return map[string]string{"kty": "RSA", "use": "sig", "kid": kid,
		"n": base64.RawURLEncoding.EncodeToString(n.Bytes()),
		"e": base64.RawURLEncoding.EncodeToString(big.NewInt(int64(e)).Bytes())}
}

func (p *provider) set(f func(p *provider)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	f(p)
}

func (p *provider) expect(ttl time.Duration) Expect {
	return Expect{MetadataURL: p.srv.URL + "/tid/.well-known/openid-configuration", Audiences: []string{"api://rest"}, Skew: 5 * time.Minute, CacheTTL: ttl}
}

func signed(t *testing.T, claims jwt.MapClaims, kid string) string {
	t.Helper()
	keys, _ := testKeys()
	tok := jwt.NewWithClaims(jwt.SigningMethodRS256, claims)
	tok.Header["kid"] = kid
	s, err := tok.SignedString(keys[0])
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func wantCheck(t *testing.T, err error, want Check) *Failure {
	t.Helper()
	var f *Failure
	if want == "" {
		if err != nil {
			t.Fatalf("refused: %v", err)
		}
		return nil
	}
	if !errors.As(err, &f) || f.Check != want {
		t.Fatalf("got %v, want a %q failure", err, want)
	}
	return f
}

// TestWithdrawnKeyRefusedAfterCacheLifetime: Microsoft tells relying parties
// to cache the signing keys and refresh them at least every 24 hours, because
// a withdrawn (compromised or retired) key stops being published in the
// JWKS ("Signing key rollover in the Microsoft identity platform"). A cache
// that never expires would keep trusting the withdrawn key forever.
func TestWithdrawnKeyRefusedAfterCacheLifetime(t *testing.T) {
	p := newProvider(t)
	clk := clock.NewManual(clock.Epoch)
	src := NewSource(p.srv.Client(), clk)
	exp := p.expect(time.Hour)
	fresh := func() string { return signed(t, baseClaims(clk.Now()), "k1") }
	wantCheck(t, errOf(src.Verify(context.Background(), fresh(), exp)), "")

	p.set(func(p *provider) { p.jwks = nil })
	clk.Advance(59 * time.Minute)
	// Inside the lifetime the cached key still answers: no refetch.
	wantCheck(t, errOf(src.Verify(context.Background(), fresh(), exp)), "")
	if n := p.jwksHits.Load(); n != 1 {
		t.Fatalf("keys fetched %d times inside the cache lifetime, want 1", n)
	}
	clk.Advance(2 * time.Minute)
	f := wantCheck(t, errOf(src.Verify(context.Background(), fresh(), exp)), CheckKey)
	if !strings.Contains(f.Detail, `no key "k1"`) {
		t.Errorf("detail %q", f.Detail)
	}
}

// TestDiscoveryChangeSeenAfterCacheLifetime: the discovery document is
// cached like the keys (ServiceNow: "OIDC Configuration Cache Lifespan");
// once it expires a changed issuer is what tokens must carry.
func TestDiscoveryChangeSeenAfterCacheLifetime(t *testing.T) {
	p := newProvider(t)
	clk := clock.NewManual(clock.Epoch)
	src := NewSource(p.srv.Client(), clk)
	exp := p.expect(time.Hour)
	tok := func() string { return signed(t, baseClaims(clk.Now()), "k1") }
	wantCheck(t, errOf(src.Verify(context.Background(), tok(), exp)), "")
	p.set(func(p *provider) { p.meta["issuer"] = "https://login.microsoftonline.com/tid/v2.0" })
	clk.Advance(30 * time.Minute)
	wantCheck(t, errOf(src.Verify(context.Background(), tok(), exp)), "")
	clk.Advance(31 * time.Minute)
	f := wantCheck(t, errOf(src.Verify(context.Background(), tok(), exp)), CheckIssuer)
	if f.Detail != `iss "https://sts.windows.net/tid/" is not "https://login.microsoftonline.com/tid/v2.0"` {
		t.Errorf("detail %q", f.Detail)
	}
	if p.metaHits.Load() != 2 {
		t.Errorf("metadata fetched %d times, want 2", p.metaHits.Load())
	}
}

// TestDiscoveryDocumentMustNameIssuerAndKeys: OpenID Connect Discovery 1.0
// §3 makes "issuer" and "jwks_uri" REQUIRED, and §4.3 requires the issuer to
// be compared. A document without an issuer must not be accepted, or a token
// without "iss" would then match the empty issuer.
func TestDiscoveryDocumentMustNameIssuerAndKeys(t *testing.T) {
	for _, missing := range []string{"issuer", "jwks_uri"} {
		t.Run(missing, func(t *testing.T) {
			p := newProvider(t)
			clk := clock.NewManual(clock.Epoch)
			src := NewSource(p.srv.Client(), clk)
			p.set(func(p *provider) { delete(p.meta, missing) })
			claims := baseClaims(clk.Now())
			delete(claims, "iss")
			f := wantCheck(t, errOf(src.Verify(context.Background(), signed(t, claims, "k1"), p.expect(0))), CheckMetadata)
			if !strings.Contains(f.Detail, "lacks issuer or jwks_uri") {
				t.Errorf("detail %q", f.Detail)
			}
		})
	}
	// With a complete document, a token without iss fails the issuer check.
	p := newProvider(t)
	clk := clock.NewManual(clock.Epoch)
	claims := baseClaims(clk.Now())
	delete(claims, "iss")
	wantCheck(t, errOf(NewSource(p.srv.Client(), clk).Verify(context.Background(), signed(t, claims, "k1"), p.expect(0))), CheckIssuer)
}

// TestKeySetEntries: a JWKS holds keys of several types and uses (RFC 7517
// §5: ignore keys you do not understand); Entra publishes RSA keys with a
// kid. An EC key or a key without kid next to the signing key must not break
// verification; an RSA key whose modulus or exponent is not base64url, or
// whose exponent is empty or wider than 32 bits, is refused.
func TestKeySetEntries(t *testing.T) {
	keys, _ := testKeys()
	good := rsaJWK("k1", keys[0].N, keys[0].E)
	cases := []struct {
		name string
		jwks []map[string]string
		want Check
	}{
		{"EC key beside the signing key", []map[string]string{{"kty": "EC", "kid": "ec1", "crv": "P-256", "x": "AQ", "y": "AQ"}, good}, ""},
		{"RSA key without kid beside it", []map[string]string{{"kty": "RSA", "n": "!!", "e": "AQAB"}, good}, ""},
		{"modulus not base64url", []map[string]string{{"kty": "RSA", "kid": "k1", "n": "!!", "e": "AQAB"}}, CheckKey},
		{"exponent not base64url", []map[string]string{{"kty": "RSA", "kid": "k1", "n": good["n"], "e": "!!"}}, CheckKey},
		{"empty exponent", []map[string]string{{"kty": "RSA", "kid": "k1", "n": good["n"], "e": ""}}, CheckKey},
		{"five-byte exponent", []map[string]string{{"kty": "RSA", "kid": "k1", "n": good["n"], "e": base64.RawURLEncoding.EncodeToString([]byte{1, 0, 0, 0, 1})}}, CheckKey},
		{"only an EC key under the kid", []map[string]string{{"kty": "EC", "kid": "k1"}}, CheckKey},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := newProvider(t)
			p.set(func(p *provider) { p.jwks = c.jwks })
			clk := clock.NewManual(clock.Epoch)
			src := NewSource(p.srv.Client(), clk)
			f := wantCheck(t, errOf(src.Verify(context.Background(), signed(t, baseClaims(clk.Now()), "k1"), p.expect(0))), c.want)
			if f != nil && strings.HasPrefix(c.name, "only") != strings.Contains(f.Detail, "no key") {
				t.Errorf("detail %q", f.Detail)
			}
		})
	}
}

// TestFourByteExponent: RFC 7518 §6.3.1.2 allows any public exponent; a
// key whose exponent takes four bytes (here the prime 2^24+43) is as valid as the usual
// 65537, and tokens it signs verify.
func TestFourByteExponent(t *testing.T) {
	keys, _ := testKeys()
	base := keys[0]
	e := 1<<24 + 43 // prime, so invertible unless it divides p-1 or q-1 (odds ~1e-7)
	p, q := base.Primes[0], base.Primes[1]
	one := big.NewInt(1)
	phi := new(big.Int).Mul(new(big.Int).Sub(p, one), new(big.Int).Sub(q, one))
	d := new(big.Int).ModInverse(big.NewInt(int64(e)), phi)
	if d == nil {
		t.Fatal("2^24+43 divides p-1 or q-1 of this run's test key")
	}
	key := &rsa.PrivateKey{PublicKey: rsa.PublicKey{N: base.N, E: e}, D: d, Primes: []*big.Int{p, q}}
	key.Precompute()
	p0 := newProvider(t)
	p0.set(func(p *provider) { p.jwks = []map[string]string{rsaJWK("wide", key.N, e)} })
	if len(p0.jwks[0]["e"]) != 6 { // 4 bytes in base64url
		t.Fatalf("exponent %q is not four bytes", p0.jwks[0]["e"])
	}
	clk := clock.NewManual(clock.Epoch)
	tok := jwt.NewWithClaims(jwt.SigningMethodRS256, baseClaims(clk.Now()))
	tok.Header["kid"] = "wide"
	raw, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	wantCheck(t, errOf(NewSource(p0.srv.Client(), clk).Verify(context.Background(), raw, p0.expect(0))), "")
}

// TestDefaultCacheLifetime: no configured lifetime means Microsoft's advised
// 24 hours, not "no caching".
func TestDefaultCacheLifetime(t *testing.T) {
	p := newProvider(t)
	clk := clock.NewManual(clock.Epoch)
	src := NewSource(p.srv.Client(), clk)
	for _, step := range []time.Duration{0, time.Hour, 22 * time.Hour} {
		clk.Advance(step)
		wantCheck(t, errOf(src.Verify(context.Background(), signed(t, baseClaims(clk.Now()), "k1"), p.expect(0))), "")
	}
	if p.metaHits.Load() != 1 || p.jwksHits.Load() != 1 {
		t.Fatalf("fetched metadata %d and keys %d times within 24 h, want once each", p.metaHits.Load(), p.jwksHits.Load())
	}
	clk.Advance(2 * time.Hour)
	wantCheck(t, errOf(src.Verify(context.Background(), signed(t, baseClaims(clk.Now()), "k1"), p.expect(0))), "")
	if p.metaHits.Load() != 2 || p.jwksHits.Load() != 2 {
		t.Fatalf("after 25 h fetched metadata %d and keys %d times, want twice each", p.metaHits.Load(), p.jwksHits.Load())
	}
}

// TestFetchErrorsAreClipped: a failing discovery endpoint's body is quoted
// in the failure, clipped at 200 characters so a log line stays readable.
func TestFetchErrorsAreClipped(t *testing.T) {
	for _, n := range []int{200, 201} {
		p := newProvider(t)
		body := strings.Repeat("x", n)
		p.set(func(p *provider) { p.status, p.body = http.StatusBadGateway, body })
		clk := clock.NewManual(clock.Epoch)
		f := wantCheck(t, errOf(NewSource(p.srv.Client(), clk).Verify(context.Background(), signed(t, baseClaims(clk.Now()), "k1"), p.expect(0))), CheckMetadata)
		want := "HTTP 502: " + strings.Repeat("x", 200)
		if n > 200 {
			want += "…"
		}
		if !strings.HasSuffix(f.Detail, want) {
			t.Errorf("%d-byte body: detail %q", n, f.Detail)
		}
	}
}

// TestTokenShapeAndLifetimeEdges: RFC 7519 §4.1.4/§4.1.5 — exp is required
// here, nbf optional; both are tolerated within the clock skew. A token
// whose header is not base64url JSON, or with two parts, is malformed.
func TestTokenShapeAndLifetimeEdges(t *testing.T) {
	p := newProvider(t)
	clk := clock.NewManual(clock.Epoch)
	src := NewSource(p.srv.Client(), clk)
	now := clk.Now()
	with := func(k string, v any) jwt.MapClaims {
		c := baseClaims(now)
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
		return c
	}
	good := signed(t, baseClaims(now), "k1")
	parts := strings.Split(good, ".")
	cases := []struct {
		name, token string
		want        Check
	}{
		{"no nbf", signed(t, with("nbf", nil), "k1"), ""},
		{"no exp at all", signed(t, with("exp", nil), "k1"), CheckExpiry},
		{"nbf inside the skew", signed(t, with("nbf", now.Add(4*time.Minute).Unix()), "k1"), ""},
		{"exp not a number", signed(t, with("exp", "tomorrow"), "k1"), CheckExpiry},
		{"two parts", parts[0] + "." + parts[1], CheckMalformed},
		{"header not base64url", "%%." + parts[1] + "." + parts[2], CheckMalformed},
		{"header not JSON", base64.RawURLEncoding.EncodeToString([]byte("alg")) + "." + parts[1] + "." + parts[2], CheckMalformed},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			wantCheck(t, errOf(src.Verify(context.Background(), c.token, p.expect(0))), c.want)
		})
	}
}

func errOf(_ jwt.MapClaims, err error) error { return err }

// TestRefetchedDiscoveryAndKeysAreCachedAgain: a document fetched again
// after its cache lifetime replaces the expired entry and is served from the
// cache for a lifetime more, as a relying party's cache does, rather than
// being refetched on every request from then on (which the fetch-ordering
// guard of TestSlowFetchDoesNotOverwriteNewerKeys must not cause).
func TestRefetchedDiscoveryAndKeysAreCachedAgain(t *testing.T) {
	p := newProvider(t)
	clk := clock.NewManual(clock.Epoch)
	src := NewSource(p.srv.Client(), clk)
	exp := p.expect(time.Hour)
	verify := func() {
		t.Helper()
		wantCheck(t, errOf(src.Verify(context.Background(), signed(t, baseClaims(clk.Now()), "k1"), exp)), "")
	}
	verify()
	clk.Advance(61 * time.Minute)
	verify() // both expired: one fetch each
	clk.Advance(time.Minute)
	verify() // from the cache again
	verify()
	if m, k := p.metaHits.Load(), p.jwksHits.Load(); m != 2 || k != 2 {
		t.Errorf("discovery fetched %d times, key set %d times; want 2 and 2", m, k)
	}
}
