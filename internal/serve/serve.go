// Package serve runs a fake as a process: flags, listener, optional TLS,
// structured logs, graceful shutdown and a health check that needs nothing
// but the binary (for FROM-scratch containers). Fakes themselves never
// import it; only cmd/ does.
package serve

import (
	"context"
	"crypto/tls"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/m365snow/m365snow/internal/adminapi"
	"github.com/m365snow/m365snow/internal/hostmap"
)

// Flags are the options every fake binary shares.
type Flags struct {
	Listen        string
	PublicURL     string
	TLSCert       string
	TLSKey        string
	TLSSelfSigned string
	LogLevel      string
	LogFormat     string
	MapHosts      multiFlag
	// AdminToken guards /__admin/ (adminapi.Guard); from --admin-token or
	// the M365SNOW_ADMIN_TOKEN environment variable.
	AdminToken string
	// ProxyListen, when set, serves a forward proxy (internal/proxy) for
	// the fake's real host names and the --map-host ones; CADir keeps its CA.
	ProxyListen string
	CADir       string
}

type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(s string) error { *m = append(*m, s); return nil }

// Register adds the shared flags to fs. withMapHost adds --map-host, for
// fakes that call other parties.
func (f *Flags) Register(fs *flag.FlagSet, defaultListen string, withMapHost bool) {
	fs.StringVar(&f.Listen, "listen", defaultListen, "address to listen on (host:port)")
	fs.StringVar(&f.PublicURL, "public-url", "", "base URL the fake advertises in documents and links (default: the listen URL; with --proxy-listen, the real host name the proxy serves it under)")
	fs.StringVar(&f.TLSCert, "tls-cert", "", "serve HTTPS with this certificate (PEM; needs --tls-key)")
	fs.StringVar(&f.TLSKey, "tls-key", "", "private key for --tls-cert (PEM)")
	fs.StringVar(&f.TLSSelfSigned, "tls-self-signed", "", "serve HTTPS with a CA and server certificate generated into (or reused from) this directory; clients trust DIR/ca.pem")
	fs.StringVar(&f.LogLevel, "log-level", "info", "debug, info, warn or error (info logs one line per request, after it is answered; debug adds the control plane's)")
	fs.StringVar(&f.LogFormat, "log-format", "text", "text (key=value) or json (one object a line)")
	fs.StringVar(&f.AdminToken, "admin-token", "", "require \"Authorization: Bearer TOKEN\" on /__admin/ (default $"+adminapi.TokenEnv+"); needed when --listen is not a loopback address")
	if withMapHost {
		fs.Var(&f.MapHosts, "map-host", "route a real host name to a fake: HOST=ADDR, e.g. login.microsoftonline.com=127.0.0.1:8081 (repeatable)")
	}
	fs.StringVar(&f.ProxyListen, "proxy-listen", "", "also serve a forward proxy (HTTPS_PROXY) on this address: CONNECT to this fake's real host names"+
		map[bool]string{true: " and the --map-host ones", false: ""}[withMapHost]+", TLS from the CA; other hosts are refused (default: off)")
	fs.StringVar(&f.CADir, "ca-dir", "", "directory of the proxy's CA (ca.pem, ca-key.pem), made on first use; builds trust ca.pem (default: --tls-self-signed's directory, else a CA in memory, served at the proxy's /ca.pem)")
}

// Validate checks flag combinations after parsing.
func (f *Flags) Validate() error {
	if (f.TLSCert == "") != (f.TLSKey == "") {
		return errors.New("--tls-cert and --tls-key go together")
	}
	if f.TLSCert != "" && f.TLSSelfSigned != "" {
		return errors.New("use either --tls-cert/--tls-key or --tls-self-signed")
	}
	if _, _, err := net.SplitHostPort(f.Listen); err != nil {
		return fmt.Errorf("--listen %q: %w", f.Listen, err)
	}
	if f.ProxyListen != "" {
		if _, _, err := net.SplitHostPort(f.ProxyListen); err != nil {
			return fmt.Errorf("--proxy-listen %q: %w", f.ProxyListen, err)
		}
	}
	switch {
	case f.CADir != "" && f.ProxyListen == "":
		return errors.New("--ca-dir is the forward proxy's CA: it needs --proxy-listen")
	case f.ProxyListen != "" && f.TLSCert != "":
		// The proxy reaches the fake over HTTPS trusting its own CA only.
		return errors.New("--proxy-listen forwards to the fake trusting its own CA only: use --tls-self-signed (the same CA) or plain HTTP, not --tls-cert")
	case f.ProxyListen != "" && f.CADir != "" && f.TLSSelfSigned != "" && filepath.Clean(f.CADir) != filepath.Clean(f.TLSSelfSigned):
		return errors.New("--ca-dir and --tls-self-signed name two CAs: the proxy forwards to the fake trusting its own CA only; give one directory (--tls-self-signed alone is enough)")
	}
	if f.AdminToken == "" {
		f.AdminToken = os.Getenv(adminapi.TokenEnv)
	}
	if f.AdminToken == "" && adminapi.ListensBeyondLoopback(f.Listen) {
		return fmt.Errorf("--listen %s accepts connections from other machines, so the control plane (/__admin/) needs a token: set --admin-token or %s (docs/compose.md)", f.Listen, adminapi.TokenEnv)
	}
	return nil
}

// TLS reports whether the binary serves HTTPS.
func (f *Flags) TLS() bool { return f.TLSCert != "" || f.TLSSelfSigned != "" }

// ListenURL is the URL of the listen address.
func (f *Flags) ListenURL() string {
	scheme := "http"
	if f.TLS() {
		scheme = "https"
	}
	return scheme + "://" + f.Listen
}

// Public is --public-url, or the listen URL.
func (f *Flags) Public() string {
	if f.PublicURL != "" {
		return strings.TrimRight(f.PublicURL, "/")
	}
	return f.ListenURL()
}

// HostMap builds the host map from --map-host flags.
func (f *Flags) HostMap() (*hostmap.Map, error) {
	m := hostmap.New()
	for _, s := range f.MapHosts {
		if err := m.ParseFlag(s); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// Logger returns a logger on w at --log-level in --log-format.
func (f *Flags) Logger(w io.Writer) (*slog.Logger, error) {
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(f.LogLevel)); err != nil {
		return nil, fmt.Errorf("--log-level: %w", err)
	}
	opts := &slog.HandlerOptions{Level: lvl}
	switch f.LogFormat {
	case "", "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("--log-format %q: want text or json", f.LogFormat)
}

// Listener opens the listen address, wrapped in TLS when asked.
func (f *Flags) Listener(extraHosts ...string) (net.Listener, error) {
	ln, err := net.Listen("tcp", f.Listen)
	if err != nil {
		return nil, err
	}
	if !f.TLS() {
		return ln, nil
	}
	certFile, keyFile := f.TLSCert, f.TLSKey
	if f.TLSSelfSigned != "" {
		host, _, _ := net.SplitHostPort(f.Listen)
		if certFile, keyFile, err = SelfSigned(f.TLSSelfSigned, append([]string{host, "127.0.0.1", "localhost"}, extraHosts...)); err != nil {
			ln.Close()
			return nil, err
		}
	}
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		ln.Close()
		return nil, pairError(certFile, keyFile, err)
	}
	return tls.NewListener(ln, TLSConfig(cert)), nil
}

// pairError says which of a certificate and its key is wrong: a file that
// cannot be read or holds no PEM block is named alone.
func pairError(certFile, keyFile string, err error) error {
	for _, f := range []struct{ what, path string }{{"certificate", certFile}, {"key", keyFile}} {
		b, rerr := os.ReadFile(f.path)
		if rerr != nil {
			return fmt.Errorf("%s %s: %w", f.what, f.path, rerr)
		}
		if blk, _ := pem.Decode(b); blk == nil {
			return fmt.Errorf("%s %s holds no PEM block", f.what, f.path)
		}
	}
	return fmt.Errorf("certificate %s with key %s: %w", certFile, keyFile, err)
}

// TLSConfig is how every listener of the project serves HTTPS: the
// binaries' --tls-cert and --tls-self-signed, and the sandbox's --tls.
func TLSConfig(cert tls.Certificate) *tls.Config {
	return &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
}

// Advertised is the address to print and route to for a listener: one
// bound to every interface (0.0.0.0:8080, [::]:8080 in a container) is
// reached at loopback, never at an unspecified address (compose advertised
// connectorUrl http://[::]:8082/).
func Advertised(a net.Addr) string {
	if tcp, ok := a.(*net.TCPAddr); ok && tcp.IP.IsUnspecified() {
		return net.JoinHostPort("127.0.0.1", strconv.Itoa(tcp.Port))
	}
	return a.String()
}

// NewServer wraps h with the timeouts every fake binary uses.
func NewServer(h http.Handler, log *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
}

// Run serves srv on ln until ctx ends, then shuts down gracefully.
func Run(ctx context.Context, srv *http.Server, ln net.Listener) error {
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return err
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// Healthcheck GETs url and reports whether it answered 200. Certificates
// are not verified: the check targets the binary's own loopback listener.
func Healthcheck(url string) error {
	c := &http.Client{
		Timeout:   3 * time.Second,
		Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}, // #nosec G402 -- own loopback listener
	}
	resp, err := c.Get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s answered %s", url, resp.Status)
	}
	return nil
}

// HealthcheckCommand implements the "healthcheck" subcommand every binary
// has: it probes /healthz of the given or default address.
func HealthcheckCommand(name string, args []string, defaultURL string) int {
	fs := flag.NewFlagSet(name+" healthcheck", flag.ContinueOnError)
	url := fs.String("url", defaultURL, "health endpoint to probe")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if err := Healthcheck(*url); err != nil {
		fmt.Fprintf(os.Stderr, "%s: unhealthy: %v\n", name, err)
		return 1
	}
	return 0
}
