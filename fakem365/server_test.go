package fakem365_test

import (
	"encoding/base64"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/m365snow/m365snow/fakem365/contracttest"
	"github.com/m365snow/m365snow/internal/wellknown"
)

func TestAdminPortalAuthorization(t *testing.T) {
	e := newEnv(t)
	body := map[string]string{"internalSupportTool": "ServiceNow", "applicationId": outbound}
	cases := []struct {
		name, token, tenant string
		status              int
		code, contains      string
	}{
		{"no token", "", contoso, 401, "InvalidAuthenticationToken", "no bearer token"},
		{"plain user", e.adminToken(t, "lynne@contoso.onmicrosoft.com", "lynne-pw"), contoso, 403, "Forbidden", "lynne@contoso.onmicrosoft.com is not a Global, Helpdesk or Service Support administrator"},
		{"application admin is not a support admin", e.adminToken(t, "appadmin@contoso.onmicrosoft.com", "appadmin-pw"), contoso, 403, "Forbidden", "is not a Global, Helpdesk or Service Support administrator"},
		{"another tenant's admin", e.adminToken(t, "admin@fabrikam.onmicrosoft.com", "fab-pw"), contoso, 403, "Forbidden", "signed in to tenant " + fabrikam},
		{"app token", e.appToken(t, contoso, outbound, "outbound-secret", wellknown.AdminPortalResource), contoso, 403, "Forbidden", "application token"},
		{"wrong audience", e.appToken(t, contoso, outbound, "outbound-secret", wellknown.ConnectorResource), contoso, 401, "InvalidAuthenticationToken", "audience"},
		{"unknown domain", e.adminToken(t, "admin@contoso.onmicrosoft.com", "admin-pw"), "nowhere.onmicrosoft.com", 404, "TenantNotFound", "nowhere.onmicrosoft.com"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			wantAPIError(t, e.do(t, "PUT", portal(c.tenant), c.token, body), c.status, c.code, c.contains)
		})
	}
	for _, upn := range []string{"helpdesk@contoso.onmicrosoft.com:helpdesk-pw", "support@contoso.onmicrosoft.com:support-pw"} {
		u, pw, _ := strings.Cut(upn, ":")
		if r := e.do(t, "PUT", portal("contoso.onmicrosoft.com"), e.adminToken(t, u, pw), body); r.status != 200 || r.body["updatedBy"] != u {
			t.Fatalf("%s: %d %s", u, r.status, r.raw)
		}
	}
	admin := e.adminToken(t, "admin@contoso.onmicrosoft.com", "admin-pw")
	r := e.do(t, "GET", portal(contoso), admin, nil)
	if r.body["internalSupportTool"] != "ServiceNow" || r.body["applicationId"] != outbound || r.body["tenantId"] != contoso {
		t.Fatalf("integration %s", r.raw)
	}
	wantAPIError(t, e.do(t, "PUT", portal(contoso), admin, map[string]string{"internalSupportTool": "Zendesk", "applicationId": outbound}), 400, "BadRequest", "ServiceNow")
	wantAPIError(t, e.do(t, "PUT", portal(contoso), admin, map[string]string{"internalSupportTool": "ServiceNow", "applicationId": "not-a-guid"}), 400, "BadRequest", "Outbound App ID")
	wantAPIError(t, e.do(t, "PUT", portal(contoso)+"/repositories/r1", admin, map[string]any{"endpoint": "dev1.service-now.com", "authenticationType": "Basic Auth"}), 400, "BadRequest", "not an absolute")
	wantAPIError(t, e.do(t, "PUT", portal(contoso)+"/repositories/r1", admin, map[string]any{"endpoint": endpoint, "authenticationType": "Kerberos"}), 400, "BadRequest", "authenticationType")
	wantAPIError(t, e.do(t, "PUT", portal(contoso)+"/repositories/r1", admin, map[string]any{"endpoint": endpoint, "authenticationType": "Basic Auth", "colour": "red"}), 400, "BadRequest", "unknown field")
}

func TestConnectorAuthentication(t *testing.T) {
	e := newEnv(t)
	e.integrate(t, "Basic Auth")
	good := e.appToken(t, contoso, outbound, "outbound-secret", wellknown.ConnectorResource)
	parts := strings.Split(good, ".")
	payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
	parts[1] = base64.RawURLEncoding.EncodeToString([]byte(strings.Replace(string(payload), `"ver":"1.0"`, `"ver":"9.9"`, 1)))
	tampered := strings.Join(parts, ".")
	query := map[string]string{"query": "outlook mail not syncing", "incidentNumber": "INC0010001"}
	cases := []struct {
		name, token, repo string
		status            int
		code, contains    string
	}{
		{"no token", "", "contoso-snow", 401, "InvalidAuthenticationToken", "no bearer token"},
		{"not a JWT", "garbage", "contoso-snow", 401, "InvalidAuthenticationToken", "not a JWT"},
		{"wrong signature", tampered, "contoso-snow", 401, "InvalidAuthenticationToken", "signature"},
		{"wrong audience", e.appToken(t, contoso, outbound, "outbound-secret", wellknown.GraphResource), "contoso-snow", 401, "InvalidAuthenticationToken", "audience"},
		{"wrong appid", e.appToken(t, contoso, otherApp, "other-secret", wellknown.ConnectorResource), "contoso-snow", 403, "ApplicationIdMismatch", "The token's application " + otherApp + " is not the Application ID " + outbound},
		{"wrong tenant", e.appToken(t, fabrikam, fabOut, "fab-secret", wellknown.ConnectorResource), "contoso-snow", 403, "OrganizationProfileMissing", "Tenant " + fabrikam + " has no Organization profile support integration for ServiceNow."},
		{"user token", e.aadToken(t, contoso, map[string][]string{"grant_type": {"password"}, "client_id": {wellknown.AzureCLIAppID}, "username": {"admin@contoso.onmicrosoft.com"}, "password": {"admin-pw"}, "resource": {wellknown.ConnectorResource}}), "contoso-snow", 401, "InvalidAuthenticationToken", "application tokens only"},
		{"unknown repository", good, "elsewhere", 404, "RepositoryNotFound", `Repository "elsewhere" is not saved`},
		{"before the handshake", good, "contoso-snow", 409, "HandshakeRequired", "final Setup step"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			wantAPIError(t, e.do(t, "POST", connector(c.repo)+"/solutions/search", c.token, query), c.status, c.code, c.contains)
		})
	}
	// Expired beyond the five minutes of clock skew the connector allows.
	e.clock.Advance(66 * time.Minute)
	wantAPIError(t, e.do(t, "POST", connector("contoso-snow")+"/solutions/search", good, query), 401, "InvalidAuthenticationToken", "expiry")
}

func TestInsightsOnlyMakesNoInboundCalls(t *testing.T) {
	e := newEnv(t)
	admin := e.adminToken(t, "admin@contoso.onmicrosoft.com", "admin-pw")
	e.do(t, "PUT", portal(contoso), admin, map[string]string{"internalSupportTool": "ServiceNow", "applicationId": outbound})
	// The guide's "ignored" values are accepted as they are.
	if r := e.do(t, "PUT", portal(contoso)+"/repositories/contoso-snow", admin, map[string]any{"endpoint": endpoint, "authenticationType": "AAD Auth",
		"clientId": "ignored", "restUsername": "ignored", "restUserPassword": "ignored"}); r.status != 201 {
		t.Fatalf("%d %s", r.status, r.raw)
	}
	if r := e.handshake(t, "none", "", ""); r.status != 200 || r.body["inboundMode"] != "none" {
		t.Fatalf("handshake: %d %s", r.status, r.raw)
	}
	tok := e.appToken(t, contoso, outbound, "outbound-secret", wellknown.ConnectorResource)
	r := e.do(t, "POST", connector("contoso-snow")+"/solutions/search", tok, map[string]string{"query": "Email is not syncing in Outlook", "incidentNumber": "INC0010001"})
	sols := r.body["solutions"].([]any)
	if r.status != 200 || len(sols) != 1 || sols[0].(map[string]any)["id"] != "SOL-1" {
		t.Fatalf("search: %s", r.raw)
	}
	r = e.do(t, "GET", connector("contoso-snow")+"/servicehealth/incidents", tok, nil)
	if len(r.body["incidents"].([]any)) != 1 {
		t.Fatalf("health: %s", r.raw)
	}
	wantAPIError(t, e.do(t, "POST", connector("contoso-snow")+"/cases", tok, map[string]any{"incidentNumber": "INC0010001", "title": "x", "contactEmail": "megan@contoso.com"}),
		409, "InboundNotConfigured", "Insights only")
	admin = e.adminToken(t, "admin@contoso.onmicrosoft.com", "admin-pw")
	if r := e.do(t, "PUT", portal(contoso)+"/repositories/contoso-snow", admin, map[string]any{"endpoint": endpoint, "authenticationType": "Basic Auth", "clientId": "still ignored"}); r.status != 200 {
		t.Fatalf("resave: %d %s", r.status, r.raw)
	}
	if n := e.snow.Count(""); n != 0 {
		t.Fatalf("the instance received %d calls in Insights-only mode", n)
	}
	if calls := e.m365.InboundCalls(); len(calls) != 0 {
		t.Fatalf("journal %v", calls)
	}
}

func TestBasicModeInbound(t *testing.T) {
	e := newEnv(t)
	e.integrate(t, "Basic Auth")
	// Mismatches the handshake catches before calling in.
	wantAPIError(t, e.handshake(t, "aad", inboundID, "m365.integration"), 409, "AuthenticationTypeMismatch", `"Basic Auth"`)
	wantAPIError(t, e.handshake(t, "basic", "another-client", "m365.integration"), 409, "ClientIdMismatch", "another-client")
	e.snow.Set(func(s *contracttest.StandIn) { s.Password = "changed" })
	wantAPIError(t, e.handshake(t, "basic", inboundID, "m365.integration"), 422, "InboundTestFailed", "password grant at https://dev12345.service-now.com/oauth_token.do refused: HTTP 401")
	e.snow.Set(func(s *contracttest.StandIn) { s.Password = "integration-pw" })
	if r := e.handshake(t, "basic", inboundID, "m365.integration"); r.status != 200 {
		t.Fatalf("handshake: %d %s", r.status, r.raw)
	}
	if e.snow.Count("POST /oauth_token.do password") != 2 || e.snow.Count("GET "+contracttest.InboundPath+"/ping") != 1 {
		t.Fatalf("requests %v", e.snow.Requests())
	}
	tok := e.appToken(t, contoso, outbound, "outbound-secret", wellknown.ConnectorResource)
	newCase := func(email string) resp {
		return e.do(t, "POST", connector("contoso-snow")+"/cases", tok, map[string]any{"incidentNumber": "INC0010001",
			"title": "Email is not syncing", "description": "since Monday", "contactEmail": email, "testEnvironment": true})
	}
	wantAPIError(t, newCase("lynne@contoso.onmicrosoft.com"), 403, "ContactNotAdmin", "lynne@contoso.onmicrosoft.com is not a Microsoft 365 admin")
	wantAPIError(t, newCase("nobody@contoso.onmicrosoft.com"), 403, "ContactNotAdmin", "nobody@contoso.onmicrosoft.com")
	r := newCase("MEGAN@contoso.com") // by mail, case-insensitively
	if r.status != 201 || r.body["caseNumber"] != "7000000001" || r.body["linked"] != true {
		t.Fatalf("case: %d %s", r.status, r.raw)
	}
	if link := e.snow.Link("7000000001"); link == nil || link["incidentNumber"] != "INC0010001" {
		t.Fatalf("case not linked into the instance: %v", e.snow.Requests())
	}
	// Access token reused within its lifetime; refresh after it.
	before := e.snow.Count("POST /oauth_token.do")
	newCase("helpdesk@contoso.onmicrosoft.com")
	if e.snow.Count("POST /oauth_token.do") != before {
		t.Fatal("a fresh access token was not reused")
	}
	e.clock.Advance(31 * time.Minute)
	newCase("support@contoso.onmicrosoft.com")
	if e.snow.Count("POST /oauth_token.do refresh_token") != 1 {
		t.Fatalf("no refresh grant: %v", e.snow.Requests())
	}
	// A refused refresh falls back to the password grant.
	e.snow.Set(func(s *contracttest.StandIn) { s.RefuseRefresh = true })
	e.clock.Advance(31 * time.Minute)
	passwords := e.snow.Count("POST /oauth_token.do password")
	tok = e.appToken(t, contoso, outbound, "outbound-secret", wellknown.ConnectorResource)
	if r := newCase("admin@contoso.onmicrosoft.com"); r.status != 201 || r.body["linked"] != true {
		t.Fatalf("case after refused refresh: %s", r.raw)
	}
	if e.snow.Count("POST /oauth_token.do refresh_token") != 2 || e.snow.Count("POST /oauth_token.do password") != passwords+1 {
		t.Fatalf("no fallback to the password grant: %v", e.snow.Requests())
	}
	// Past the repository's refresh token expiry, refresh is not attempted.
	e.snow.Set(func(s *contracttest.StandIn) { s.RefuseRefresh = false })
	e.clock.Advance(11 * 24 * time.Hour)
	refreshes := e.snow.Count("POST /oauth_token.do refresh_token")
	tok = e.appToken(t, contoso, outbound, "outbound-secret", wellknown.ConnectorResource)
	newCase("admin@contoso.onmicrosoft.com")
	if e.snow.Count("POST /oauth_token.do refresh_token") != refreshes {
		t.Fatal("refresh tried after the configured Refresh token expiry")
	}
}

func TestCaseLinkRetried(t *testing.T) {
	e := newEnv(t)
	e.integrate(t, "Basic Auth")
	e.handshake(t, "basic", inboundID, "m365.integration")
	tok := e.appToken(t, contoso, outbound, "outbound-secret", wellknown.ConnectorResource)
	e.snow.Set(func(s *contracttest.StandIn) { s.RefuseLinks = true })
	r := e.do(t, "POST", connector("contoso-snow")+"/cases", tok, map[string]any{"incidentNumber": "INC0010002", "title": "Teams", "contactEmail": "megan@contoso.com"})
	if r.status != 201 || r.body["linked"] != false {
		t.Fatalf("%s", r.raw)
	}
	admin := e.adminToken(t, "admin@contoso.onmicrosoft.com", "admin-pw")
	if r := e.do(t, "GET", portal(contoso)+"/repositories/contoso-snow", admin, nil); r.body["pendingCaseLinks"] != float64(1) {
		t.Fatalf("pending: %s", r.raw)
	}
	// Re-saving with a wrong password is refused: the test call fails.
	e.snow.Set(func(s *contracttest.StandIn) { s.RefuseLinks = false })
	bad := map[string]any{"endpoint": endpoint, "authenticationType": "Basic Auth", "clientId": inboundID, "refreshTokenExpiry": 864000,
		"restUsername": "m365.integration", "restUserPassword": "wrong"}
	e.snow.RevokeTokens() // the instance revoked its tokens
	wantAPIError(t, e.do(t, "PUT", portal(contoso)+"/repositories/contoso-snow", admin, bad), 422, "InboundTestFailed", "password grant")
	bad["restUserPassword"] = "integration-pw"
	if r := e.do(t, "PUT", portal(contoso)+"/repositories/contoso-snow", admin, bad); r.status != 200 || r.body["pendingCaseLinks"] != float64(0) {
		t.Fatalf("resave: %d %s", r.status, r.raw)
	}
	if e.snow.Link("7000000001") == nil {
		t.Fatal("pending case not linked after the fix")
	}
	// Ticket details.
	r = e.do(t, "PATCH", connector("contoso-snow")+"/cases/7000000001", tok, map[string]any{"details": map[string]string{"severity": "B"}})
	if r.status != 200 || r.body["details"].(map[string]any)["severity"] != "B" {
		t.Fatalf("patch: %s", r.raw)
	}
	wantAPIError(t, e.do(t, "PATCH", connector("contoso-snow")+"/cases/7999999999", tok, map[string]any{"status": "Closed"}), 404, "CaseNotFound", "7999999999")
	wantAPIError(t, e.do(t, "PATCH", connector("contoso-snow")+"/cases/7000000001", tok, map[string]any{}), 400, "BadRequest", "Nothing to save")
}

func TestAADModeInbound(t *testing.T) {
	e := newEnv(t)
	e.snow.Set(func(s *contracttest.StandIn) { s.AAD = true })
	e.integrate(t, "AAD Auth")
	wantAPIError(t, e.handshake(t, "aad", restAPI, "someone-else"), 409, "RestUsernameMismatch", "someone-else")
	if r := e.handshake(t, "aad", restAPI, restUser); r.status != 200 {
		t.Fatalf("handshake: %d %s", r.status, r.raw)
	}
	if e.snow.Count("GET "+contracttest.InboundPath+"/ping") != 1 || e.snow.Count("POST /oauth_token.do") != 0 {
		t.Fatalf("AAD mode must not use ServiceNow OAuth: %v", e.snow.Requests())
	}
	// A repository whose Rest user secret is wrong cannot be saved.
	admin := e.adminToken(t, "admin@contoso.onmicrosoft.com", "admin-pw")
	wantAPIError(t, e.do(t, "PUT", portal(contoso)+"/repositories/contoso-snow", admin, map[string]any{"endpoint": endpoint,
		"authenticationType": "AAD Auth", "clientId": restAPI, "restUsername": restUser, "restUserPassword": "wrong"}),
		422, "InboundTestFailed", "AADSTS7000215")
	// Nor one whose Client Id is not the Rest API app: the instance refuses the audience.
	wantAPIError(t, e.do(t, "PUT", portal(contoso)+"/repositories/contoso-snow", admin, map[string]any{"endpoint": endpoint,
		"authenticationType": "AAD Auth", "clientId": outbound, "restUsername": restUser, "restUserPassword": "rest-user-secret"}),
		422, "InboundTestFailed", "HTTP 401")
}

func TestStateRoundTrip(t *testing.T) {
	e := newEnv(t)
	e.integrate(t, "Basic Auth")
	e.handshake(t, "basic", inboundID, "m365.integration")
	tok := e.appToken(t, contoso, outbound, "outbound-secret", wellknown.ConnectorResource)
	e.do(t, "POST", connector("contoso-snow")+"/cases", tok, map[string]any{"incidentNumber": "INC0010001", "title": "x", "contactEmail": "megan@contoso.com"})
	state, err := e.m365.ExportState()
	if err != nil {
		t.Fatal(err)
	}
	other := newEnv(t)
	if err := other.m365.ImportState(state); err != nil {
		t.Fatal(err)
	}
	again, _ := other.m365.ExportState()
	if string(again) != string(state) {
		t.Fatalf("not stable:\n%s\n---\n%s", state, again)
	}
	// The imported connector serves the integrated repository at once.
	tok = other.appToken(t, contoso, outbound, "outbound-secret", wellknown.ConnectorResource)
	if r := other.do(t, "POST", connector("contoso-snow")+"/solutions/search", tok, map[string]string{"query": "teams meeting"}); r.status != 200 {
		t.Fatalf("%d %s", r.status, r.raw)
	}
	if r := other.do(t, "POST", connector("contoso-snow")+"/cases", tok, map[string]any{"incidentNumber": "INC0010001", "title": "y", "contactEmail": "megan@contoso.com"}); r.body["caseNumber"] != "7000000002" {
		t.Fatalf("case numbering restarted: %s", r.raw)
	}
	if err := e.m365.Reset(); err != nil {
		t.Fatal(err)
	}
	if s, _ := e.m365.ExportState(); strings.Contains(string(s), "contoso-snow") {
		t.Fatal("reset kept the repository")
	}
}

func TestConcurrentConnectorCalls(t *testing.T) {
	e := newEnv(t)
	e.integrate(t, "Basic Auth")
	e.handshake(t, "basic", inboundID, "m365.integration")
	tok := e.appToken(t, contoso, outbound, "outbound-secret", wellknown.ConnectorResource)
	var wg sync.WaitGroup
	errs := make(chan string, 100)
	for i := range 40 {
		wg.Go(func() {
			var r resp
			if i%4 == 0 {
				r = e.do(t, "POST", connector("contoso-snow")+"/cases", tok, map[string]any{"incidentNumber": fmt.Sprintf("INC%07d", i), "title": "x", "contactEmail": "megan@contoso.com"})
			} else {
				r = e.do(t, "POST", connector("contoso-snow")+"/solutions/search", tok, map[string]string{"query": "onedrive sync"})
			}
			if r.status/100 != 2 {
				errs <- r.raw
			}
		})
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	if n := e.snow.Count("PUT " + contracttest.InboundPath + "/cases/"); n != 10 {
		t.Fatalf("%d cases linked, want 10", n)
	}
}
