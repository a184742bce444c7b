package fakeaad

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/m365snow/m365snow/internal/clock"
	"github.com/m365snow/m365snow/internal/wellknown"
)

func TestTokenSuccessShapes(t *testing.T) {
	env := newEnv(t, false)
	now := clock.Epoch.Unix()
	cases := []struct {
		name       string
		path       string
		form       url.Values
		basic      bool
		v2Response bool
		claims     map[string]any // exact values
		absent     []string
		headerX5t  bool
	}{
		{
			name: "v1 client credentials, App ID URI resource",
			path: "/" + contosoID + "/oauth2/token", form: cc(outboundID, "outbound-secret", connector),
			claims: map[string]any{"aud": connector, "iss": "https://sts.windows.net/" + contosoID + "/", "appid": outboundID,
				"appidacr": "1", "idp": "https://sts.windows.net/" + contosoID + "/", "tid": contosoID, "ver": "1.0"},
			absent: []string{"azp", "upn", "scp", "roles", "jti"}, headerX5t: true,
		},
		{
			name: "v1 client credentials by domain name and HTTP Basic, GUID resource",
			path: "/CONTOSO.onmicrosoft.com/oauth2/token", form: url.Values{"grant_type": {"client_credentials"}, "resource": {restAPIID}},
			basic: true, headerX5t: true,
			claims: map[string]any{"aud": restAPIID, "appid": restUserID, "tid": contosoID, "ver": "1.0"},
		},
		{
			name: "v2 endpoint for a v1 resource issues a v1 token",
			path: "/" + contosoID + "/oauth2/v2.0/token", form: ccV2(outboundID, "outbound-secret", connector+"/.default openid profile offline_access"),
			v2Response: true, headerX5t: true,
			claims: map[string]any{"aud": connector, "iss": "https://sts.windows.net/" + contosoID + "/", "ver": "1.0", "appid": outboundID},
		},
		{
			name: "v2 endpoint for a v2 resource",
			path: "/" + contosoID + "/oauth2/v2.0/token", form: ccV2(outboundID, "outbound-secret", "api://modern/.default"),
			v2Response: true,
			claims:     map[string]any{"aud": modernID, "iss": env.ts.URL + "/" + contosoID + "/v2.0", "ver": "2.0", "azp": outboundID, "azpacr": "1"},
			absent:     []string{"appid", "appidacr", "idp"},
		},
		{
			name: "v1 password grant of a Global Administrator",
			path: "/contoso.onmicrosoft.com/oauth2/token", form: ropc("admin@contoso.onmicrosoft.com", "admin-pw", wellknown.AdminPortalResource),
			claims: map[string]any{"aud": wellknown.AdminPortalResource, "upn": "admin@contoso.onmicrosoft.com", "unique_name": "admin@contoso.onmicrosoft.com",
				"appid": cliID, "appidacr": "0", "name": "Megan Bowen", "given_name": "Megan", "family_name": "Bowen", "scp": "user_impersonation", "ver": "1.0"},
			absent: []string{"roles", "idp"}, headerX5t: true,
		},
		{
			name:       "v2 password grant on /organizations finds the tenant from the user name",
			path:       "/organizations/oauth2/v2.0/token",
			form:       url.Values{"grant_type": {"password"}, "client_id": {cliID}, "username": {"helpdesk@contoso.onmicrosoft.com"}, "password": {"helpdesk-pw"}, "scope": {"https://graph.microsoft.com/User.Read openid"}},
			v2Response: true, headerX5t: true,
			claims: map[string]any{"aud": wellknown.GraphResource, "tid": contosoID, "scp": "User.Read", "upn": "helpdesk@contoso.onmicrosoft.com"},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodPost, env.ts.URL+c.path, strings.NewReader(c.form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			if c.basic {
				req.SetBasicAuth(url.QueryEscape(restUserID), url.QueryEscape("restuser-secret"))
			}
			r := env.do(t, req)
			if r.status != 200 {
				t.Fatalf("status %d: %s", r.status, r.raw)
			}
			if got := r.header.Get("Cache-Control"); got != "no-store, no-cache" {
				t.Errorf("Cache-Control %q", got)
			}
			if r.body["token_type"] != "Bearer" {
				t.Errorf("token_type %v", r.body["token_type"])
			}
			if c.v2Response {
				if r.body["expires_in"] != json.Number("3599") || r.body["ext_expires_in"] != json.Number("3599") {
					t.Errorf("v2 expires_in must be the number 3599: %s", r.raw)
				}
				if _, ok := r.body["expires_on"]; ok {
					t.Error("v2 response carries expires_on")
				}
			} else {
				want := map[string]any{"expires_in": "3599", "ext_expires_in": "3599",
					"expires_on": fmt.Sprint(now + 3600), "not_before": fmt.Sprint(now - 300)}
				for k, v := range want {
					if r.body[k] != v {
						t.Errorf("v1 %s = %#v, want the string %q", k, r.body[k], v)
					}
				}
				if r.body["resource"] != c.form.Get("resource") {
					t.Errorf("resource echo %v", r.body["resource"])
				}
			}
			h, claims := decodeJWT(t, r.body["access_token"].(string))
			if h["alg"] != "RS256" || h["typ"] != "JWT" || h["kid"] == nil {
				t.Errorf("header %v", h)
			}
			if _, has := h["x5t"]; has != c.headerX5t || (has && h["x5t"] != h["kid"]) {
				t.Errorf("x5t in header %v, want %v and equal to kid", h["x5t"], c.headerX5t)
			}
			for k, v := range c.claims {
				if fmt.Sprint(claims[k]) != fmt.Sprint(v) {
					t.Errorf("claim %s = %v, want %v", k, claims[k], v)
				}
			}
			for _, k := range c.absent {
				if _, ok := claims[k]; ok {
					t.Errorf("claim %s present: %v", k, claims[k])
				}
			}
			for k, want := range map[string]int64{"iat": now - 300, "nbf": now - 300, "exp": now + 3600} {
				if got, _ := claims[k].(json.Number).Int64(); got != want {
					t.Errorf("%s = %v, want %d", k, claims[k], want)
				}
			}
			if uti, _ := claims["uti"].(string); len(uti) != 22 {
				t.Errorf("uti %q is not 22 base64url characters", uti)
			}
			for _, k := range []string{"aio", "rh", "oid", "sub"} {
				if s, _ := claims[k].(string); s == "" {
					t.Errorf("claim %s missing", k)
				}
			}
		})
	}
}

func TestTokenUserClaims(t *testing.T) {
	env := newEnv(t, false)
	tok := env.token(t, "/"+contosoID+"/oauth2/token", ropc("admin@contoso.onmicrosoft.com", "admin-pw", wellknown.GraphResource))
	_, c := decodeJWT(t, tok)
	wids := fmt.Sprint(c["wids"])
	for _, role := range []string{wellknown.RoleGlobalAdministrator, "b79fbf4d-3ef9-4689-8143-76b194e85509"} {
		if !strings.Contains(wids, role) {
			t.Errorf("wids %s lacks %s", wids, role)
		}
	}
	if c["oid"] == c["sub"] {
		t.Error("a user token's sub is pairwise, not the object id")
	}
	if fmt.Sprint(c["amr"]) != "[pwd]" {
		t.Errorf("amr %v", c["amr"])
	}
	app := env.token(t, "/"+contosoID+"/oauth2/token", cc(outboundID, "outbound-secret", connector))
	_, a := decodeJWT(t, app)
	if a["oid"] != a["sub"] {
		t.Error("an app-only token's sub equals oid")
	}
	// The first-party connector app carries its granted Graph permission.
	conn := env.token(t, "/"+contosoID+"/oauth2/token", cc(wellknown.ConnectorAppID, wellknown.ConnectorDefaultSecret, wellknown.GraphResource))
	_, g := decodeJWT(t, conn)
	if fmt.Sprint(g["roles"]) != "[Directory.Read.All]" {
		t.Errorf("roles %v", g["roles"])
	}
}

func TestTokenErrors(t *testing.T) {
	v1 := "/" + contosoID + "/oauth2/token"
	v2 := "/" + contosoID + "/oauth2/v2.0/token"
	without := func(v url.Values, key string) url.Values { v.Del(key); return v }
	with := func(v url.Values, key, val string) url.Values { v.Set(key, val); return v }
	cases := []struct {
		name    string
		path    string
		form    url.Values
		advance time.Duration
		status  int
		errCode string
		aadsts  int
		text    string
	}{
		{"wrong secret", v1, cc(outboundID, "nope", connector), 0, 401, "invalid_client", 7000215, "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '" + outboundID + "'."},
		{"expired secret", v1, cc(outboundID, "short-lived", connector), 2 * time.Hour, 401, "invalid_client", 7000222, "The provided client secret keys for app '" + outboundID + "' are expired."},
		{"unknown client", v1, cc("00000000-1111-2222-3333-444444444444", "x", connector), 0, 400, "unauthorized_client", 700016, "Application with identifier '00000000-1111-2222-3333-444444444444' was not found in the directory 'Contoso'."},
		{"single-tenant app used in another tenant", "/" + fabrikamID + "/oauth2/token", cc(outboundID, "outbound-secret", connector), 0, 400, "unauthorized_client", 700016, "was not found in the directory 'Fabrikam'"},
		{"registration without a service principal", v1, cc(noSPID, "nosp-secret", connector), 0, 401, "invalid_client", 7000229, "The client application " + noSPID + " is missing service principal in the tenant " + contosoID + "."},
		{"unknown tenant by domain", "/nowhere.onmicrosoft.com/oauth2/token", cc(outboundID, "outbound-secret", connector), 0, 400, "invalid_tenant", 90002, "Tenant 'nowhere.onmicrosoft.com' not found."},
		{"unknown tenant by GUID", "/00000000-0000-0000-0000-00000000aaaa/oauth2/token", cc(outboundID, "outbound-secret", connector), 0, 400, "invalid_tenant", 90002, "Tenant '00000000-0000-0000-0000-00000000aaaa' not found."},
		{"malformed tenant", "/contoso/oauth2/token", cc(outboundID, "outbound-secret", connector), 0, 400, "invalid_request", 900023, "Specified tenant identifier 'contoso' is neither a valid DNS name, nor a valid external domain."},
		{"client credentials on /common", "/common/oauth2/token", cc(outboundID, "outbound-secret", connector), 0, 400, "invalid_request", 50059, "No tenant-identifying information found"},
		{"unknown resource", v1, cc(outboundID, "outbound-secret", "https://nothing.example"), 0, 400, "invalid_resource", 500011, "The resource principal named https://nothing.example was not found in the tenant named Contoso."},
		{"resource without a principal here", v1, cc(outboundID, "outbound-secret", noSPID), 0, 400, "invalid_resource", 500011, "was not found in the tenant named Contoso"},
		{"missing grant_type", v1, without(cc(outboundID, "outbound-secret", connector), "grant_type"), 0, 400, "invalid_request", 900144, "The request body must contain the following parameter: 'grant_type'."},
		{"missing client_id", v1, without(cc(outboundID, "outbound-secret", connector), "client_id"), 0, 400, "invalid_request", 900144, "parameter: 'client_id'."},
		{"missing resource", v1, without(cc(outboundID, "outbound-secret", connector), "resource"), 0, 400, "invalid_request", 900144, "parameter: 'resource'."},
		{"missing secret", v1, without(cc(outboundID, "outbound-secret", connector), "client_secret"), 0, 401, "invalid_client", 7000218, "The request body must contain the following parameter: 'client_assertion' or 'client_secret'."},
		{"unsupported grant", v1, with(cc(outboundID, "outbound-secret", connector), "grant_type", "urn:ietf:params:oauth:grant-type:token-exchange"), 0, 400, "unsupported_grant_type", 70003, "The app requested an unsupported grant type 'urn:ietf:params:oauth:grant-type:token-exchange'."},
		{"wrong user password", v1, ropc("admin@contoso.onmicrosoft.com", "guess", connector), 0, 400, "invalid_grant", 50126, "Error validating credentials due to invalid username or password."},
		{"unknown user", v1, ropc("who@contoso.onmicrosoft.com", "x", connector), 0, 400, "invalid_grant", 50034, "The user account who@contoso.onmicrosoft.com does not exist in the " + contosoID + " directory."},
		{"disabled user", v1, ropc("gone@contoso.onmicrosoft.com", "gone-pw", connector), 0, 400, "invalid_grant", 50057, "The user account is disabled."},
		{"public client sends a secret", v1, with(ropc("admin@contoso.onmicrosoft.com", "admin-pw", connector), "client_secret", "x"), 0, 400, "invalid_request", 700025, "Client is public"},
		{"v2 scope without /.default", v2, ccV2(outboundID, "outbound-secret", "api://modern/read"), 0, 400, "invalid_scope", 1002012, "The provided value for scope api://modern/read is not valid."},
		{"v2 scopes of two resources", v2, ccV2(outboundID, "outbound-secret", "api://modern/.default "+connector+"/.default"), 0, 400, "invalid_scope", 700022, "more than one resource"},
		{"v2 with resource", v2, with(ccV2(outboundID, "outbound-secret", "api://modern/.default"), "resource", connector), 0, 400, "invalid_request", 901002, "The 'resource' request parameter isn't supported."},
		{"v2 missing scope", v2, without(ccV2(outboundID, "outbound-secret", ""), "scope"), 0, 400, "invalid_request", 900144, "parameter: 'scope'."},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			env := newEnv(t, false)
			env.clock.Advance(c.advance)
			req, _ := http.NewRequest(http.MethodPost, env.ts.URL+c.path, strings.NewReader(c.form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("client-request-id", "5be327fc-0000-4000-8000-000000000001")
			r := env.do(t, req)
			checkSTSError(t, r, c.status, c.errCode, c.aadsts, c.text)
			if r.body["correlation_id"] != "5be327fc-0000-4000-8000-000000000001" {
				t.Errorf("correlation_id %v does not echo client-request-id", r.body["correlation_id"])
			}
		})
	}
}

var descRE = regexp.MustCompile(`^AADSTS(\d+): (.*) Trace ID: ([0-9a-f-]{36}) Correlation ID: ([0-9a-f-]{36}) Timestamp: (\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ)$`)

func checkSTSError(t *testing.T, r response, status int, code string, aadsts int, text string) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d: %s", r.status, status, r.raw)
	}
	// Retry-After belongs to throttling (429) only: MSAL Python throttles
	// the same request for Retry-After seconds whatever the status
	// (reference/aad.md, ThrottledHttpClient), so on any other error it
	// would hold back a corrected retry.
	if ra, ok := r.header["Retry-After"]; ok && status != http.StatusTooManyRequests {
		t.Errorf("Retry-After %q on a %d", ra, status)
	}
	if r.body["error"] != code {
		t.Errorf("error %v, want %s", r.body["error"], code)
	}
	m := descRE.FindStringSubmatch(fmt.Sprint(r.body["error_description"]))
	if m == nil {
		t.Fatalf("error_description not in Entra's form: %v", r.body["error_description"])
	}
	if m[1] != fmt.Sprint(aadsts) || !strings.Contains(m[2], text) {
		t.Errorf("description %q, want AADSTS%d containing %q", r.body["error_description"], aadsts, text)
	}
	if fmt.Sprint(r.body["error_codes"]) != fmt.Sprintf("[%d]", aadsts) {
		t.Errorf("error_codes %v", r.body["error_codes"])
	}
	if r.body["trace_id"] != m[3] || r.header.Get("x-ms-request-id") != m[3] {
		t.Errorf("trace_id %v / x-ms-request-id %s / description %s disagree", r.body["trace_id"], r.header.Get("x-ms-request-id"), m[3])
	}
	if r.body["timestamp"] != m[5] {
		t.Errorf("timestamp %v", r.body["timestamp"])
	}
	if u, _ := r.body["error_uri"].(string); !strings.HasSuffix(u, fmt.Sprintf("/error?code=%d", aadsts)) {
		t.Errorf("error_uri %q", u)
	}
}

func TestTokenEndpointRefusesGet(t *testing.T) {
	env := newEnv(t, false)
	r := env.get(t, "/"+contosoID+"/oauth2/token?grant_type=client_credentials")
	checkSTSError(t, r, 400, "invalid_request", 900561, "The endpoint only accepts POST, OPTIONS requests. Received a GET request.")
}

func TestTokenIgnoresQueryParameters(t *testing.T) {
	env := newEnv(t, false)
	// Entra reads grant_type from the body only.
	req, _ := http.NewRequest(http.MethodPost, env.ts.URL+"/"+contosoID+"/oauth2/token?grant_type=client_credentials", strings.NewReader(""))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	checkSTSError(t, env.do(t, req), 400, "invalid_request", 900144, "'grant_type'")
}

func TestMultiTenantAppInForeignTenant(t *testing.T) {
	env := newEnv(t, false)
	tok := env.token(t, "/fabrikam.onmicrosoft.com/oauth2/token", cc(multiID, "multi-secret", wellknown.GraphResource))
	_, c := decodeJWT(t, tok)
	if c["tid"] != fabrikamID || c["appid"] != multiID {
		t.Fatalf("claims %v", c)
	}
	_, home := decodeJWT(t, env.token(t, "/contoso.onmicrosoft.com/oauth2/token", cc(multiID, "multi-secret", wellknown.GraphResource)))
	if home["oid"] == c["oid"] {
		t.Error("a principal's object id is per tenant")
	}
}

func TestConcurrentTokenRequests(t *testing.T) {
	env := newEnv(t, false)
	var wg sync.WaitGroup
	errs := make(chan string, 200)
	for i := range 200 {
		wg.Go(func() {
			form := cc(outboundID, "outbound-secret", connector)
			want := 200
			if i%4 == 0 {
				form.Set("client_secret", "bad")
				want = 401
			}
			r := env.post(t, "/"+contosoID+"/oauth2/token", form)
			if r.status != want {
				errs <- fmt.Sprintf("request %d: %d %s", i, r.status, r.raw)
			}
		})
	}
	wg.Go(func() {
		for range 20 {
			env.clock.Advance(time.Second)
			_, _ = env.srv.ExportState()
		}
	})
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}

func TestTokensAreUnique(t *testing.T) {
	env := newEnv(t, false)
	seen := map[string]bool{}
	for range 5 {
		tok := env.token(t, "/"+contosoID+"/oauth2/token", cc(outboundID, "outbound-secret", connector))
		_, c := decodeJWT(t, tok)
		uti := c["uti"].(string)
		if seen[uti] {
			t.Fatalf("uti %s issued twice", uti)
		}
		seen[uti] = true
	}
	if len(slices.Collect(func(yield func(string) bool) {
		for k := range seen {
			if !yield(k) {
				return
			}
		}
	})) != 5 {
		t.Fatal("expected five distinct tokens")
	}
}
