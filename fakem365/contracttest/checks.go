package contracttest

import (
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/m365snow/m365snow/internal/wellknown"
)

// adminPortal: CONTRACT.md "Admin portal" — an administrator saves the
// Organization profile and repositories; secrets never come back.
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
	tg.fresh(t, admin, "contract-portal")
	r = tg.call(t, "PUT", tg.portal()+"/repositories/contract-portal", admin, map[string]any{"endpoint": "https://dev1.service-now.com" + InboundPath,
		"authenticationType": "Basic Auth", "clientId": "c", "clientSecret": "never-echoed", "refreshTokenExpiry": 864000, "restUsername": "u", "restUserPassword": "never-echoed"})
	if r.Status != 201 {
		t.Fatalf("saving a new repository: want 201, got %d %s", r.Status, r.Raw)
	}
	r = tg.call(t, "GET", tg.portal()+"/repositories/contract-portal", admin, nil)
	if r.Status != 200 || r.Body["clientSecretSet"] != true || r.Body["restUserPasswordSet"] != true || strings.Contains(r.Raw, "never-echoed") {
		t.Fatalf("a saved repository must not echo secrets: %d %s", r.Status, r.Raw)
	}
	if u, _ := r.Body["connectorUrl"].(string); !strings.HasPrefix(u, "http") || !strings.HasSuffix(u, "/api/v1/repositories/contract-portal") {
		t.Fatalf("connectorUrl is the connector's base URL + /api/v1/repositories/{id}, got %v", r.Body["connectorUrl"])
	}
	if r.Body["handshake"] != nil || r.Body["refreshTokenExpiry"] != float64(864000) {
		t.Fatalf("a repository never connected has handshake null and keeps refreshTokenExpiry: %s", r.Raw)
	}
	if r := tg.call(t, "DELETE", tg.portal()+"/repositories/contract-portal", admin, nil); r.Status != 204 {
		t.Fatalf("DELETE repository: %d %s", r.Status, r.Raw)
	}
	wantError(t, tg.call(t, "GET", tg.portal()+"/repositories/contract-portal", admin, nil), 404, "RepositoryNotFound")
}

// adminPortalAttacks: the admin portal's tenant checks, in the contract's
// order (tenant syntax, tenant known, token, administrator of that tenant).
func adminPortalAttacks(t *testing.T, tg Target) {
	admin := tg.userToken(t, tg.Admin)
	wantError(t, tg.call(t, "GET", tg.portalOf("not-a-tenant"), admin, nil), 400, "InvalidTenant")
	wantError(t, tg.call(t, "GET", tg.portalOf("not-a-tenant"), "", nil), 400, "InvalidTenant")
	wantError(t, tg.call(t, "GET", tg.portalOf("nosuchtenant.onmicrosoft.com"), admin, nil), 404, "TenantNotFound")
	// An app token (no signed-in user) is no administrator.
	app := forge(t, admin, func(c map[string]any) {
		for _, k := range []string{"upn", "unique_name", "name", "scp", "wids", "given_name", "family_name", "amr", "acr", "ipaddr"} {
			delete(c, k)
		}
		c["idtyp"], c["roles"] = "app", []string{"Organization.ReadWrite.All"}
	})
	wantError(t, tg.call(t, "GET", tg.portal(), app, nil), 403, "Forbidden")
	// A user token for another resource (Microsoft Graph) is refused.
	graph := tg.token(t, tg.Tenant, map[string][]string{"grant_type": {"password"}, "client_id": {wellknown.AzureCLIAppID},
		"username": {tg.Admin.ID}, "password": {tg.Admin.Secret}, "resource": {wellknown.GraphResource}})
	wantError(t, tg.call(t, "GET", tg.portal(), graph, nil), 401, "InvalidAuthenticationToken")
	if tg.OtherTenant == "" {
		t.Fatal("the target names no second tenant: the cross-tenant checks cannot run")
	}
	other := tg.userTokenIn(t, tg.OtherTenant, tg.OtherAdmin)
	wantError(t, tg.call(t, "GET", tg.portal(), other, nil), 403, "Forbidden")
	wantError(t, tg.call(t, "PUT", tg.portal(), other, map[string]string{"internalSupportTool": "ServiceNow", "applicationId": tg.Other.ID}), 403, "Forbidden")
	wantError(t, tg.call(t, "GET", tg.portalOf(tg.OtherTenant), admin, nil), 403, "Forbidden")
}

// connectorAuth: CONTRACT.md "Connector", Authentication — every kind of
// bad token is 401 InvalidAuthenticationToken; the token's application,
// tenant and repository are checked after it.
func connectorAuth(t *testing.T, tg Target) {
	admin := tg.userToken(t, tg.Admin)
	tg.profile(t, admin)
	tg.fresh(t, admin, "contract-auth")
	tg.saveRepo(t, admin, "contract-auth", map[string]any{"endpoint": "https://dev1.service-now.com" + InboundPath, "authenticationType": "AAD Auth",
		"clientId": "ignored", "restUsername": "ignored", "restUserPassword": "ignored"})
	good := tg.appToken(t, tg.Outbound, wellknown.ConnectorResource)
	now := issuedAt(t, good)
	parts := strings.Split(good, ".")
	payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
	parts[1] = base64.RawURLEncoding.EncodeToString([]byte(strings.Replace(string(payload), `"ver":"1.0"`, `"ver":"1.1"`, 1)))
	badSignature := strings.Join(parts, ".")
	search := map[string]string{"query": "mail does not sync", "incidentNumber": "INC0010001"}
	for _, c := range []struct {
		name, token, repo string
		status            int
		code              string
	}{
		{"no token", "", "contract-auth", 401, "InvalidAuthenticationToken"},
		{"not a JWT", "not-a-jwt", "contract-auth", 401, "InvalidAuthenticationToken"},
		{"bad signature", badSignature, "contract-auth", 401, "InvalidAuthenticationToken"},
		{"alg none", strings.Join([]string{base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`)), parts[1], ""}, "."), "contract-auth", 401, "InvalidAuthenticationToken"},
		{"wrong audience", tg.appToken(t, tg.Outbound, wellknown.GraphResource), "contract-auth", 401, "InvalidAuthenticationToken"},
		{"wrong audience, forged", forge(t, good, func(c map[string]any) { c["aud"] = "api://someone-else" }), "contract-auth", 401, "InvalidAuthenticationToken"},
		{"v2 issuer on a v1 token", forge(t, good, func(c map[string]any) { c["iss"] = tg.AADURL + "/" + tg.Tenant + "/v2.0" }), "contract-auth", 401, "InvalidAuthenticationToken"},
		{"v2 issuer of login.microsoftonline.com", forge(t, good, func(c map[string]any) {
			c["iss"] = "https://" + wellknown.LoginHost + "/" + tg.Tenant + "/v2.0"
		}), "contract-auth", 401, "InvalidAuthenticationToken"},
		{"another tenant's issuer", forge(t, good, func(c map[string]any) { c["iss"] = "https://sts.windows.net/" + tg.OtherTenant + "/" }), "contract-auth", 401, "InvalidAuthenticationToken"},
		{"expired beyond the skew", forge(t, good, func(c map[string]any) {
			c["iat"], c["nbf"], c["exp"] = now.Add(-75*time.Minute).Unix(), now.Add(-75*time.Minute).Unix(), now.Add(-10*time.Minute).Unix()
		}), "contract-auth", 401, "InvalidAuthenticationToken"},
		{"not yet valid beyond the skew", forge(t, good, func(c map[string]any) {
			c["iat"], c["nbf"], c["exp"] = now.Add(10*time.Minute).Unix(), now.Add(10*time.Minute).Unix(), now.Add(70*time.Minute).Unix()
		}), "contract-auth", 401, "InvalidAuthenticationToken"},
		{"a user token", forge(t, good, func(c map[string]any) { c["upn"], c["scp"] = tg.Admin.ID, "user_impersonation" }), "contract-auth", 401, "InvalidAuthenticationToken"},
		{"no appid", forge(t, good, func(c map[string]any) { delete(c, "appid") }), "contract-auth", 401, "InvalidAuthenticationToken"},
		{"wrong appid", tg.appToken(t, tg.Other, wellknown.ConnectorResource), "contract-auth", 403, "ApplicationIdMismatch"},
		{"unknown repository", good, "contract-nowhere", 404, "RepositoryNotFound"},
		{"before the handshake", good, "contract-auth", 409, "HandshakeRequired"},
	} {
		t.Run(c.name, func(t *testing.T) {
			wantError(t, tg.call(t, "POST", tg.repo(c.repo)+"/solutions/search", c.token, search), c.status, c.code)
		})
	}
	t.Run("a token of another tenant", func(t *testing.T) {
		// Signed, issued and valid, but for a tenant whose Organization
		// profile does not hold this repository.
		tok := forge(t, good, func(c map[string]any) {
			c["tid"], c["iss"], c["idp"] = tg.OtherTenant, "https://sts.windows.net/"+tg.OtherTenant+"/", "https://sts.windows.net/"+tg.OtherTenant+"/"
		})
		r := tg.call(t, "POST", tg.repo("contract-auth")+"/solutions/search", tok, search)
		if r.Status != 403 && r.Status != 404 {
			t.Fatalf("a token of tenant %s on a repository of %s: want 403 (OrganizationProfileMissing, ApplicationIdMismatch) or 404 RepositoryNotFound, got %d %s",
				tg.OtherTenant, tg.Tenant, r.Status, r.Raw)
		}
	})
}

// badBodies: CONTRACT.md "Errors" — unknown and read-only fields are 400,
// bodies over 1 MiB are 413, on both APIs.
func badBodies(t *testing.T, tg Target) {
	admin := tg.userToken(t, tg.Admin)
	tg.profile(t, admin)
	big := []byte(`{"instanceUrl":"` + strings.Repeat("a", 2<<20) + `"}`)
	tok := tg.appToken(t, tg.Outbound, wellknown.ConnectorResource)
	tg.fresh(t, admin, "contract-bodies")
	tg.saveRepo(t, admin, "contract-bodies", map[string]any{"endpoint": "https://dev1.service-now.com" + InboundPath, "authenticationType": "Basic Auth",
		"clientId": "c", "clientSecret": "s", "refreshTokenExpiry": 864000, "restUsername": "u", "restUserPassword": "p"})
	for _, c := range []struct {
		name, method, url, token string
		body                     any
		status                   int
		code                     string
	}{
		{"2 MiB to the connector", "POST", tg.repo("contract-bodies") + "/handshake", tok, big, 413, "RequestTooLarge"},
		{"2 MiB to the admin portal", "PUT", tg.portal() + "/repositories/contract-bodies", admin, big, 413, "RequestTooLarge"},
		{"unknown field in the profile", "PUT", tg.portal(), admin, map[string]string{"internalSupportTool": "ServiceNow", "applicationId": tg.Outbound.ID, "colour": "blue"}, 400, "BadRequest"},
		{"read-only updatedBy in the profile", "PUT", tg.portal(), admin, map[string]string{"internalSupportTool": "ServiceNow", "applicationId": tg.Outbound.ID, "updatedBy": "me"}, 400, "BadRequest"},
		{"read-only clientSecretSet in a repository", "PUT", tg.portal() + "/repositories/contract-bodies", admin, map[string]any{"endpoint": "https://dev1.service-now.com" + InboundPath,
			"authenticationType": "Basic Auth", "clientSecretSet": true}, 400, "BadRequest"},
		{"not JSON", "PUT", tg.portal(), admin, []byte("internalSupportTool=ServiceNow"), 400, "BadRequest"},
		{"internal support tool other than ServiceNow", "PUT", tg.portal(), admin, map[string]string{"internalSupportTool": "Zendesk", "applicationId": tg.Outbound.ID}, 400, "BadRequest"},
		{"Application ID not a GUID", "PUT", tg.portal(), admin, map[string]string{"internalSupportTool": "ServiceNow", "applicationId": "outbound"}, 400, "BadRequest"},
		{"endpoint not http(s)", "PUT", tg.portal() + "/repositories/contract-bodies", admin, map[string]any{"endpoint": "ftp://dev1.service-now.com" + InboundPath, "authenticationType": "Basic Auth"}, 400, "BadRequest"},
		{"negative refreshTokenExpiry", "PUT", tg.portal() + "/repositories/contract-bodies", admin, map[string]any{"endpoint": "https://dev1.service-now.com" + InboundPath, "authenticationType": "Basic Auth", "refreshTokenExpiry": -1}, 400, "BadRequest"},
	} {
		t.Run(c.name, func(t *testing.T) {
			wantError(t, tg.call(t, c.method, c.url, c.token, c.body), c.status, c.code)
		})
	}
}

// insightsOnly: "Insights only" — no inbound values needed, no call into
// the instance ever, no cases.
func insightsOnly(t *testing.T, tg Target) {
	admin := tg.userToken(t, tg.Admin)
	tg.profile(t, admin)
	tg.fresh(t, admin, "contract-insights")
	s := NewStandIn(tg.Client, tg.Clock)
	endpoint := tg.standIn(t, s)
	if r := tg.call(t, "PUT", tg.portal()+"/repositories/contract-insights", admin, map[string]any{"endpoint": endpoint, "authenticationType": "AAD Auth",
		"clientId": "ignored", "restUsername": "ignored", "restUserPassword": "ignored"}); r.Status/100 != 2 {
		t.Fatalf("the guide's \"ignored\" values must be accepted: %d %s", r.Status, r.Raw)
	}
	r := tg.handshake(t, "contract-insights", handshakeBody(tg, endpoint, "none", "", ""))
	if r.Status != 200 || r.Body["status"] != "connected" || r.Body["inboundMode"] != "none" || r.Body["repositoryId"] != "contract-insights" {
		t.Fatalf("handshake: %d %s", r.Status, r.Raw)
	}
	tok := tg.appToken(t, tg.Outbound, wellknown.ConnectorResource)
	r = tg.call(t, "POST", tg.repo("contract-insights")+"/solutions/search", tok, map[string]string{"query": "Outlook mail does not sync", "incidentNumber": "INC0010001"})
	sols, ok := r.Body["solutions"].([]any)
	if r.Status != 200 || !ok || len(sols) > 5 {
		t.Fatalf("solutions/search: want 200 with at most five solutions, got %d %s", r.Status, r.Raw)
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
	// Re-saving an Insights-only repository keeps its handshake.
	if r := tg.call(t, "PUT", tg.portal()+"/repositories/contract-insights", admin, map[string]any{"endpoint": endpoint, "authenticationType": "AAD Auth",
		"clientId": "ignored", "restUsername": "ignored", "restUserPassword": "ignored"}); r.Status != 200 {
		t.Fatalf("re-saving a repository: want 200, got %d %s", r.Status, r.Raw)
	}
	r = tg.call(t, "POST", tg.repo("contract-insights")+"/solutions/search", tok, map[string]string{"query": "Outlook", "incidentNumber": "INC0010001"})
	if r.Status != 200 {
		t.Fatalf("re-saving a repository must keep its handshake: solutions/search answered %d %s", r.Status, r.Raw)
	}
	if n := s.Count(""); n != 0 {
		t.Fatalf("Insights only: the connector called the instance %d times: %v", n, s.Requests())
	}
}

// handshakeMismatches: each handshake value that disagrees with the saved
// repository is refused with its own code, before any call into the
// instance that the refusal makes pointless.
func handshakeMismatches(t *testing.T, tg Target) {
	admin := tg.userToken(t, tg.Admin)
	tg.profile(t, admin)
	tg.fresh(t, admin, "contract-mismatch")
	s, endpoint := tg.basicStandIn(t)
	tg.saveRepo(t, admin, "contract-mismatch", basicRepo(s, endpoint))
	good := handshakeBody(tg, endpoint, "basic", s.ClientID, s.UserName)
	with := func(k string, v any) map[string]any {
		b := map[string]any{}
		for kk, vv := range good {
			b[kk] = vv
		}
		b[k] = v
		return b
	}
	for _, c := range []struct {
		name   string
		body   map[string]any
		status int
		code   string
	}{
		{"inboundMode not none, basic or aad", with("inboundMode", "oauth"), 400, "BadRequest"},
		{"outboundAppId is not the calling app", with("outboundAppId", tg.Other.ID), 400, "BadRequest"},
		{"read-only completedDateTime", with("completedDateTime", "2026-03-02T09:00:00Z"), 400, "BadRequest"},
		{"unknown field", with("colour", "blue"), 400, "BadRequest"},
		{"another Endpoint", with("endpoint", "https://dev99999.service-now.com"+InboundPath), 409, "EndpointMismatch"},
		{"aad on a Basic Auth repository", with("inboundMode", "aad"), 409, "AuthenticationTypeMismatch"},
		{"another Client ID", with("clientId", "ffffffffffffffffffffffffffffffff"), 409, "ClientIdMismatch"},
		{"another User Name", with("userName", "someone.else"), 409, "RestUsernameMismatch"},
	} {
		t.Run(c.name, func(t *testing.T) {
			wantError(t, tg.handshake(t, "contract-mismatch", c.body), c.status, c.code)
		})
	}
	if r := tg.handshake(t, "contract-mismatch", good); r.Status != 200 {
		t.Fatalf("the matching handshake: %d %s", r.Status, r.Raw)
	}
}

// basicInbound: "Calls into the instance", Basic Auth — the handshake and
// saves test inbound with the password grant and GET /ping; cases are
// linked with PUT /cases/{n}.
func basicInbound(t *testing.T, tg Target) {
	admin := tg.userToken(t, tg.Admin)
	tg.profile(t, admin)
	tg.fresh(t, admin, "contract-basic")
	s, endpoint := tg.basicStandIn(t)
	tg.saveRepo(t, admin, "contract-basic", basicRepo(s, endpoint))
	s.Set(func(s *StandIn) { s.Password = "changed" })
	wantError(t, tg.handshake(t, "contract-basic", handshakeBody(tg, endpoint, "basic", s.ClientID, s.UserName)), 422, "InboundTestFailed")
	s.Set(func(s *StandIn) { s.Password = "integration-pw" })
	if r := tg.handshake(t, "contract-basic", handshakeBody(tg, endpoint, "basic", s.ClientID, s.UserName)); r.Status != 200 {
		t.Fatalf("handshake: %d %s", r.Status, r.Raw)
	}
	if s.Count("POST /oauth_token.do password") == 0 || s.Count("GET "+InboundPath+"/ping") == 0 {
		t.Fatalf("the handshake must test inbound with the password grant and GET /ping: %v", s.Requests())
	}
	// A save whose inbound test fails is refused and changes nothing.
	bad := basicRepo(s, endpoint)
	bad["restUserPassword"] = "not-the-password"
	pings := s.Count("GET " + InboundPath + "/ping")
	wantError(t, tg.call(t, "PUT", tg.portal()+"/repositories/contract-basic", admin, bad), 422, "InboundTestFailed")
	if s.Count("GET "+InboundPath+"/ping")+s.Count("POST /oauth_token.do password") <= pings {
		t.Fatalf("a save of a connected repository must test the new values against the instance: %v", s.Requests())
	}
	tok := tg.appToken(t, tg.Outbound, wellknown.ConnectorResource)
	wantError(t, tg.call(t, "POST", tg.repo("contract-basic")+"/cases", tok, map[string]any{"incidentNumber": "INC0010001", "title": "x", "contactEmail": tg.NonAdminEmail}), 403, "ContactNotAdmin")
	wantError(t, tg.call(t, "POST", tg.repo("contract-basic")+"/cases", tok, map[string]any{"incidentNumber": "INC0010001", "title": "x", "contactEmail": "nobody@contoso.onmicrosoft.com"}), 403, "ContactNotAdmin")
	r := tg.openCase(t, "contract-basic", "INC0010001")
	n, _ := r.Body["caseNumber"].(string)
	if r.Status != 201 || n == "" || r.Body["incidentNumber"] != "INC0010001" || r.Body["linked"] != true {
		t.Fatalf("POST cases: want 201 with caseNumber, incidentNumber and linked true, got %d %s", r.Status, r.Raw)
	}
	if link := s.Link(n); link == nil || link["incidentNumber"] != "INC0010001" || link["caseNumber"] != n {
		t.Fatalf("case %s was not linked with PUT %s/cases/%s: %v", n, InboundPath, n, s.Requests())
	}
	r = tg.call(t, "GET", tg.repo("contract-basic")+"/cases/"+n, tok, nil)
	if r.Status != 200 || r.Body["caseNumber"] != n || r.Body["incidentNumber"] != "INC0010001" {
		t.Fatalf("GET case %s: %d %s", n, r.Status, r.Raw)
	}
	r = tg.call(t, "PATCH", tg.repo("contract-basic")+"/cases/"+n, tok, map[string]any{"details": map[string]string{"severity": "B"}})
	if d, _ := r.Body["details"].(map[string]any); r.Status != 200 || d["severity"] != "B" {
		t.Fatalf("PATCH case: want 200 with the details saved, got %d %s", r.Status, r.Raw)
	}
	wantError(t, tg.call(t, "PATCH", tg.repo("contract-basic")+"/cases/"+n, tok, map[string]any{}), 400, "BadRequest")
	wantError(t, tg.call(t, "PATCH", tg.repo("contract-basic")+"/cases/0000000000", tok, map[string]any{"status": "Closed"}), 404, "CaseNotFound")
	wantError(t, tg.call(t, "GET", tg.repo("contract-basic")+"/cases/0000000000", tok, nil), 404, "CaseNotFound")
}

// basicExpiry: Basic Auth tokens age on the instance's time. After the
// access token expires the connector must use the refresh grant; after the
// refresh token expires, the password grant again.
func basicExpiry(t *testing.T, tg Target) {
	admin := tg.userToken(t, tg.Admin)
	s, _ := tg.connectedBasic(t, admin, "contract-expiry")
	if r := tg.openCase(t, "contract-expiry", "INC0010001"); r.Status != 201 {
		t.Fatalf("POST cases: %d %s", r.Status, r.Raw)
	}
	s.Advance(31 * time.Minute) // the instance's access tokens live 30 minutes
	passwords := s.Count("POST /oauth_token.do password")
	if r := tg.openCase(t, "contract-expiry", "INC0010002"); r.Status != 201 || r.Body["linked"] != true {
		t.Fatalf("a case after the access token expired: %d %s", r.Status, r.Raw)
	}
	if s.Count("POST /oauth_token.do refresh_token") == 0 || s.Count("POST /oauth_token.do password") != passwords {
		t.Fatalf("an expired access token must be replaced with the refresh grant, not the password grant: %v", s.Requests())
	}
	s.Advance(864000 * time.Second) // the repository's Refresh token expiry
	if r := tg.openCase(t, "contract-expiry", "INC0010003"); r.Status != 201 || r.Body["linked"] != true {
		t.Fatalf("a case after the refresh token expired: %d %s", r.Status, r.Raw)
	}
	if s.Count("POST /oauth_token.do password") <= passwords {
		t.Fatalf("after the refresh token expired the connector must sign in with the password grant again: %v", s.Requests())
	}
}

// pendingLinks: a case whose link into the instance fails stays pending and
// is linked on the next repository save.
func pendingLinks(t *testing.T, tg Target) {
	admin := tg.userToken(t, tg.Admin)
	s, endpoint := tg.connectedBasic(t, admin, "contract-pending")
	s.Set(func(s *StandIn) { s.RefuseLinks = true })
	r := tg.openCase(t, "contract-pending", "INC0010001")
	n, _ := r.Body["caseNumber"].(string)
	if r.Status != 201 || n == "" || r.Body["linked"] != false {
		t.Fatalf("a case whose link is refused: want 201 with linked false, got %d %s", r.Status, r.Raw)
	}
	g := tg.call(t, "GET", tg.portal()+"/repositories/contract-pending", admin, nil)
	if g.Body["pendingCaseLinks"] != float64(1) {
		t.Fatalf("the repository must count the pending link: %d %s", g.Status, g.Raw)
	}
	s.Set(func(s *StandIn) { s.RefuseLinks = false })
	tg.saveRepo(t, admin, "contract-pending", basicRepo(s, endpoint))
	if link := s.Link(n); link == nil || link["caseNumber"] != n {
		t.Fatalf("case %s was not linked when the repository was saved again: %v", n, s.Requests())
	}
	g = tg.call(t, "GET", tg.portal()+"/repositories/contract-pending", admin, nil)
	if g.Body["pendingCaseLinks"] != float64(0) {
		t.Fatalf("no link is pending any more: %d %s", g.Status, g.Raw)
	}
	tok := tg.appToken(t, tg.Outbound, wellknown.ConnectorResource)
	if r := tg.call(t, "GET", tg.repo("contract-pending")+"/cases/"+n, tok, nil); r.Status != 200 || r.Body["linked"] != true {
		t.Fatalf("GET case %s after the retry: want linked true, got %d %s", n, r.Status, r.Raw)
	}
}

// aadInbound: "Calls into the instance", AAD Auth — an Azure AD token of
// the Rest User app for the Rest API app, never /oauth_token.do.
func aadInbound(t *testing.T, tg Target) {
	admin := tg.userToken(t, tg.Admin)
	tg.profile(t, admin)
	tg.fresh(t, admin, "contract-aad")
	s := NewStandIn(tg.Client, tg.Clock)
	s.AAD, s.RestAPI, s.RestUser = true, tg.RestAPI, tg.RestUser.ID
	s.MetadataURL = tg.AADURL + "/" + tg.Tenant + "/.well-known/openid-configuration"
	endpoint := tg.standIn(t, s)
	tg.saveRepo(t, admin, "contract-aad", map[string]any{"endpoint": endpoint, "authenticationType": "AAD Auth",
		"clientId": tg.RestAPI, "restUsername": tg.RestUser.ID, "restUserPassword": tg.RestUser.Secret})
	if r := tg.handshake(t, "contract-aad", handshakeBody(tg, endpoint, "aad", tg.RestAPI, tg.RestUser.ID)); r.Status != 200 {
		t.Fatalf("handshake: %d %s", r.Status, r.Raw)
	}
	if s.Count("GET "+InboundPath+"/ping") != 1 || s.Count("POST /oauth_token.do") != 0 {
		t.Fatalf("AAD Auth: GET /ping with an Azure AD token, never /oauth_token.do: %v", s.Requests())
	}
	r := tg.openCase(t, "contract-aad", "INC0010001")
	n, _ := r.Body["caseNumber"].(string)
	if r.Status != 201 || s.Link(n) == nil {
		t.Fatalf("AAD Auth: a case is linked with an Azure AD token: %d %s %v", r.Status, r.Raw, s.Requests())
	}
	if s.Count("POST /oauth_token.do") != 0 {
		t.Fatalf("AAD Auth: never /oauth_token.do: %v", s.Requests())
	}
}
