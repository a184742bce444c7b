package console

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"sync"
)

// The console signs in to the instance as a person does: the login form
// (POST /login.do) opens a UI session, whose page carries the session's
// token (g_ck); REST calls send the cookie and the token as X-UserToken,
// as the instance's own pages do (a real instance refuses a REST call with
// the cookie alone, KB0565021). This works where the instance disallows
// Basic authentication (prerequisites-insights-only). Sessions are kept
// per user and opened again when the instance no longer knows one (an
// advanced clock, a reset).

type uiSession struct{ Cookie, Token string }

// sessions are the console's open UI sessions, by user name.
type sessions struct {
	mu sync.Mutex
	m  map[string]uiSession
}

var gck = regexp.MustCompile(`g_ck = '([^']+)'`)

// session is user's open session, or a new one when fresh or none is open.
func (c *console) session(u User, fresh bool) (uiSession, error) {
	c.sessions.mu.Lock()
	s, ok := c.sessions.m[u.Name]
	c.sessions.mu.Unlock()
	if ok && !fresh {
		return s, nil
	}
	snow, ok := c.party("fakesnow")
	if !ok {
		return uiSession{}, errors.New("no ServiceNow instance to sign in to")
	}
	noRedirect := *c.client
	noRedirect.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := noRedirect.PostForm(snow.URL+"/login.do", url.Values{"user_name": {u.Name}, "user_password": {u.Password}})
	if err != nil {
		return uiSession{}, err
	}
	resp.Body.Close()
	for _, ck := range resp.Cookies() {
		if ck.Name == "JSESSIONID" {
			s.Cookie = ck.Value
		}
	}
	if s.Cookie == "" {
		return uiSession{}, &PartyError{Method: "POST", URL: snow.URL + "/login.do", Status: http.StatusUnauthorized,
			Message: fmt.Sprintf("%s could not sign in to the instance (HTTP %d)", u.Name, resp.StatusCode)}
	}
	req, err := http.NewRequest("GET", snow.URL+"/navpage.do", nil)
	if err != nil {
		return uiSession{}, err
	}
	req.AddCookie(&http.Cookie{Name: "JSESSIONID", Value: s.Cookie})
	page, err := noRedirect.Do(req)
	if err != nil {
		return uiSession{}, err
	}
	b, _ := io.ReadAll(io.LimitReader(page.Body, 1<<20))
	page.Body.Close()
	m := gck.FindSubmatch(b)
	if m == nil {
		return uiSession{}, fmt.Errorf("%s signed in, but /navpage.do carries no session token (HTTP %d)", u.Name, page.StatusCode)
	}
	s.Token = string(m[1])
	c.sessions.mu.Lock()
	if c.sessions.m == nil {
		c.sessions.m = map[string]uiSession{}
	}
	c.sessions.m[u.Name] = s
	c.sessions.mu.Unlock()
	return s, nil
}

// callUser is call as a ServiceNow user, in their UI session.
func (c *console) callUser(u User, method, target string, body, out any) error {
	for fresh := false; ; fresh = true {
		s, err := c.session(u, fresh)
		if err != nil {
			return err
		}
		err = c.send(method, target, body, out, func(req *http.Request) {
			req.AddCookie(&http.Cookie{Name: "JSESSIONID", Value: s.Cookie})
			req.Header.Set("X-UserToken", s.Token)
		})
		var pe *PartyError
		if fresh || !errors.As(err, &pe) || pe.Status != http.StatusUnauthorized {
			return err
		}
	}
}

// curlAs is how a person repeats a call in u's session: the cookie and the
// token the console holds (valid while the session is).
func (c *console) curlAs(u User, method, target string, body any) string {
	c.sessions.mu.Lock()
	s := c.sessions.m[u.Name]
	c.sessions.mu.Unlock()
	out := fmt.Sprintf("%s -b 'JSESSIONID=%s' -H 'X-UserToken: %s' -X %s '%s'", c.curl(), s.Cookie, s.Token, method, target)
	if body != nil {
		out += " -H 'Content-Type: application/json' -d '" + shellQuote(mustJSON(body)) + "'"
	}
	return out
}
