// Package contracttest checks a running support connector and admin portal
// against fakem365/CONTRACT.md. `make test` runs it against fakem365, once
// in process and once as a stranger reached only through its published
// API; a vendor runs it against their own build (CONTRACT.md, "Checking
// your build"). It attacks as well as exercises: every check names the
// contract rule it holds the connector to, so that a failure says what to
// fix.
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

	"github.com/golang-jwt/jwt/v5"

	"github.com/m365snow/m365snow/fakeaad"
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
	// OtherTenant is a second tenant's GUID and OtherAdmin its Global
	// Administrator, for the cross-tenant checks.
	OtherTenant string
	OtherAdmin  Credentials
	// Outbound is the instance's outbound app; Other another app of the
	// tenant that may not call the connector.
	Outbound, Other Credentials
	// RestAPI (app id) and RestUser (app credentials) are the AAD Auth
	// inbound apps.
	RestAPI  string
	RestUser Credentials
	// Clock is the time Azure AD issues tokens by, which the stand-ins
	// judge Azure AD tokens by (nil: the wall clock). The stand-ins'
	// own tokens age on their own time (StandIn.Advance), so the checks
	// that need time to pass never need the connector's clock.
	Clock clock.Clock
}

// Run checks t against the contract, one subtest per section. Subtest
// names are the check names docs/vendor-mode.md lists.
func Run(t *testing.T, tg Target) {
	t.Run("AdminPortalRequiresAnAdministrator", func(t *testing.T) { adminPortal(t, tg) })
	t.Run("AdminPortalRefusesOtherTenantsAndApps", func(t *testing.T) { adminPortalAttacks(t, tg) })
	t.Run("ConnectorRefusesBadCallers", func(t *testing.T) { connectorAuth(t, tg) })
	t.Run("RefusesBadBodies", func(t *testing.T) { badBodies(t, tg) })
	t.Run("InsightsOnly", func(t *testing.T) { insightsOnly(t, tg) })
	t.Run("HandshakeRefusesMismatches", func(t *testing.T) { handshakeMismatches(t, tg) })
	t.Run("BasicAuthInbound", func(t *testing.T) { basicInbound(t, tg) })
	t.Run("BasicAuthTokensExpire", func(t *testing.T) { basicExpiry(t, tg) })
	t.Run("PendingCaseLinksAreRetried", func(t *testing.T) { pendingLinks(t, tg) })
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
		if raw, ok := body.([]byte); ok {
			rd = strings.NewReader(string(raw))
		} else {
			b, _ := json.Marshal(body)
			rd = strings.NewReader(string(b))
		}
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

func (tg Target) token(t *testing.T, tenant string, form url.Values) string {
	t.Helper()
	res, err := tg.Client.PostForm(tg.AADURL+"/"+tenant+"/oauth2/token", form)
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

func (tg Target) userTokenIn(t *testing.T, tenant string, c Credentials) string {
	return tg.token(t, tenant, url.Values{"grant_type": {"password"}, "client_id": {wellknown.AzureCLIAppID},
		"username": {c.ID}, "password": {c.Secret}, "resource": {wellknown.AdminPortalResource}})
}

func (tg Target) userToken(t *testing.T, c Credentials) string {
	return tg.userTokenIn(t, tg.Tenant, c)
}

func (tg Target) appToken(t *testing.T, c Credentials, resource string) string {
	return tg.token(t, tg.Tenant, url.Values{"grant_type": {"client_credentials"}, "client_id": {c.ID}, "client_secret": {c.Secret}, "resource": {resource}})
}

func (tg Target) portalOf(tenant string) string {
	return tg.AdminURL + "/api/tenants/" + tenant + "/supportIntegration"
}

func (tg Target) portal() string { return tg.portalOf(tg.Tenant) }

func (tg Target) repo(id string) string { return tg.ConnectorURL + "/api/v1/repositories/" + id }

func wantError(t *testing.T, r response, status int, code string) {
	t.Helper()
	e, _ := r.Body["error"].(map[string]any)
	msg, _ := e["message"].(string)
	if r.Status != status || e["code"] != code || msg == "" {
		t.Fatalf("want HTTP %d with error code %s and a message, got %d %s", status, code, r.Status, clip(r.Raw))
	}
}

func clip(s string) string {
	if len(s) > 400 {
		return s[:400] + "…"
	}
	return s
}

// forge re-signs a genuine Azure AD token with edited claims, using the
// built-in fakeaad key that signed it (public test material): the result
// has a signature the connector can verify, so only the edited claim can
// make it refuse the token.
func forge(t *testing.T, genuine string, edit func(c map[string]any)) string {
	t.Helper()
	parts := strings.Split(genuine, ".")
	var header, claims map[string]any
	hb, _ := base64.RawURLEncoding.DecodeString(parts[0])
	pb, _ := base64.RawURLEncoding.DecodeString(parts[1])
	if json.Unmarshal(hb, &header) != nil || json.Unmarshal(pb, &claims) != nil {
		t.Fatalf("Azure AD's token is not a JWT: %s", genuine)
	}
	keys, err := fakeaad.BuiltinSigningKeys()
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		if k.KID != header["kid"] {
			continue
		}
		edit(claims)
		tok := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.MapClaims(claims))
		for h, v := range header {
			tok.Header[h] = v
		}
		s, err := tok.SignedString(k.Private)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	t.Fatalf("Azure AD signed with key %v, which is not a built-in fakeaad key: the forged-token checks need the sandbox's Azure AD (go run ./cmd/fakeaad)", header["kid"])
	return ""
}

// issuedAt is Azure AD's time when it issued a token (iat is backdated
// five minutes, as Entra does).
func issuedAt(t *testing.T, tok string) time.Time {
	t.Helper()
	parts := strings.Split(tok, ".")
	pb, _ := base64.RawURLEncoding.DecodeString(parts[1])
	var c struct {
		Iat int64 `json:"iat"`
	}
	_ = json.Unmarshal(pb, &c)
	return time.Unix(c.Iat, 0).Add(5 * time.Minute)
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

// fresh deletes a repository a previous run may have left, so that each
// check starts from "not saved" on a connector that keeps its state.
func (tg Target) fresh(t *testing.T, admin, id string) {
	t.Helper()
	if r := tg.call(t, "DELETE", tg.portal()+"/repositories/"+id, admin, nil); r.Status != 204 && r.Status != 404 {
		t.Fatalf("DELETE repository %s: want 204 or 404, got %d %s", id, r.Status, r.Raw)
	}
}

// saveRepo saves a repository and wants 201 or 200.
func (tg Target) saveRepo(t *testing.T, admin, id string, body map[string]any) {
	t.Helper()
	if r := tg.call(t, "PUT", tg.portal()+"/repositories/"+id, admin, body); r.Status != 201 && r.Status != 200 {
		t.Fatalf("saving repository %s: %d %s", id, r.Status, r.Raw)
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

func (tg Target) handshake(t *testing.T, repoID string, body any) response {
	t.Helper()
	tok := tg.appToken(t, tg.Outbound, wellknown.ConnectorResource)
	return tg.call(t, "POST", tg.repo(repoID)+"/handshake", tok, body)
}

func handshakeBody(tg Target, endpoint, mode, clientID, user string) map[string]any {
	u, _ := url.Parse(endpoint)
	return map[string]any{"instanceUrl": u.Scheme + "://" + u.Host, "endpoint": endpoint, "inboundMode": mode,
		"outboundAppId": tg.Outbound.ID, "clientId": clientID, "userName": user, "adminEmail": tg.AdminEmail, "sso": false, "testEnvironment": true}
}

// basicStandIn is an instance with the Basic Auth inbound values the
// checks save.
func (tg Target) basicStandIn(t *testing.T) (*StandIn, string) {
	s := NewStandIn(tg.Client, tg.Clock)
	s.ClientID, s.ClientSecret, s.UserName, s.Password = "0c4f5a6b7d8e9f0a1b2c3d4e5f6a7b8c", "inbound-secret", "m365.integration", "integration-pw"
	s.RefreshLifespan = 864000 * time.Second
	return s, tg.standIn(t, s)
}

func basicRepo(s *StandIn, endpoint string) map[string]any {
	return map[string]any{"endpoint": endpoint, "authenticationType": "Basic Auth", "clientId": s.ClientID, "clientSecret": s.ClientSecret,
		"refreshTokenExpiry": 864000, "restUsername": s.UserName, "restUserPassword": s.Password}
}

// connectedBasic saves a Basic Auth repository on a fresh stand-in and
// completes its handshake.
func (tg Target) connectedBasic(t *testing.T, admin, id string) (*StandIn, string) {
	t.Helper()
	tg.profile(t, admin)
	tg.fresh(t, admin, id)
	s, endpoint := tg.basicStandIn(t)
	tg.saveRepo(t, admin, id, basicRepo(s, endpoint))
	if r := tg.handshake(t, id, handshakeBody(tg, endpoint, "basic", s.ClientID, s.UserName)); r.Status != 200 {
		t.Fatalf("handshake: %d %s", r.Status, r.Raw)
	}
	return s, endpoint
}

// openCase opens a case and returns its number.
func (tg Target) openCase(t *testing.T, repoID, incident string) response {
	t.Helper()
	tok := tg.appToken(t, tg.Outbound, wellknown.ConnectorResource)
	return tg.call(t, "POST", tg.repo(repoID)+"/cases", tok, map[string]any{"incidentNumber": incident, "title": "Mail does not sync",
		"description": "since Monday", "contactEmail": tg.AdminEmail, "testEnvironment": true})
}
