package platform

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

func wantUnauthenticated(t *testing.T, r resp) {
	t.Helper()
	wantError(t, r, 401, "User Not Authenticated", "Required to provide Auth information")
	if r.header.Get("WWW-Authenticate") != `BASIC realm="Service-now"` || r.header.Get("X-Is-Logged-In") != "false" {
		t.Errorf("401 headers %v", r.header)
	}
}

func TestBasicAuthMatrix(t *testing.T) {
	e := newEnv(t)
	basic := func(user, pw string) resp {
		req, _ := http.NewRequest("GET", e.ts.URL+"/api/now/table/incident", nil)
		req.SetBasicAuth(user, pw)
		return e.do(t, req)
	}
	cases := []struct {
		name, user, pw string
		ok             bool
		log            string
	}{
		{"active user", "beth.anglin", "beth.anglin-pw", true, ""},
		{"user name is case-insensitive", "Beth.Anglin", "beth.anglin-pw", true, ""},
		{"web service access only may use the API", "m365.integration", "m365.integration-pw", true, ""},
		{"wrong password", "beth.anglin", "guess", false, "Wrong password for user beth.anglin"},
		{"unknown user", "nobody", "x", false, "User nobody not found"},
		{"locked out", "locked.user", "locked.user-pw", false, "User locked.user is locked out"},
		{"inactive", "former.user", "former.user-pw", false, "User former.user is inactive"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := basic(c.user, c.pw)
			if c.ok {
				if r.status != 200 {
					t.Fatalf("%d %s", r.status, r.raw)
				}
				return
			}
			wantUnauthenticated(t, r)
			if got := e.lastLog(t, "Authentication"); got != c.log {
				t.Errorf("system log %q, want %q", got, c.log)
			}
		})
	}
	wantUnauthenticated(t, e.call(t, "GET", "/api/now/table/incident", "", ""))
	wantUnauthenticated(t, e.call(t, "GET", "/api/now/table/incident", "bearer:not-a-token", ""))

	// Question 1 answered "no": basic credentials are refused everywhere.
	if err := e.inst.SetProperty(PropBasicAuthAllowed, "false"); err != nil {
		t.Fatal(err)
	}
	wantUnauthenticated(t, basic("admin", "admin-pw"))
	if got := e.lastLog(t, "Authentication"); !strings.Contains(got, "inbound basic authentication is disallowed") {
		t.Errorf("log %q", got)
	}
}

func password(user string) url.Values {
	return url.Values{"grant_type": {"password"}, "client_id": {"0c4f5a6b7d8e9f0a1b2c3d4e5f6a7b8c"}, "client_secret": {"inbound-secret"},
		"username": {user}, "password": {user + "-pw"}}
}

func wantTokenError(t *testing.T, e *env, r resp, reason string) {
	t.Helper()
	if r.status != 401 || r.raw != `{"error_description":"access_denied","error":"server_error"}` {
		t.Fatalf("token error: %d %s", r.status, r.raw)
	}
	if got := e.lastLog(t, "OAuth"); !strings.Contains(got, reason) {
		t.Errorf("system log %q, want it to say %q", got, reason)
	}
}

func TestOAuthPasswordAndRefresh(t *testing.T) {
	e := newEnv(t)
	r := e.form(t, "/oauth_token.do", password("m365.integration"))
	if r.status != 200 {
		t.Fatalf("%d %s", r.status, r.raw)
	}
	access, refresh := r.body["access_token"].(string), r.body["refresh_token"].(string)
	if len(access) != 86 || len(refresh) != 86 || r.body["scope"] != "useraccount" || r.body["token_type"] != "Bearer" || r.body["expires_in"] != float64(1799) {
		t.Fatalf("token body %s", r.raw)
	}
	if got := e.call(t, "GET", "/api/now/table/incident", "bearer:"+access, ""); got.status != 200 || len(got.result()) != 3 {
		t.Fatalf("bearer call: %d", got.status)
	}
	// A second password grant inside the lifetime returns the same token.
	e.clock.Advance(10 * time.Minute)
	r = e.form(t, "/oauth_token.do", password("m365.integration"))
	if r.body["access_token"] != access || r.body["expires_in"] != float64(1199) {
		t.Fatalf("reuse: %s", r.raw)
	}
	// After the access lifetime the token is refused, and refresh works.
	e.clock.Advance(21 * time.Minute)
	wantUnauthenticated(t, e.call(t, "GET", "/api/now/table/incident", "bearer:"+access, ""))
	r = e.form(t, "/oauth_token.do", url.Values{"grant_type": {"refresh_token"}, "client_id": {"0c4f5a6b7d8e9f0a1b2c3d4e5f6a7b8c"},
		"client_secret": {"inbound-secret"}, "refresh_token": {refresh}})
	if r.status != 200 || r.body["refresh_token"] != refresh || r.body["access_token"] == access {
		t.Fatalf("refresh: %s", r.raw)
	}
	if got := e.call(t, "GET", "/api/now/table/incident", "bearer:"+r.body["access_token"].(string), ""); got.status != 200 {
		t.Fatalf("refreshed token: %d", got.status)
	}
	// A changed password revokes the user's tokens.
	if got := e.call(t, "PATCH", "/api/now/table/sys_user/"+e.ids["m365.integration"], "admin", `{"user_password":"rotated"}`); got.status != 200 {
		t.Fatal(got.raw)
	}
	wantTokenError(t, e, e.form(t, "/oauth_token.do", url.Values{"grant_type": {"refresh_token"}, "client_id": {"0c4f5a6b7d8e9f0a1b2c3d4e5f6a7b8c"},
		"client_secret": {"inbound-secret"}, "refresh_token": {refresh}}), "invalid_grant: unknown refresh token")
	// Refresh tokens expire too.
	r = e.form(t, "/oauth_token.do", url.Values{"grant_type": {"password"}, "client_id": {"0c4f5a6b7d8e9f0a1b2c3d4e5f6a7b8c"},
		"client_secret": {"inbound-secret"}, "username": {"m365.integration"}, "password": {"rotated"}})
	refresh = r.body["refresh_token"].(string)
	e.clock.Advance(101 * 24 * time.Hour)
	wantTokenError(t, e, e.form(t, "/oauth_token.do", url.Values{"grant_type": {"refresh_token"}, "client_id": {"0c4f5a6b7d8e9f0a1b2c3d4e5f6a7b8c"},
		"client_secret": {"inbound-secret"}, "refresh_token": {refresh}}), "the refresh token is expired")
}

func TestOAuthErrors(t *testing.T) {
	e := newEnv(t)
	with := func(v url.Values, k, val string) url.Values { v.Set(k, val); return v }
	cases := []struct {
		name   string
		form   url.Values
		reason string
	}{
		{"wrong client secret", with(password("beth.anglin"), "client_secret", "x"), "invalid_client: wrong client secret for OAuth client m365_inbound"},
		{"unknown client", with(password("beth.anglin"), "client_id", "nope"), "invalid_client: no OAuth client with client_id nope"},
		{"wrong user password", with(password("beth.anglin"), "password", "x"), "invalid_grant: Wrong password for user beth.anglin"},
		{"locked out user", password("locked.user"), "invalid_grant: User locked.user is locked out"},
		{"unknown refresh token", url.Values{"grant_type": {"refresh_token"}, "client_id": {"0c4f5a6b7d8e9f0a1b2c3d4e5f6a7b8c"}, "client_secret": {"inbound-secret"}, "refresh_token": {"x"}}, "unknown refresh token"},
		{"client credentials disabled", url.Values{"grant_type": {"client_credentials"}, "client_id": {"0c4f5a6b7d8e9f0a1b2c3d4e5f6a7b8c"}, "client_secret": {"inbound-secret"}}, "client_credentials is disabled"},
		{"unsupported grant", with(password("beth.anglin"), "grant_type", "device_code"), "unsupported_grant_type: device_code"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { wantTokenError(t, e, e.form(t, "/oauth_token.do", c.form), c.reason) })
	}
	// JSON bodies are not accepted.
	req, _ := http.NewRequest("POST", e.ts.URL+"/oauth_token.do", strings.NewReader(`{"grant_type":"password"}`))
	req.Header.Set("Content-Type", "application/json")
	wantTokenError(t, e, e.do(t, req), "must be application/x-www-form-urlencoded")
	// The guide's Question 1 answered "no" refuses the password grant.
	if err := e.inst.SetProperty(PropBasicAuthAllowed, "false"); err != nil {
		t.Fatal(err)
	}
	wantTokenError(t, e, e.form(t, "/oauth_token.do", password("m365.integration")), "password grant is refused because inbound basic authentication is disallowed")
}

func TestOAuthClientCredentials(t *testing.T) {
	e := newEnv(t)
	if err := e.inst.SetProperty(PropClientCredentials, "true"); err != nil {
		t.Fatal(err)
	}
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {"0c4f5a6b7d8e9f0a1b2c3d4e5f6a7b8c"}, "client_secret": {"inbound-secret"}}
	wantTokenError(t, e, e.form(t, "/oauth_token.do", form), "has no OAuth Application User")
	ent, _ := e.inst.First("oauth_entity", "name=m365_inbound")
	if _, err := e.inst.Update("oauth_entity", ent["sys_id"], map[string]string{"user": e.ids["beth.anglin"], "access_token_lifespan": "600"}); err != nil {
		t.Fatal(err)
	}
	r := e.form(t, "/oauth_token.do", form)
	if r.status != 200 || r.body["refresh_token"] != nil || r.body["expires_in"] != float64(599) {
		t.Fatalf("client credentials: %s", r.raw)
	}
	if got := e.call(t, "GET", "/api/now/table/incident", "bearer:"+r.body["access_token"].(string), ""); got.status != 200 || len(got.result()) != 3 {
		t.Fatalf("runs as the application user: %d %s", got.status, got.raw)
	}
}

func TestInteractiveLogin(t *testing.T) {
	e := newEnv(t)
	login := func(user, pw string) (*http.Cookie, resp) {
		req, _ := http.NewRequest("POST", e.ts.URL+"/login.do", strings.NewReader(url.Values{"user_name": {user}, "user_password": {pw}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		c := *e.ts.Client()
		c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
		res, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		for _, ck := range res.Cookies() {
			if ck.Name == "JSESSIONID" {
				return ck, resp{status: res.StatusCode, header: res.Header}
			}
		}
		return nil, resp{status: res.StatusCode, header: res.Header}
	}
	ck, r := login("admin", "admin-pw")
	if ck == nil || r.status != 302 || r.header.Get("Location") != "/navpage.do" {
		t.Fatalf("admin login: %d %v", r.status, r.header)
	}
	if got := e.call(t, "GET", "/api/now/table/incident", "cookie:"+ck.Value, ""); got.status != 200 {
		t.Fatalf("session call: %d", got.status)
	}
	// Basic auth being disallowed does not close the UI.
	if err := e.inst.SetProperty(PropBasicAuthAllowed, "false"); err != nil {
		t.Fatal(err)
	}
	if ck2, _ := login("beth.anglin", "beth.anglin-pw"); ck2 == nil {
		t.Fatal("UI login refused while only basic auth is disallowed")
	}
	// A web-service-access-only user cannot open an interactive session.
	if ck, r := login("m365.integration", "m365.integration-pw"); ck != nil || r.status != 200 {
		t.Fatalf("web service user logged in: %d", r.status)
	}
	if got := e.lastLog(t, "Authentication"); got != "Interactive login refused for m365.integration: the user is Web service access only" {
		t.Errorf("log %q", got)
	}
	if ck, _ := login("admin", "wrong"); ck != nil {
		t.Fatal("wrong password logged in")
	}
	wantUnauthenticated(t, e.call(t, "GET", "/api/now/table/incident", "cookie:forged", ""))
}
