// Package contracttest checks a running support connector and admin portal
// against fakem365/CONTRACT.md. `make test` runs it against fakem365; a
// vendor runs it against their own build (see CONTRACT.md, "Checking your
// build").
package contracttest

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/m365snow/m365snow/internal/clock"
	"github.com/m365snow/m365snow/internal/wellknown"
)

// Credentials are a user's or an application's sign-in.
type Credentials struct{ ID, Secret string }

// Target is what the checks exercise and what they need to do so.
type Target struct {
	// ConnectorURL serves /api/v1/repositories/...; AdminURL serves
	// /api/tenants/...; AADURL is the Azure AD the connector trusts.
	ConnectorURL, AdminURL, AADURL string
	// Client reaches all three and 127.0.0.1 (where stand-ins listen).
	Client *http.Client
	// Tenant is the tenant GUID; Admin a Global, Helpdesk or Service
	// Support administrator, NonAdmin a user without those roles (user
	// principal names and passwords).
	Tenant          string
	Admin, NonAdmin Credentials
	// AdminEmail is a mail address or UPN of an admin; NonAdminEmail of a
	// directory user who is none.
	AdminEmail, NonAdminEmail string
	// Outbound is the instance's outbound app; Other another app of the
	// tenant that may not call the connector.
	Outbound, Other Credentials
	// RestAPI (app id) and RestUser (app credentials) are the AAD Auth
	// inbound apps.
	RestAPI  string
	RestUser Credentials
	// Advance moves the clock the connector and Azure AD read; nil skips
	// the checks that need time to pass.
	Advance func(time.Duration)
	// Clock is the time the stand-ins judge tokens by: the clock the
	// connector and Azure AD share (nil means the wall clock).
	Clock clock.Clock
}

// Run checks t against the contract, one subtest per section.
func Run(t *testing.T, tg Target) {
	t.Run("AdminPortalRequiresAnAdministrator", func(t *testing.T) { adminPortal(t, tg) })
	t.Run("ConnectorRefusesBadCallers", func(t *testing.T) { connectorAuth(t, tg) })
	t.Run("InsightsOnly", func(t *testing.T) { insightsOnly(t, tg) })
	t.Run("BasicAuthInbound", func(t *testing.T) { basicInbound(t, tg) })
	t.Run("AADAuthInbound", func(t *testing.T) { aadInbound(t, tg) })
}

type response struct {
	Status int
	Body   map[string]any
	Raw    string
}

func (tg Target) call(t *testing.T, method, u, token string, body any) response {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = strings.NewReader(string(b))
	}
	req, err := http.NewRequest(method, u, rd)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := tg.Client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, u, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	out := response{Status: res.StatusCode, Raw: string(b)}
	_ = json.Unmarshal(b, &out.Body)
	return out
}

func (tg Target) token(t *testing.T, form url.Values) string {
	t.Helper()
	res, err := tg.Client.PostForm(tg.AADURL+"/"+tg.Tenant+"/oauth2/token", form)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var body map[string]any
	_ = json.NewDecoder(res.Body).Decode(&body)
	tok, _ := body["access_token"].(string)
	if tok == "" {
		t.Fatalf("Azure AD gave no token for %s: %v", form.Get("client_id"), body)
	}
	return tok
}

func (tg Target) userToken(t *testing.T, c Credentials) string {
	return tg.token(t, url.Values{"grant_type": {"password"}, "client_id": {wellknown.AzureCLIAppID},
		"username": {c.ID}, "password": {c.Secret}, "resource": {wellknown.AdminPortalResource}})
}

func (tg Target) appToken(t *testing.T, c Credentials, resource string) string {
	return tg.token(t, url.Values{"grant_type": {"client_credentials"}, "client_id": {c.ID}, "client_secret": {c.Secret}, "resource": {resource}})
}

func (tg Target) portal() string {
	return tg.AdminURL + "/api/tenants/" + tg.Tenant + "/supportIntegration"
}

func (tg Target) repo(id string) string { return tg.ConnectorURL + "/api/v1/repositories/" + id }

func wantError(t *testing.T, r response, status int, code string) {
	t.Helper()
	e, _ := r.Body["error"].(map[string]any)
	msg, _ := e["message"].(string)
	if r.Status != status || e["code"] != code || msg == "" {
		t.Fatalf("want HTTP %d with error code %s and a message, got %d %s", status, code, r.Status, r.Raw)
	}
}

// profile saves the Organization profile (internal support tool ServiceNow,
// Application ID = the outbound app).
func (tg Target) profile(t *testing.T, admin string) {
	t.Helper()
	r := tg.call(t, "PUT", tg.portal(), admin, map[string]string{"internalSupportTool": "ServiceNow", "applicationId": tg.Outbound.ID})
	if r.Status != 200 || r.Body["internalSupportTool"] != "ServiceNow" || r.Body["applicationId"] != tg.Outbound.ID {
		t.Fatalf("saving the Organization profile: %d %s", r.Status, r.Raw)
	}
}

// standIn serves an instance stand-in on loopback and returns its inbound
// Endpoint.
func (tg Target) standIn(t *testing.T, s *StandIn) string {
	t.Helper()
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	return srv.URL + InboundPath
}

func (tg Target) handshake(t *testing.T, repoID string, body map[string]any) response {
	t.Helper()
	tok := tg.appToken(t, tg.Outbound, wellknown.ConnectorResource)
	return tg.call(t, "POST", tg.repo(repoID)+"/handshake", tok, body)
}

func adminPortal(t *testing.T, tg Target) {
	body := map[string]string{"internalSupportTool": "ServiceNow", "applicationId": tg.Outbound.ID}
	wantError(t, tg.call(t, "PUT", tg.portal(), "", body), 401, "InvalidAuthenticationToken")
	wantError(t, tg.call(t, "PUT", tg.portal(), tg.userToken(t, tg.NonAdmin), body), 403, "Forbidden")
	admin := tg.userToken(t, tg.Admin)
	tg.profile(t, admin)
	r := tg.call(t, "GET", tg.portal(), admin, nil)
	if r.Status != 200 || r.Body["applicationId"] != tg.Outbound.ID || r.Body["tenantId"] != tg.Tenant {
		t.Fatalf("GET supportIntegration: %d %s", r.Status, r.Raw)
	}
	wantError(t, tg.call(t, "PUT", tg.portal()+"/repositories/contract-bad", admin, map[string]any{"endpoint": "https://x.example/api", "authenticationType": "Kerberos"}), 400, "BadRequest")
	r = tg.call(t, "PUT", tg.portal()+"/repositories/contract-portal", admin, map[string]any{"endpoint": "https://dev1.service-now.com" + InboundPath,
		"authenticationType": "Basic Auth", "clientId": "c", "clientSecret": "never-echoed", "refreshTokenExpiry": 864000, "restUsername": "u", "restUserPassword": "never-echoed"})
	if r.Status != 201 && r.Status != 200 {
		t.Fatalf("saving a repository: %d %s", r.Status, r.Raw)
	}
	r = tg.call(t, "GET", tg.portal()+"/repositories/contract-portal", admin, nil)
	if r.Status != 200 || r.Body["clientSecretSet"] != true || strings.Contains(r.Raw, "never-echoed") {
		t.Fatalf("a saved repository must not echo secrets: %d %s", r.Status, r.Raw)
	}
	if r := tg.call(t, "DELETE", tg.portal()+"/repositories/contract-portal", admin, nil); r.Status != 204 {
		t.Fatalf("DELETE repository: %d %s", r.Status, r.Raw)
	}
	wantError(t, tg.call(t, "GET", tg.portal()+"/repositories/contract-portal", admin, nil), 404, "RepositoryNotFound")
}

func connectorAuth(t *testing.T, tg Target) {
	admin := tg.userToken(t, tg.Admin)
	tg.profile(t, admin)
	endpoint := "https://dev1.service-now.com" + InboundPath
	r := tg.call(t, "PUT", tg.portal()+"/repositories/contract-auth", admin, map[string]any{"endpoint": endpoint, "authenticationType": "AAD Auth", "clientId": "ignored", "restUsername": "ignored", "restUserPassword": "ignored"})
	if r.Status/100 != 2 {
		t.Fatalf("repository: %d %s", r.Status, r.Raw)
	}
	good := tg.appToken(t, tg.Outbound, wellknown.ConnectorResource)
	parts := strings.Split(good, ".")
	payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
	parts[1] = base64.RawURLEncoding.EncodeToString([]byte(strings.Replace(string(payload), `"ver":"1.0"`, `"ver":"1.1"`, 1)))
	search := map[string]string{"query": "mail does not sync", "incidentNumber": "INC0010001"}
	for _, c := range []struct {
		name, token, repo string
		status            int
		code              string
	}{
		{"no token", "", "contract-auth", 401, "InvalidAuthenticationToken"},
		{"wrong signature", strings.Join(parts, "."), "contract-auth", 401, "InvalidAuthenticationToken"},
		{"wrong audience", tg.appToken(t, tg.Outbound, wellknown.GraphResource), "contract-auth", 401, "InvalidAuthenticationToken"},
		{"wrong appid", tg.appToken(t, tg.Other, wellknown.ConnectorResource), "contract-auth", 403, "ApplicationIdMismatch"},
		{"unknown repository", good, "contract-nowhere", 404, "RepositoryNotFound"},
		{"before the handshake", good, "contract-auth", 409, "HandshakeRequired"},
	} {
		t.Run(c.name, func(t *testing.T) {
			wantError(t, tg.call(t, "POST", tg.repo(c.repo)+"/solutions/search", c.token, search), c.status, c.code)
		})
	}
	if tg.Advance != nil {
		tg.Advance(66 * time.Minute)
		wantError(t, tg.call(t, "POST", tg.repo("contract-auth")+"/solutions/search", good, search), 401, "InvalidAuthenticationToken")
	}
}

func handshakeBody(tg Target, endpoint, mode, clientID, user string) map[string]any {
	u, _ := url.Parse(endpoint)
	return map[string]any{"instanceUrl": u.Scheme + "://" + u.Host, "endpoint": endpoint, "inboundMode": mode,
		"outboundAppId": tg.Outbound.ID, "clientId": clientID, "userName": user, "adminEmail": tg.AdminEmail, "sso": false, "testEnvironment": true}
}

func insightsOnly(t *testing.T, tg Target) {
	admin := tg.userToken(t, tg.Admin)
	tg.profile(t, admin)
	s := NewStandIn(tg.Client, tg.Clock)
	endpoint := tg.standIn(t, s)
	if r := tg.call(t, "PUT", tg.portal()+"/repositories/contract-insights", admin, map[string]any{"endpoint": endpoint, "authenticationType": "AAD Auth",
		"clientId": "ignored", "restUsername": "ignored", "restUserPassword": "ignored"}); r.Status/100 != 2 {
		t.Fatalf("the guide's \"ignored\" values must be accepted: %d %s", r.Status, r.Raw)
	}
	r := tg.handshake(t, "contract-insights", handshakeBody(tg, endpoint, "none", "", ""))
	if r.Status != 200 || r.Body["status"] != "connected" || r.Body["inboundMode"] != "none" {
		t.Fatalf("handshake: %d %s", r.Status, r.Raw)
	}
	tok := tg.appToken(t, tg.Outbound, wellknown.ConnectorResource)
	r = tg.call(t, "POST", tg.repo("contract-insights")+"/solutions/search", tok, map[string]string{"query": "Outlook mail does not sync", "incidentNumber": "INC0010001"})
	sols, ok := r.Body["solutions"].([]any)
	if r.Status != 200 || !ok {
		t.Fatalf("solutions/search: %d %s", r.Status, r.Raw)
	}
	for _, s := range sols {
		sol, _ := s.(map[string]any)
		for _, k := range []string{"id", "title", "summary", "url"} {
			if v, _ := sol[k].(string); v == "" {
				t.Fatalf("a solution lacks %s: %v", k, sol)
			}
		}
	}
	wantError(t, tg.call(t, "POST", tg.repo("contract-insights")+"/solutions/search", tok, map[string]string{"query": ""}), 400, "BadRequest")
	r = tg.call(t, "GET", tg.repo("contract-insights")+"/servicehealth/incidents", tok, nil)
	if _, ok := r.Body["incidents"].([]any); r.Status != 200 || !ok {
		t.Fatalf("servicehealth/incidents: %d %s", r.Status, r.Raw)
	}
	wantError(t, tg.call(t, "POST", tg.repo("contract-insights")+"/cases", tok, map[string]any{"incidentNumber": "INC0010001", "title": "x", "contactEmail": tg.AdminEmail}), 409, "InboundNotConfigured")
	if n := s.Count(""); n != 0 {
		t.Fatalf("Insights only: the connector called the instance %d times: %v", n, s.Requests())
	}
}

func basicInbound(t *testing.T, tg Target) {
	admin := tg.userToken(t, tg.Admin)
	tg.profile(t, admin)
	s := NewStandIn(tg.Client, tg.Clock)
	s.ClientID, s.ClientSecret, s.UserName, s.Password = "0c4f5a6b7d8e9f0a1b2c3d4e5f6a7b8c", "inbound-secret", "m365.integration", "integration-pw"
	endpoint := tg.standIn(t, s)
	if r := tg.call(t, "PUT", tg.portal()+"/repositories/contract-basic", admin, map[string]any{"endpoint": endpoint, "authenticationType": "Basic Auth",
		"clientId": s.ClientID, "clientSecret": s.ClientSecret, "refreshTokenExpiry": 864000, "restUsername": s.UserName, "restUserPassword": s.Password}); r.Status/100 != 2 {
		t.Fatalf("repository: %d %s", r.Status, r.Raw)
	}
	s.Set(func(s *StandIn) { s.Password = "changed" })
	wantError(t, tg.handshake(t, "contract-basic", handshakeBody(tg, endpoint, "basic", s.ClientID, s.UserName)), 422, "InboundTestFailed")
	s.Set(func(s *StandIn) { s.Password = "integration-pw" })
	if r := tg.handshake(t, "contract-basic", handshakeBody(tg, endpoint, "basic", s.ClientID, s.UserName)); r.Status != 200 {
		t.Fatalf("handshake: %d %s", r.Status, r.Raw)
	}
	if s.Count("POST /oauth_token.do password") == 0 || s.Count("GET "+InboundPath+"/ping") != 1 {
		t.Fatalf("the handshake must test inbound with the password grant and GET /ping: %v", s.Requests())
	}
	tok := tg.appToken(t, tg.Outbound, wellknown.ConnectorResource)
	wantError(t, tg.call(t, "POST", tg.repo("contract-basic")+"/cases", tok, map[string]any{"incidentNumber": "INC0010001", "title": "x", "contactEmail": tg.NonAdminEmail}), 403, "ContactNotAdmin")
	r := tg.call(t, "POST", tg.repo("contract-basic")+"/cases", tok, map[string]any{"incidentNumber": "INC0010001", "title": "Mail does not sync",
		"description": "since Monday", "contactEmail": tg.AdminEmail, "testEnvironment": true})
	n, _ := r.Body["caseNumber"].(string)
	if r.Status != 201 || n == "" {
		t.Fatalf("POST cases: %d %s", r.Status, r.Raw)
	}
	if link := s.Link(n); link == nil || link["incidentNumber"] != "INC0010001" || link["caseNumber"] != n {
		t.Fatalf("case %s was not linked with PUT %s/cases/%s: %v", n, InboundPath, n, s.Requests())
	}
	if r := tg.call(t, "PATCH", tg.repo("contract-basic")+"/cases/"+n, tok, map[string]any{"details": map[string]string{"severity": "B"}}); r.Status != 200 {
		t.Fatalf("PATCH case: %d %s", r.Status, r.Raw)
	}
	wantError(t, tg.call(t, "PATCH", tg.repo("contract-basic")+"/cases/0000000000", tok, map[string]any{"status": "Closed"}), 404, "CaseNotFound")
	if tg.Advance != nil {
		tg.Advance(31 * time.Minute)
		tok = tg.appToken(t, tg.Outbound, wellknown.ConnectorResource)
		if r := tg.call(t, "POST", tg.repo("contract-basic")+"/cases", tok, map[string]any{"incidentNumber": "INC0010002", "title": "y", "contactEmail": tg.AdminEmail}); r.Status != 201 {
			t.Fatalf("case after the access token expired: %d %s", r.Status, r.Raw)
		}
		if s.Count("POST /oauth_token.do refresh_token") == 0 {
			t.Fatalf("an expired access token must be refreshed: %v", s.Requests())
		}
	}
}

func aadInbound(t *testing.T, tg Target) {
	admin := tg.userToken(t, tg.Admin)
	tg.profile(t, admin)
	s := NewStandIn(tg.Client, tg.Clock)
	s.AAD, s.RestAPI, s.RestUser = true, tg.RestAPI, tg.RestUser.ID
	s.MetadataURL = tg.AADURL + "/" + tg.Tenant + "/.well-known/openid-configuration"
	endpoint := tg.standIn(t, s)
	if r := tg.call(t, "PUT", tg.portal()+"/repositories/contract-aad", admin, map[string]any{"endpoint": endpoint, "authenticationType": "AAD Auth",
		"clientId": tg.RestAPI, "restUsername": tg.RestUser.ID, "restUserPassword": tg.RestUser.Secret}); r.Status/100 != 2 {
		t.Fatalf("repository: %d %s", r.Status, r.Raw)
	}
	if r := tg.handshake(t, "contract-aad", handshakeBody(tg, endpoint, "aad", tg.RestAPI, tg.RestUser.ID)); r.Status != 200 {
		t.Fatalf("handshake: %d %s", r.Status, r.Raw)
	}
	if s.Count("GET "+InboundPath+"/ping") != 1 || s.Count("POST /oauth_token.do") != 0 {
		t.Fatalf("AAD Auth: GET /ping with an Azure AD token, never /oauth_token.do: %v", s.Requests())
	}
}
