package fakeaad

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/m365snow/m365snow/internal/wellknown"
)

func (e *testEnv) graph(t testing.TB, method, path, token, body string) response {
	t.Helper()
	req, _ := http.NewRequest(method, e.ts.URL+"/v1.0"+path, strings.NewReader(body))
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	return e.do(t, req)
}

func (e *testEnv) userToken(t testing.TB, upn, pw, resource string) string {
	t.Helper()
	tenant := strings.SplitN(upn, "@", 2)[1]
	return e.token(t, "/"+tenant+"/oauth2/token", ropc(upn, pw, resource))
}

func checkGraphError(t *testing.T, r response, status int, code, msg string) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d: %s", r.status, status, r.raw)
	}
	e, _ := r.body["error"].(map[string]any)
	if e["code"] != code || !strings.Contains(e["message"].(string), msg) {
		t.Errorf("error %v, want %s containing %q", e, code, msg)
	}
	inner, _ := e["innerError"].(map[string]any)
	if inner["request-id"] == nil || inner["date"] == nil {
		t.Errorf("innerError %v", inner)
	}
}

// The guide's prerequisites, automated: create an app, get its client id,
// add a secret, create its principal, then use it.
func TestGraphPrerequisitesLifecycle(t *testing.T) {
	env := newEnv(t, false)
	admin := env.userToken(t, "admin@contoso.onmicrosoft.com", "admin-pw", wellknown.GraphResource)

	r := env.graph(t, "POST", "/applications", admin, `{"displayName":"ServiceNow outbound","signInAudience":"AzureADMyOrg","web":{"redirectUris":["https://dev1.service-now.com/oauth_redirect.do"]}}`)
	if r.status != 201 {
		t.Fatalf("create: %d %s", r.status, r.raw)
	}
	if r.body["@odata.context"] != "https://graph.microsoft.com/v1.0/$metadata#applications/$entity" || r.body["publisherDomain"] != "contoso.onmicrosoft.com" {
		t.Errorf("application %v", r.body)
	}
	objID, appID := r.body["id"].(string), r.body["appId"].(string)

	r = env.graph(t, "POST", "/applications/"+objID+"/addPassword", admin, `{"passwordCredential":{"displayName":"servicenow","endDateTime":"2026-03-02T12:00:00Z"}}`)
	if r.status != 200 {
		t.Fatalf("addPassword: %d %s", r.status, r.raw)
	}
	secret, keyID := r.body["secretText"].(string), r.body["keyId"].(string)
	if len(secret) != 40 || r.body["hint"] != secret[:3] || !strings.Contains(secret, "8Q~") {
		t.Errorf("secret %q hint %v", secret, r.body["hint"])
	}
	// The secret is shown once; reads carry only the hint.
	r = env.graph(t, "GET", "/applications(appId='"+appID+"')", admin, "")
	pc := r.body["passwordCredentials"].([]any)[0].(map[string]any)
	if pc["secretText"] != nil || pc["hint"] != secret[:3] {
		t.Errorf("read shows %v", pc)
	}

	form := cc(appID, secret, wellknown.ConnectorResource)
	checkSTSError(t, env.post(t, "/"+contosoID+"/oauth2/token", form), 401, "invalid_client", 7000229, "is missing service principal")
	r = env.graph(t, "POST", "/servicePrincipals", admin, `{"appId":"`+appID+`"}`)
	if r.status != 201 || r.body["appId"] != appID || r.body["appOwnerOrganizationId"] != contosoID {
		t.Fatalf("servicePrincipal: %d %s", r.status, r.raw)
	}
	checkGraphError(t, env.graph(t, "POST", "/servicePrincipals", admin, `{"appId":"`+appID+`"}`), 409, "Request_MultipleObjectsWithSameKeyValue", "already in use")
	env.token(t, "/"+contosoID+"/oauth2/token", form)

	// The secret expires with time, as the guide's troubleshooting expects.
	env.clock.Advance(4 * time.Hour)
	checkSTSError(t, env.post(t, "/"+contosoID+"/oauth2/token", form), 401, "invalid_client", 7000222, "are expired")
	admin = env.userToken(t, "admin@contoso.onmicrosoft.com", "admin-pw", wellknown.GraphResource)

	r = env.graph(t, "POST", "/applications/"+objID+"/removePassword", admin, `{"keyId":"`+keyID+`"}`)
	if r.status != 204 {
		t.Fatalf("removePassword: %d %s", r.status, r.raw)
	}
	checkSTSError(t, env.post(t, "/"+contosoID+"/oauth2/token", form), 401, "invalid_client", 7000215, "Invalid client secret provided")
	checkGraphError(t, env.graph(t, "POST", "/applications/"+objID+"/removePassword", admin, `{"keyId":"`+keyID+`"}`), 400, "Request_BadRequest", "No password credential")

	if r := env.graph(t, "DELETE", "/applications/"+objID, admin, ""); r.status != 204 {
		t.Fatalf("delete: %d %s", r.status, r.raw)
	}
	checkGraphError(t, env.graph(t, "GET", "/applications/"+objID, admin, ""), 404, "Request_ResourceNotFound", "does not exist")
	checkSTSError(t, env.post(t, "/"+contosoID+"/oauth2/token", form), 400, "unauthorized_client", 700016, "was not found")

	// The export carries the Graph-made registration faithfully.
	r = env.graph(t, "POST", "/applications", admin, `{"displayName":"kept"}`)
	state, err := env.srv.ExportState()
	if err != nil || !strings.Contains(string(state), r.body["appId"].(string)) || !strings.Contains(string(state), "servicePrincipal: false") {
		t.Fatalf("export lacks the new app: %v\n%s", err, state)
	}
}

func TestGraphAuthorization(t *testing.T) {
	env := newEnv(t, false)
	lynne := env.userToken(t, "lynne@contoso.onmicrosoft.com", "lynne-pw", wellknown.GraphResource)
	helpdesk := env.userToken(t, "helpdesk@contoso.onmicrosoft.com", "helpdesk-pw", wellknown.GraphResource)
	adminWrongAud := env.userToken(t, "admin@contoso.onmicrosoft.com", "admin-pw", wellknown.AdminPortalResource)
	admin := env.userToken(t, "admin@contoso.onmicrosoft.com", "admin-pw", wellknown.GraphResource)
	body := `{"displayName":"x"}`
	cases := []struct {
		name, token    string
		status         int
		code, contains string
	}{
		{"no token", "", 401, "InvalidAuthenticationToken", "Access token is empty."},
		{"garbage token", "abc.def.ghi", 401, "InvalidAuthenticationToken", "validation failure"},
		{"wrong audience", adminWrongAud, 401, "InvalidAuthenticationToken", "Invalid audience"},
		{"plain user", lynne, 403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation."},
		{"helpdesk admin is not an application admin", helpdesk, 403, "Authorization_RequestDenied", "Insufficient privileges"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			checkGraphError(t, env.graph(t, "POST", "/applications", c.token, body), c.status, c.code, c.contains)
		})
	}
	env.clock.Advance(2 * time.Hour)
	checkGraphError(t, env.graph(t, "POST", "/applications", admin, body), 401, "InvalidAuthenticationToken", "Lifetime validation failed, the token is expired.")
	fresh := env.userToken(t, "admin@contoso.onmicrosoft.com", "admin-pw", wellknown.GraphResource)
	checkGraphError(t, env.graph(t, "POST", "/applications", fresh, `{"displayName":"x","colour":"red"}`), 400, "Request_BadRequest", "Property 'colour' does not exist on type 'microsoft.graph.application'.")
	checkGraphError(t, env.graph(t, "POST", "/applications", fresh, `{}`), 400, "Request_BadRequest", "'displayName' is required")
	checkGraphError(t, env.graph(t, "GET", "/nothing", fresh, ""), 400, "BadRequest", "Resource not found for the segment 'nothing'.")
}

// The support connector reads users and their roles with its own app token.
func TestGraphDirectoryReads(t *testing.T) {
	env := newEnv(t, false)
	app := env.token(t, "/"+contosoID+"/oauth2/token", cc(wellknown.ConnectorAppID, wellknown.ConnectorDefaultSecret, wellknown.GraphResource))
	r := env.graph(t, "GET", "/users?$filter="+url.QueryEscape("mail eq 'MEGAN@contoso.com' or userPrincipalName eq 'megan@contoso.com'"), app, "")
	if r.status != 200 {
		t.Fatalf("%d %s", r.status, r.raw)
	}
	users := r.body["value"].([]any)
	if len(users) != 1 || users[0].(map[string]any)["userPrincipalName"] != "admin@contoso.onmicrosoft.com" {
		t.Fatalf("users %v", users)
	}
	id := users[0].(map[string]any)["id"].(string)
	r = env.graph(t, "GET", "/users/"+id+"/memberOf", app, "")
	roles := r.body["value"].([]any)
	if len(roles) != 1 || roles[0].(map[string]any)["roleTemplateId"] != wellknown.RoleGlobalAdministrator || roles[0].(map[string]any)["displayName"] != "Global Administrator" {
		t.Fatalf("memberOf %v", roles)
	}
	r = env.graph(t, "GET", "/users/lynne@contoso.onmicrosoft.com/memberOf", app, "")
	if len(r.body["value"].([]any)) != 0 {
		t.Fatalf("a plain user has roles: %v", r.body)
	}
	checkGraphError(t, env.graph(t, "GET", "/users/nobody@contoso.onmicrosoft.com", app, ""), 404, "Request_ResourceNotFound", "nobody@contoso.onmicrosoft.com")
	checkGraphError(t, env.graph(t, "GET", "/users?$filter="+url.QueryEscape("endswith(mail,'@contoso.com')"), app, ""), 400, "Request_UnsupportedQuery", "Operator 'endsWith' is not supported because the required parameters might be missing.")
	// An app without directory permissions may not read users.
	other := env.token(t, "/"+contosoID+"/oauth2/token", cc(outboundID, "outbound-secret", wellknown.GraphResource))
	checkGraphError(t, env.graph(t, "GET", "/users", other, ""), 403, "Authorization_RequestDenied", "Insufficient privileges")
	// Users of another tenant are invisible.
	fab := env.token(t, "/"+fabrikamID+"/oauth2/token", cc(wellknown.ConnectorAppID, wellknown.ConnectorDefaultSecret, wellknown.GraphResource))
	checkGraphError(t, env.graph(t, "GET", "/users/admin@contoso.onmicrosoft.com", fab, ""), 404, "Request_ResourceNotFound", "does not exist")
	var probe map[string]any
	_ = json.Unmarshal([]byte(env.graph(t, "GET", "/users/admin@fabrikam.onmicrosoft.com", fab, "").raw), &probe)
	if probe["userPrincipalName"] != "admin@fabrikam.onmicrosoft.com" {
		t.Fatalf("own tenant's user: %v", probe)
	}
}
