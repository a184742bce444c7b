package world

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
)

// Auth signs a request.
type Auth func(*http.Request)

// Basic is HTTP Basic authentication.
func Basic(user, password string) Auth {
	return func(r *http.Request) { r.SetBasicAuth(user, password) }
}

// Bearer is a bearer token.
func Bearer(token string) Auth {
	return func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+token) }
}

// UISession is a signed-in ServiceNow UI session: its cookie, and the
// token (g_ck) its pages send as X-UserToken with every REST call, without
// which an instance refuses a cookie-authenticated REST call (KB0565021).
type UISession struct {
	Cookie *http.Cookie
	Token  string
}

// Session authenticates a request as a UI page of the session does.
func Session(s *UISession) Auth {
	return func(r *http.Request) {
		r.AddCookie(s.Cookie)
		r.Header.Set("X-UserToken", s.Token)
	}
}

// gckPattern finds the session token in a UI page.
var gckPattern = regexp.MustCompile(`g_ck = '([^']+)'`)

// Response is an answer read in full.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
	// JSON is the body decoded, when it is a JSON object.
	JSON map[string]any
}

// Result is the "result" member of a ServiceNow answer.
func (r *Response) Result() map[string]any {
	m, _ := r.JSON["result"].(map[string]any)
	return m
}

// ResultList is a list "result".
func (r *Response) ResultList() []any {
	l, _ := r.JSON["result"].([]any)
	return l
}

// ErrorMessage is error.message of a ServiceNow or Microsoft error body.
func (r *Response) ErrorMessage() string {
	e, _ := r.JSON["error"].(map[string]any)
	m, _ := e["message"].(string)
	return m
}

func (r *Response) String() string { return fmt.Sprintf("HTTP %d %s", r.Status, r.Body) }

// Do sends a request to any party by its real URL. body is JSON-encoded
// unless it is url.Values (a form) or nil.
func (w *World) Do(method, target string, auth Auth, body any) (*Response, error) {
	var rd io.Reader
	ct := ""
	switch b := body.(type) {
	case nil:
	case url.Values:
		rd, ct = strings.NewReader(b.Encode()), "application/x-www-form-urlencoded"
	case []byte:
		rd, ct = bytes.NewReader(b), "application/json"
	default:
		js, err := json.Marshal(b)
		if err != nil {
			return nil, err
		}
		rd, ct = bytes.NewReader(js), "application/json"
	}
	req, err := http.NewRequest(method, target, rd)
	if err != nil {
		return nil, err
	}
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	req.Header.Set("Accept", "application/json")
	if auth != nil {
		auth(req)
	}
	res, err := w.Client.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return nil, err
	}
	out := &Response{Status: res.StatusCode, Header: res.Header, Body: b}
	_ = json.Unmarshal(b, &out.JSON)
	return out, nil
}

// Login opens an interactive ServiceNow session (/login.do) and reads its
// token from the page the login leads to, as a browser's page has it.
func (w *World) Login(user, password string) (*UISession, error) {
	c := *w.Client
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	res, err := c.PostForm(w.InstanceURL+"/login.do", url.Values{"user_name": {user}, "user_password": {password}})
	if err != nil {
		return nil, err
	}
	res.Body.Close()
	var ck *http.Cookie
	for _, c := range res.Cookies() {
		if c.Name == "JSESSIONID" {
			ck = c
		}
	}
	if ck == nil {
		return nil, fmt.Errorf("%s could not sign in to the instance (HTTP %d)", user, res.StatusCode)
	}
	req, err := http.NewRequest("GET", w.InstanceURL+"/navpage.do", nil)
	if err != nil {
		return nil, err
	}
	req.AddCookie(ck)
	page, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	defer page.Body.Close()
	b, _ := io.ReadAll(page.Body)
	m := gckPattern.FindSubmatch(b)
	if m == nil {
		return nil, fmt.Errorf("%s signed in, but /navpage.do carries no session token (HTTP %d)", user, page.StatusCode)
	}
	return &UISession{Cookie: ck, Token: string(m[1])}, nil
}

// AADToken posts a v1 token request for tenant and returns the token.
func (w *World) AADToken(tenant string, form url.Values) (string, error) {
	r, err := w.Do("POST", "https://login.microsoftonline.com/"+tenant+"/oauth2/token", nil, form)
	if err != nil {
		return "", err
	}
	tok, _ := r.JSON["access_token"].(string)
	if r.Status != 200 || tok == "" {
		return "", fmt.Errorf("Azure AD refused a token: %s", r)
	}
	return tok, nil
}
