package fakeaad

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"

	"github.com/gorilla/mux"

	"github.com/m365snow/m365snow/internal/adminapi"
	"github.com/m365snow/m365snow/internal/clock"
	"github.com/m365snow/m365snow/internal/faults"
	"github.com/m365snow/m365snow/internal/fixture"
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
	// Logger receives one line per request at debug level; nil discards.
	Logger *slog.Logger
}

// Server is a fake Azure AD. It is safe for concurrent use.
type Server struct {
	publicURL string
	clock     clock.Clock
	log       *slog.Logger
	faults    *faults.Set
	handler   http.Handler

	mu      sync.RWMutex
	initial *Fixture
	dir     *directory
	keys    *keySet
	disco   map[string][]byte // discovery documents by kind+tenant, built on first use
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
	s := &Server{publicURL: pub, clock: clock.OrReal(opts.Clock), log: opts.Logger}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	s.faults = faults.NewRequestSet(s.faultBody)
	if err := s.load(opts.Fixture); err != nil {
		return nil, err
	}
	s.initial = opts.Fixture
	s.handler = s.faults.Middleware(s.routes())
	return s, nil
}

// load replaces the whole state with f.
func (s *Server) load(f *Fixture) error {
	dir, err := f.build()
	if err != nil {
		return fmt.Errorf("fakeaad: %w", err)
	}
	keys := make([]*SigningKey, 0, len(dir.keys))
	for _, ref := range dir.keys {
		k, err := resolveKey(ref)
		if err != nil {
			return fmt.Errorf("fakeaad: %w", err)
		}
		keys = append(keys, k)
	}
	ks, err := newKeySet(keys, s.publicURL)
	if err != nil {
		return fmt.Errorf("fakeaad: %w", err)
	}
	s.mu.Lock()
	s.dir, s.keys, s.disco = dir, ks, map[string][]byte{}
	s.mu.Unlock()
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
	return fixture.Marshal(s.dir.export(secret))
}

// ImportState replaces the directory with an aad: fixture section.
func (s *Server) ImportState(b []byte) error {
	var f Fixture
	if err := fixture.Strict(b, &f); err != nil {
		return fmt.Errorf("aad state: %w", err)
	}
	return s.load(&f)
}

// RotateSigningKey publishes the key ref ("builtin-N" or a PEM bundle;
// empty picks the next built-in key not yet published) and signs with it
// from now on. Earlier keys stay published, as Entra keeps retired keys
// while tokens signed with them may still be alive. It returns the new kid.
func (s *Server) RotateSigningKey(ref string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if ref == "" {
		builtins, err := builtinKeys()
		if err != nil {
			return "", err
		}
		for _, k := range builtins {
			if s.keys.byKID[k.KID] == nil {
				ref = k.Name
				break
			}
		}
		if ref == "" {
			return "", errors.New("every built-in signing key is already published; pass a PEM bundle")
		}
	}
	k, err := resolveKey(ref)
	if err != nil {
		return "", err
	}
	if s.keys.byKID[k.KID] != nil {
		return "", fmt.Errorf("key %s is already published", k.KID)
	}
	ks, err := newKeySet(append(append([]*SigningKey{}, s.keys.keys...), k), s.publicURL)
	if err != nil {
		return "", err
	}
	s.keys = ks
	s.dir.keys = append(append([]string{}, s.dir.keys...), k.ref())
	return k.KID, nil
}

// RetireSigningKey stops publishing kid; tokens it signed stop verifying.
func (s *Server) RetireSigningKey(kid string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var keep []*SigningKey
	var refs []string
	for _, k := range s.keys.keys {
		if k.KID != kid {
			keep = append(keep, k)
			refs = append(refs, k.ref())
		}
	}
	if len(keep) == len(s.keys.keys) {
		return fmt.Errorf("no published key %q", kid)
	}
	ks, err := newKeySet(keep, s.publicURL)
	if err != nil {
		return fmt.Errorf("cannot retire the last signing key: %w", err)
	}
	s.keys, s.dir.keys = ks, refs
	return nil
}

// SigningKeyIDs lists the published kids; the last one signs.
func (s *Server) SigningKeyIDs() []string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]string, len(s.keys.keys))
	for i, k := range s.keys.keys {
		out[i] = k.KID
	}
	return out
}

func (s *Server) routes() http.Handler {
	r := mux.NewRouter()
	admin := adminapi.Mount(r, adminapi.Config{Service: "fakeaad", Target: s, Faults: s.faults, Clock: s.clock})
	admin.HandleFunc("/keys", s.adminKeys).Methods(http.MethodGet)
	admin.HandleFunc("/keys/rotate", s.adminRotate).Methods(http.MethodPost)
	admin.HandleFunc("/keys/retire", s.adminRetire).Methods(http.MethodPost)

	s.graphRoutes(r.PathPrefix("/v1.0").Subrouter())

	r.HandleFunc("/common/discovery/instance", s.instanceDiscovery).Methods(http.MethodGet)
	r.HandleFunc("/error", s.errorPage).Methods(http.MethodGet)
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
	return s.logRequests(r)
}

func (s *Server) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.log.Debug("request", "method", r.Method, "path", r.URL.Path)
		next.ServeHTTP(w, r)
	})
}
