package platform

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// What happens after a token or a session exists, token kinds mixed up,
// and anything with more than one user, client, scope or privilege row
// (issue 18). Sources are reference/servicenow.md sections and the
// ServiceNow documents they cite.

const inboundClient = "0c4f5a6b7d8e9f0a1b2c3d4e5f6a7b8c"

func grantForm(grant string, kv ...string) url.Values {
	v := url.Values{"grant_type": {grant}, "client_id": {inboundClient}, "client_secret": {"inbound-secret"}}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Set(kv[i], kv[i+1])
	}
	return v
}

// token runs a grant that must succeed and returns its body.
func (e *env) token(t *testing.T, v url.Values) map[string]any {
	t.Helper()
	r := e.form(t, "/oauth_token.do", v)
	if r.status != 200 {
		t.Fatalf("%s grant: %d %s", v.Get("grant_type"), r.status, r.raw)
	}
	return r.body
}

// sessionFor signs user in through the UI form and returns the session id.
func (e *env) sessionFor(t *testing.T, user string) string {
	t.Helper()
	req, _ := http.NewRequest("POST", e.ts.URL+"/login.do", strings.NewReader(url.Values{"user_name": {user}, "user_password": {user + "-pw"}}.Encode()))
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
			return ck.Value
		}
	}
	t.Fatalf("%s got no session: %d", user, res.StatusCode)
	return ""
}

func (e *env) setUser(t *testing.T, user string, values string) {
	t.Helper()
	if r := e.call(t, "PATCH", "/api/now/table/sys_user/"+e.ids[user], "admin", values); r.status != 200 {
		t.Fatalf("update %s: %d %s", user, r.status, r.raw)
	}
}

// TestTokensAreOnePerUserAndClient: a repeated grant inside the lifetime
// returns the current token (SND-OAUTHREQ), and the platform keeps issued
// tokens per OAuth client and user (oauth_credential rows name both,
// SND-TOKENS). So two users of one client, and one user of two clients,
// each hold their own token, and each token acts as its own user.
func TestTokensAreOnePerUserAndClient(t *testing.T) {
	e := newEnv(t)
	if _, err := e.inst.Insert("oauth_entity", map[string]string{"name": "second_client", "type": "client",
		"client_id": "9f8e7d6c5b4a39281706f5e4d3c2b1a0", "client_secret": "second-secret"}); err != nil {
		t.Fatal(err)
	}
	beth := e.token(t, grantForm("password", "username", "beth.anglin", "password", "beth.anglin-pw"))
	integ := e.token(t, grantForm("password", "username", "m365.integration", "password", "m365.integration-pw"))
	other := e.token(t, grantForm("password", "client_id", "9f8e7d6c5b4a39281706f5e4d3c2b1a0", "client_secret", "second-secret",
		"username", "beth.anglin", "password", "beth.anglin-pw"))
	if beth["access_token"] == integ["access_token"] || beth["refresh_token"] == integ["refresh_token"] {
		t.Fatal("two users of one client got the same token")
	}
	if beth["access_token"] == other["access_token"] || beth["refresh_token"] == other["refresh_token"] {
		t.Fatal("one user of two clients got the same token")
	}
	// Each token is its user: only beth's may read her preferences row.
	for tok, want := range map[string]string{beth["access_token"].(string): "beth.anglin", integ["access_token"].(string): "m365.integration", other["access_token"].(string): "beth.anglin"} {
		c, err := e.inst.Authenticate(bearer(e, tok))
		if err != nil || c.UserName != want || c.Via != "oauth" {
			t.Fatalf("token of %s authenticates as %+v (%v)", want, c, err)
		}
	}
	first, _ := e.inst.First("oauth_entity", "name=m365_inbound")
	second, _ := e.inst.First("oauth_entity", "name=second_client")
	if c, _ := e.inst.Authenticate(bearer(e, beth["access_token"].(string))); c.Entity != first["sys_id"] {
		t.Errorf("entity %q, want the issuing client %q", c.Entity, first["sys_id"])
	}
	if c, _ := e.inst.Authenticate(bearer(e, other["access_token"].(string))); c.Entity != second["sys_id"] {
		t.Errorf("entity %q, want the issuing client %q", c.Entity, second["sys_id"])
	}
	// The repeat of each grant returns each one's own current token.
	if again := e.token(t, grantForm("password", "username", "beth.anglin", "password", "beth.anglin-pw")); again["access_token"] != beth["access_token"] {
		t.Fatal("beth's repeated grant did not return her current token")
	}
	// A client-credentials token of the same user and client is not the
	// password grant's token: it has no refresh token.
	if err := e.inst.SetProperty(PropClientCredentials, "true"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.inst.Update("oauth_entity", first["sys_id"], map[string]string{"user": e.ids["beth.anglin"]}); err != nil {
		t.Fatal(err)
	}
	cc := e.token(t, grantForm("client_credentials"))
	if cc["access_token"] == beth["access_token"] || cc["refresh_token"] != nil {
		t.Fatalf("client credentials reused the password grant's token: %v", cc)
	}
}

func bearer(e *env, tok string) *http.Request {
	req, _ := http.NewRequest("GET", e.ts.URL+"/api/now/table/incident", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	return req
}

// TestRefreshTokenIsNotABearerToken: RFC 6749 §1.5 — refresh tokens "are
// intended for use only with authorization servers and are never sent to
// resource servers". ServiceNow's refresh token lives 100 days (SND-EXTCLIENT);
// accepted as a bearer token it would outlive every access token.
func TestRefreshTokenIsNotABearerToken(t *testing.T) {
	e := newEnv(t)
	tok := e.token(t, grantForm("password", "username", "beth.anglin", "password", "beth.anglin-pw"))
	wantUnauthenticated(t, e.call(t, "GET", "/api/now/table/incident", "bearer:"+tok["refresh_token"].(string), ""))
	if got := e.lastLog(t, "OAuth"); got != "OAuth access token is expired or is not an access token" {
		t.Errorf("system log %q", got)
	}
	if r := e.call(t, "GET", "/api/now/table/incident", "bearer:"+tok["access_token"].(string), ""); r.status != 200 {
		t.Fatalf("the access token itself: %d", r.status)
	}
}

// TestSignedInUserLockedOrDeactivated: sys_user "locked_out" locks the user
// out and kills sessions; an inactive user cannot authenticate; the OAuth
// documents say the instance checks that the user is active and not locked
// out (SND-USER, SND-OAUTHREQ, reference §4.1). A token issued, or a session
// opened, before the change stops working at once.
func TestSignedInUserLockedOrDeactivated(t *testing.T) {
	for _, c := range []struct{ name, change string }{
		{"locked out", `{"locked_out":"true"}`},
		{"deactivated", `{"active":"false"}`},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t)
			tok := e.token(t, grantForm("password", "username", "beth.anglin", "password", "beth.anglin-pw"))
			sid := e.sessionFor(t, "beth.anglin")
			for _, auth := range []string{"bearer:" + tok["access_token"].(string), "cookie:" + sid} {
				if r := e.call(t, "GET", "/api/now/table/incident", auth, ""); r.status != 200 {
					t.Fatalf("%s before the change: %d", auth[:6], r.status)
				}
			}
			e.setUser(t, "beth.anglin", c.change)
			for _, auth := range []string{"bearer:" + tok["access_token"].(string), "cookie:" + sid} {
				wantUnauthenticated(t, e.call(t, "GET", "/api/now/table/incident", auth, ""))
				if got := e.lastLog(t, "Authentication"); got != "User beth.anglin is inactive or locked out" {
					t.Errorf("%s: system log %q", auth[:6], got)
				}
			}
			// The refresh grant refuses the user too (RFC 6749 §6: the
			// server validates the grant, and the user is part of it).
			wantTokenError(t, e, e.form(t, "/oauth_token.do", grantForm("refresh_token", "refresh_token", tok["refresh_token"].(string))),
				"invalid_grant: User beth.anglin is inactive or locked out")
		})
	}
}

// TestRefreshGrantChecks: RFC 6749 §6 — the authorization server "MUST ...
// validate the refresh token" and "ensure that the refresh token was issued
// to the authenticated client". ServiceNow answers every failure with the
// generic 401 (reference §4.2); the reason is in the system log.
func TestRefreshGrantChecks(t *testing.T) {
	e := newEnv(t)
	if _, err := e.inst.Insert("oauth_entity", map[string]string{"name": "second_client", "type": "client",
		"client_id": "9f8e7d6c5b4a39281706f5e4d3c2b1a0", "client_secret": "second-secret"}); err != nil {
		t.Fatal(err)
	}
	tok := e.token(t, grantForm("password", "username", "beth.anglin", "password", "beth.anglin-pw"))
	refresh, access := tok["refresh_token"].(string), tok["access_token"].(string)
	wantTokenError(t, e, e.form(t, "/oauth_token.do", grantForm("refresh_token", "refresh_token", access)),
		"invalid_grant: unknown refresh token")
	wantTokenError(t, e, e.form(t, "/oauth_token.do", grantForm("refresh_token", "refresh_token", refresh,
		"client_id", "9f8e7d6c5b4a39281706f5e4d3c2b1a0", "client_secret", "second-secret")),
		"invalid_grant: the refresh token belongs to another OAuth client")
	wantTokenError(t, e, e.form(t, "/oauth_token.do", grantForm("refresh_token", "refresh_token", refresh, "client_secret", "guess")),
		"invalid_client: wrong client secret for OAuth client m365_inbound")
	// The owner's refresh works, and its new access token is beth's, from
	// the same client.
	r := e.token(t, grantForm("refresh_token", "refresh_token", refresh))
	c, err := e.inst.Authenticate(bearer(e, r["access_token"].(string)))
	first, _ := e.inst.First("oauth_entity", "name=m365_inbound")
	if err != nil || c.UserName != "beth.anglin" || c.Entity != first["sys_id"] {
		t.Fatalf("refreshed token: %+v %v", c, err)
	}
}

// TestClientCredentialsApplicationUserState: client credentials act as the
// OAuth Application User (SND-CC); that user must be able to sign in, as
// any user must (active, not locked out).
func TestClientCredentialsApplicationUserState(t *testing.T) {
	for _, c := range []struct{ name, change string }{
		{"inactive", `{"active":"false"}`},
		{"locked out", `{"locked_out":"true"}`},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t)
			if err := e.inst.SetProperty(PropClientCredentials, "true"); err != nil {
				t.Fatal(err)
			}
			ent, _ := e.inst.First("oauth_entity", "name=m365_inbound")
			if _, err := e.inst.Update("oauth_entity", ent["sys_id"], map[string]string{"user": e.ids["m365.integration"]}); err != nil {
				t.Fatal(err)
			}
			e.token(t, grantForm("client_credentials"))
			e.setUser(t, "m365.integration", c.change)
			wantTokenError(t, e, e.form(t, "/oauth_token.do", grantForm("client_credentials")),
				"invalid_grant: User m365.integration is inactive or locked out")
		})
	}
}

// TestEmptyCredentialsNeverMatch: an empty client secret or an empty user
// password is no credential. A client whose secret is blank, or a user
// with no password (SSO-only accounts have none), cannot be signed in to by
// sending an empty one.
func TestEmptyCredentialsNeverMatch(t *testing.T) {
	e := newEnv(t)
	if _, err := e.inst.Insert("oauth_entity", map[string]string{"name": "blank_secret", "type": "client",
		"client_id": "aaaabbbbccccddddeeeeffff00001111"}); err != nil {
		t.Fatal(err)
	}
	wantTokenError(t, e, e.form(t, "/oauth_token.do", grantForm("password", "client_id", "aaaabbbbccccddddeeeeffff00001111", "client_secret", "",
		"username", "beth.anglin", "password", "beth.anglin-pw")), "invalid_client: wrong client secret for OAuth client blank_secret")
	if _, err := e.inst.Insert("sys_user", map[string]string{"user_name": "sso.only", "first_name": "Sso", "last_name": "Only"}); err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("GET", e.ts.URL+"/api/now/table/incident", nil)
	req.SetBasicAuth("sso.only", "")
	wantUnauthenticated(t, e.do(t, req))
	if got := e.lastLog(t, "Authentication"); got != "Wrong password for user sso.only" {
		t.Errorf("system log %q", got)
	}
	wantTokenError(t, e, e.form(t, "/oauth_token.do", grantForm("password", "username", "sso.only", "password", "")),
		"invalid_grant: Wrong password for user sso.only")
}

// TestOIDCProviderEntityIsNotAnOAuthClient: an External OIDC Provider
// entity validates tokens another party issued (SND-OIDC); only an "OAuth
// API endpoint for external clients" (type client) may obtain tokens at
// /oauth_token.do (SND-EXTCLIENT), even with the provider entity's id and
// secret.
func TestOIDCProviderEntityIsNotAnOAuthClient(t *testing.T) {
	e := newEnv(t)
	if _, err := e.inst.Insert("oauth_entity", map[string]string{"name": "contoso_application_inbound_api", "type": "oidc_provider",
		"client_id": "3a5c7e9b-1d3f-4a5c-8e7a-9c1e3a5c7e92", "client_secret": "rest-api-secret"}); err != nil {
		t.Fatal(err)
	}
	wantTokenError(t, e, e.form(t, "/oauth_token.do", grantForm("password", "client_id", "3a5c7e9b-1d3f-4a5c-8e7a-9c1e3a5c7e92", "client_secret", "rest-api-secret",
		"username", "beth.anglin", "password", "beth.anglin-pw")), "invalid_client: no OAuth client with client_id 3a5c7e9b-1d3f-4a5c-8e7a-9c1e3a5c7e92")
	// An inactive OAuth client is refused too.
	ent, _ := e.inst.First("oauth_entity", "name=m365_inbound")
	if _, err := e.inst.Update("oauth_entity", ent["sys_id"], map[string]string{"active": "false"}); err != nil {
		t.Fatal(err)
	}
	wantTokenError(t, e, e.form(t, "/oauth_token.do", grantForm("password", "username", "beth.anglin", "password", "beth.anglin-pw")),
		"invalid_client: OAuth client m365_inbound is inactive")
}

// TestCrossScopePrivilegeRows: a cross-scope privilege (sys_scope_privilege,
// reference §5.6/§6.2) names its source scope, target scope, target table,
// type and operation, and only a row matching all five with status Allowed
// lets an enforcing app through. Table application access is checked first
// and per operation: "Can delete" must be ticked for a delete whatever
// privilege exists.
func TestCrossScopePrivilegeRows(t *testing.T) {
	const (
		layer1 = "%s operation against 'oauth_entity' from scope 'x_acme_app' has been refused due to the table's cross-scope access policy"
		layer2 = "%s operation on table 'oauth_entity' from scope 'Acme App' was denied. The application 'Acme App' must declare a cross scope access privilege. Please contact the application admin to update their access requests."
	)
	type priv map[string]string
	cases := []struct {
		name    string
		access  map[string]string
		priv    priv // overrides of an allowed read privilege of x_acme_app on oauth_entity
		op      Op
		refusal string
	}{
		{"matching privilege", nil, priv{}, OpRead, ""},
		{"another app's privilege", nil, priv{"source_scope": "other"}, OpRead, layer2},
		{"privilege for another target scope", nil, priv{"target_scope": "other"}, OpRead, layer2},
		{"privilege for another table", nil, priv{"target_name": "oauth_entity_profile"}, OpRead, layer2},
		{"privilege of another type", nil, priv{"target_type": "sys_script_include"}, OpRead, layer2},
		{"privilege for another operation", nil, priv{"operation": "write"}, OpRead, layer2},
		{"delete privilege without Can delete", nil, priv{"operation": "delete"}, OpDelete, layer1},
		{"delete privilege with Can delete", map[string]string{"delete_access": "true"}, priv{"operation": "delete"}, OpDelete, ""},
		{"write privilege without Can update", nil, priv{"operation": "write"}, OpWrite, layer1},
		{"write privilege with Can update", map[string]string{"update_access": "true"}, priv{"operation": "write"}, OpWrite, ""},
		{"create privilege with Can create", map[string]string{"create_access": "true"}, priv{"operation": "create"}, OpCreate, ""},
		{"Can create does not open deletes", map[string]string{"create_access": "true", "update_access": "true"}, priv{"operation": "delete"}, OpDelete, layer1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t)
			scopeID, err := e.inst.CreateScope("x_acme_app", "Acme App", "1.0.0", "Acme", "enforcing", "")
			if err != nil {
				t.Fatal(err)
			}
			otherID, err := e.inst.CreateScope("x_other_app", "Other App", "1.0.0", "Other", "enforcing", "")
			if err != nil {
				t.Fatal(err)
			}
			obj, _ := e.inst.First("sys_db_object", "name=oauth_entity")
			if _, err := e.inst.Update("sys_db_object", obj["sys_id"], c.access); err != nil {
				t.Fatal(err)
			}
			row := map[string]string{"source_scope": scopeID, "target_scope": GlobalScope, "target_name": "oauth_entity",
				"target_type": "sys_db_object", "operation": "read", "status": "allowed"}
			for k, v := range c.priv {
				if v == "other" {
					v = otherID
				}
				row[k] = v
			}
			if _, err := e.inst.Insert("sys_scope_privilege", row); err != nil {
				t.Fatal(err)
			}
			admin, _ := e.inst.Caller("admin")
			app, _ := e.inst.App("x_acme_app", admin)
			ent, _ := e.inst.First("oauth_entity", "name=m365_inbound")
			switch c.op {
			case OpRead:
				_, err = app.Query("oauth_entity", "type=client")
			case OpCreate:
				_, err = app.Insert("oauth_entity", map[string]string{"name": "new", "type": "client"}, false)
			case OpWrite:
				_, err = app.Update("oauth_entity", ent["sys_id"], map[string]string{"comments": "x"}, false)
			case OpDelete:
				err = app.Delete("oauth_entity", ent["sys_id"], false)
			}
			if c.refusal == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			want := strings.Replace(c.refusal, "%s", opWord(c.op), 1)
			if err == nil || err.Error() != want {
				t.Fatalf("error %v\nwant %s", err, want)
			}
		})
	}
}

// TestInactiveGrantsAndACLs: a role grant whose state is inactive grants
// nothing, and an inactive ACL (sys_security_acl.active=false) takes no part
// in the decision — ServiceNow evaluates active ACLs only (SND-SRAPI ACL
// pages; reference §5). An inactive role-less ACL must not admit everyone.
func TestInactiveGrantsAndACLs(t *testing.T) {
	e := newEnv(t)
	if r := e.call(t, "GET", "/api/now/table/incident", "beth.anglin", ""); len(r.result()) != 3 {
		t.Fatalf("itil reads incidents: %s", r.raw)
	}
	role, _ := e.inst.First("sys_user_role", "name=itil")
	grant, _ := e.inst.First("sys_user_has_role", "user="+e.ids["beth.anglin"]+"^role="+role["sys_id"])
	if r := e.call(t, "PATCH", "/api/now/table/sys_user_has_role/"+grant["sys_id"], "admin", `{"state":"inactive"}`); r.status != 200 {
		t.Fatalf("%d %s", r.status, r.raw)
	}
	if r := e.call(t, "GET", "/api/now/table/incident", "beth.anglin", ""); len(r.result()) != 0 {
		t.Fatalf("an inactive grant still grants itil: %s", r.raw)
	}
	if c, _ := e.inst.Caller("beth.anglin"); c.HasRole("itil") {
		t.Fatal("HasRole(itil) after the grant became inactive")
	}

	// abel.tuter has no role; an inactive ACL without roles on incident read
	// would admit every signed-in user if it counted.
	if r := e.call(t, "GET", "/api/now/table/incident", "abel.tuter", ""); len(r.result()) != 0 {
		t.Fatalf("abel reads incidents before any change: %s", r.raw)
	}
	if r := e.call(t, "POST", "/api/now/table/sys_security_acl", "admin", `{"name":"incident","operation":"read","type":"record","active":"false"}`); r.status != 201 {
		t.Fatalf("%d %s", r.status, r.raw)
	}
	if r := e.call(t, "GET", "/api/now/table/incident", "abel.tuter", ""); len(r.result()) != 0 {
		t.Fatalf("an inactive role-less ACL admits abel: %s", r.raw)
	}
	// Deactivating the incident read ACL that names itil leaves david's
	// incident_manager (which contains itil) without a way in.
	acl, _ := e.inst.First("sys_security_acl", "name=incident^operation=read^active=true")
	if r := e.call(t, "PATCH", "/api/now/table/sys_security_acl/"+acl["sys_id"], "admin", `{"active":"false"}`); r.status != 200 {
		t.Fatalf("%d %s", r.status, r.raw)
	}
	if r := e.call(t, "GET", "/api/now/table/incident", "david.miller", ""); len(r.result()) != 0 {
		t.Fatalf("an inactive ACL still admits its roles: %s", r.raw)
	}
	if r := e.call(t, "GET", "/api/now/table/incident", "admin", ""); len(r.result()) != 3 {
		t.Fatalf("admin always passes: %s", r.raw)
	}
}

// TestPasswordChangeEndsThatUsersSessionsOnly: a reset password ends the
// user's sessions and OAuth tokens (modelled, see tableapi.go); nobody
// else's.
func TestPasswordChangeEndsThatUsersSessionsOnly(t *testing.T) {
	e := newEnv(t)
	bethSession, adminSession := e.sessionFor(t, "beth.anglin"), e.sessionFor(t, "admin")
	bethToken := e.token(t, grantForm("password", "username", "beth.anglin", "password", "beth.anglin-pw"))["access_token"].(string)
	otherToken := e.token(t, grantForm("password", "username", "m365.integration", "password", "m365.integration-pw"))["access_token"].(string)
	e.setUser(t, "beth.anglin", `{"user_password":"rotated"}`)
	wantUnauthenticated(t, e.call(t, "GET", "/api/now/table/incident", "cookie:"+bethSession, ""))
	if got := e.lastLog(t, "Authentication"); got != "Session cookie does not name a live session" {
		t.Errorf("system log %q", got)
	}
	wantUnauthenticated(t, e.call(t, "GET", "/api/now/table/incident", "bearer:"+bethToken, ""))
	for _, auth := range []string{"cookie:" + adminSession, "bearer:" + otherToken} {
		if r := e.call(t, "GET", "/api/now/table/incident", auth, ""); r.status != 200 {
			t.Fatalf("%s of another user ended: %d", auth[:6], r.status)
		}
	}
}

// TestDeletedUsersTokenRefused: a token outlives nothing: once its user is
// gone the token authenticates no one.
func TestDeletedUsersTokenRefused(t *testing.T) {
	e := newEnv(t)
	tok := e.token(t, grantForm("password", "username", "beth.anglin", "password", "beth.anglin-pw"))["access_token"].(string)
	if err := e.inst.Delete("sys_user", e.ids["beth.anglin"]); err != nil {
		t.Fatal(err)
	}
	wantUnauthenticated(t, e.call(t, "GET", "/api/now/table/incident", "bearer:"+tok, ""))
	if got := e.lastLog(t, "Authentication"); got != "The session's or token's user no longer exists" {
		t.Errorf("system log %q", got)
	}
}

// TestClientAuthenticationSchemes: RFC 6749 §2.3.1 — the authorization
// server MUST support HTTP Basic for client credentials and MAY accept them
// in the body. Either way the same checks apply. Another Authorization
// scheme at the API is refused and logged as such.
func TestClientAuthenticationSchemes(t *testing.T) {
	e := newEnv(t)
	post := func(user, pass string, v url.Values) resp {
		req, _ := http.NewRequest("POST", e.ts.URL+"/oauth_token.do", strings.NewReader(v.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(user, pass)
		return e.do(t, req)
	}
	form := url.Values{"grant_type": {"password"}, "username": {"beth.anglin"}, "password": {"beth.anglin-pw"}}
	if r := post(inboundClient, "inbound-secret", form); r.status != 200 || r.body["access_token"] == nil {
		t.Fatalf("client_secret_basic: %d %s", r.status, r.raw)
	}
	wantTokenError(t, e, post(inboundClient, "guess", form), "invalid_client: wrong client secret for OAuth client m365_inbound")
	wantTokenError(t, e, e.form(t, "/oauth_token.do", url.Values{"grant_type": {"password"}, "username": {"beth.anglin"}, "password": {"beth.anglin-pw"}}),
		"invalid_client: client_id is missing")
	req, _ := http.NewRequest("GET", e.ts.URL+"/oauth_token.do", nil)
	wantTokenError(t, e, e.do(t, req), "invalid_request: the token endpoint accepts POST only")

	req, _ = http.NewRequest("GET", e.ts.URL+"/api/now/table/incident", nil)
	req.Header.Set("Authorization", "Digest username=\"beth.anglin\"")
	wantUnauthenticated(t, e.do(t, req))
	if got := e.lastLog(t, "Authentication"); got != "Unsupported Authorization scheme" {
		t.Errorf("system log %q", got)
	}
	req, _ = http.NewRequest("GET", e.ts.URL+"/api/now/table/incident", nil)
	req.Header.Set("Authorization", "Basic !!!")
	wantUnauthenticated(t, e.do(t, req))
	if got := e.lastLog(t, "Authentication"); got != "Basic authentication header is malformed" {
		t.Errorf("system log %q", got)
	}
}

// TestLifespansAndSkewFallBackToDefaults: the entity's Access Token
// Lifespan, Refresh Token Lifespan and Clock Skew are positive numbers of
// seconds with defaults 1800, 8,640,000 and 300 (SND-EXTCLIENT, SND-OIDC).
// A blank, non-numeric, zero or negative value is taken as the default
// (the fake's reading; a zero lifespan would issue dead tokens).
func TestLifespansAndSkewFallBackToDefaults(t *testing.T) {
	cases := []struct {
		in   string
		want int
	}{
		{"", 1800}, {"soon", 1800}, {"0", 1800}, {"-5", 1800}, {"1", 1}, {"600", 600},
	}
	for _, c := range cases {
		if got := atoiDefault(c.in, 1800); got != c.want {
			t.Errorf("atoiDefault(%q) = %d, want %d", c.in, got, c.want)
		}
	}
	e := newEnv(t)
	ent, _ := e.inst.First("oauth_entity", "name=m365_inbound")
	if _, err := e.inst.Update("oauth_entity", ent["sys_id"], map[string]string{"access_token_lifespan": "0"}); err != nil {
		t.Fatal(err)
	}
	if r := e.token(t, grantForm("password", "username", "beth.anglin", "password", "beth.anglin-pw")); r["expires_in"] != float64(1799) {
		t.Fatalf("expires_in %v with a zero lifespan", r["expires_in"])
	}
}

// TestAppGet: a scoped app reads one record through the cross-scope policy;
// a missing sys_id is "not found", not an empty record.
func TestAppGet(t *testing.T) {
	e := newEnv(t)
	admin, _ := e.inst.Caller("admin")
	app, err := e.inst.App(GlobalScope, admin)
	if err != nil {
		t.Fatal(err)
	}
	ent, _ := e.inst.First("oauth_entity", "name=m365_inbound")
	if rec, err := app.Get("oauth_entity", ent["sys_id"]); err != nil || rec["name"] != "m365_inbound" {
		t.Fatalf("Get: %v %v", rec, err)
	}
	if _, err := app.Get("oauth_entity", "0000000000000000000000000000dead"); err != ErrNotFound {
		t.Fatalf("missing record: %v", err)
	}
	if _, err := e.inst.CreateScope("x_acme_app", "Acme App", "1.0.0", "Acme", "enforcing", ""); err != nil {
		t.Fatal(err)
	}
	acme, _ := e.inst.App("x_acme_app", admin)
	if _, err := acme.Get("oauth_entity", ent["sys_id"]); !IsAccessError(err) {
		t.Fatalf("Get without a privilege: %v", err)
	}
}
