// Package hostmap routes requests for real host names to the fakes.
//
// The installation guide, the app and every log speak of
// login.microsoftonline.com, connector.rave.microsoft.com and
// <instance>.service-now.com. The fakes keep those names in URLs, records and
// logs; only the transport knows that a name really means 127.0.0.1:PORT. A
// host that is neither mapped nor a loopback address is refused, so no test
// can reach a real host by accident.
package hostmap

import (
	"fmt"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
)

// Map is a set of host name → base URL routes. It is safe for concurrent use;
// routes may be added after clients using it were built, which is how a world
// wires fakes whose addresses are known only once they listen.
type Map struct {
	mu     sync.RWMutex
	routes map[string]*url.URL
}

// New returns an empty Map.
func New() *Map { return &Map{routes: map[string]*url.URL{}} }

// Set routes host (a name without scheme or port, matched case-insensitively)
// to target, a base URL such as "http://127.0.0.1:8081". A target without a
// scheme means http.
func (m *Map) Set(host, target string) error {
	host = strings.ToLower(strings.TrimSpace(host))
	if host == "" || strings.ContainsAny(host, "/:") {
		return fmt.Errorf("hostmap: %q is not a host name", host)
	}
	if !strings.Contains(target, "://") {
		target = "http://" + target
	}
	u, err := url.Parse(target)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return fmt.Errorf("hostmap: %q is not an http(s) address for %s", target, host)
	}
	m.mu.Lock()
	m.routes[host] = &url.URL{Scheme: u.Scheme, Host: u.Host}
	m.mu.Unlock()
	return nil
}

// ParseFlag adds a route written as HOST=ADDR (the --map-host flag form).
func (m *Map) ParseFlag(s string) error {
	host, target, ok := strings.Cut(s, "=")
	if !ok {
		return fmt.Errorf("hostmap: %q is not HOST=ADDR", s)
	}
	return m.Set(host, target)
}

// Lookup returns the base URL a host is routed to.
func (m *Map) Lookup(host string) (*url.URL, bool) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	u, ok := m.routes[strings.ToLower(host)]
	return u, ok
}

// String lists the routes as HOST=URL, sorted; it is what binaries log.
func (m *Map) String() string {
	m.mu.RLock()
	defer m.mu.RUnlock()
	out := make([]string, 0, len(m.routes))
	for h, u := range m.routes {
		out = append(out, h+"="+u.String())
	}
	sort.Strings(out)
	return strings.Join(out, ",")
}

// Transport sends requests for mapped hosts to their targets and refuses
// every other non-loopback host.
type Transport struct {
	Map  *Map
	Base http.RoundTripper // nil means http.DefaultTransport
}

// RoundTrip implements http.RoundTripper. The request keeps its original Host
// header, so a fake sees the name the caller used, as the real service would.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	base := t.Base
	if base == nil {
		base = http.DefaultTransport
	}
	host := req.URL.Hostname()
	if target, ok := t.Map.Lookup(host); ok {
		out := req.Clone(req.Context())
		out.URL.Scheme = target.Scheme
		out.URL.Host = target.Host
		if out.Host == "" {
			out.Host = req.URL.Host
		}
		return base.RoundTrip(out)
	}
	if isLoopback(host) {
		return base.RoundTrip(req)
	}
	return nil, &RefusedError{Host: host}
}

// RefusedError is returned for a host that has no route and is not loopback.
type RefusedError struct{ Host string }

func (e *RefusedError) Error() string {
	return fmt.Sprintf("hostmap: no route to host %q: m365snow only talks to its own fakes (add --map-host %s=ADDR)", e.Host, e.Host)
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Client returns an http.Client that routes through m.
func (m *Map) Client(base http.RoundTripper) *http.Client {
	return &http.Client{Transport: &Transport{Map: m, Base: base}}
}
