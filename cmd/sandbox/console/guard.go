package console

import (
	"crypto/subtle"
	"net"
	"net/http"
	"net/url"
	"strings"

	"github.com/m365snow/m365snow/internal/adminapi"
)

// guard applies the control plane's rules (adminapi.Guard) to the console,
// which drives the control plane for its visitors: a loopback Host only (no
// DNS rebinding), no action from another site (a page elsewhere could post
// a form to 127.0.0.1), and the admin token when there is one. A browser
// cannot send a bearer token from a link, so the token is also accepted
// once as ?token= and then kept in a SameSite=Strict, HttpOnly cookie.
type guard struct{ token string }

const tokenCookie = "m365snow_console"

func (g guard) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host := r.Host
		if h, _, err := net.SplitHostPort(host); err == nil {
			host = h
		}
		if !adminapi.IsLoopbackHost(host) {
			http.Error(w, "the console answers only to a loopback Host, not "+r.Host, http.StatusForbidden)
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			if site := r.Header.Get("Sec-Fetch-Site"); site == "cross-site" || site == "same-site" {
				http.Error(w, "the console refuses actions from another site", http.StatusForbidden)
				return
			}
			if o := r.Header.Get("Origin"); o != "" {
				u, err := url.Parse(o)
				if err != nil || !strings.EqualFold(u.Host, r.Host) {
					http.Error(w, "the console refuses actions from another origin ("+o+")", http.StatusForbidden)
					return
				}
			}
		}
		if g.token != "" {
			if t := r.URL.Query().Get("token"); t != "" && r.Method == http.MethodGet && g.is(t) {
				http.SetCookie(w, &http.Cookie{Name: tokenCookie, Value: t, Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode})
				q := r.URL.Query()
				q.Del("token")
				http.Redirect(w, r, (&url.URL{Path: r.URL.Path, RawQuery: q.Encode()}).String(), http.StatusSeeOther)
				return
			}
			bearer, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
			ck, _ := r.Cookie(tokenCookie)
			if !g.is(bearer) && (ck == nil || !g.is(ck.Value)) {
				http.Error(w, "the console needs the admin token: open it with ?token=$"+adminapi.TokenEnv, http.StatusUnauthorized)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

func (g guard) is(t string) bool {
	return t != "" && subtle.ConstantTimeCompare([]byte(t), []byte(g.token)) == 1
}
