// Package fakesnow is an in-memory stand-in for a ServiceNow instance as the
// Microsoft 365 support integration meets it: the platform (Table API,
// OAuth, external OIDC tokens, scopes and cross-scope policy, logs; package
// platform) with the x_mioms_m365_assis app installed on it.
//
// A Server is an http.Handler built by New from a snow: fixture; it reads
// time from an injected clock, makes outbound calls through an injected
// transport (which maps real host names to the other fakes), and mounts the
// /__admin/ control plane shared by all fakes.
package fakesnow

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"

	"github.com/gorilla/mux"

	"github.com/m365snow/m365snow/fakesnow/m365app"
	"github.com/m365snow/m365snow/fakesnow/platform"
	"github.com/m365snow/m365snow/internal/adminapi"
	"github.com/m365snow/m365snow/internal/clock"
	"github.com/m365snow/m365snow/internal/faults"
	"github.com/m365snow/m365snow/internal/fixture"
	"github.com/m365snow/m365snow/internal/journal"
)

// Options configure a Server.
type Options struct {
	// PublicURL overrides the URL the fixture's instance name implies
	// (https://<instance>.service-now.com); the sandbox sets it to the
	// listen URL so that printed links work.
	PublicURL string
	Clock     clock.Clock
	// Transport carries outbound calls; give it a host-mapping transport.
	Transport http.RoundTripper
	Fixture   *Fixture
	// Logger receives one line per request after it is answered.
	Logger *slog.Logger
	// Journal records the requests the server answers (served as
	// /__admin/requests); nil records none.
	Journal *journal.Journal
}

// Server is a fake ServiceNow instance. It is safe for concurrent use.
type Server struct {
	opts    Options
	faults  *faults.Set
	handler http.Handler

	mu      sync.RWMutex
	linkURL string // SetLinkURL
	inst    *platform.Instance
	app     *m365app.App // nil until the app is installed
}

var _ http.Handler = (*Server)(nil)

// New builds a Server. It does no I/O.
func New(opts Options) (*Server, error) {
	if opts.Fixture == nil {
		opts.Fixture = &Fixture{}
	}
	opts.Clock = clock.OrReal(opts.Clock)
	s := &Server{opts: opts, faults: faults.NewSet(platform.FaultBody)}
	inst, app, err := s.build(opts.Fixture)
	if err != nil {
		return nil, err
	}
	s.inst, s.app = inst, app
	r := mux.NewRouter()
	admin := adminapi.Mount(r, adminapi.Config{Service: "fakesnow", Target: s, Faults: s.faults, Clock: opts.Clock, Journal: opts.Journal})
	admin.HandleFunc("/app/install", s.adminInstall).Methods(http.MethodPost)
	r.PathPrefix("/").Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { s.Instance().ServeHTTP(w, r) }))
	s.handler = journal.Middleware(s.faults.Middleware(r), journal.Config{Party: "fakesnow", Journal: opts.Journal, Logger: opts.Logger, Clock: opts.Clock})
	return s, nil
}

// URL is the instance's public base URL.
func (s *Server) URL() string {
	if s.opts.PublicURL != "" {
		return strings.TrimRight(s.opts.PublicURL, "/")
	}
	return s.opts.Fixture.InstanceURL()
}

// build makes an instance from a fixture: platform, fixture contents, the
// app (installed and set up as the fixture says), then verbatim records.
func (s *Server) build(f *Fixture) (*platform.Instance, *m365app.App, error) {
	inst, err := platform.New(platform.Options{URL: s.URL(), Clock: s.opts.Clock, Transport: s.opts.Transport, Logger: s.opts.Logger})
	if err != nil {
		return nil, nil, fmt.Errorf("fakesnow: %w", err)
	}
	if err := f.load(inst); err != nil {
		return nil, nil, fmt.Errorf("fakesnow: %w", err)
	}
	var app *m365app.App
	if f.App != nil {
		if app, err = m365app.Install(inst, m365app.InstallOptions{CrossScopeAccessMissing: f.App.CrossScopeAccessMissing}); err != nil {
			return nil, nil, fmt.Errorf("fakesnow: %w", err)
		}
		if err := app.Apply(f.App); err != nil {
			return nil, nil, fmt.Errorf("fakesnow: %w", err)
		}
	}
	if len(f.Records) > 0 {
		snap := map[string][]platform.Record{}
		for table, rows := range f.Records {
			for _, r := range rows {
				snap[table] = append(snap[table], platform.Record(r))
			}
		}
		if err := inst.Restore(snap); err != nil {
			return nil, nil, fmt.Errorf("fakesnow: %w", err)
		}
	}
	if len(f.OAuthCredentials) > 0 || len(f.UsedJTIs) > 0 {
		if err := inst.RestoreCredentials(platform.Credentials{Tokens: f.OAuthCredentials, UsedJTIs: f.UsedJTIs}); err != nil {
			return nil, nil, fmt.Errorf("fakesnow: %w", err)
		}
	}
	return inst, app, nil
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

// Instance is the current platform instance (replaced by Reset and
// ImportState).
func (s *Server) Instance() *platform.Instance {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.inst
}

// Faults is the server's fault set.
func (s *Server) Faults() *faults.Set { return s.faults }

// Clock is the server's clock.
func (s *Server) Clock() clock.Clock { return s.opts.Clock }

// App is the installed app, or nil.
func (s *Server) App() *m365app.App {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.app
}

// InstallApp installs the app on the running instance.
func (s *Server) InstallApp(opts m365app.InstallOptions) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.app != nil {
		return errors.New("the app is already installed")
	}
	app, err := m365app.Install(s.inst, opts)
	if err != nil {
		return err
	}
	s.app = app
	return nil
}

func (s *Server) adminInstall(w http.ResponseWriter, r *http.Request) {
	var opts struct {
		CrossScopeAccessMissing bool `json:"crossScopeAccessMissing"`
	}
	if r.ContentLength != 0 {
		dec := json.NewDecoder(r.Body)
		dec.DisallowUnknownFields()
		if err := dec.Decode(&opts); err != nil {
			writeAdminJSON(w, http.StatusBadRequest, map[string]string{"error": "body: " + err.Error()})
			return
		}
	}
	if err := s.InstallApp(m365app.InstallOptions{CrossScopeAccessMissing: opts.CrossScopeAccessMissing}); err != nil {
		writeAdminJSON(w, http.StatusConflict, map[string]string{"error": err.Error()})
		return
	}
	writeAdminJSON(w, http.StatusOK, map[string]string{"status": "installed", "scope": m365app.Scope})
}

func writeAdminJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// SetLinkURL makes the links the instance hands out (Link, Location,
// reference and download links) name u instead of the instance URL, now and
// after every reset or import. The sandbox sets its listen URL, so that a
// client outside the fakes' host mapping can follow every link.
func (s *Server) SetLinkURL(u string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.linkURL = u
	s.inst.SetLinkURL(u)
}

// Reset rebuilds the instance from the fixture it started with.
func (s *Server) Reset() error {
	inst, app, err := s.build(s.opts.Fixture)
	if err != nil {
		return err
	}
	s.faults.Clear()
	s.mu.Lock()
	s.inst, s.app = inst, app
	if s.linkURL != "" {
		inst.SetLinkURL(s.linkURL) // under s.mu: no SetLinkURL in between
	}
	s.mu.Unlock()
	return nil
}

// ExportState renders every record of the instance, its OAuth tokens,
// sessions and seen OIDC token ids as a snow: section.
func (s *Server) ExportState() ([]byte, error) {
	inst := s.Instance()
	f := Fixture{Instance: s.opts.Fixture.Instance, Records: map[string][]map[string]string{}}
	if s.App() != nil {
		// Installs the app's tables before the records fill them.
		f.App = &m365app.Fixture{}
	}
	snap, creds := inst.SnapshotWithCredentials()
	f.OAuthCredentials, f.UsedJTIs = creds.Tokens, creds.UsedJTIs
	for table, rows := range snap {
		out := make([]map[string]string, 0, len(rows))
		for _, r := range rows {
			out = append(out, map[string]string(r))
		}
		f.Records[table] = out
	}
	return fixture.Marshal(f)
}

// ImportState replaces the instance with one built from a snow: section.
func (s *Server) ImportState(b []byte) error {
	var f Fixture
	if err := fixture.Strict(b, &f); err != nil {
		return fmt.Errorf("snow state: %w", err)
	}
	if f.Instance != "" && f.Instance != s.opts.Fixture.Instance && s.opts.PublicURL == "" {
		return errors.New("snow state: the instance name differs from this server's; start a server for that instance instead")
	}
	inst, app, err := s.build(&f)
	if err != nil {
		return err
	}
	s.mu.Lock()
	s.inst, s.app = inst, app
	if s.linkURL != "" {
		inst.SetLinkURL(s.linkURL) // under s.mu: no SetLinkURL in between
	}
	s.mu.Unlock()
	return nil
}
