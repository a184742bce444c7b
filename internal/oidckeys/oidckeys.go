// Package oidckeys verifies Azure AD access tokens the way a relying party
// does: it fetches the OIDC discovery document and the JWKS it names over
// HTTP, caches both, and checks signature, issuer, audience and lifetime.
// fakesnow (external OIDC tokens) and fakem365 (connector callers) both use
// it, so neither imports fakeaad: keys travel over the wire as in reality.
package oidckeys

import (
	"context"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/m365snow/m365snow/internal/clock"
)

// Check names the verification step that failed; callers log it.
type Check string

// The checks, in the order they run.
const (
	CheckMalformed Check = "malformed token"
	CheckAlgorithm Check = "algorithm"
	CheckMetadata  Check = "metadata"
	CheckKey       Check = "signing key"
	CheckSignature Check = "signature"
	CheckIssuer    Check = "issuer"
	CheckAudience  Check = "audience"
	CheckExpiry    Check = "expiry"
	CheckNotBefore Check = "not before"
)

// Failure is a verification error.
type Failure struct {
	Check  Check
	Detail string
}

func (f *Failure) Error() string { return string(f.Check) + ": " + f.Detail }

func fail(c Check, format string, args ...any) *Failure {
	return &Failure{Check: c, Detail: fmt.Sprintf(format, args...)}
}

// Metadata is the part of an OIDC discovery document a verifier needs.
type Metadata struct {
	Issuer  string `json:"issuer"`
	JWKSURI string `json:"jwks_uri"`
}

type cached[T any] struct {
	value   T
	expires time.Time
}

// Source fetches and caches discovery documents and key sets. It is safe
// for concurrent use.
type Source struct {
	client *http.Client
	clock  clock.Clock

	mu   sync.Mutex
	meta map[string]cached[Metadata]
	keys map[string]cached[map[string]*rsa.PublicKey]
}

// NewSource returns a Source that fetches with client and ages its cache by c.
func NewSource(client *http.Client, c clock.Clock) *Source {
	return &Source{
		client: client,
		clock:  clock.OrReal(c),
		meta:   map[string]cached[Metadata]{},
		keys:   map[string]cached[map[string]*rsa.PublicKey]{},
	}
}

// Flush forgets everything cached.
func (s *Source) Flush() {
	s.mu.Lock()
	s.meta = map[string]cached[Metadata]{}
	s.keys = map[string]cached[map[string]*rsa.PublicKey]{}
	s.mu.Unlock()
}

// Metadata returns the discovery document at url, from cache when younger
// than ttl.
func (s *Source) Metadata(ctx context.Context, url string, ttl time.Duration) (Metadata, error) {
	now := s.clock.Now()
	s.mu.Lock()
	c, ok := s.meta[url]
	s.mu.Unlock()
	if ok && now.Before(c.expires) {
		return c.value, nil
	}
	var m Metadata
	if err := s.getJSON(ctx, url, &m); err != nil {
		return Metadata{}, err
	}
	if m.Issuer == "" || m.JWKSURI == "" {
		return Metadata{}, fmt.Errorf("discovery document at %s lacks issuer or jwks_uri", url)
	}
	s.mu.Lock()
	s.meta[url] = cached[Metadata]{m, now.Add(ttl)}
	s.mu.Unlock()
	return m, nil
}

// Key returns the RSA key with kid from the key set at jwksURI. An unknown
// kid forces one refetch, so a rotated signing key is picked up at once.
func (s *Source) Key(ctx context.Context, jwksURI, kid string, ttl time.Duration) (*rsa.PublicKey, error) {
	now := s.clock.Now()
	s.mu.Lock()
	c, ok := s.keys[jwksURI]
	s.mu.Unlock()
	if ok && now.Before(c.expires) {
		if k := c.value[kid]; k != nil {
			return k, nil
		}
	}
	set, err := s.fetchKeys(ctx, jwksURI)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	s.keys[jwksURI] = cached[map[string]*rsa.PublicKey]{set, now.Add(ttl)}
	s.mu.Unlock()
	if k := set[kid]; k != nil {
		return k, nil
	}
	return nil, fmt.Errorf("no key %q in %s", kid, jwksURI)
}

func (s *Source) fetchKeys(ctx context.Context, url string) (map[string]*rsa.PublicKey, error) {
	var doc struct {
		Keys []struct {
			Kty string `json:"kty"`
			Kid string `json:"kid"`
			N   string `json:"n"`
			E   string `json:"e"`
		} `json:"keys"`
	}
	if err := s.getJSON(ctx, url, &doc); err != nil {
		return nil, err
	}
	out := map[string]*rsa.PublicKey{}
	for _, k := range doc.Keys {
		if k.Kty != "RSA" || k.Kid == "" {
			continue
		}
		n, err1 := base64.RawURLEncoding.DecodeString(k.N)
		e, err2 := base64.RawURLEncoding.DecodeString(k.E)
		if err1 != nil || err2 != nil || len(e) == 0 || len(e) > 4 {
			return nil, fmt.Errorf("key %q in %s is not a valid RSA JWK", k.Kid, url)
		}
		out[k.Kid] = &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(e).Int64())}
	}
	return out, nil
}

func (s *Source) getJSON(ctx context.Context, url string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: HTTP %d: %s", url, resp.StatusCode, truncate(string(body), 200))
	}
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("GET %s: %w", url, err)
	}
	return nil
}

// Expect is what a verifier requires of a token.
type Expect struct {
	// MetadataURL is the discovery document that names issuer and keys.
	MetadataURL string
	// Audiences lists acceptable aud values; the token must carry one.
	Audiences []string
	// Skew tolerates clocks that disagree by this much.
	Skew time.Duration
	// CacheTTL is how long discovery and keys are reused (default 24 h,
	// Microsoft's advice for relying parties).
	CacheTTL time.Duration
}

// Unverified decodes a token's claims without checking anything; callers use
// it only to choose which configuration to verify against.
func Unverified(raw string) (jwt.MapClaims, error) {
	claims := jwt.MapClaims{}
	if _, _, err := jwt.NewParser().ParseUnverified(raw, claims); err != nil {
		return nil, fail(CheckMalformed, "%v", err)
	}
	return claims, nil
}

// Verify checks raw against e and returns its claims. Only RS256 is
// accepted: "none" and HMAC tokens (including one keyed with the public
// key) fail the algorithm check.
func (s *Source) Verify(ctx context.Context, raw string, e Expect) (jwt.MapClaims, error) {
	ttl := e.CacheTTL
	if ttl <= 0 {
		ttl = 24 * time.Hour
	}
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		return nil, fail(CheckMalformed, "a JWT has three dot-separated parts, this has %d", len(parts))
	}
	var header struct {
		Alg string `json:"alg"`
		Kid string `json:"kid"`
	}
	hb, err := base64.RawURLEncoding.DecodeString(parts[0])
	if err != nil || json.Unmarshal(hb, &header) != nil {
		return nil, fail(CheckMalformed, "the header is not base64url JSON")
	}
	if header.Alg != "RS256" {
		return nil, fail(CheckAlgorithm, "alg %q is not accepted (RS256 only)", header.Alg)
	}
	meta, err := s.Metadata(ctx, e.MetadataURL, ttl)
	if err != nil {
		return nil, fail(CheckMetadata, "%v", err)
	}
	key, err := s.Key(ctx, meta.JWKSURI, header.Kid, ttl)
	if err != nil {
		return nil, fail(CheckKey, "%v", err)
	}
	claims := jwt.MapClaims{}
	parser := jwt.NewParser(jwt.WithValidMethods([]string{"RS256"}), jwt.WithoutClaimsValidation())
	if _, err := parser.ParseWithClaims(raw, claims, func(*jwt.Token) (any, error) { return key, nil }); err != nil {
		if errors.Is(err, jwt.ErrTokenSignatureInvalid) {
			return nil, fail(CheckSignature, "the signature does not verify with key %q", header.Kid)
		}
		return nil, fail(CheckMalformed, "%v", err)
	}
	if iss, _ := claims["iss"].(string); iss != meta.Issuer {
		return nil, fail(CheckIssuer, "iss %q is not %q", iss, meta.Issuer)
	}
	auds, _ := claims.GetAudience()
	if !slices.ContainsFunc(auds, func(a string) bool { return slices.Contains(e.Audiences, a) }) {
		return nil, fail(CheckAudience, "aud %q is not one of %q", strings.Join(auds, ","), e.Audiences)
	}
	now := s.clock.Now()
	exp, err := claims.GetExpirationTime()
	if err != nil || exp == nil {
		return nil, fail(CheckExpiry, "the token has no valid exp")
	}
	if now.After(exp.Add(e.Skew)) {
		return nil, fail(CheckExpiry, "expired at %s (now %s)", exp.UTC().Format(time.RFC3339), now.Format(time.RFC3339))
	}
	if nbf, err := claims.GetNotBefore(); err == nil && nbf != nil && now.Add(e.Skew).Before(nbf.Time) {
		return nil, fail(CheckNotBefore, "not valid before %s (now %s)", nbf.UTC().Format(time.RFC3339), now.Format(time.RFC3339))
	}
	return claims, nil
}

// Claim returns a string claim, matching the name case-insensitively when no
// exact match exists. ServiceNow's user claim for Azure AD is documented as
// "appId" while v1 tokens spell it "appid".
func Claim(claims jwt.MapClaims, name string) (string, bool) {
	if v, ok := claims[name].(string); ok {
		return v, true
	}
	for k, v := range claims {
		if strings.EqualFold(k, name) {
			s, ok := v.(string)
			return s, ok
		}
	}
	return "", false
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
