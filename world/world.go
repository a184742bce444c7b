// Package world runs the three fakes together from one fixture: fakeaad,
// fakesnow (with the app) and fakem365, each on its own loopback listener,
// wired by a host map so that every party reaches the others under their
// real host names. The features, the sandbox and the app's tests build
// their worlds with it.
package world

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/m365snow/m365snow/fakeaad"
	"github.com/m365snow/m365snow/fakem365"
	"github.com/m365snow/m365snow/fakesnow"
	"github.com/m365snow/m365snow/internal/adminapi"
	"github.com/m365snow/m365snow/internal/clock"
	"github.com/m365snow/m365snow/internal/faults"
	"github.com/m365snow/m365snow/internal/fixture"
	"github.com/m365snow/m365snow/internal/hostmap"
	"github.com/m365snow/m365snow/internal/journal"
	"github.com/m365snow/m365snow/internal/localca"
	"github.com/m365snow/m365snow/internal/serve"
	"github.com/m365snow/m365snow/internal/wellknown"
)

// Options configure a world.
type Options struct {
	Fixture *fixture.File
	// Clock is shared by the three fakes. Nil means a Manual clock at the
	// fixture's clock (or clock.Epoch): frozen until a test moves it.
	Clock clock.Adjustable
	// InstanceClock, when set, is fakesnow's alone: the features' vendor
	// mode moves the instance's time (its tokens expire) while Azure AD
	// stays on the wall clock an external connector keeps. Nil means Clock.
	InstanceClock clock.Adjustable
	// Listen addresses; empty means 127.0.0.1:0.
	AADListen, SnowListen, M365Listen string
	// ConnectorURL, when set, is a connector build to drive instead of
	// fakem365: connector.rave.microsoft.com and admin.microsoft.com are
	// mapped to it and no fakem365 starts.
	ConnectorURL string
	// Listening, when set, is called once the fakes listen and before an
	// external connector is provisioned: the features' vendor mode routes
	// the connector's fixed addresses to this world there.
	Listening func(*World)
	Logger    *slog.Logger
	// AdminToken, when set, is required on every fake's /__admin/
	// (adminapi.Guard, which also refuses foreign Origins and Hosts).
	AdminToken string
	// SnowPublicURL, AADPublicURL and M365PublicURL, when set, are where
	// a person reaches each fake from outside (a port mapping, a reverse
	// proxy): the world's URLs (SnowURL, …), hence every printed command
	// and the instance's links, name them; the control plane answers their
	// host, and with CA their certificates cover it. The fakes still reach
	// each other at their listeners, and documents that name the real
	// hosts (discovery, connectorUrl) keep them.
	SnowPublicURL, AADPublicURL, M365PublicURL string
	// CA, when set, makes every fake serve HTTPS with a certificate from
	// it for its listen address, loopback and the real names it stands
	// for; the world's URLs are then https:// and its own calls trust CA.
	CA *localca.CA
}

// World is three running fakes.
type World struct {
	Clock clock.Adjustable
	// InstanceClock is fakesnow's clock (Clock unless Options said otherwise).
	InstanceClock clock.Adjustable
	AAD           *fakeaad.Server
	Snow          *fakesnow.Server
	M365          *fakem365.Server // nil when driving an external connector
	// ConnectorFaults, when driving an external connector, are injected at
	// the world's gateway in front of it: the app and the harness see the
	// answer a faulty connector would give, without any fault inside the
	// build (Induce's m365: faults land here).
	ConnectorFaults *faults.Set
	Hosts           *hostmap.Map
	// Client reaches every party by its real host name.
	Client *http.Client
	// Journal is the merged request journal of the three fakes, which each
	// serve it as /__admin/requests; when driving an external connector it
	// also holds the calls made to the connector, as party "connector".
	Journal *journal.Journal
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
	// transport is this world's alone: no connection outlives the world
	// or is shared with another one on a reused port.
	transport *http.Transport
	// passwords from the fixture, for inducements signed as a user.
	aadPasswords, snowPasswords map[string]string
}

// Start builds and serves a world.
func Start(opts Options) (*World, error) {
	f := opts.Fixture
	if f == nil {
		return nil, errors.New("world: no fixture")
	}
	w := &World{Clock: opts.Clock, Hosts: hostmap.New(), Journal: journal.New(journal.DefaultSize)}
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
	w.InstanceClock = opts.InstanceClock
	if w.InstanceClock == nil {
		w.InstanceClock = w.Clock
	}
	w.transport = http.DefaultTransport.(*http.Transport).Clone()
	if opts.CA != nil {
		w.transport.TLSClientConfig = &tls.Config{RootCAs: opts.CA.Pool(), MinVersion: tls.VersionTLS12}
	}
	w.Client = w.Hosts.Client(w.transport)
	var transport http.RoundTripper = &hostmap.Transport{Map: w.Hosts, Base: w.transport}
	if opts.ConnectorURL != "" {
		// No fake answers the connector's calls: record them where they
		// leave, so that the journal shows what the build received.
		rec := journal.Config{Party: "connector", Journal: w.Journal, Clock: w.Clock}
		transport = journal.Transport(transport, rec, wellknown.ConnectorHost, wellknown.AdminHost)
		w.Client = &http.Client{Transport: journal.Transport(w.Client.Transport, rec, wellknown.ConnectorHost, wellknown.AdminHost)}
	}
	log := opts.Logger

	af, err := fakeaad.ParseFixture(&f.AAD)
	if err != nil {
		return nil, err
	}
	if w.AAD, err = fakeaad.New(fakeaad.Options{PublicURL: "https://" + wellknown.LoginHost, Clock: w.Clock, Fixture: af, Logger: log, Journal: w.Journal}); err != nil {
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
	w.aadPasswords, w.snowPasswords = passwords(af, sf)
	if w.Snow, err = fakesnow.New(fakesnow.Options{Clock: w.InstanceClock, Transport: transport, Fixture: sf, Logger: log, Journal: w.Journal}); err != nil {
		return nil, err
	}
	w.InstanceURL = w.Snow.URL()
	w.InstanceHost = strings.TrimPrefix(w.InstanceURL, "https://")
	if opts.ConnectorURL == "" {
		if w.M365, err = fakem365.New(fakem365.Options{Clock: w.Clock, Transport: transport, Fixture: mf, Logger: log, Journal: w.Journal}); err != nil {
			return nil, err
		}
	}

	// serve starts h on listen, routes hosts to it and returns the URL the
	// world names it by: public when set, else the listener's.
	serve := func(party, listen, public string, h http.Handler, hosts ...string) (string, error) {
		if listen == "" {
			listen = "127.0.0.1:0"
		}
		public = strings.TrimRight(public, "/")
		guarded := hosts
		if h := adminapi.HostOf(public); h != "" {
			guarded = append(append([]string{}, hosts...), h)
		}
		ln, err := net.Listen("tcp", listen)
		if err != nil {
			return "", &ListenError{Party: party, Addr: listen, Err: err}
		}
		scheme := "http"
		if opts.CA != nil {
			cert, err := opts.CA.Issue(certHosts(ln.Addr(), guarded)...)
			if err != nil {
				ln.Close()
				return "", fmt.Errorf("%s: certificate: %w", party, err)
			}
			ln, scheme = tls.NewListener(ln, serve.TLSConfig(*cert)), "https"
		}
		// The binaries' server settings (timeouts, 64 KiB of headers) and
		// their control-plane guard; the names the fake is mapped under are
		// its public names.
		srvLog := log
		if srvLog == nil {
			srvLog = slog.New(slog.DiscardHandler)
		}
		srv := serve.NewServer(adminapi.Guard{Token: opts.AdminToken, Hosts: guarded}.Wrap(h), srvLog)
		w.servers = append(w.servers, srv)
		go func() { _ = srv.Serve(ln) }()
		u := scheme + "://" + Advertised(ln.Addr())
		for _, host := range hosts {
			if err := w.Hosts.Set(host, u); err != nil {
				return "", err
			}
		}
		if public != "" {
			return public, nil
		}
		return u, nil
	}
	if w.AADURL, err = serve("fakeaad", opts.AADListen, opts.AADPublicURL, w.AAD, wellknown.LoginHost, wellknown.GraphHost); err != nil {
		w.Close()
		return nil, err
	}
	if w.SnowURL, err = serve("fakesnow", opts.SnowListen, opts.SnowPublicURL, w.Snow, w.InstanceHost); err != nil {
		w.Close()
		return nil, err
	}
	if opts.Listening != nil {
		opts.Listening(w)
	}
	if w.M365 != nil {
		if w.M365URL, err = serve("fakem365", opts.M365Listen, opts.M365PublicURL, w.M365, wellknown.ConnectorHost, wellknown.AdminHost); err != nil {
			w.Close()
			return nil, err
		}
	} else {
		gateway, err := w.connectorGateway(strings.TrimRight(opts.ConnectorURL, "/"))
		if err != nil {
			w.Close()
			return nil, err
		}
		if w.M365URL, err = serve("connector gateway", "", "", gateway); err != nil {
			w.Close()
			return nil, err
		}
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
	if err := w.induceFrom(f.Induce, f.InduceFiles); err != nil {
		w.Close()
		return nil, err
	}
	return w, nil
}

// Advertised is serve.Advertised: a listener on every interface is
// reached, printed and routed to at loopback.
func Advertised(a net.Addr) string { return serve.Advertised(a) }

// certHosts are the names a fake's certificate covers: the address it is
// advertised at, loopback, and the real names it stands for.
func certHosts(a net.Addr, names []string) []string {
	host, _, _ := net.SplitHostPort(Advertised(a))
	out := []string{host, "127.0.0.1", "::1", "localhost"}
	if tcp, ok := a.(*net.TCPAddr); ok && !tcp.IP.IsUnspecified() && tcp.IP.String() != host {
		out = append(out, tcp.IP.String())
	}
	return append(out, names...)
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
	w.transport.CloseIdleConnections()
	return errors.Join(errs...)
}
