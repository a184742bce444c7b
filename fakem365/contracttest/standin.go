package contracttest

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/m365snow/m365snow/internal/clock"
	"github.com/m365snow/m365snow/internal/oidckeys"
)

// InboundPath is where the app's inbound API lives on an instance.
const InboundPath = "/api/x_mioms_m365_assis/v1/inbound"

// StandIn plays the instance's side of the contract (CONTRACT.md,
// "Calls into the instance"): /oauth_token.do for Basic Auth repositories
// and the app's inbound API, with the credential checks a real instance
// makes. It records every request so that checks can assert what the
// connector did — and did not — call.
type StandIn struct {
	// Basic Auth mode: the inbound OAuth client and integration user.
	ClientID, ClientSecret, UserName, Password string
	// AAD Auth mode: tokens must come from Azure AD at MetadataURL with
	// audience RestAPI and appid RestUser.
	AAD                            bool
	MetadataURL, RestAPI, RestUser string

	// RefreshLifespan is how long a refresh token lives on the stand-in
	// (the instance's OAuth entity "Refresh Token Lifespan"); zero means
	// for ever.
	RefreshLifespan time.Duration

	keys  *oidckeys.Source
	clock clock.Clock
	// ahead is how far the stand-in's own time runs ahead of clock: the
	// instance's tokens age by it (Advance), whatever the connector's
	// clock says — as a real instance's tokens do.
	ahead time.Duration

	mu            sync.Mutex
	requests      []string
	tokens        map[string]time.Time
	refresh       string
	refreshAt     time.Time
	RefuseRefresh bool // answer refresh grants with 401
	RefuseLinks   bool // answer PUT /cases/{n} with 403
	links         map[string]map[string]any
}

// NewStandIn returns a stand-in whose AAD checks fetch keys with client and
// whose tokens age by c.
func NewStandIn(client *http.Client, c clock.Clock) *StandIn {
	c = clock.OrReal(c)
	return &StandIn{keys: oidckeys.NewSource(client, c), clock: c, tokens: map[string]time.Time{}, links: map[string]map[string]any{}}
}

// Set changes a stand-in setting under its lock.
func (s *StandIn) Set(f func(s *StandIn)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f(s)
}

// Requests returns "METHOD path" lines (token requests add the grant type).
func (s *StandIn) Requests() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.requests...)
}

// Count counts requests starting with prefix ("" counts all).
func (s *StandIn) Count(prefix string) int {
	n := 0
	for _, r := range s.Requests() {
		if strings.HasPrefix(r, prefix) {
			n++
		}
	}
	return n
}

// Link returns the body of the PUT that linked case n, or nil.
func (s *StandIn) Link(n string) map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.links[n]
}

// Advance moves the stand-in's own time: the access and refresh tokens it
// issued age by d.
func (s *StandIn) Advance(d time.Duration) {
	s.mu.Lock()
	s.ahead += d
	s.mu.Unlock()
}

// nowLocked is the stand-in's time; s.mu is held.
func (s *StandIn) nowLocked() time.Time { return s.clock.Now().Add(s.ahead) }

// RevokeTokens forgets every token the stand-in issued.
func (s *StandIn) RevokeTokens() {
	s.mu.Lock()
	s.tokens = map[string]time.Time{}
	s.mu.Unlock()
}

func randomToken() string {
	b := make([]byte, 64)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

const unauthenticated = `{"error":{"message":"User Not Authenticated","detail":"Required to provide Auth information"},"status":"failure"}`

// ServeHTTP implements http.Handler.
func (s *StandIn) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	line := r.Method + " " + r.URL.Path
	if r.URL.Path == "/oauth_token.do" {
		_ = r.ParseForm()
		line += " " + r.PostForm.Get("grant_type")
	}
	s.mu.Lock()
	s.requests = append(s.requests, line)
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	if r.URL.Path == "/oauth_token.do" {
		s.token(w, r)
		return
	}
	if !s.authorized(r) {
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = io.WriteString(w, unauthenticated)
		return
	}
	switch {
	case r.Method == http.MethodGet && r.URL.Path == InboundPath+"/ping":
		_, _ = io.WriteString(w, `{"result":{"status":"ok"}}`)
	case r.Method == http.MethodPut && strings.HasPrefix(r.URL.Path, InboundPath+"/cases/"):
		s.mu.Lock()
		refuse := s.RefuseLinks
		s.mu.Unlock()
		if refuse {
			w.WriteHeader(http.StatusForbidden)
			_, _ = io.WriteString(w, `{"error":{"message":"User Not Authorized","detail":"refused by the stand-in"},"status":"failure"}`)
			return
		}
		var body map[string]any
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		s.mu.Lock()
		s.links[strings.TrimPrefix(r.URL.Path, InboundPath+"/cases/")] = body
		s.mu.Unlock()
		_, _ = io.WriteString(w, `{"result":{"linked":true}}`)
	default:
		w.WriteHeader(http.StatusBadRequest)
		_, _ = io.WriteString(w, `{"error":{"message":"Requested URI does not represent any resource","detail":null},"status":"failure"}`)
	}
}

func (s *StandIn) authorized(r *http.Request) bool {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		return false
	}
	s.mu.Lock()
	aad := s.AAD
	exp, known := s.tokens[tok]
	now := s.nowLocked()
	s.mu.Unlock()
	if aad {
		claims, err := s.keys.Verify(r.Context(), tok, oidckeys.Expect{MetadataURL: s.MetadataURL, Audiences: []string{s.RestAPI}, Skew: oidckeys.DefaultSkew})
		return err == nil && claims["appid"] == s.RestUser
	}
	return known && now.Before(exp)
}

func (s *StandIn) token(w http.ResponseWriter, r *http.Request) {
	f := r.PostForm
	s.mu.Lock()
	defer s.mu.Unlock()
	refuse := func() {
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = io.WriteString(w, `{"error_description":"access_denied","error":"server_error"}`)
	}
	if s.AAD || f.Get("client_id") != s.ClientID || f.Get("client_secret") != s.ClientSecret {
		refuse()
		return
	}
	switch f.Get("grant_type") {
	case "password":
		if f.Get("username") != s.UserName || f.Get("password") != s.Password {
			refuse()
			return
		}
		s.refresh, s.refreshAt = randomToken(), s.nowLocked()
	case "refresh_token":
		expired := s.RefreshLifespan > 0 && !s.nowLocked().Before(s.refreshAt.Add(s.RefreshLifespan))
		if s.RefuseRefresh || expired || f.Get("refresh_token") != s.refresh {
			refuse()
			return
		}
	default:
		refuse()
		return
	}
	tok := randomToken()
	s.tokens[tok] = s.nowLocked().Add(30 * time.Minute)
	_ = json.NewEncoder(w).Encode(map[string]any{"access_token": tok, "refresh_token": s.refresh, "scope": "useraccount", "token_type": "Bearer", "expires_in": 1799})
}
