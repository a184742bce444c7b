package serve

import (
	"fmt"
	"log/slog"
	"net"
	"strings"

	"github.com/m365snow/m365snow/internal/hostmap"
	"github.com/m365snow/m365snow/internal/localca"
	"github.com/m365snow/m365snow/internal/proxy"
)

// Proxy is a running forward proxy (internal/proxy) on its own listener:
// what the sandbox and each fake's binary serve at --proxy-listen.
type Proxy struct {
	URL   string // http://127.0.0.1:3128, what HTTPS_PROXY is set to
	close func()
}

// Close stops the proxy and its tunnels.
func (p *Proxy) Close() { p.close() }

// StartProxy serves the forward proxy for hosts on listen; its certificates
// come from ca. A listen error names the flag.
func StartProxy(listen string, ca *localca.CA, hosts *hostmap.Map, log *slog.Logger) (*Proxy, error) {
	p, err := proxy.New(proxy.Options{Hosts: hosts, CA: ca, Logger: log})
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		p.Close()
		return nil, fmt.Errorf("the forward proxy cannot listen on %s (--proxy-listen; empty turns it off): %w", listen, err)
	}
	srv := NewServer(p, log)
	go func() { _ = srv.Serve(ln) }()
	return &Proxy{
		URL:   "http://" + Advertised(ln.Addr()),
		close: func() { srv.Close(); p.Close() },
	}, nil
}

// proxyCA is a single binary's CA for --proxy-listen: the one in --ca-dir,
// else the one --tls-self-signed keeps (so that the proxy trusts the fake
// it forwards to, and a client trusts one file), else one in memory that
// the proxy serves at /ca.pem.
func (f *Flags) proxyCA() (*localca.CA, error) {
	dir := f.CADir
	if dir == "" {
		dir = f.TLSSelfSigned
	}
	if dir == "" {
		return localca.New()
	}
	ca, err := localca.Open(dir)
	if err != nil {
		return nil, fmt.Errorf("--ca-dir %s: %w", dir, err)
	}
	return ca, nil
}

// proxyHosts routes the fake's own real host names to its listener at
// self, then every --map-host route (an explicit route wins).
func (f *Flags) proxyHosts(own []string, self string) (*hostmap.Map, error) {
	m := hostmap.New()
	for _, h := range own {
		if err := m.Set(h, self); err != nil {
			return nil, err
		}
	}
	for _, s := range f.MapHosts {
		if err := m.ParseFlag(s); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// realHost reports whether h is a host name a build would call (not an IP
// address, not localhost): such a public URL's host is served by the proxy.
func realHost(h string) bool {
	return h != "" && net.ParseIP(h) == nil && !strings.EqualFold(h, "localhost")
}
