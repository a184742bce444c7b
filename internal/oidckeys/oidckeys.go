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
	"fmt"
	"io"
	"math/big"
	"net/http"
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
	// fetch orders fetches: a slow fetch that started earlier must not
	// overwrite what a later one stored (it may predate a key rotation).
	fetch uint64
}

// Source fetches and caches discovery documents and key sets. It is safe
// for concurrent use.
type Source struct {
	client *http.Client
	clock  clock.Clock

	mu   sync.Mutex
	meta map[string]cached[Metadata]
	keys map[string]cached[map[string]*rsa.PublicKey]
	// refreshed is when an unknown kid last caused a refetch, per JWKS URI.
	refreshed map[string]time.Time
	fetches   uint64 // numbers fetches as they start
}

// NewSource returns a Source that fetches with client and ages its cache by c.
func NewSource(client *http.Client, c clock.Clock) *Source {
	return &Source{
		client: client,
		clock:  clock.OrReal(c),
		meta:   map[string]cached[Metadata]{},
		keys:   map[string]cached[map[string]*rsa.PublicKey]{},

		refreshed: map[string]time.Time{},
	}
}

// Flush forgets everything cached.
func (s *Source) Flush() {
	s.mu.Lock()
	s.meta = map[string]cached[Metadata]{}
	s.keys = map[string]cached[map[string]*rsa.PublicKey]{}
	s.refreshed = map[string]time.Time{}
	s.mu.Unlock()
}

// Metadata returns the discovery document at url, from cache when younger
// than ttl.
func (s *Source) Metadata(ctx context.Context, url string, ttl time.Duration) (Metadata, error) {
	now := s.clock.Now()
	s.mu.Lock()
	c, ok := s.meta[url]
	s.fetches++
	fetch := s.fetches
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
	if cur, ok := s.meta[url]; !ok || cur.fetch < fetch {
		s.meta[url] = cached[Metadata]{m, now.Add(ttl), fetch}
	}
	s.mu.Unlock()
	return m, nil
}

// Key returns the RSA key with kid from the key set at jwksURI. An unknown
// kid asks for a refetch, so a rotated signing key is picked up at once;
// after one such refetch the next is allowed only RefreshInterval later, as
// real relying parties do, so tokens with made-up kids cannot make every
// request an outbound one.
func (s *Source) Key(ctx context.Context, jwksURI, kid string, ttl time.Duration) (*rsa.PublicKey, error) {
	now := s.clock.Now()
	s.mu.Lock()
	if c, ok := s.keys[jwksURI]; ok && now.Before(c.expires) {
		if k := c.value[kid]; k != nil {
			s.mu.Unlock()
			return k, nil
		}
		// The check and the reservation share one lock section, so
		// concurrent requests with unknown kids refetch once, not once each.
		if last, asked := s.refreshed[jwksURI]; asked && now.Before(last.Add(RefreshInterval)) {
			s.mu.Unlock()
			return nil, fmt.Errorf("no key %q in %s (the key set was refetched at %s for an unknown kid; the next refetch is allowed from %s)",
				kid, jwksURI, last.UTC().Format(time.RFC3339), last.Add(RefreshInterval).UTC().Format(time.RFC3339))
		}
		s.refreshed[jwksURI] = now
	}
	s.fetches++
	fetch := s.fetches
	s.mu.Unlock()
	set, err := s.fetchKeys(ctx, jwksURI)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	if cur, ok := s.keys[jwksURI]; !ok || cur.fetch < fetch {
		s.keys[jwksURI] = cached[map[string]*rsa.PublicKey]{set, now.Add(ttl), fetch}
	}
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
// key) fail the algorithm check before anything is fetched. Past the key
// lookup the rules are VerifyWith's, shared with every other party.
func (s *Source) Verify(ctx context.Context, raw string, e Expect) (jwt.MapClaims, error) {
	ttl := e.CacheTTL
	if ttl <= 0 {
		ttl = 24 * time.Hour
	}
	if _, f := parseHeader(raw); f != nil {
		return nil, f
	}
	meta, err := s.Metadata(ctx, e.MetadataURL, ttl)
	if err != nil {
		return nil, fail(CheckMetadata, "%v", err)
	}
	keyFor := func(kid string) (*rsa.PublicKey, error) { return s.Key(ctx, meta.JWKSURI, kid, ttl) }
	return VerifyWith(raw, keyFor, Want{Issuer: meta.Issuer, Audiences: e.Audiences, Skew: e.Skew}, s.clock.Now())
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
