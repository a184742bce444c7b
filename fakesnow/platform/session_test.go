package platform

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// uiLogin signs in through /login.do and reads g_ck from /navpage.do, as a
// browser's page does.
func (e *env) uiLogin(t testing.TB, user string) (sid, token string) {
	t.Helper()
	c := *e.ts.Client()
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	res, err := c.PostForm(e.ts.URL+"/login.do", url.Values{"user_name": {user}, "user_password": {user + "-pw"}})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	for _, ck := range res.Cookies() {
		if ck.Name == "JSESSIONID" {
			sid = ck.Value
		}
	}
	if sid == "" {
		t.Fatalf("%s: no session", user)
	}
	req, _ := http.NewRequest("GET", e.ts.URL+"/navpage.do", nil)
	req.AddCookie(&http.Cookie{Name: "JSESSIONID", Value: sid})
	page := e.do(t, req)
	m := regexp.MustCompile(`g_ck = '([0-9a-f]+)'`).FindStringSubmatch(page.raw)
	if page.status != 200 || m == nil {
		t.Fatalf("navpage: %d %s", page.status, page.raw)
	}
	return sid, m[1]
}

// TestSessionRESTNeedsUserToken: a REST call authenticated by a session
// cookie alone is refused; with the session's X-UserToken (g_ck) it runs
// (KB0565021; ServiceNow developer forum: "either Authorization header or
// session cookies + X-UserToken header").
func TestSessionRESTNeedsUserToken(t *testing.T) {
	e := newEnv(t)
	sid, tok := e.uiLogin(t, "beth.anglin")
	_, otherTok := e.uiLogin(t, "david.miller")
	cases := []struct {
		name, method, token string
		status              int
		log                 string
	}{
		{"cookie and its token, GET", "GET", tok, 200, ""},
		{"cookie and its token, POST", "POST", tok, 201, ""},
		{"cookie alone, GET", "GET", "", 401, "no X-UserToken header"},
		{"cookie alone, POST", "POST", "", 401, "no X-UserToken header"},
		{"cookie and another session's token", "GET", otherTok, 401, "X-UserToken of another session"},
		{"cookie and a made-up token", "PATCH", "0123", 401, "X-UserToken of another session"},
	}
	for _, c := range cases {
		path, body := "/api/now/table/incident", ""
		if c.method == "POST" {
			body = `{"short_description":"from the UI"}`
		}
		if c.method == "PATCH" {
			inc, _ := e.inst.First("incident", "number=INC0010001")
			path, body = path+"/"+inc["sys_id"], `{"short_description":"x"}`
		}
		req, _ := http.NewRequest(c.method, e.ts.URL+path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.AddCookie(&http.Cookie{Name: "JSESSIONID", Value: sid})
		if c.token != "" {
			req.Header.Set("X-UserToken", c.token)
		}
		r := e.do(t, req)
		if r.status != c.status {
			t.Errorf("%s: %d, want %d: %s", c.name, r.status, c.status, r.raw)
			continue
		}
		if c.status == 401 {
			wantUnauthenticated(t, r)
			if got := e.lastLog(t, "Authentication"); !strings.Contains(got, c.log) {
				t.Errorf("%s: log %q, want it to mention %q", c.name, got, c.log)
			}
		}
	}
	// The UI itself needs no token.
	req, _ := http.NewRequest("GET", e.ts.URL+"/navpage.do", nil)
	if r := e.do(t, req); r.status != 200 || r.header.Get("X-Is-Logged-In") != "false" || strings.Contains(r.raw, "g_ck") {
		t.Errorf("navpage without a session: %d %v %s", r.status, r.header, r.raw)
	}
}

// TestAPIResponseCookiesAndHeaders: what real Table API answers carry
// (reference/servicenow.md §1.1 from recorded answers: X-Is-Logged-In,
// Set-Cookie JSESSIONID and glide_user_route; 401 with
// WWW-Authenticate: BASIC realm="Service-now").
func TestAPIResponseCookiesAndHeaders(t *testing.T) {
	e := newEnv(t)
	r := e.call(t, "GET", "/api/now/table/incident?sysparm_limit=1", "beth.anglin", "")
	if r.header.Get("X-Is-Logged-In") != "true" {
		t.Errorf("X-Is-Logged-In %q", r.header.Get("X-Is-Logged-In"))
	}
	cookies := map[string]string{}
	for _, line := range r.header.Values("Set-Cookie") {
		name, _, _ := strings.Cut(line, "=")
		cookies[name] = line
	}
	if !regexp.MustCompile(`^JSESSIONID=[0-9A-F]{32}; Path=/; HttpOnly; SameSite=None$`).MatchString(cookies["JSESSIONID"]) {
		t.Errorf("JSESSIONID cookie %q", cookies["JSESSIONID"])
	}
	if !regexp.MustCompile(`^glide_user_route=glide\.[0-9a-f]{32}; Path=/; Max-Age=2147483647; HttpOnly; SameSite=None$`).MatchString(cookies["glide_user_route"]) {
		t.Errorf("glide_user_route cookie %q", cookies["glide_user_route"])
	}
	// The REST call's own session cookie, sent back alone, authenticates
	// nothing.
	sid := strings.TrimPrefix(strings.SplitN(cookies["JSESSIONID"], ";", 2)[0], "JSESSIONID=")
	wantUnauthenticated(t, e.call(t, "GET", "/api/now/table/incident", "cookieonly:"+sid, ""))
	// A call that brings its live session gets no new JSESSIONID.
	ui, _ := e.uiLogin(t, "beth.anglin")
	if got := e.call(t, "GET", "/api/now/table/incident", "cookie:"+ui, ""); got.status != 200 || strings.Contains(strings.Join(got.header.Values("Set-Cookie"), ";"), "JSESSIONID") {
		t.Errorf("session call: %d, Set-Cookie %v", got.status, got.header.Values("Set-Cookie"))
	}
}
