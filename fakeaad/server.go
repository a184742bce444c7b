package fakeaad

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/mux"

	"github.com/m365snow/m365snow/internal/adminapi"
	"github.com/m365snow/m365snow/internal/clock"
	"github.com/m365snow/m365snow/internal/faults"
	"github.com/m365snow/m365snow/internal/fixture"
	"github.com/m365snow/m365snow/internal/journal"
)

// Options configure a Server.
type Options struct {
	// PublicURL is the base URL discovery documents advertise and the v2
	// issuer is built from, e.g. "https://login.microsoftonline.com" behind
	// host mapping, or the listen URL. Required; no trailing slash.
	PublicURL string
	// Clock dates tokens and ages secrets; nil means the wall clock.
	Clock clock.Clock
	// Fixture is the initial directory; nil means one empty tenant-less
	// directory is refused, so pass at least one tenant.
	Fixture *Fixture
	// Logger receives one line per request after it is answered; nil
	// discards.
	Logger *slog.Logger
	// Journal records the requests the server answers (served as
	// /__admin/requests); nil records none.
	Journal *journal.Journal
}

// Server is a fake Azure AD. It is safe for concurrent use.
type Server struct {
	publicURL string
	clock     clock.Clock
	log       *slog.Logger
	journal   *journal.Journal
	faults    *faults.Set
	handler   http.Handler

	mu      sync.RWMutex
	initial *Fixture
	dir     *directory
	keys    *keySet
	disco   map[string][]byte // discovery documents by kind+tenant, built on first use

	// flows holds grants in flight: codes, refresh tokens, device codes,
	// sessions (flows.go). It has its own lock.
	flows *flowState
}

var _ http.Handler = (*Server)(nil)

// New builds a Server from opts. It does no I/O.
func New(opts Options) (*Server, error) {
	pub := strings.TrimRight(opts.PublicURL, "/")
	u, err := url.Parse(pub)
	if pub == "" || err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return nil, fmt.Errorf("fakeaad: PublicURL %q must be an absolute http(s) URL", opts.PublicURL)
	}
	if opts.Fixture == nil {
		return nil, errors.New("fakeaad: Options.Fixture is required (at least one tenant)")
	}
	s := &Server{publicURL: pub, clock: clock.OrReal(opts.Clock), log: opts.Logger, journal: opts.Journal, flows: newFlowState()}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	s.faults = faults.NewRequestSet(s.faultBody)
	if err := s.load(opts.Fixture); err != nil {
		return nil, err
	}
	s.initial = opts.Fixture
	s.handler = journal.Middleware(s.faults.Middleware(s.routes()), journal.Config{Party: "fakeaad", Journal: opts.Journal, Logger: s.log, Clock: s.clock})
	return s, nil
}

// load replaces the whole state with f.
func (s *Server) load(f *Fixture) error {
	dir, err := f.build()
	if err != nil {
		return fmt.Errorf("fakeaad: %w", err)
	}
	keys := make([]*SigningKey, 0, len(dir.keys))
	var signer *SigningKey
	for _, ref := range dir.keys {
		k, err := resolveKey(ref)
		if err != nil {
			return fmt.Errorf("fakeaad: %w", err)
		}
		keys = append(keys, k)
		if ref == dir.signer {
			signer = k
		}
	}
	if signer == nil {
		return fmt.Errorf("fakeaad: signingKey %q is not among signingKeys", dir.signer)
	}
	ks, err := newKeySet(keys, signer, nil, s.publicURL)
	if err != nil {
		return fmt.Errorf("fakeaad: %w", err)
	}
	s.mu.Lock()
	s.dir, s.keys, s.disco = dir, ks, map[string][]byte{}
	s.mu.Unlock()
	s.flows.clear()
	return nil
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

// PublicURL is the base URL the server advertises.
func (s *Server) PublicURL() string { return s.publicURL }

// Faults is the server's fault set.
func (s *Server) Faults() *faults.Set { return s.faults }

// Clock is the server's clock.
func (s *Server) Clock() clock.Clock { return s.clock }

// Reset restores the fixture the server was built with and clears faults.
func (s *Server) Reset() error {
	s.faults.Clear()
	return s.load(s.initial)
}

// ExportState renders the current directory as an aad: fixture section.
func (s *Server) ExportState() ([]byte, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	secret := ""
	if c := s.dir.app(connectorAppID); c != nil && len(c.Passwords) > 0 {
		secret = c.Passwords[0].Secret
	}
	f := s.dir.export(secret)
	// Keys as they stand now; a rollover still scheduled is not exported.
	now := s.clock.Now()
	f.SigningKeys = nil
	for _, k := range s.keys.published(now) {
		f.SigningKeys = append(f.SigningKeys, k.ref())
	}
	f.SigningKey = s.keys.active(now).ref()
	return fixture.Marshal(f)
}

// ImportState replaces the directory with an aad: fixture section.
func (s *Server) ImportState(b []byte) error {
	var f Fixture
	if err := fixture.Strict(b, &f); err != nil {
		return fmt.Errorf("aad state: %w", err)
	}
	return s.load(&f)
}

// RotateSigningKey signs with the key ref from now on: an emergency
// rollover, with no wait. ref is "builtin-N" or a PEM bundle; empty takes
// the published next key. The key is published if it was not; earlier keys
// stay published, as Entra keeps retired keys while tokens signed with them
// may still be alive; a new next key is published when a built-in one is
// left. It returns the kid that signs now.
func (s *Server) RotateSigningKey(ref string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.clock.Now()
	cur := s.keys.active(now)
	keys := slices.Clone(s.keys.published(now))
	var k *SigningKey
	if ref == "" {
		if k = nextKey(keys, cur); k == nil {
			var err error
			if k, err = unpublishedBuiltin(keys); err != nil {
				return "", err
			}
		}
	} else {
		var err error
		if k, err = resolveKey(ref); err != nil {
			return "", err
		}
	}
	if k.KID == cur.KID {
		return "", fmt.Errorf("key %s already signs", k.KID)
	}
	if published := slices.IndexFunc(keys, func(p *SigningKey) bool { return p.KID == k.KID }); published >= 0 {
		k = keys[published]
	} else {
		keys = append(keys, k)
	}
	if nextKey(keys, k) == nil {
		if next, err := unpublishedBuiltin(keys); err == nil {
			keys = append(keys, next)
		}
	}
	return k.KID, s.setKeys(keys, k, nil)
}

// RolloverSigningKey is Entra's scheduled rollover: the published next key
// signs after overlap (relying parties have had the set with it for that
// long), the old signing key is unpublished another overlap later, and a
// new next key is published now. It returns the kid that will sign.
func (s *Server) RolloverSigningKey(overlap time.Duration) (string, error) {
	if overlap <= 0 {
		return s.RotateSigningKey("")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.clock.Now()
	if s.keys.roll != nil && now.Before(s.keys.roll.retireAt) {
		return "", fmt.Errorf("a rollover to %s is in progress until %s", s.keys.roll.to.KID, s.keys.roll.retireAt.Format(time.RFC3339))
	}
	cur := s.keys.active(now)
	keys := slices.Clone(s.keys.published(now))
	to := nextKey(keys, cur)
	if to == nil {
		return "", errors.New("no next key is published; rotate to a key first")
	}
	if next, err := unpublishedBuiltin(keys); err == nil {
		keys = append(keys, next)
	}
	return to.KID, s.setKeys(keys, cur, &rollover{from: cur, to: to, signAt: now.Add(overlap), retireAt: now.Add(2 * overlap)})
}

// nextKey is the newest published key other than the signer: the one a
// rollover moves to.
func nextKey(keys []*SigningKey, signer *SigningKey) *SigningKey {
	for i := len(keys) - 1; i >= 0; i-- {
		if keys[i].KID != signer.KID && slices.Index(keys, signer) < i {
			return keys[i]
		}
	}
	return nil
}

func unpublishedBuiltin(keys []*SigningKey) (*SigningKey, error) {
	builtins, err := builtinKeys()
	if err != nil {
		return nil, err
	}
	for _, b := range builtins {
		if !slices.ContainsFunc(keys, func(k *SigningKey) bool { return k.KID == b.KID }) {
			return b, nil
		}
	}
	return nil, errors.New("every built-in signing key is already published; pass a PEM bundle")
}

// setKeys installs a new key set; the caller holds the lock.
func (s *Server) setKeys(keys []*SigningKey, signer *SigningKey, roll *rollover) error {
	ks, err := newKeySet(keys, signer, roll, s.publicURL)
	if err != nil {
		return err
	}
	s.keys = ks
	s.dir.keys = nil
	for _, k := range keys {
		s.dir.keys = append(s.dir.keys, k.ref())
	}
	s.dir.signer = signer.ref()
	return nil
}

// RetireSigningKey stops publishing kid; tokens it signed stop verifying.
// The signing key cannot be retired.
func (s *Server) RetireSigningKey(kid string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.clock.Now()
	signer := s.keys.active(now)
	if signer.KID == kid {
		return fmt.Errorf("key %s signs; rotate to another key before retiring it", kid)
	}
	keys := s.keys.published(now)
	keep := slices.DeleteFunc(slices.Clone(keys), func(k *SigningKey) bool { return k.KID == kid })
	if len(keep) == len(keys) {
		return fmt.Errorf("no published key %q", kid)
	}
	return s.setKeys(keep, signer, nil)
}

// SigningKeyIDs lists the kids published now, in publication order.
func (s *Server) SigningKeyIDs() []string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out []string
	for _, k := range s.keys.published(s.clock.Now()) {
		out = append(out, k.KID)
	}
	return out
}

// ActiveSigningKeyID is the kid that signs now.
func (s *Server) ActiveSigningKeyID() string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.keys.active(s.clock.Now()).KID
}

func (s *Server) routes() http.Handler { return s.router() }

// router is every route the fake serves (tests walk it).
func (s *Server) router() *mux.Router {
	r := mux.NewRouter()
	admin := adminapi.Mount(r, adminapi.Config{Service: "fakeaad", Target: s, Faults: s.faults, Clock: s.clock, Journal: s.journal})
	admin.HandleFunc("/keys", s.adminKeys).Methods(http.MethodGet)
	admin.HandleFunc("/keys/rotate", s.adminRotate).Methods(http.MethodPost)
	admin.HandleFunc("/keys/retire", s.adminRetire).Methods(http.MethodPost)
	admin.HandleFunc("/keys/rollover", s.adminRollover).Methods(http.MethodPost)
	admin.HandleFunc("/blocks", s.adminBlocks).Methods(http.MethodGet, http.MethodPost, http.MethodDelete)

	s.graphRoutes(r.PathPrefix("/v1.0").Subrouter())

	r.HandleFunc("/common/discovery/instance", s.instanceDiscovery).Methods(http.MethodGet)
	r.HandleFunc("/error", s.errorPage).Methods(http.MethodGet)
	s.signInRoutes(r)
	s.consentRoutes(r)
	r.HandleFunc("/{tenant}/oauth2/token", s.token(false))
	r.HandleFunc("/{tenant}/oauth2/v2.0/token", s.token(true))
	r.HandleFunc("/{tenant}/.well-known/openid-configuration", s.discovery(false)).Methods(http.MethodGet)
	r.HandleFunc("/{tenant}/v2.0/.well-known/openid-configuration", s.discovery(true)).Methods(http.MethodGet)
	r.HandleFunc("/{tenant}/discovery/keys", s.jwks(false)).Methods(http.MethodGet)
	r.HandleFunc("/{tenant}/discovery/v2.0/keys", s.jwks(true)).Methods(http.MethodGet)
	r.NotFoundHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusNotFound, map[string]string{
			"error":             "not_found",
			"error_description": fmt.Sprintf("fakeaad serves no %s %s; see the README for its endpoints", r.Method, r.URL.Path),
		})
	})
	r.MethodNotAllowedHandler = r.NotFoundHandler
	return r
}
