// Package fakem365 is an in-memory stand-in for the Microsoft 365 side of the
// support integration: the admin portal's Organization profile (support
// integration and repositories) and the support connector that the
// ServiceNow app calls (connector.rave.microsoft.com) and that calls the
// instance back. The real connector's API is private; this package models
// one and documents it for vendors in CONTRACT.md and openapi.yaml.
//
// It never imports the other fakes: it verifies Azure AD tokens through
// discovery and JWKS, reads the directory through Microsoft Graph and calls
// instances over HTTP, all through an injected transport.
package fakem365

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/gorilla/mux"

	"github.com/m365snow/m365snow/internal/adminapi"
	"github.com/m365snow/m365snow/internal/clock"
	"github.com/m365snow/m365snow/internal/faults"
	"github.com/m365snow/m365snow/internal/fixture"
	"github.com/m365snow/m365snow/internal/journal"
	"github.com/m365snow/m365snow/internal/oidckeys"
	"github.com/m365snow/m365snow/internal/wellknown"
)

// Options configure a Server.
type Options struct {
	// PublicURL is where the connector is reached (default
	// https://connector.rave.microsoft.com); repositories report their
	// connector URL under it.
	PublicURL string
	Clock     clock.Clock
	// Transport reaches Azure AD, Microsoft Graph and the instances; give
	// it a host-mapping transport.
	Transport http.RoundTripper
	Fixture   *Fixture
	// Logger receives one line per request after it is answered.
	Logger *slog.Logger
	// Journal records the requests the server answers (served as
	// /__admin/requests); nil records none.
	Journal *journal.Journal
	// Mutant breaks one rule of the contract on purpose, for mutation
	// testing only (mutant.go); empty is the reference connector.
	Mutant Mutant
}

// Server is a fake admin portal and support connector. It is safe for
// concurrent use.
type Server struct {
	clock   clock.Clock
	log     *slog.Logger
	faults  *faults.Set
	client  *http.Client
	keys    *oidckeys.Source
	handler http.Handler
	initial *Fixture
	public  string
	router  *mux.Router
	mutant  Mutant

	mu              sync.Mutex
	st              *state
	connectorSecret string
	calls           []InboundCall
	graphTokens     map[string]cachedToken
	domains         map[string]string // lower-case domain → tenant GUID
	linkLocks       map[string]*sync.Mutex
}

var _ http.Handler = (*Server)(nil)

// New builds a Server. It does no I/O.
func New(opts Options) (*Server, error) {
	if opts.Fixture == nil {
		opts.Fixture = &Fixture{}
	}
	s := &Server{clock: clock.OrReal(opts.Clock), log: opts.Logger, initial: opts.Fixture, mutant: opts.Mutant, public: strings.TrimRight(opts.PublicURL, "/")}
	if s.public == "" {
		s.public = "https://" + wellknown.ConnectorHost
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	transport := opts.Transport
	if transport == nil {
		transport = http.DefaultTransport
	}
	s.client = &http.Client{Transport: transport, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	s.keys = oidckeys.NewSource(s.client, s.clock)
	s.faults = faults.NewSet(faultBody)
	if err := s.load(opts.Fixture); err != nil {
		return nil, err
	}
	r := mux.NewRouter()
	admin := adminapi.Mount(r, adminapi.Config{Service: "fakem365", Target: s, Faults: s.faults, Clock: s.clock, Journal: opts.Journal})
	admin.HandleFunc("/inbound", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"calls": s.InboundCalls()})
	}).Methods(http.MethodGet)
	s.portalRoutes(r.PathPrefix("/api/tenants/{tenant}/supportIntegration").Subrouter())
	s.connectorRoutes(r.PathPrefix("/api/v1/repositories/{repositoryId}").Subrouter())
	r.NotFoundHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeError(w, errorf(http.StatusNotFound, "NotFound", "fakem365 serves no %s %s (see fakem365/CONTRACT.md)", r.Method, r.URL.Path))
	})
	r.MethodNotAllowedHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeError(w, errorf(http.StatusMethodNotAllowed, "MethodNotAllowed", "%s is not allowed on %s", r.Method, r.URL.Path))
	})
	s.router = r
	s.handler = journal.Middleware(s.faults.Middleware(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		req.Body = http.MaxBytesReader(w, req.Body, 1<<20)
		r.ServeHTTP(w, req)
	})), journal.Config{Party: "fakem365", Journal: opts.Journal, Logger: s.log, Clock: s.clock})
	return s, nil
}

func (s *Server) load(f *Fixture) error {
	st, err := f.build()
	if err != nil {
		return fmt.Errorf("fakem365: %w", err)
	}
	secret := f.ConnectorSecret
	if secret == "" {
		secret = wellknown.ConnectorDefaultSecret
	}
	calls := append([]InboundCall(nil), f.InboundCalls...)
	if len(calls) > maxJournal {
		calls = calls[len(calls)-maxJournal:]
	}
	s.mu.Lock()
	s.st, s.connectorSecret, s.calls = st, secret, calls
	s.graphTokens, s.domains, s.linkLocks = map[string]cachedToken{}, map[string]string{}, map[string]*sync.Mutex{}
	for _, t := range st.tenants {
		for _, d := range t.Domains {
			s.domains[d] = t.ID
		}
	}
	s.mu.Unlock()
	s.keys.Flush()
	return nil
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

// Faults is the server's fault set.
func (s *Server) Faults() *faults.Set { return s.faults }

// Clock is the server's clock.
func (s *Server) Clock() clock.Clock { return s.clock }

// Reset restores the starting fixture and clears faults.
func (s *Server) Reset() error {
	s.faults.Clear()
	return s.load(s.initial)
}

// ExportState renders the admin-portal settings, repositories (with their
// handshakes and pending links) and cases as an m365: section.
func (s *Server) ExportState() ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	secret := s.connectorSecret
	if secret == wellknown.ConnectorDefaultSecret {
		secret = ""
	}
	f := s.st.export(secret)
	f.InboundCalls = append([]InboundCall(nil), s.calls...)
	return fixture.Marshal(f)
}

// ImportState replaces the state with an m365: section.
func (s *Server) ImportState(b []byte) error {
	var f Fixture
	if err := fixture.Strict(b, &f); err != nil {
		return fmt.Errorf("m365 state: %w", err)
	}
	return s.load(&f)
}

// resolveTenant turns a tenant path segment (GUID or domain) into a GUID,
// asking Azure AD's discovery for domains it has not seen.
func (s *Server) resolveTenant(ctx context.Context, seg string) (string, *apiError) {
	if id, err := uuid.Parse(seg); err == nil {
		return id.String(), nil
	}
	seg = strings.ToLower(seg)
	s.mu.Lock()
	id, ok := s.domains[seg]
	s.mu.Unlock()
	if ok {
		return id, nil
	}
	if !strings.Contains(seg, ".") {
		return "", errorf(http.StatusBadRequest, "InvalidTenant", "%q is neither a tenant GUID nor a domain name.", seg)
	}
	meta, err := s.keys.Metadata(ctx, "https://"+wellknown.LoginHost+"/"+url.PathEscape(seg)+"/.well-known/openid-configuration", 24*time.Hour)
	if err != nil {
		return "", errorf(http.StatusNotFound, "TenantNotFound", "Azure AD does not know tenant %q.", seg)
	}
	// The v1 issuer is https://sts.windows.net/{tid}/.
	tid := strings.Trim(strings.TrimPrefix(meta.Issuer, "https://"+wellknown.STSHost+"/"), "/")
	if _, err := uuid.Parse(tid); err != nil {
		return "", errorf(http.StatusBadGateway, "TenantNotFound", "Azure AD's discovery for %q named issuer %q.", seg, meta.Issuer)
	}
	s.mu.Lock()
	s.domains[seg] = tid
	s.mu.Unlock()
	return tid, nil
}

func (s *Server) tenantLocked(id string) *tenant {
	t := s.st.tenants[id]
	if t == nil {
		t = &tenant{ID: id, Repositories: map[string]*Repository{}}
		s.st.tenants[id] = t
	}
	return t
}
