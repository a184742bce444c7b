// Package proxy is the forward proxy that lets a vendor's unmodified build
// reach the fakes under the integration's real host names. The build is
// started with HTTPS_PROXY pointing here and trusts one CA file; it then
// calls https://login.microsoftonline.com/… or
// https://dev12345.service-now.com/… as it would in production. The proxy
// answers CONNECT for the mapped names only, terminates TLS with a leaf
// certificate from the sandbox's CA, and hands each request to the fake that
// stands in for the host, Host header unchanged. Every other host is refused
// with a reason, so nothing the build sends ever leaves the machine.
package proxy

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"strings"
	"sync"
	"time"

	"github.com/m365snow/m365snow/internal/hostmap"
	"github.com/m365snow/m365snow/internal/localca"
)

// Options configure a Proxy.
type Options struct {
	// Hosts routes real host names to the fakes; only these names are
	// served.
	Hosts *hostmap.Map
	// CA mints the certificates presented for the mapped names.
	CA     *localca.CA
	Logger *slog.Logger
}

// Proxy is an http.Handler serving forward-proxy requests: CONNECT for
// https:// URLs and absolute-form requests for http:// URLs. Close stops the
// tunnels' inner server.
type Proxy struct {
	hosts *hostmap.Map
	ca    *localca.CA
	log   *slog.Logger
	inner *http.Server
	conns *connListener
	// clear forwards absolute-form http:// requests, Host kept.
	clear *httputil.ReverseProxy
	// base reaches the fakes; its idle connections close with the proxy.
	base *http.Transport
}

type hostKey struct{}

// New starts a Proxy.
func New(opts Options) (*Proxy, error) {
	if opts.Hosts == nil || opts.CA == nil {
		return nil, errors.New("proxy: Hosts and CA are required")
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	// The fakes behind the proxy speak plain HTTP, or HTTPS with
	// certificates from this same CA (sandbox --tls): trust it, and only it.
	base := http.DefaultTransport.(*http.Transport).Clone()
	base.TLSClientConfig = &tls.Config{RootCAs: opts.CA.Pool(), MinVersion: tls.VersionTLS12}
	p := &Proxy{hosts: opts.Hosts, ca: opts.CA, log: log, conns: newConnListener(), base: base}
	upstream := &hostmap.Transport{Map: opts.Hosts, Base: base}
	p.clear = &httputil.ReverseProxy{
		Rewrite:      func(pr *httputil.ProxyRequest) { pr.Out.Host = pr.In.URL.Host },
		Transport:    upstream,
		ErrorHandler: p.badGateway,
	}
	forward := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			host, _ := pr.In.Context().Value(hostKey{}).(string)
			pr.Out.URL.Scheme = "https"
			pr.Out.URL.Host = host
			pr.Out.Host = pr.In.Host
		},
		Transport:    upstream,
		ErrorHandler: p.badGateway,
	}
	p.inner = &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			// A request in a tunnel may only name the host the tunnel was
			// opened for, as a real server's certificate only covers its
			// own name.
			host, _ := r.Context().Value(hostKey{}).(string)
			if h := hostOnly(r.Host); !strings.EqualFold(h, host) {
				http.Error(w, fmt.Sprintf("m365snow proxy: the tunnel to %s cannot carry a request for %s", host, h), http.StatusMisdirectedRequest)
				return
			}
			forward.ServeHTTP(w, r)
		}),
		ConnContext: func(ctx context.Context, c net.Conn) context.Context {
			if tc, ok := c.(*tls.Conn); ok {
				if tc2, ok := tc.NetConn().(*tunnelConn); ok {
					return context.WithValue(ctx, hostKey{}, tc2.host)
				}
			}
			return ctx
		},
		TLSConfig: &tls.Config{
			MinVersion: tls.VersionTLS12,
			GetCertificate: func(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
				tc, ok := hello.Conn.(*tunnelConn)
				if !ok {
					return nil, errors.New("proxy: not a tunnel")
				}
				return p.ca.Leaf(tc.host)
			},
		},
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelDebug),
	}
	go func() { _ = p.inner.ServeTLS(p.conns, "", "") }()
	return p, nil
}

// Close stops serving tunnels.
func (p *Proxy) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	defer p.base.CloseIdleConnections()
	return p.inner.Shutdown(ctx)
}

// ServeHTTP implements http.Handler.
func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.Method == http.MethodConnect:
		p.connect(w, r)
	case r.URL.IsAbs():
		p.plain(w, r)
	case r.Method == http.MethodGet && r.URL.Path == "/ca.pem":
		// The CA to trust, for a proxy whose CA file is out of reach (a
		// container): curl -s http://127.0.0.1:3128/ca.pem > ca.pem
		w.Header().Set("Content-Type", "application/x-pem-file")
		w.Write(p.ca.PEM)
	default:
		http.Error(w, "m365snow proxy: this address is a forward proxy; set HTTPS_PROXY="+"http://"+r.Host+" and call the real host names (https://login.microsoftonline.com/…)", http.StatusBadRequest)
	}
}

// connect opens a tunnel for a mapped host on port 443.
func (p *Proxy) connect(w http.ResponseWriter, r *http.Request) {
	host, port, err := net.SplitHostPort(r.Host)
	if err != nil {
		host, port = r.Host, "443"
	}
	host = strings.ToLower(host)
	if reason := p.refusal(host, port, "443"); reason != "" {
		p.log.Warn("proxy refused", "host", r.Host, "reason", reason)
		// The reason phrase carries the explanation: clients show it (Go's
		// transport returns it as the error text, curl prints it).
		refuse(w, reason)
		return
	}
	hj, ok := w.(http.Hijacker)
	if !ok {
		http.Error(w, "m365snow proxy: cannot tunnel on this connection", http.StatusInternalServerError)
		return
	}
	conn, rw, err := hj.Hijack()
	if err != nil {
		return
	}
	// The outer server's read and write deadlines stay on a hijacked
	// connection; the tunnel's own server sets its timeouts from here on.
	_ = conn.SetDeadline(time.Time{})
	if _, err := conn.Write([]byte("HTTP/1.1 200 Connection established\r\n\r\n")); err != nil {
		conn.Close()
		return
	}
	p.log.Debug("proxy tunnel", "host", host)
	p.conns.push(&tunnelConn{Conn: conn, r: rw.Reader, host: host})
}

// plain forwards an absolute-form http:// request for a mapped host.
func (p *Proxy) plain(w http.ResponseWriter, r *http.Request) {
	host, port := r.URL.Hostname(), r.URL.Port()
	if port == "" {
		port = "80"
	}
	if reason := p.refusal(strings.ToLower(host), port, "80"); reason != "" || r.URL.Scheme != "http" {
		if reason == "" {
			reason = "m365snow proxy: only http:// URLs travel in the clear; use CONNECT for https://"
		}
		http.Error(w, reason, http.StatusForbidden)
		return
	}
	p.clear.ServeHTTP(w, r)
}

// refusal says why a host:port is not served, or "" when it is.
func (p *Proxy) refusal(host, port, want string) string {
	if _, ok := p.hosts.Lookup(host); !ok {
		return fmt.Sprintf("m365snow proxy refuses %s: not a host of the integration (served: %s); nothing leaves this machine", host, p.served())
	}
	if port != want {
		return fmt.Sprintf("m365snow proxy refuses %s:%s: the real host listens on port %s only", host, port, want)
	}
	return ""
}

func (p *Proxy) served() string {
	var names []string
	for _, route := range strings.Split(p.hosts.String(), ",") {
		if h, _, ok := strings.Cut(route, "="); ok {
			names = append(names, h)
		}
	}
	return strings.Join(names, ", ")
}

func (p *Proxy) badGateway(w http.ResponseWriter, r *http.Request, err error) {
	p.log.Warn("proxy: fake unreachable", "host", r.Host, "err", err)
	http.Error(w, "m365snow proxy: the fake for "+hostOnly(r.Host)+" did not answer: "+err.Error(), http.StatusBadGateway)
}

// refuse writes a 403 whose reason phrase is the explanation.
func refuse(w http.ResponseWriter, reason string) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		http.Error(w, reason, http.StatusForbidden)
		return
	}
	conn, rw, err := hj.Hijack()
	if err != nil {
		return
	}
	defer conn.Close()
	phrase := strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, reason)
	fmt.Fprintf(rw, "HTTP/1.1 403 %s\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s\n", phrase, len(reason)+1, reason)
	rw.Flush()
}

func hostOnly(hostport string) string {
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		return strings.ToLower(h)
	}
	return strings.ToLower(hostport)
}

// tunnelConn is a hijacked client connection that remembers which host its
// CONNECT named; bytes the client sent after the CONNECT line are read
// from the buffered reader first.
type tunnelConn struct {
	net.Conn
	r    *bufio.Reader
	host string
}

func (c *tunnelConn) Read(b []byte) (int, error) { return c.r.Read(b) }

// connListener hands hijacked tunnels to the inner TLS server.
type connListener struct {
	ch     chan net.Conn
	done   chan struct{}
	closer sync.Once
}

func newConnListener() *connListener {
	return &connListener{ch: make(chan net.Conn), done: make(chan struct{})}
}

func (l *connListener) push(c net.Conn) {
	select {
	case l.ch <- c:
	case <-l.done:
		c.Close()
	}
}

func (l *connListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.ch:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *connListener) Close() error {
	l.closer.Do(func() { close(l.done) })
	return nil
}

func (l *connListener) Addr() net.Addr { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)} }
