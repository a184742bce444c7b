package oidckeys

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/m365snow/m365snow/internal/clock"
)

// Regression for issue 11 item 9: every token with an unknown kid refetched
// the key set, so forged tokens turned into outbound requests (and log rows
// in fakesnow) one for one. Microsoft.IdentityModel honours the first
// refresh request at once and later ones every RefreshInterval.
func TestUnknownKidRefetchIsRateLimited(t *testing.T) {
	is := newIssuer(t)
	clk := clock.NewManual(clock.Epoch)
	src := NewSource(is.srv.Client(), clk)
	expect := Expect{MetadataURL: is.srv.URL + "/tid/.well-known/openid-configuration", Audiences: []string{"api://rest"}, Skew: DefaultSkew}
	if _, err := src.Verify(context.Background(), is.sign(t, baseClaims(clk.Now()), jwt.SigningMethodRS256, is.key, "k1"), expect); err != nil {
		t.Fatal(err)
	}
	forged := func(i int) string {
		return is.sign(t, baseClaims(clk.Now()), jwt.SigningMethodRS256, is.key, fmt.Sprintf("forged-%d", i))
	}
	var wg sync.WaitGroup
	for i := range 50 {
		wg.Go(func() {
			var f *Failure
			if _, err := src.Verify(context.Background(), forged(i), expect); !errors.As(err, &f) || f.Check != CheckKey {
				t.Errorf("forged kid %d: %v", i, err)
			}
		})
	}
	wg.Wait()
	if got := is.jwksHits.Load(); got != 2 {
		t.Fatalf("50 unknown kids fetched the key set %d times; want the first fetch plus one refetch (2)", got)
	}
	clk.Advance(RefreshInterval - time.Second)
	_, _ = src.Verify(context.Background(), forged(99), expect)
	if got := is.jwksHits.Load(); got != 2 {
		t.Fatalf("refetched %v after the last refetch (hits %d), before RefreshInterval", RefreshInterval-time.Second, got)
	}
	// Once the interval has passed, a rotated key is picked up again.
	clk.Advance(time.Second)
	is.kid = "k2"
	if _, err := src.Verify(context.Background(), is.sign(t, baseClaims(clk.Now()), jwt.SigningMethodRS256, is.key, "k2"), expect); err != nil {
		t.Fatalf("rotated key after RefreshInterval: %v", err)
	}
	if got := is.jwksHits.Load(); got != 3 {
		t.Fatalf("key-set fetches %d, want 3", got)
	}
}

// Regression for issue 11 item 9: Graph accepted a token whose nbf was 2 h
// ahead and gave no skew on exp, while fakesnow and fakem365 allowed 5
// minutes either way. CheckLifetime is the one rule.
func TestCheckLifetime(t *testing.T) {
	// Decoded JSON numbers are float64, which is what MapClaims reads.
	unix := func(t time.Time) float64 { return float64(t.Unix()) }
	now := clock.Epoch
	cases := []struct {
		name   string
		claims jwt.MapClaims
		want   Check
	}{
		{"valid", jwt.MapClaims{"nbf": unix(now.Add(-time.Minute)), "exp": unix(now.Add(time.Hour))}, ""},
		{"no nbf", jwt.MapClaims{"exp": unix(now.Add(time.Hour))}, ""},
		{"expired within skew", jwt.MapClaims{"exp": unix(now.Add(-DefaultSkew))}, ""},
		{"expired beyond skew", jwt.MapClaims{"exp": unix(now.Add(-DefaultSkew - time.Second))}, CheckExpiry},
		{"no exp", jwt.MapClaims{"nbf": unix(now)}, CheckExpiry},
		{"exp not a number", jwt.MapClaims{"exp": "tomorrow"}, CheckExpiry},
		{"nbf within skew", jwt.MapClaims{"nbf": unix(now.Add(DefaultSkew)), "exp": unix(now.Add(time.Hour))}, ""},
		{"nbf beyond skew", jwt.MapClaims{"nbf": unix(now.Add(DefaultSkew + time.Second)), "exp": unix(now.Add(3 * time.Hour))}, CheckNotBefore},
		{"nbf two hours ahead", jwt.MapClaims{"nbf": unix(now.Add(2 * time.Hour)), "exp": unix(now.Add(3 * time.Hour))}, CheckNotBefore},
		{"nbf not a number", jwt.MapClaims{"nbf": "soon", "exp": unix(now.Add(time.Hour))}, CheckNotBefore},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := CheckLifetime(c.claims, now, DefaultSkew)
			switch {
			case c.want == "" && f != nil:
				t.Fatalf("refused: %v", f)
			case c.want != "" && (f == nil || f.Check != c.want):
				t.Fatalf("got %v, want a %q failure", f, c.want)
			}
		})
	}
}

// Audit finding (issue 11, read-modify-writes): Key read the cache, fetched
// in a second section and stored the result unconditionally, so a slow
// fetch that started before a key rotation overwrote the newer set a later
// fetch had stored. With unknown-kid refetches now rate-limited, that hid a
// rotated key for RefreshInterval. A fetch now stores only if no later one
// did.
func TestSlowFetchDoesNotOverwriteNewerKeys(t *testing.T) {
	keys, err := testKeys()
	if err != nil {
		t.Fatal(err)
	}
	jwk := func(kid string) map[string]string {
		return map[string]string{"kty": "RSA", "kid": kid, "n": base64.RawURLEncoding.EncodeToString(keys[0].N.Bytes()),
			"e": base64.RawURLEncoding.EncodeToString(big.NewInt(int64(keys[0].E)).Bytes())}
	}
	var hits atomic.Int32
	firstArrived, release := make(chan struct{}), make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if hits.Add(1) == 1 { // the slow one: the set before rotation
			close(firstArrived)
			<-release
			_ = json.NewEncoder(w).Encode(map[string]any{"keys": []any{jwk("k1")}})
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"keys": []any{jwk("k1"), jwk("k2")}})
	}))
	defer srv.Close()
	src := NewSource(srv.Client(), clock.NewManual(clock.Epoch))
	slow := make(chan error, 1)
	go func() { _, err := src.Key(context.Background(), srv.URL, "k1", time.Hour); slow <- err }()
	<-firstArrived
	if _, err := src.Key(context.Background(), srv.URL, "k2", time.Hour); err != nil {
		t.Fatalf("the rotated key: %v", err)
	}
	close(release)
	if err := <-slow; err != nil {
		t.Fatal(err)
	}
	if _, err := src.Key(context.Background(), srv.URL, "k2", time.Hour); err != nil {
		t.Fatalf("after the slow fetch finished: %v", err)
	}
	if got := hits.Load(); got != 2 {
		t.Fatalf("%d key-set fetches: the slow fetch overwrote the newer set, so k2 had to be fetched again", got)
	}
}
