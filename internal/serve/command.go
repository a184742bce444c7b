package serve

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"

	"github.com/m365snow/m365snow/fixtures"
	"github.com/m365snow/m365snow/internal/adminapi"
	"github.com/m365snow/m365snow/internal/fixture"
	"github.com/m365snow/m365snow/internal/hostmap"
)

// Command is one fake's binary: flags, fixture, listener, shutdown.
type Command struct {
	Name          string
	Summary       string // first line of --help
	DefaultListen string
	MapHost       bool     // the fake calls other parties: offer --map-host
	TLSHosts      []string // real host names the self-signed certificate covers
	// PublicURLHelp, when set, describes a --public-url whose default
	// comes from the world rather than from the listen address.
	PublicURLHelp string
	// RealURL is the public URL under --proxy-listen when --public-url is
	// unset: the real name the proxy serves the fake under, so that the
	// documents a build follows (OIDC discovery) stay behind the proxy.
	RealURL string
	// Schema, when set, checks world files key by key before they load,
	// so that mistakes are reported with the file's own line numbers.
	Schema *fixture.Schema
	// Build makes the handler from the parsed flags, the loaded world and
	// the host map.
	Build func(f *Flags, world *fixture.File, hosts *hostmap.Map, log *slog.Logger) (http.Handler, error)
}

// Run executes the command with args and returns the exit code. It stops
// on SIGINT/SIGTERM, or when ctx ends.
func (c Command) Run(ctx context.Context, args []string, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "healthcheck" {
		return HealthcheckCommand(c.Name, args[1:], "http://"+c.DefaultListen+"/healthz")
	}
	fs := flag.NewFlagSet(c.Name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "%s\n\nUsage:\n  %s [flags]\n  %s healthcheck [--url URL]   exit 0 when /healthz answers 200\n\nFlags:\n", c.Summary, c.Name, c.Name)
		fs.PrintDefaults()
	}
	var f Flags
	f.Register(fs, c.DefaultListen, c.MapHost)
	if c.PublicURLHelp != "" {
		fs.Lookup("public-url").Usage = c.PublicURLHelp
	}
	fixtureName := fs.String("fixture", "sandbox", "world fixture: a shipped world name or a path to a YAML file")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	fail := func(code int, err error) int {
		fmt.Fprintf(stderr, "%s: %v\n", c.Name, err)
		return code
	}
	if fs.NArg() > 0 {
		return fail(2, fmt.Errorf("unexpected arguments %q", fs.Args()))
	}
	if err := f.Validate(); err != nil {
		return fail(2, err)
	}
	log, err := f.Logger(stderr)
	if err != nil {
		return fail(2, err)
	}
	hosts, err := f.HostMap()
	if err != nil {
		return fail(2, err)
	}
	world, err := fixture.LoadSchema(fixtures.FS, *fixtureName, c.Schema)
	if err != nil {
		return fail(1, err)
	}
	ln, err := f.Listener(c.TLSHosts...)
	if err != nil {
		return fail(1, fmt.Errorf("cannot serve on %s (--listen): %w", f.Listen, err))
	}
	if f.PublicURL == "" && f.ProxyListen != "" {
		f.PublicURL = c.RealURL
	}
	if f.PublicURL == "" && c.PublicURLHelp == "" {
		// The bound address, so that --listen 127.0.0.1:0 advertises a real port.
		f.PublicURL = f.scheme() + "://" + Advertised(ln.Addr())
	}
	h, err := c.Build(&f, world, hosts, log)
	if err != nil {
		ln.Close()
		return fail(1, err)
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	public := f.Public()
	if u, ok := h.(interface{ URL() string }); ok {
		public = u.URL() // the fake knows better (fakesnow: its instance URL)
	}
	// The control plane answers loopback and the names the fake is
	// configured to be reached under (adminapi.Guard).
	h = c.guard(&f, public).Wrap(h)
	if f.ProxyListen != "" {
		px, err := c.startProxy(&f, ln, public, log)
		if err != nil {
			ln.Close()
			return fail(1, err)
		}
		defer px.Close()
	}
	log.Info(c.Name+" listening", "url", f.scheme()+"://"+ln.Addr().String(), "public_url", public, "fixture", *fixtureName, "map_host", hosts.String(),
		"admin_token", f.AdminToken != "")
	if err := Run(ctx, NewServer(h, log), ln); err != nil {
		log.Error(c.Name+" stopped", "err", err)
		return 1
	}
	log.Info(c.Name + " stopped")
	return 0
}

// guard is the control plane's guard: the admin token, and as host names
// besides loopback the public URL's and the real names the fake stands in for.
func (c Command) guard(f *Flags, public string) adminapi.Guard {
	hosts := append([]string{}, c.TLSHosts...)
	if h := adminapi.HostOf(public); h != "" {
		hosts = append(hosts, h)
	}
	return adminapi.Guard{Token: f.AdminToken, Hosts: hosts}
}

func (f *Flags) scheme() string {
	if f.TLS() {
		return "https"
	}
	return "http"
}

// startProxy serves --proxy-listen: the fake's real host names (TLSHosts,
// and its public URL's host when that is a name, as fakesnow's instance)
// route to its own listener, the --map-host names to theirs.
func (c Command) startProxy(f *Flags, ln net.Listener, public string, log *slog.Logger) (*Proxy, error) {
	ca, err := f.proxyCA()
	if err != nil {
		return nil, err
	}
	own := append([]string{}, c.TLSHosts...)
	if h := adminapi.HostOf(public); realHost(h) {
		own = append(own, h)
	}
	hosts, err := f.proxyHosts(own, f.scheme()+"://"+Advertised(ln.Addr()))
	if err != nil {
		return nil, err
	}
	px, err := StartProxy(f.ProxyListen, ca, hosts, log)
	if err != nil {
		return nil, err
	}
	caFile := ca.CertPath
	if caFile == "" {
		caFile = px.URL + "/ca.pem (in memory: curl -s " + px.URL + "/ca.pem > ca.pem)"
	}
	log.Info(c.Name+" forward proxy", "https_proxy", px.URL, "ca", caFile, "hosts", hosts.String())
	return px, nil
}
