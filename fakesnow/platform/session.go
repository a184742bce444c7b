package platform

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"html"
	"net/http"
	"strings"
)

// Interactive sessions as an instance keeps them.
//
// A UI login gives a JSESSIONID cookie; the pages of that session carry
// the session's token in the JavaScript global g_ck. Since Geneva a REST
// call authenticated by the session cookie alone is refused as a possible
// cross-site request forgery: it must also send the token in the
// X-UserToken header, or the browser is asked for Basic credentials
// (KB0565021, "Client REST API authentication request for logged in
// users"; a ServiceNow employee in the developer forum: "the requests have
// to contain either Authorization header or session cookies + X-UserToken
// header"). UI code reads the token from window.g_ck and sends it as
// X-UserToken (public ServiceNow UI code in many repositories).

// uiSession is one interactive session.
type uiSession struct {
	user  string // sys_user sys_id
	token string // g_ck: the X-UserToken REST calls of the session send
}

// newSessionID makes a JSESSIONID value: 32 upper-case hex digits, the
// form real instances hand out (KB0657578 shows one).
func newSessionID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return strings.ToUpper(hex.EncodeToString(b))
}

// newUserToken makes a g_ck value.
func newUserToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// sessionCallerLocked checks a session cookie and, on REST paths, the
// X-UserToken that must come with it.
func (i *Instance) sessionCaller(r *http.Request, sid string) (*Caller, *authFailure) {
	i.mu.RLock()
	s, ok := i.sessions[sid]
	i.mu.RUnlock()
	if !ok {
		return nil, &authFailure{"Authentication", "Session cookie does not name a live session", ""}
	}
	if strings.HasPrefix(r.URL.Path, "/api/") {
		tok := r.Header.Get("X-UserToken")
		if tok == "" {
			return nil, &authFailure{"Authentication", "REST call with a session cookie but no X-UserToken header refused (CSRF protection, KB0565021)", ""}
		}
		if tok != s.token {
			return nil, &authFailure{"Authentication", "REST call with a session cookie and an X-UserToken of another session refused (CSRF protection, KB0565021)", ""}
		}
	}
	return i.callerFor(s.user, "session")
}

// userRoute is the glide_user_route cookie value of this instance: the
// application node a client's requests stick to.
func (i *Instance) userRoute() string {
	sum := sha256.Sum256([]byte(i.url))
	return "glide." + hex.EncodeToString(sum[:16])
}

// sessionCookies sets what an instance's answers set: a JSESSIONID when
// the request brought no live one, and the node-affinity cookie. Cookies
// are Secure when the request came over TLS (an instance is https only; the
// sandbox and tests talk plain HTTP, where a client would drop a Secure
// cookie and the session with it).
func (i *Instance) sessionCookies(w http.ResponseWriter, r *http.Request, sid string) {
	secure := r.TLS != nil
	if sid == "" {
		if ck, err := r.Cookie("JSESSIONID"); err == nil {
			i.mu.RLock()
			_, live := i.sessions[ck.Value]
			i.mu.RUnlock()
			if live {
				sid = "-"
			}
		}
		if sid == "" {
			// A REST call's own session: an instance opens one per
			// call without a cookie. Nothing is kept for it here, so the
			// cookie alone authenticates nothing later (as on an instance,
			// where it would also need the session's X-UserToken).
			sid = newSessionID()
		}
	}
	if sid != "-" {
		http.SetCookie(w, &http.Cookie{Name: "JSESSIONID", Value: sid, Path: "/", HttpOnly: true, Secure: secure, SameSite: http.SameSiteNoneMode})
	}
	http.SetCookie(w, &http.Cookie{Name: "glide_user_route", Value: i.userRoute(), Path: "/", MaxAge: 2147483647, HttpOnly: true, Secure: secure, SameSite: http.SameSiteNoneMode})
}

// navpage serves the UI's main frame (/navpage.do, where /login.do
// redirects): for a signed-in session, a page carrying g_ck; otherwise the
// login page.
func (i *Instance) navpage(w http.ResponseWriter, r *http.Request) {
	var s uiSession
	ok := false
	if ck, err := r.Cookie("JSESSIONID"); err == nil {
		i.mu.RLock()
		s, ok = i.sessions[ck.Value]
		i.mu.RUnlock()
	}
	if !ok {
		i.loginPage(w, "")
		return
	}
	c, fail := i.callerFor(s.user, "session")
	if fail != nil {
		i.loginPage(w, "")
		return
	}
	noCache(w.Header())
	w.Header().Set("Content-Type", "text/html;charset=UTF-8")
	w.Header().Set("X-Is-Logged-In", "true")
	w.WriteHeader(http.StatusOK)
	fmt.Fprintf(w, "<html><head><title>ServiceNow</title><script>var g_ck = '%s';</script></head><body data-user=\"%s\"></body></html>\n",
		s.token, html.EscapeString(c.UserName))
}
