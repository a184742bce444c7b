package fakeaad

import (
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/m365snow/m365snow/internal/faults"
	"github.com/m365snow/m365snow/internal/wellknown"
)

const (
	userReadAllRole = "df021288-bdef-4463-88db-98f22de89214" // Graph's User.Read.All app role
)

func rolesOf(t testing.TB, tok string) []string {
	t.Helper()
	_, c := decodeJWT(t, tok)
	var out []string
	for _, r := range stringList(c["roles"]) {
		out = append(out, r)
	}
	return out
}

// Admin consent through Graph, and tokens that follow it: the app role
// assignment of servicePrincipal-post-approleassignments.md lands in
// roles; removing it takes it out again.
func TestGraphAppRoleAssignmentsDriveRoles(t *testing.T) {
	env := newEnv(t, false)
	admin := env.userToken(t, "admin@contoso.onmicrosoft.com", "admin-pw", wellknown.GraphResource)

	r := env.graph(t, "GET", "/servicePrincipals?$filter="+q("appId eq '"+wellknown.GraphAppID+"'")+"&$select=id,appId,appRoles", admin, "")
	sps := values(t, r)
	if len(sps) != 1 || r.body["@odata.context"] != "https://graph.microsoft.com/v1.0/$metadata#servicePrincipals(id,appId,appRoles)" {
		t.Fatalf("Graph's principal: %s", r.raw)
	}
	graphSP := sps[0]["id"].(string)
	if !strings.Contains(r.raw, `"value":"User.Read.All"`) {
		t.Errorf("Graph's app roles: %s", r.raw)
	}
	r = env.graph(t, "GET", "/servicePrincipals(appId='"+outboundID+"')", admin, "")
	if r.status != 200 || r.body["displayName"] != "Outbound" || r.body["appOwnerOrganizationId"] != contosoID {
		t.Fatalf("by appId: %d %s", r.status, r.raw)
	}
	outboundSP := r.body["id"].(string)

	form := cc(outboundID, "outbound-secret", wellknown.GraphResource)
	tok := env.token(t, "/"+contosoID+"/oauth2/token", form)
	if roles := rolesOf(t, tok); len(roles) != 0 {
		t.Fatalf("roles before consent: %v", roles)
	}
	checkGraphError(t, env.graph(t, "GET", "/users", tok, ""), 403, "Authorization_RequestDenied", "Insufficient privileges")

	assign := func(roleID string) response {
		return env.graphJSON(t, "POST", "/servicePrincipals/"+outboundSP+"/appRoleAssignments", admin,
			map[string]any{"principalId": outboundSP, "resourceId": graphSP, "appRoleId": roleID})
	}
	r = assign(userReadAllRole)
	if r.status != 201 || r.body["principalType"] != "ServicePrincipal" || r.body["resourceDisplayName"] != "Microsoft Graph" || r.body["principalDisplayName"] != "Outbound" {
		t.Fatalf("assign: %d %s", r.status, r.raw)
	}
	assignmentID := r.body["id"].(string)
	checkGraphError(t, assign(userReadAllRole), 400, "Request_BadRequest", "Permission being assigned already exists on the object")
	checkGraphError(t, assign("00000000-0000-0000-0000-00000000abcd"), 400, "Request_BadRequest", "Permission being assigned was not found on application '00000003-0000-0000-c000-000000000000'.")
	lynne := env.userToken(t, "lynne@contoso.onmicrosoft.com", "lynne-pw", wellknown.GraphResource)
	checkGraphError(t, env.graphJSON(t, "POST", "/servicePrincipals/"+outboundSP+"/appRoleAssignments", lynne,
		map[string]any{"principalId": outboundSP, "resourceId": graphSP, "appRoleId": userReadAllRole}), 403, "Authorization_RequestDenied", "Insufficient privileges")

	tok = env.token(t, "/"+contosoID+"/oauth2/token", form)
	if roles := rolesOf(t, tok); !slices.Equal(roles, []string{"User.Read.All"}) {
		t.Fatalf("roles after consent: %v", roles)
	}
	if r := env.graph(t, "GET", "/users", tok, ""); r.status != 200 {
		t.Fatalf("users with User.Read.All: %d %s", r.status, r.raw)
	}
	r = env.graph(t, "GET", "/servicePrincipals/"+graphSP+"/appRoleAssignedTo?$filter="+q("principalId eq "+outboundSP), admin, "")
	if got := values(t, r); len(got) != 1 || got[0]["id"] != assignmentID {
		t.Fatalf("appRoleAssignedTo: %s", r.raw)
	}
	if r := env.graph(t, "DELETE", "/servicePrincipals/"+outboundSP+"/appRoleAssignments/"+assignmentID, admin, ""); r.status != 204 {
		t.Fatalf("delete: %d %s", r.status, r.raw)
	}
	if roles := rolesOf(t, env.token(t, "/"+contosoID+"/oauth2/token", form)); len(roles) != 0 {
		t.Fatalf("roles after revoking: %v", roles)
	}

	// accountEnabled false blocks sign-in with AADSTS7000112, and only
	// for that principal (reference/aad.md §6.7).
	if r := env.graphJSON(t, "PATCH", "/servicePrincipals/"+outboundSP, admin, map[string]any{"accountEnabled": false}); r.status != 204 {
		t.Fatalf("disable: %d %s", r.status, r.raw)
	}
	checkSTSError(t, env.post(t, "/"+contosoID+"/oauth2/token", form), 400, "unauthorized_client", 7000112, "Application '"+outboundID+"'(Outbound) is disabled.")
	env.token(t, "/"+contosoID+"/oauth2/token", cc(restAPIID, "restapi-secret", connector))
	r = env.graph(t, "GET", "/servicePrincipals?$filter="+q("accountEnabled eq false")+"&$select=appId", admin, "")
	if got := values(t, r); len(got) != 1 || got[0]["appId"] != outboundID {
		t.Fatalf("disabled principals: %s", r.raw)
	}
	checkGraphError(t, env.graphJSON(t, "PATCH", "/servicePrincipals/"+outboundSP, admin, map[string]any{"colour": "red"}), 400, "Request_BadRequest", "Property 'colour' does not exist on type 'microsoft.graph.servicePrincipal'.")
	if r := env.graphJSON(t, "PATCH", "/servicePrincipals(appId='"+outboundID+"')", admin, map[string]any{"accountEnabled": true}); r.status != 204 {
		t.Fatalf("enable: %d %s", r.status, r.raw)
	}
	env.token(t, "/"+contosoID+"/oauth2/token", form)
}

// Delegated permissions follow oauth2PermissionGrants
// (oauth2permissiongrant-post.md): a scope the resource does not define is
// AADSTS70011, an ungranted one AADSTS65001.
func TestGraphDelegatedGrantsDriveScp(t *testing.T) {
	env := newEnv(t, false)
	admin := env.userToken(t, "admin@contoso.onmicrosoft.com", "admin-pw", wellknown.GraphResource)
	sp := func(appID string) string {
		return env.graph(t, "GET", "/servicePrincipals(appId='"+appID+"')", admin, "").body["id"].(string)
	}
	graphSP, outboundSP := sp(wellknown.GraphAppID), sp(outboundID)
	userToken := func(scope, user, pw string) response {
		return env.post(t, "/"+contosoID+"/oauth2/v2.0/token", url.Values{"grant_type": {"password"}, "client_id": {outboundID},
			"client_secret": {"outbound-secret"}, "username": {user}, "password": {pw}, "scope": {scope}})
	}
	checkSTSError(t, userToken("https://graph.microsoft.com/User.Read", "lynne@contoso.onmicrosoft.com", "lynne-pw"), 400, "invalid_grant", 65001,
		"The user or administrator has not consented to use the application with ID '"+outboundID+"' named 'Outbound'.")
	checkSTSError(t, userToken("https://graph.microsoft.com/Nope.Nope", "lynne@contoso.onmicrosoft.com", "lynne-pw"), 400, "invalid_scope", 70011,
		"The provided value for the input parameter 'scope' is not valid. The scope Nope.Nope is not valid.")
	checkSTSError(t, userToken("https://graph.microsoft.com/.default", "lynne@contoso.onmicrosoft.com", "lynne-pw"), 400, "invalid_grant", 65001, "has not consented")

	r := env.graphJSON(t, "POST", "/oauth2PermissionGrants", admin, map[string]any{"clientId": outboundSP, "consentType": "AllPrincipals",
		"principalId": nil, "resourceId": graphSP, "scope": "User.Read Directory.Read.All"})
	if r.status != 201 || r.body["consentType"] != "AllPrincipals" || r.body["principalId"] != nil || len(r.body["id"].(string)) != 43 {
		t.Fatalf("grant: %d %s", r.status, r.raw)
	}
	grant := r.body["id"].(string)
	checkGraphError(t, env.graphJSON(t, "POST", "/oauth2PermissionGrants", admin, map[string]any{"clientId": outboundSP, "consentType": "AllPrincipals",
		"resourceId": graphSP, "scope": "User.Read"}), 409, "Request_MultipleObjectsWithSameKeyValue", "Permission entry already exists.")
	checkGraphError(t, env.graphJSON(t, "POST", "/oauth2PermissionGrants", admin, map[string]any{"clientId": outboundSP, "consentType": "Principal",
		"resourceId": graphSP, "scope": "User.Read"}), 400, "Request_BadRequest", "consentType")

	scp := func(r response) string {
		t.Helper()
		if r.status != 200 {
			t.Fatalf("token: %d %s", r.status, r.raw)
		}
		_, c := decodeJWT(t, r.body["access_token"].(string))
		return c["scp"].(string)
	}
	if got := scp(userToken("https://graph.microsoft.com/User.Read openid profile", "lynne@contoso.onmicrosoft.com", "lynne-pw")); got != "User.Read" {
		t.Errorf("named scope: scp %q", got)
	}
	if got := scp(userToken("https://graph.microsoft.com/.default", "lynne@contoso.onmicrosoft.com", "lynne-pw")); got != "User.Read Directory.Read.All" {
		t.Errorf(".default: scp %q", got)
	}
	checkSTSError(t, userToken("https://graph.microsoft.com/User.Read.All", "lynne@contoso.onmicrosoft.com", "lynne-pw"), 400, "invalid_grant", 65001, "has not consented")

	// Narrowing the grant narrows the token; a grant for one user serves
	// that user only.
	if r := env.graphJSON(t, "PATCH", "/oauth2PermissionGrants/"+grant, admin, map[string]any{"scope": "User.Read"}); r.status != 204 {
		t.Fatalf("patch grant: %d %s", r.status, r.raw)
	}
	if got := scp(userToken("https://graph.microsoft.com/.default", "lynne@contoso.onmicrosoft.com", "lynne-pw")); got != "User.Read" {
		t.Errorf("after narrowing: scp %q", got)
	}
	r = env.graphJSON(t, "POST", "/oauth2PermissionGrants", admin, map[string]any{"clientId": outboundSP, "consentType": "Principal",
		"principalId": env.graph(t, "GET", "/users/helpdesk@contoso.onmicrosoft.com", admin, "").body["id"], "resourceId": graphSP, "scope": "User.Read.All"})
	if r.status != 201 {
		t.Fatalf("principal grant: %d %s", r.status, r.raw)
	}
	if got := scp(userToken("https://graph.microsoft.com/User.Read.All", "helpdesk@contoso.onmicrosoft.com", "helpdesk-pw")); got != "User.Read.All" {
		t.Errorf("principal grant: scp %q", got)
	}
	checkSTSError(t, userToken("https://graph.microsoft.com/User.Read.All", "lynne@contoso.onmicrosoft.com", "lynne-pw"), 400, "invalid_grant", 65001, "has not consented")
	r = env.graph(t, "GET", "/oauth2PermissionGrants?$filter="+q("clientId eq '"+outboundSP+"' and consentType eq 'Principal'"), admin, "")
	if got := values(t, r); len(got) != 1 {
		t.Fatalf("filtered grants: %s", r.raw)
	}
	if r := env.graph(t, "DELETE", "/oauth2PermissionGrants/"+grant, admin, ""); r.status != 204 {
		t.Fatalf("delete grant: %d %s", r.status, r.raw)
	}
	checkSTSError(t, userToken("https://graph.microsoft.com/User.Read", "lynne@contoso.onmicrosoft.com", "lynne-pw"), 400, "invalid_grant", 65001, "has not consented")
	// Microsoft's own clients are pre-authorized.
	if _, c := decodeJWT(t, admin); !strings.Contains(c["scp"].(string), "Directory.AccessAsUser.All") {
		t.Errorf("Azure CLI token scp %v", c["scp"])
	}
}

// Transport manners: ids and diagnostics on every response, throttling in
// each family's own shape with Retry-After.
func TestGraphTransportAndFaults(t *testing.T) {
	env := newEnv(t, false)
	admin := env.userToken(t, "admin@contoso.onmicrosoft.com", "admin-pw", wellknown.GraphResource)
	for _, c := range []struct {
		name, path, clientID string
		status               int
	}{
		{"2xx with a client-request-id", "/v1.0/me", "8c6a1b2e-0d4f-4e3a-9b7c-5d2e1f0a3b4c", 200},
		{"2xx without", "/v1.0/organization", "", 200},
		{"an error", "/v1.0/users/nobody@contoso.onmicrosoft.com", "3e2d1c0b-9a8f-4e7d-8c6b-5a4f3e2d1c0b", 404},
		{"an unknown segment", "/v1.0/nothing", "", 400},
	} {
		t.Run(c.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodGet, env.ts.URL+c.path, nil)
			req.Header.Set("Authorization", "Bearer "+admin)
			if c.clientID != "" {
				req.Header.Set("client-request-id", c.clientID)
			}
			r := env.do(t, req)
			rid := r.header.Get("request-id")
			want := c.clientID
			if want == "" {
				want = rid
			}
			if r.status != c.status || len(rid) != 36 || r.header.Get("client-request-id") != want || !strings.Contains(r.header.Get("x-ms-ags-diagnostic"), `"ServerInfo"`) {
				t.Errorf("%d headers %v", r.status, r.header)
			}
			if inner, ok := r.body["error"].(map[string]any); ok {
				ie := inner["innerError"].(map[string]any)
				if ie["request-id"] != rid || ie["client-request-id"] != want {
					t.Errorf("innerError %v vs headers %v", ie, r.header)
				}
			}
		})
	}

	// Graph throttling, as concepts/throttling.md shows it.
	if _, err := env.srv.Faults().Add(faults.Fault{Path: "/v1.0/users", Status: 429, Times: 1}); err != nil {
		t.Fatal(err)
	}
	r := env.graph(t, "GET", "/users", admin, "")
	e, _ := r.body["error"].(map[string]any)
	if r.status != 429 || r.header.Get("Retry-After") != "2" || e["code"] != "TooManyRequests" || e["message"] != "Please retry again later." ||
		e["innerError"].(map[string]any)["status"] != "429" || r.header.Get("request-id") == "" {
		t.Fatalf("graph 429: %d %v %s", r.status, r.header, r.raw)
	}
	if r := env.graph(t, "GET", "/users", admin, ""); r.status != 200 {
		t.Fatalf("after the fault: %d", r.status)
	}
	// STS throttling: AADSTS90055 with Retry-After, never Graph's shape.
	if _, err := env.srv.Faults().Add(faults.Fault{Path: "/*/oauth2/token", Status: 429, Times: 1}); err != nil {
		t.Fatal(err)
	}
	r = env.post(t, "/"+contosoID+"/oauth2/token", cc(outboundID, "outbound-secret", connector))
	checkSTSError(t, r, 429, "temporarily_unavailable", 90055, "There are too many incoming requests.")
	if r.header.Get("Retry-After") != "2" {
		t.Errorf("STS 429 headers %v", r.header)
	}
	// A 503 on Graph is Graph-shaped too.
	if _, err := env.srv.Faults().Add(faults.Fault{Path: "/v1.0/**", Status: 503, Times: 1}); err != nil {
		t.Fatal(err)
	}
	checkGraphError(t, env.graph(t, "GET", "/applications", admin, ""), 503, "serviceNotAvailable", "temporarily unavailable")
}

// /me, directory roles and their members, and the organization: what the
// connector reads to decide who is an admin.
func TestGraphMeRolesOrganization(t *testing.T) {
	env := newEnv(t, false)
	helpdesk := env.userToken(t, "helpdesk@contoso.onmicrosoft.com", "helpdesk-pw", wellknown.GraphResource)
	app := env.token(t, "/"+contosoID+"/oauth2/token", cc(wellknown.ConnectorAppID, wellknown.ConnectorDefaultSecret, wellknown.GraphResource))

	r := env.graph(t, "GET", "/me?$select=displayName,userPrincipalName", helpdesk, "")
	if r.body["@odata.context"] != "https://graph.microsoft.com/v1.0/$metadata#users(displayName,userPrincipalName)/$entity" || r.body["userPrincipalName"] != "helpdesk@contoso.onmicrosoft.com" {
		t.Fatalf("/me: %s", r.raw)
	}
	checkGraphError(t, env.graph(t, "GET", "/me", app, ""), 400, "BadRequest", "/me request is only valid with delegated authentication flow.")

	r = env.graph(t, "GET", "/directoryRoles", app, "")
	var got []string
	for _, o := range values(t, r) {
		got = append(got, o["displayName"].(string))
	}
	slices.Sort(got)
	if !slices.Equal(got, []string{"Global Administrator", "Helpdesk Administrator"}) {
		t.Fatalf("activated roles %v", got)
	}
	r = env.graph(t, "GET", "/directoryRoles(roleTemplateId='"+wellknown.RoleHelpdeskAdministrator+"')/members?$select=userPrincipalName", app, "")
	members := values(t, r)
	if len(members) != 1 || members[0]["userPrincipalName"] != "helpdesk@contoso.onmicrosoft.com" {
		t.Fatalf("members %s", r.raw)
	}
	checkGraphError(t, env.graph(t, "GET", "/directoryRoles(roleTemplateId='"+wellknown.RoleServiceSupportAdministrator+"')/members", app, ""), 404, "Request_ResourceNotFound", "does not exist")

	r = env.graph(t, "GET", "/organization", app, "")
	org := values(t, r)
	if len(org) != 1 || org[0]["id"] != contosoID || org[0]["displayName"] != "Contoso" {
		t.Fatalf("organization %s", r.raw)
	}
	if d := org[0]["verifiedDomains"].([]any)[0].(map[string]any); d["name"] != "contoso.onmicrosoft.com" || d["isInitial"] != true || d["isDefault"] != true {
		t.Errorf("domain %v", d)
	}
	if r := env.graph(t, "GET", "/me/memberOf", helpdesk, ""); len(values(t, r)) != 1 {
		t.Errorf("/me/memberOf %s", r.raw)
	}
}

// The admin consent endpoint (entra-docs v2-admin-consent.md) grants what
// the application requires, and the tokens follow.
func TestAdminConsentEndpoint(t *testing.T) {
	env := newEnv(t, false)
	admin := env.userToken(t, "admin@contoso.onmicrosoft.com", "admin-pw", wellknown.GraphResource)
	const redirect = "https://dev1.service-now.com/oauth_redirect.do"
	r := env.graphJSON(t, "POST", "/applications", admin, map[string]any{"displayName": "needs consent",
		"web": map[string]any{"redirectUris": []string{redirect}},
		"requiredResourceAccess": []map[string]any{{"resourceAppId": wellknown.GraphAppID, "resourceAccess": []map[string]any{
			{"id": userReadAllRole, "type": "Role"}, {"id": "e1fe6dd8-ba31-4d61-89e7-88639da4683d", "type": "Scope"}}}}})
	appID, objID := r.body["appId"].(string), r.body["id"].(string)
	env.graphJSON(t, "POST", "/servicePrincipals", admin, map[string]any{"appId": appID})
	r = env.graphJSON(t, "POST", "/applications/"+objID+"/addPassword", admin, map[string]any{"passwordCredential": map[string]any{"displayName": "x"}})
	secret := r.body["secretText"].(string)

	noFollow := *env.ts.Client()
	noFollow.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	query := url.Values{"client_id": {appID}, "scope": {"https://graph.microsoft.com/.default"}, "redirect_uri": {redirect}, "state": {"xyz"}}
	consentURL := env.ts.URL + "/contoso.onmicrosoft.com/v2.0/adminconsent?" + query.Encode()
	send := func(method string, form url.Values) (int, string, string) {
		t.Helper()
		var req *http.Request
		if method == http.MethodGet {
			req, _ = http.NewRequest(method, consentURL, nil)
		} else {
			req, _ = http.NewRequest(method, consentURL, strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		resp, err := noFollow.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b := new(strings.Builder)
		_, _ = io.Copy(b, resp.Body)
		return resp.StatusCode, resp.Header.Get("Location"), b.String()
	}
	status, _, page := send(http.MethodGet, nil)
	if status != 200 || !strings.Contains(page, "Microsoft Graph: User.Read.All (application)") || !strings.Contains(page, "Microsoft Graph: User.Read (delegated)") {
		t.Fatalf("consent page: %d %s", status, page)
	}
	status, _, page = send(http.MethodPost, url.Values{"login": {"lynne@contoso.onmicrosoft.com"}, "passwd": {"lynne-pw"}, "consent": {"accept"}})
	if status != 200 || !strings.Contains(page, "AADSTS90094") {
		t.Fatalf("non-admin: %d %s", status, page)
	}
	status, loc, _ := send(http.MethodPost, url.Values{"consent": {"decline"}})
	if status != 302 || !strings.HasPrefix(loc, redirect+"?") || !strings.Contains(loc, "error=access_denied") || !strings.Contains(loc, "state=xyz") {
		t.Fatalf("decline: %d %s", status, loc)
	}
	if roles := rolesOf(t, env.token(t, "/"+contosoID+"/oauth2/token", cc(appID, secret, wellknown.GraphResource))); len(roles) != 0 {
		t.Fatalf("roles before consent %v", roles)
	}
	status, loc, _ = send(http.MethodPost, url.Values{"login": {"admin@contoso.onmicrosoft.com"}, "passwd": {"admin-pw"}, "consent": {"accept"}})
	back, _ := url.Parse(loc)
	if status != 302 || back.Query().Get("admin_consent") != "True" || back.Query().Get("tenant") != contosoID ||
		back.Query().Get("scope") != "https://graph.microsoft.com/User.Read" || back.Query().Get("state") != "xyz" {
		t.Fatalf("accept: %d %s", status, loc)
	}
	if roles := rolesOf(t, env.token(t, "/"+contosoID+"/oauth2/token", cc(appID, secret, wellknown.GraphResource))); !slices.Equal(roles, []string{"User.Read.All"}) {
		t.Fatalf("roles after consent %v", roles)
	}
	r = env.post(t, "/"+contosoID+"/oauth2/v2.0/token", url.Values{"grant_type": {"password"}, "client_id": {appID}, "client_secret": {secret},
		"username": {"lynne@contoso.onmicrosoft.com"}, "password": {"lynne-pw"}, "scope": {"https://graph.microsoft.com/User.Read"}})
	if r.status != 200 {
		t.Fatalf("delegated after consent: %d %s", r.status, r.raw)
	}
	// Consenting twice changes nothing.
	send(http.MethodPost, url.Values{"login": {"admin@contoso.onmicrosoft.com"}, "passwd": {"admin-pw"}, "consent": {"accept"}})
	r = env.graph(t, "GET", "/oauth2PermissionGrants", admin, "")
	if g := values(t, r); len(g) != 1 || g[0]["scope"] != "User.Read" {
		t.Fatalf("grants %s", r.raw)
	}
	// A redirect URI the app does not have is refused on the page itself.
	consentURL = strings.Replace(consentURL, url.QueryEscape(redirect), url.QueryEscape("https://evil.example/cb"), 1)
	status, _, page = send(http.MethodGet, nil)
	if status != 400 || !strings.Contains(page, "AADSTS50011") {
		t.Fatalf("bad redirect: %d %s", status, page)
	}
}
