// Package world runs the three fakes together from one fixture: fakeaad,
// fakesnow (with the app) and fakem365, each on its own loopback listener,
// wired by a host map so that every party reaches the others under their
// real host names. The features, the sandbox and the app's tests build
// their worlds with it.
package world

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/m365snow/m365snow/fakeaad"
	"github.com/m365snow/m365snow/fakem365"
	"github.com/m365snow/m365snow/fakesnow"
	"github.com/m365snow/m365snow/internal/clock"
	"github.com/m365snow/m365snow/internal/fixture"
	"github.com/m365snow/m365snow/internal/hostmap"
	"github.com/m365snow/m365snow/internal/wellknown"
)

// Options configure a world.
type Options struct {
	Fixture *fixture.File
	// Clock is shared by the three fakes. Nil means a Manual clock at the
	// fixture's clock (or clock.Epoch): frozen until a test moves it.
	Clock clock.Adjustable
	// Listen addresses; empty means 127.0.0.1:0.
	AADListen, SnowListen, M365Listen string
	// ConnectorURL, when set, is a connector build to drive instead of
	// fakem365: connector.rave.microsoft.com and admin.microsoft.com are
	// mapped to it and no fakem365 starts.
	ConnectorURL string
	Logger       *slog.Logger
}

// World is three running fakes.
type World struct {
	Clock clock.Adjustable
	AAD   *fakeaad.Server
	Snow  *fakesnow.Server
	M365  *fakem365.Server // nil when driving an external connector
	Hosts *hostmap.Map
	// Client reaches every party by its real host name.
	Client *http.Client
	// Listen URLs of the fakes.
	AADURL, SnowURL, M365URL string
	// InstanceURL is the instance's public URL (https://<instance>.service-now.com).
	InstanceURL string
	// InstanceHost is its host name.
	InstanceHost string

	// The world's fixture sections as loaded, for tools that describe the
	// world (the sandbox prints users, secrets and curl commands from them).
	AADFixture  *fakeaad.Fixture
	SnowFixture *fakesnow.Fixture
	M365Fixture *fakem365.Fixture

	servers []*http.Server
	// passwords from the fixture, for inducements signed as a user.
	aadPasswords, snowPasswords map[string]string
}

// Start builds and serves a world.
func Start(opts Options) (*World, error) {
	f := opts.Fixture
	if f == nil {
		return nil, errors.New("world: no fixture")
	}
	w := &World{Clock: opts.Clock, Hosts: hostmap.New()}
	if w.Clock == nil {
		start := clock.Epoch
		if f.Clock != "" {
			t, err := time.Parse(time.RFC3339, f.Clock)
			if err != nil {
				return nil, fmt.Errorf("world: clock %q: %w", f.Clock, err)
			}
			start = t
		}
		w.Clock = clock.NewManual(start)
	}
	w.Client = w.Hosts.Client(nil)
	transport := &hostmap.Transport{Map: w.Hosts}
	log := opts.Logger

	af, err := fakeaad.ParseFixture(&f.AAD)
	if err != nil {
		return nil, err
	}
	if w.AAD, err = fakeaad.New(fakeaad.Options{PublicURL: "https://" + wellknown.LoginHost, Clock: w.Clock, Fixture: af, Logger: log}); err != nil {
		return nil, err
	}
	sf, err := fakesnow.ParseFixture(&f.Snow)
	if err != nil {
		return nil, err
	}
	mf, err := fakem365.ParseFixture(&f.M365)
	if err != nil {
		return nil, err
	}
	w.AADFixture, w.SnowFixture, w.M365Fixture = af, sf, mf
	w.aadPasswords, w.snowPasswords = map[string]string{}, map[string]string{}
	for _, t := range af.Tenants {
		for _, u := range t.Users {
			w.aadPasswords[strings.ToLower(u.UserPrincipalName)] = u.Password
		}
	}
	for _, u := range sf.Users {
		if u.Password != "" {
			w.snowPasswords[u.UserName] = u.Password
		}
	}
	if w.Snow, err = fakesnow.New(fakesnow.Options{Clock: w.Clock, Transport: transport, Fixture: sf, Logger: log}); err != nil {
		return nil, err
	}
	w.InstanceURL = w.Snow.URL()
	w.InstanceHost = strings.TrimPrefix(w.InstanceURL, "https://")
	if opts.ConnectorURL == "" {
		if w.M365, err = fakem365.New(fakem365.Options{Clock: w.Clock, Transport: transport, Fixture: mf, Logger: log}); err != nil {
			return nil, err
		}
	}

	serve := func(party, listen string, h http.Handler, hosts ...string) (string, error) {
		if listen == "" {
			listen = "127.0.0.1:0"
		}
		ln, err := net.Listen("tcp", listen)
		if err != nil {
			return "", &ListenError{Party: party, Addr: listen, Err: err}
		}
		srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
		w.servers = append(w.servers, srv)
		go func() { _ = srv.Serve(ln) }()
		u := "http://" + Advertised(ln.Addr())
		for _, host := range hosts {
			if err := w.Hosts.Set(host, u); err != nil {
				return "", err
			}
		}
		return u, nil
	}
	if w.AADURL, err = serve("fakeaad", opts.AADListen, w.AAD, wellknown.LoginHost, wellknown.GraphHost); err != nil {
		w.Close()
		return nil, err
	}
	if w.SnowURL, err = serve("fakesnow", opts.SnowListen, w.Snow, w.InstanceHost); err != nil {
		w.Close()
		return nil, err
	}
	if w.M365 != nil {
		if w.M365URL, err = serve("fakem365", opts.M365Listen, w.M365, wellknown.ConnectorHost, wellknown.AdminHost); err != nil {
			w.Close()
			return nil, err
		}
	} else {
		w.M365URL = strings.TrimRight(opts.ConnectorURL, "/")
		for _, h := range []string{wellknown.ConnectorHost, wellknown.AdminHost} {
			if err := w.Hosts.Set(h, w.M365URL); err != nil {
				w.Close()
				return nil, err
			}
		}
		if err := w.provisionConnector(af, mf); err != nil {
			w.Close()
			return nil, err
		}
	}
	if err := w.Induce(f.Induce); err != nil {
		w.Close()
		return nil, err
	}
	return w, nil
}

// Advertised is the address to print and route to for a listener: one
// bound to every interface (0.0.0.0:8080, [::]:8080 in a container) is
// reached at loopback, never at an unspecified address.
func Advertised(a net.Addr) string {
	if tcp, ok := a.(*net.TCPAddr); ok && tcp.IP.IsUnspecified() {
		return net.JoinHostPort("127.0.0.1", strconv.Itoa(tcp.Port))
	}
	return a.String()
}

// ListenError says which fake could not listen where.
type ListenError struct {
	Party, Addr string
	Err         error
}

func (e *ListenError) Error() string {
	return fmt.Sprintf("%s cannot listen on %s: %v", e.Party, e.Addr, e.Err)
}

func (e *ListenError) Unwrap() error { return e.Err }

// Close stops the fakes' listeners and waits for requests in flight.
func (w *World) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var errs []error
	for _, s := range w.servers {
		errs = append(errs, s.Shutdown(ctx))
	}
	return errors.Join(errs...)
}
