package fakesnow

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// Regression for issue 11 item 10: export → import dropped the instance's
// OAuth tokens and sessions, so a connector's refresh token died across a
// save and restore although ServiceNow keeps tokens in a table.
func TestStateKeepsTokensAndSessions(t *testing.T) {
	s, ts := newServer(t, testFixture)
	res, err := http.PostForm(ts.URL+"/oauth_token.do", url.Values{"grant_type": {"password"}, "client_id": {"0c4f5a6b7d8e9f0a1b2c3d4e5f6a7b8c"},
		"client_secret": {"i"}, "username": {"desk"}, "password": {"d"}})
	if err != nil {
		t.Fatal(err)
	}
	var tok struct {
		Access  string `json:"access_token"`
		Refresh string `json:"refresh_token"`
	}
	_ = json.NewDecoder(res.Body).Decode(&tok)
	res.Body.Close()
	if tok.Access == "" || tok.Refresh == "" {
		t.Fatalf("password grant: %s", res.Status)
	}
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err = noRedirect.PostForm(ts.URL+"/login.do", url.Values{"user_name": {"admin"}, "user_password": {"a"}})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	var session *http.Cookie
	for _, c := range res.Cookies() {
		if c.Name == "JSESSIONID" {
			session = c
		}
	}
	if session == nil {
		t.Fatalf("login gave no session: %s", res.Status)
	}
	// The session's REST calls send its g_ck as X-UserToken (KB0565021).
	page, _ := http.NewRequest("GET", ts.URL+"/navpage.do", nil)
	page.AddCookie(session)
	res, err = http.DefaultClient.Do(page)
	if err != nil {
		t.Fatal(err)
	}
	html, _ := io.ReadAll(res.Body)
	res.Body.Close()
	gck := regexp.MustCompile(`g_ck = '([^']+)'`).FindSubmatch(html)
	if gck == nil {
		t.Fatalf("no g_ck in %s", html)
	}

	state, err := s.ExportState()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(state), "oauthCredentials:") {
		t.Fatalf("the export has no credentials:\n%s", state)
	}
	other, ts2 := newServer(t, "instance: dev777\n")
	if err := other.ImportState(state); err != nil {
		t.Fatalf("import: %v", err)
	}
	if again, _ := other.ExportState(); string(again) != string(state) {
		t.Fatalf("export → import → export changed the state:\n%s\n---\n%s", state, again)
	}
	// The access token, the refresh token and the session all still work.
	req, _ := http.NewRequest("GET", ts2.URL+"/api/now/table/incident?sysparm_limit=1", nil)
	req.Header.Set("Authorization", "Bearer "+tok.Access)
	if res, err := http.DefaultClient.Do(req); err != nil || res.StatusCode != 200 {
		t.Fatalf("access token after restore: %v %v", err, res.Status)
	} else {
		res.Body.Close()
	}
	res, err = http.PostForm(ts2.URL+"/oauth_token.do", url.Values{"grant_type": {"refresh_token"}, "client_id": {"0c4f5a6b7d8e9f0a1b2c3d4e5f6a7b8c"},
		"client_secret": {"i"}, "refresh_token": {tok.Refresh}})
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("refresh grant after restore: %v %v", err, res.Status)
	}
	res.Body.Close()
	req, _ = http.NewRequest("GET", ts2.URL+"/api/now/table/incident?sysparm_limit=1", nil)
	req.AddCookie(session)
	req.Header.Set("X-UserToken", string(gck[1]))
	if res, err := http.DefaultClient.Do(req); err != nil || res.StatusCode != 200 {
		t.Fatalf("session after restore: %v %v", err, res.Status)
	} else {
		res.Body.Close()
	}
}

func TestStateRefusesBadCredentials(t *testing.T) {
	s, _ := newServer(t, testFixture)
	for name, doc := range map[string]string{
		"unknown user":   "instance: dev777\noauthCredentials: [{token: abc, kind: session, user: nobody}]\n",
		"unknown kind":   "instance: dev777\noauthCredentials: [{token: abc, kind: cookie, user: nobody}]\n",
		"empty token":    "instance: dev777\noauthCredentials: [{token: '', kind: session, user: x}]\n",
		"unknown field":  "instance: dev777\noauthCredentials: [{token: abc, kind: session, user: x, colour: red}]\n",
		"token, no exp.": "instance: dev777\noauthCredentials: [{token: abc, kind: access, user: x, entity: y}]\n",
	} {
		if err := s.ImportState([]byte(doc)); err == nil {
			t.Errorf("%s: imported", name)
		}
	}
}
