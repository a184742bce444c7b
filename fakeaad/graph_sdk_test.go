package fakeaad

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/m365snow/m365snow/internal/wellknown"
)

// sdkClient sends requests the way Microsoft's Graph SDK for Go
// (msgraph-sdk-go 1.x on Kiota) does: query option names escaped as %24,
// "@odata.type" on every serialised object, Accept/Content-Type JSON, a
// client-request-id per request, SdkVersion and User-Agent headers. The
// SDK itself is not a test dependency: building it took longer than the
// whole suite on two cores (docs/fidelity-graph.md, "msgraph-sdk-go").
type sdkClient struct {
	t     *testing.T
	env   *testEnv
	token string
}

func (c *sdkClient) do(method, path string, query []string, body map[string]any, header ...string) response {
	c.t.Helper()
	u := c.env.ts.URL + "/v1.0" + path
	if len(query) > 0 {
		u += "?" + strings.Join(query, "&")
	}
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, u, rd)
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("client-request-id", uuid.NewString())
	req.Header.Set("SdkVersion", "graph-go/1.89.0")
	req.Header.Set("User-Agent", "kiota-go/1.9.0")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	r := c.env.do(c.t, req)
	if r.header.Get("client-request-id") != req.Header.Get("client-request-id") {
		c.t.Errorf("client-request-id not echoed: %v", r.header)
	}
	return r
}

// A vendor pipeline creates the guide's three applications (outbound,
// Rest API, Rest User), their secrets and principals, grants the outbound
// app Graph's User.Read.All, lists what it made, and disables a principal
// — then makes the same calls with mistakes.
func TestGraphVendorAutomation(t *testing.T) {
	env := newEnv(t, false)
	sdk := &sdkClient{t: t, env: env, token: env.userToken(t, "admin@contoso.onmicrosoft.com", "admin-pw", wellknown.GraphResource)}

	type made struct{ id, appID, secret, sp string }
	apps := map[string]*made{}
	for _, name := range []string{"ServiceNow Outbound", "ServiceNow Rest API", "ServiceNow Rest User"} {
		body := map[string]any{"@odata.type": "#microsoft.graph.application", "displayName": name, "signInAudience": "AzureADMyOrg"}
		if name == "ServiceNow Outbound" {
			body["web"] = map[string]any{"@odata.type": "#microsoft.graph.webApplication", "redirectUris": []string{"https://dev1.service-now.com/auth_redirect.do"}}
		}
		r := sdk.do("POST", "/applications", nil, body)
		if r.status != 201 {
			t.Fatalf("create %s: %d %s", name, r.status, r.raw)
		}
		m := &made{id: r.body["id"].(string), appID: r.body["appId"].(string)}
		r = sdk.do("POST", "/applications/"+m.id+"/addPassword", nil, map[string]any{
			"passwordCredential": map[string]any{"@odata.type": "#microsoft.graph.passwordCredential", "displayName": "servicenow", "endDateTime": "2027-03-02T09:00:00.000000000Z"}})
		if r.status != 200 || len(r.body["secretText"].(string)) != 40 {
			t.Fatalf("addPassword %s: %d %s", name, r.status, r.raw)
		}
		m.secret = r.body["secretText"].(string)
		r = sdk.do("POST", "/servicePrincipals", nil, map[string]any{"@odata.type": "#microsoft.graph.servicePrincipal", "appId": m.appID})
		if r.status != 201 {
			t.Fatalf("servicePrincipal %s: %d %s", name, r.status, r.raw)
		}
		m.sp = r.body["id"].(string)
		apps[name] = m
	}

	// Grant the outbound app User.Read.All the way the SDK's docs do:
	// look up Graph's principal by appId, then assign the role.
	r := sdk.do("GET", "/servicePrincipals", []string{"%24filter=" + q("appId eq '"+wellknown.GraphAppID+"'"), "%24select=id,appRoles"}, nil)
	graphSP := values(t, r)[0]["id"].(string)
	out := apps["ServiceNow Outbound"]
	r = sdk.do("POST", "/servicePrincipals/"+out.sp+"/appRoleAssignedTo", nil, map[string]any{"@odata.type": "#microsoft.graph.appRoleAssignment",
		"principalId": out.sp, "resourceId": graphSP, "appRoleId": userReadAllRole})
	if r.status != 400 {
		t.Fatalf("appRoleAssignedTo on the client must be refused (the path names the resource): %d %s", r.status, r.raw)
	}
	r = sdk.do("POST", "/servicePrincipals/"+graphSP+"/appRoleAssignedTo", nil, map[string]any{"@odata.type": "#microsoft.graph.appRoleAssignment",
		"principalId": out.sp, "resourceId": graphSP, "appRoleId": userReadAllRole})
	if r.status != 201 {
		t.Fatalf("appRoleAssignedTo: %d %s", r.status, r.raw)
	}
	tok := env.token(t, "/"+contosoID+"/oauth2/token", cc(out.appID, out.secret, wellknown.GraphResource))
	if roles := rolesOf(t, tok); len(roles) != 1 || roles[0] != "User.Read.All" {
		t.Fatalf("outbound roles %v", roles)
	}

	// List what was made: $filter/$select/$top with the SDK's page walk.
	var seen []string
	query := []string{"%24filter=" + q("startswith(displayName,'ServiceNow')"), "%24select=appId,displayName", "%24top=2"}
	path := "/applications"
	for pages := 0; path != ""; pages++ {
		r := sdk.do("GET", path, query, nil)
		if r.status != 200 || pages > 3 {
			t.Fatalf("page %d: %d %s", pages, r.status, r.raw)
		}
		for _, o := range values(t, r) {
			seen = append(seen, o["displayName"].(string))
		}
		next, _ := r.body["@odata.nextLink"].(string)
		path, query = "", nil
		if next != "" {
			p, qs, _ := strings.Cut(strings.TrimPrefix(next, "https://graph.microsoft.com/v1.0"), "?")
			path, query = p, strings.Split(qs, "&")
		}
	}
	if len(seen) != 3 {
		t.Fatalf("listed %v", seen)
	}
	// The same with $count and ConsistencyLevel, as the SDK's request
	// configuration sets them.
	r = sdk.do("GET", "/applications", []string{"%24count=true", "%24filter=" + q("startswith(displayName,'ServiceNow')"), "%24orderby=displayName"}, nil, "ConsistencyLevel", "eventual")
	if r.status != 200 || r.body["@odata.count"] == nil || names(values(t, r))[0] != "ServiceNow Outbound" {
		t.Fatalf("advanced list: %d %s", r.status, r.raw)
	}

	// Disable the Rest User principal: its sign-ins stop.
	ru := apps["ServiceNow Rest User"]
	if r := sdk.do("PATCH", "/servicePrincipals/"+ru.sp, nil, map[string]any{"@odata.type": "#microsoft.graph.servicePrincipal", "accountEnabled": false}); r.status != 204 {
		t.Fatalf("disable: %d %s", r.status, r.raw)
	}
	checkSTSError(t, env.post(t, "/"+contosoID+"/oauth2/token", cc(ru.appID, ru.secret, connector)), 400, "unauthorized_client", 7000112, "is disabled")

	// The same calls with mistakes.
	mistakes := []struct {
		name, method, path string
		query              []string
		body               map[string]any
		status             int
		code, msg          string
	}{
		{"a second principal", "POST", "/servicePrincipals", nil, map[string]any{"appId": out.appID}, 409, "Request_MultipleObjectsWithSameKeyValue", "is already in use"},
		{"a principal for no application", "POST", "/servicePrincipals", nil, map[string]any{"appId": "00000000-0000-0000-0000-000000000042"}, 400, "Request_BadRequest", "does not reference a valid application object"},
		{"a secret on a missing application", "POST", "/applications(appId='00000000-0000-0000-0000-000000000042')/addPassword", nil, map[string]any{"passwordCredential": map[string]any{}}, 404, "Request_ResourceNotFound", "does not exist"},
		{"a password credential property that does not exist", "POST", "/applications/" + out.id + "/addPassword", nil, map[string]any{"passwordCredential": map[string]any{"expiry": "soon"}}, 400, "Request_BadRequest", "Property 'expiry' does not exist on type 'microsoft.graph.passwordCredential'."},
		{"$top over the limit", "GET", "/applications", []string{"%24top=5000"}, nil, 400, "Request_UnsupportedQuery", "Invalid page size specified: '5000'."},
		{"$orderby without advanced parameters", "GET", "/applications", []string{"%24orderby=displayName"}, nil, 400, "Request_UnsupportedQuery", "Sorting not supported for current query."},
		{"a misspelt $select", "GET", "/servicePrincipals", []string{"%24select=appid,displayname"}, nil, 400, "BadRequest", "Could not find a property named 'appid' on type 'microsoft.graph.servicePrincipal'."},
		{"an unknown service principal property", "PATCH", "/servicePrincipals/" + ru.sp, nil, map[string]any{"enabled": true}, 400, "Request_BadRequest", "Property 'enabled' does not exist on type 'microsoft.graph.servicePrincipal'."},
	}
	for _, m := range mistakes {
		t.Run(m.name, func(t *testing.T) {
			sub := *sdk
			sub.t = t
			checkGraphError(t, sub.do(m.method, m.path, m.query, m.body), m.status, m.code, m.msg)
		})
	}
}
