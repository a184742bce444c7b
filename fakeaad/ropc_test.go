package fakeaad

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/AzureAD/microsoft-authentication-library-for-go/apps/public"
)

// msalPublic is an unmodified MSAL Go public client on the fake's TLS
// listener, instance discovery off (reference/aad.md §5.1).
func msalPublic(t testing.TB, env *testEnv, tenant, clientID string, opts ...public.Option) public.Client {
	t.Helper()
	opts = append([]public.Option{public.WithAuthority(env.ts.URL + "/" + tenant), public.WithHTTPClient(env.ts.Client()),
		public.WithInstanceDiscovery(false)}, opts...)
	app, err := public.New(clientID, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return app
}

// MSAL Go asks /common/UserRealm first and then posts the password grant
// with openid offline_access profile and client_info=1; it needs an
// id_token, a refresh_token and client_info back to cache an account.
func TestMSALUsernamePassword(t *testing.T) {
	env := newFlowEnv(t, true, nil)
	app := msalPublic(t, env, contosoID, nativeID)
	ctx := context.Background()
	res, err := app.AcquireTokenByUsernamePassword(ctx, []string{"User.Read"}, "admin@contoso.onmicrosoft.com", "admin-pw")
	if err != nil {
		t.Fatalf("MSAL Go ROPC: %v", err)
	}
	_, at := decodeJWT(t, res.AccessToken)
	if at["scp"] != "User.Read" || at["upn"] != "admin@contoso.onmicrosoft.com" || at["aud"] != "https://graph.microsoft.com" {
		t.Errorf("access token claims %v", at)
	}
	oid := at["oid"].(string)
	// The account MSAL caches is keyed by client_info: uid.utid.
	if res.Account.HomeAccountID != oid+"."+contosoID || res.Account.PreferredUsername != "admin@contoso.onmicrosoft.com" {
		t.Errorf("MSAL account %+v", res.Account)
	}
	if res.IDToken.Oid != oid || res.IDToken.TenantID != contosoID || res.IDToken.Audience != nativeID ||
		res.IDToken.Issuer != env.ts.URL+"/"+contosoID+"/v2.0" || res.IDToken.Name != "Megan Bowen" {
		t.Errorf("ID token %+v", res.IDToken)
	}
	accounts, err := app.Accounts(ctx)
	if err != nil || len(accounts) != 1 {
		t.Fatalf("accounts %v %v", accounts, err)
	}
	// Wrong password and /common, with Entra's codes.
	if _, err := app.AcquireTokenByUsernamePassword(ctx, []string{"User.Read"}, "admin@contoso.onmicrosoft.com", "guess"); err == nil || !strings.Contains(err.Error(), "AADSTS50126") {
		t.Errorf("wrong password: %v", err)
	}
	common := msalPublic(t, env, "common", nativeID)
	if _, err := common.AcquireTokenByUsernamePassword(ctx, []string{"User.Read"}, "admin@contoso.onmicrosoft.com", "admin-pw"); err == nil || !strings.Contains(err.Error(), "AADSTS9001023") {
		t.Errorf("ROPC on /common: %v", err)
	}
	orgs := msalPublic(t, env, "organizations", nativeID)
	if _, err := orgs.AcquireTokenByUsernamePassword(ctx, []string{"User.Read"}, "admin@contoso.onmicrosoft.com", "admin-pw"); err != nil {
		t.Errorf("ROPC on /organizations (home realm from the user name): %v", err)
	}
}

// The password grant's response follows the scopes: id_token only with
// openid, refresh_token only with offline_access, client_info only when
// asked; /common and /consumers refuse the grant on v2.
func TestPasswordGrantResponse(t *testing.T) {
	env := newFlowEnv(t, false, nil)
	base := func(scope string) map[string][]string {
		return map[string][]string{"grant_type": {"password"}, "client_id": {nativeID}, "username": {"lynne@contoso.onmicrosoft.com"},
			"password": {"lynne-pw"}, "scope": {scope}}
	}
	for _, tc := range []struct {
		scope, clientInfo      string
		idToken, refresh, info bool
		scopeEcho              string
	}{
		{"User.Read", "", false, false, false, "User.Read"},
		{"User.Read openid", "", true, false, false, "User.Read openid"},
		{"User.Read offline_access", "", false, true, false, "User.Read"},
		{"User.Read openid profile offline_access", "1", true, true, true, "User.Read profile openid"},
	} {
		form := base(tc.scope)
		if tc.clientInfo != "" {
			form["client_info"] = []string{tc.clientInfo}
		}
		r := env.post(t, "/"+contosoID+"/oauth2/v2.0/token", form)
		if r.status != 200 {
			t.Fatalf("%s: %d %s", tc.scope, r.status, r.raw)
		}
		_, hasID := r.body["id_token"]
		_, hasRT := r.body["refresh_token"]
		ci, hasCI := r.body["client_info"].(string)
		if hasID != tc.idToken || hasRT != tc.refresh || hasCI != tc.info || r.body["scope"] != tc.scopeEcho {
			t.Errorf("scope %q: id_token %v refresh_token %v client_info %v scope %q", tc.scope, hasID, hasRT, hasCI, r.body["scope"])
		}
		if hasCI {
			b, err := base64.RawURLEncoding.DecodeString(ci)
			var info map[string]string
			if err != nil || json.Unmarshal(b, &info) != nil || info["utid"] != contosoID || info["uid"] == "" {
				t.Errorf("client_info %q: %s", ci, b)
			}
		}
		if hasID {
			h, c := decodeJWT(t, r.body["id_token"].(string))
			for _, k := range []string{"aud", "iss", "iat", "nbf", "exp", "aio", "name", "oid", "preferred_username", "rh", "sub", "tid", "uti", "ver"} {
				if _, ok := c[k]; !ok {
					t.Errorf("id_token lacks %s: %v", k, c)
				}
			}
			if c["aud"] != nativeID || c["ver"] != "2.0" || h["kid"] == nil || h["x5t"] != nil {
				t.Errorf("id_token %v %v", h, c)
			}
		}
	}
	for _, seg := range []string{"common", "consumers"} {
		r := env.post(t, "/"+seg+"/oauth2/v2.0/token", base("User.Read"))
		if r.status != 400 || r.body["error"] != "invalid_request" || !strings.HasPrefix(r.body["error_description"].(string),
			"AADSTS9001023: The grant type is not supported over the /common or /consumers endpoints. Please use the /organizations or tenant-specific endpoint.") {
			t.Errorf("/%s: %d %s", seg, r.status, r.raw)
		}
	}
}

// The user realm as MSAL Go validates it (authority.go UserRealm.validate)
// and in the older v2 form.
func TestUserRealm(t *testing.T) {
	env := newFlowEnv(t, false, nil)
	r := env.get(t, "/common/UserRealm/admin@contoso.onmicrosoft.com?api-version=1.0")
	want := map[string]any{"ver": "1.0", "account_type": "Managed", "domain_name": "contoso.onmicrosoft.com",
		"cloud_instance_name": "microsoftonline.com", "cloud_audience_urn": "urn:federation:MicrosoftOnline"}
	for k, v := range want {
		if r.body[k] != v {
			t.Errorf("v1 %s = %v, want %v (%s)", k, r.body[k], v, r.raw)
		}
	}
	if r = env.get(t, "/common/UserRealm/who@nowhere.example?api-version=1.0"); r.body["account_type"] != "Unknown" {
		t.Errorf("unknown domain: %s", r.raw)
	}
	r = env.get(t, "/common/UserRealm/admin@contoso.onmicrosoft.com?api-version=2.0")
	if r.body["NameSpaceType"] != "Managed" || r.body["DomainName"] != "contoso.onmicrosoft.com" || r.body["FederationBrandName"] != "Contoso" {
		t.Errorf("v2: %s", r.raw)
	}
	if r = env.get(t, "/common/UserRealm/admin@contoso.onmicrosoft.com"); r.status != 400 || !strings.Contains(r.raw, "AADSTS900144") {
		t.Errorf("no api-version: %d %s", r.status, r.raw)
	}
}

// AcquireTokenSilent after the access token expired on the fake's clock
// redeems the refresh token; the refresh token itself expires after 90
// days and dies with a password reset.
func TestMSALSilentRefreshAfterExpiry(t *testing.T) {
	env := newFlowEnv(t, true, nil)
	c := &shiftingCache{}
	app := msalPublic(t, env, contosoID, nativeID, public.WithCache(c))
	ctx := context.Background()
	first, err := app.AcquireTokenByUsernamePassword(ctx, []string{"User.Read"}, "lynne@contoso.onmicrosoft.com", "lynne-pw")
	if err != nil {
		t.Fatal(err)
	}
	silent := func() (public.AuthResult, error) {
		accounts, err := app.Accounts(ctx)
		if err != nil || len(accounts) != 1 {
			t.Fatalf("accounts %v %v", accounts, err)
		}
		return app.AcquireTokenSilent(ctx, []string{"User.Read"}, public.WithSilentAccount(accounts[0]))
	}
	cached, err := silent()
	if err != nil || cached.AccessToken != first.AccessToken {
		t.Fatalf("a fresh token must come from the cache: %v", err)
	}
	c.age(env, 2*time.Hour)
	refreshed, err := silent()
	if err != nil {
		t.Fatalf("silent refresh after expiry: %v", err)
	}
	if refreshed.AccessToken == first.AccessToken {
		t.Fatal("MSAL returned the expired token")
	}
	if _, claims := decodeJWT(t, refreshed.AccessToken); claims["iat"].(json.Number).String() <= "0" ||
		mustInt(t, claims["exp"]) <= env.clock.Now().Unix() {
		t.Errorf("refreshed token is not dated by the fake's clock: %v", claims)
	}

	// Revoked by a password reset.
	if err := env.srv.ResetUserPassword("lynne@contoso.onmicrosoft.com", "new-pw"); err != nil {
		t.Fatal(err)
	}
	c.age(env, 2*time.Hour)
	if _, err := silent(); err == nil || !strings.Contains(err.Error(), "AADSTS50173") {
		t.Fatalf("refresh after a password reset: %v", err)
	}
}

func mustInt(t testing.TB, v any) int64 {
	t.Helper()
	n, err := v.(json.Number).Int64()
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// Refresh-token grant negatives on the wire.
func TestRefreshTokenErrors(t *testing.T) {
	env := newFlowEnv(t, false, nil)
	r := env.post(t, "/"+contosoID+"/oauth2/v2.0/token", map[string][]string{"grant_type": {"password"}, "client_id": {nativeID},
		"username": {"lynne@contoso.onmicrosoft.com"}, "password": {"lynne-pw"}, "scope": {"User.Read offline_access"}})
	rt, _ := r.body["refresh_token"].(string)
	if rt == "" {
		t.Fatalf("no refresh token: %s", r.raw)
	}
	refresh := func(client, token string) response {
		return env.post(t, "/"+contosoID+"/oauth2/v2.0/token", map[string][]string{"grant_type": {"refresh_token"},
			"client_id": {client}, "refresh_token": {token}, "scope": {"User.Read offline_access"}})
	}
	// Rotation: every redemption returns a new refresh token; the old one
	// stays valid (refresh-tokens.md), so both redeem.
	r1 := refresh(nativeID, rt)
	rt2, _ := r1.body["refresh_token"].(string)
	if r1.status != 200 || rt2 == "" || rt2 == rt {
		t.Fatalf("refresh: %d %s", r1.status, r1.raw)
	}
	if r := refresh(nativeID, rt2); r.status != 200 {
		t.Errorf("rotated token: %d %s", r.status, r.raw)
	}
	for _, tc := range []struct {
		name, client, token string
		code                int
		prefix              string
	}{
		{"garbage", nativeID, "not-a-token", 9002313, "AADSTS9002313: Invalid request. Request is malformed or invalid."},
		{"another client", secondID, rt, 0, ""},
		{"missing", nativeID, "", 900144, "AADSTS900144: The request body must contain the following parameter: 'refresh_token'."},
	} {
		r := refresh(tc.client, tc.token)
		if tc.code == 0 {
			// A confidential client without its secret is refused first.
			if r.status != 401 || !strings.Contains(r.raw, "AADSTS7000218") {
				t.Errorf("%s: %d %s", tc.name, r.status, r.raw)
			}
			continue
		}
		if r.status != 400 || !strings.HasPrefix(r.body["error_description"].(string), tc.prefix) {
			t.Errorf("%s: %d %s", tc.name, r.status, r.raw)
		}
	}
	env.clock.Advance(91 * 24 * time.Hour)
	if r := refresh(nativeID, rt2); r.status != 400 || r.body["error"] != "invalid_grant" ||
		!strings.Contains(r.body["error_description"].(string), "AADSTS700082: The refresh token has expired due to inactivity.") {
		t.Errorf("expired refresh token: %d %s", r.status, r.raw)
	}
}
