package adminapi

import (
	"crypto/subtle"
	"fmt"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strings"
)

// Guard keeps the control plane out of reach of web pages and of other
// machines. /__admin/ can replace signing keys, state and time, so a page in
// the tester's browser must not drive it: browsers send a request to
// 127.0.0.1 for any page that asks, and DNS rebinding lets a page address it
// under its own host name. The guard refuses, under /__admin/ only:
//
//   - a Host that is neither loopback nor one of Hosts (DNS rebinding);
//   - an Origin other than the request's own (cross-site requests; curl
//     and Go clients send none);
//   - a body on a mutating call that is not JSON (YAML for PUT
//     /__admin/state): a page can send text/plain or a form without a CORS
//     preflight, but not application/json;
//   - without "Authorization: Bearer <Token>", when Token is set.
//
// Refusals are JSON in the control plane's {"error": …} shape.
type Guard struct {
	// Token, when not empty, must come as a bearer token.
	Token string
	// Hosts are the host names, besides loopback ones, that may name the
	// fake in a control-plane request: its configured public names.
	Hosts []string
}

// TokenEnv is the environment variable the binaries read the admin token
// from when --admin-token is not given.
const TokenEnv = "M365SNOW_ADMIN_TOKEN"

// Wrap returns next behind the guard.
func (g Guard) Wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/__admin" && !strings.HasPrefix(r.URL.Path, "/__admin/") {
			next.ServeHTTP(w, r)
			return
		}
		if status, err := g.check(r); err != nil {
			if status == http.StatusUnauthorized {
				w.Header().Set("WWW-Authenticate", `Bearer realm="m365snow control plane"`)
			}
			writeErr(w, status, err)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func (g Guard) check(r *http.Request) (int, error) {
	host := hostOnly(r.Host)
	if !IsLoopbackHost(host) && !g.allowed(host) {
		return http.StatusForbidden, fmt.Errorf("the control plane answers only to a loopback Host or %s, not %q", g.hostsText(), r.Host)
	}
	if origin := r.Header.Get("Origin"); origin != "" {
		u, err := url.Parse(origin)
		if err != nil || origin == "null" || !strings.EqualFold(u.Host, r.Host) {
			return http.StatusForbidden, fmt.Errorf("the control plane refuses cross-origin requests (Origin %q)", origin)
		}
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead && hasBody(r) {
		mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
		ok := mt == "application/json"
		if r.Method == http.MethodPut && r.URL.Path == "/__admin/state" {
			ok = ok || mt == "application/yaml" || mt == "application/x-yaml" || mt == "text/yaml"
		}
		if !ok {
			return http.StatusUnsupportedMediaType, fmt.Errorf("the control plane takes JSON bodies (YAML for PUT /__admin/state), not Content-Type %q", r.Header.Get("Content-Type"))
		}
	}
	if g.Token != "" {
		got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || subtle.ConstantTimeCompare([]byte(strings.TrimSpace(got)), []byte(g.Token)) != 1 {
			return http.StatusUnauthorized, fmt.Errorf("the control plane needs the admin token: Authorization: Bearer $%s", TokenEnv)
		}
	}
	return 0, nil
}

func hasBody(r *http.Request) bool {
	return r.ContentLength > 0 || (r.ContentLength < 0 && r.Body != nil && r.Body != http.NoBody)
}

func (g Guard) allowed(host string) bool {
	for _, h := range g.Hosts {
		if strings.EqualFold(h, host) {
			return true
		}
	}
	return false
}

func (g Guard) hostsText() string {
	if len(g.Hosts) == 0 {
		return "no other name"
	}
	return strings.Join(g.Hosts, ", ")
}

// hostOnly strips the port from a Host header value.
func hostOnly(hostport string) string {
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		return h
	}
	return strings.Trim(hostport, "[]")
}

// IsLoopbackHost reports whether host (no port) is "localhost" or a
// loopback IP address.
func IsLoopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// ListensBeyondLoopback reports whether a listen address (host:port)
// accepts connections from other machines: an empty host, an unspecified
// address (0.0.0.0, ::) or any non-loopback one.
func ListensBeyondLoopback(listen string) bool {
	host, _, err := net.SplitHostPort(listen)
	if err != nil {
		return true
	}
	return !IsLoopbackHost(host)
}

// HostOf returns the host name of a URL, or "" when it has none.
func HostOf(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return ""
	}
	return u.Hostname()
}
