package fakeaad

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/AzureAD/microsoft-authentication-library-for-go/apps/public"
	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// MSAL Go's AuthCodeURL, the sign-in form submitted like a person would,
// and AcquireTokenByAuthCode with the PKCE verifier (MSAL sends it as
// code_verifier). A native app's http://localhost redirect takes any port.
func TestMSALAuthCodePKCE(t *testing.T) {
	env := newFlowEnv(t, true, nil)
	app := msalPublic(t, env, contosoID, nativeID)
	ctx := context.Background()
	redirect := "http://localhost:51234/"
	authURL, err := app.AuthCodeURL(ctx, nativeID, redirect, []string{"User.Read"})
	if err != nil {
		t.Fatal(err)
	}
	verifier := oauth2.GenerateVerifier()
	authURL += "&" + url.Values{"code_challenge": {oauth2.S256ChallengeFromVerifier(verifier)}, "code_challenge_method": {"S256"}, "state": {"xyz"}}.Encode()

	b := env.browser(t)
	p := b.get(authURL)
	if p.status != 200 || !strings.Contains(p.body, `id="passwd"`) || !strings.Contains(p.body, "Native tool") {
		t.Fatalf("sign-in page: %d %s", p.status, p.body)
	}
	// A wrong password re-renders the page with Entra's code.
	if p2 := b.submit(p, signInFields("admin@contoso.onmicrosoft.com", "guess")); !strings.HasPrefix(p2.errorText(), "AADSTS50126:") {
		t.Fatalf("wrong password on the page: %q", p2.errorText())
	}
	q := b.submit(p, signInFields("admin@contoso.onmicrosoft.com", "admin-pw")).redirectParams(t)
	if q.Get("state") != "xyz" || q.Get("code") == "" {
		t.Fatalf("redirect %v", q)
	}
	res, err := app.AcquireTokenByAuthCode(ctx, q.Get("code"), redirect, []string{"User.Read"}, public.WithChallenge(verifier))
	if err != nil {
		t.Fatalf("MSAL AcquireTokenByAuthCode: %v", err)
	}
	if res.Account.PreferredUsername != "admin@contoso.onmicrosoft.com" || res.IDToken.Audience != nativeID {
		t.Errorf("result %+v", res.Account)
	}
	// The same code again is AADSTS54005.
	if _, err := app.AcquireTokenByAuthCode(ctx, q.Get("code"), redirect, []string{"User.Read"}, public.WithChallenge(verifier)); err == nil || !strings.Contains(err.Error(), "AADSTS54005") {
		t.Errorf("code reuse: %v", err)
	}
}

// golang.org/x/oauth2 with PKCE, go-oidc checking the ID token and its
// nonce, then the TokenSource refreshing after expiry; a second app in the
// same browser signs in without a prompt (single sign-on).
func TestOAuth2AuthCodePKCEAndSSO(t *testing.T) {
	env := newFlowEnv(t, true, nil)
	ctx := oidc.ClientContext(context.Background(), env.ts.Client())
	provider, err := oidc.NewProvider(ctx, env.ts.URL+"/"+contosoID+"/v2.0")
	if err != nil {
		t.Fatal(err)
	}
	cfg := oauth2.Config{ClientID: webID, ClientSecret: "web-secret", Endpoint: provider.Endpoint(), RedirectURL: webRedir,
		Scopes: []string{oidc.ScopeOpenID, "profile", "email", oidc.ScopeOfflineAccess, "User.Read"}}
	verifier := oauth2.GenerateVerifier()
	authURL := cfg.AuthCodeURL("state-1", oauth2.S256ChallengeOption(verifier), oidc.Nonce("nonce-1"))
	b := env.browser(t)
	q := b.submit(b.get(authURL), signInFields("admin@contoso.onmicrosoft.com", "admin-pw")).redirectParams(t)
	if q.Get("state") != "state-1" {
		t.Fatalf("state %v", q)
	}
	tok, err := cfg.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("x/oauth2 exchange: %v", err)
	}
	rawID, _ := tok.Extra("id_token").(string)
	idt, err := provider.Verifier(&oidc.Config{ClientID: webID, Now: env.clock.Now}).Verify(ctx, rawID)
	if err != nil {
		t.Fatalf("go-oidc: %v", err)
	}
	if idt.Nonce != "nonce-1" {
		t.Errorf("nonce %q", idt.Nonce)
	}
	var claims struct {
		Email             string `json:"email"`
		PreferredUsername string `json:"preferred_username"`
		Sid               string `json:"sid"`
	}
	_ = idt.Claims(&claims)
	if claims.PreferredUsername != "admin@contoso.onmicrosoft.com" || claims.Sid == "" || claims.Email != "megan@contoso.com" {
		t.Errorf("id token claims %+v", claims)
	}
	if tok.RefreshToken == "" {
		t.Fatal("no refresh token for offline_access")
	}
	// The app's stored token is an hour old: its TokenSource refreshes.
	env.clock.Advance(61 * time.Minute)
	tok.Expiry = time.Now().Add(-time.Minute)
	fresh, err := cfg.TokenSource(ctx, tok).Token()
	if err != nil {
		t.Fatalf("x/oauth2 refresh: %v", err)
	}
	if fresh.AccessToken == tok.AccessToken || fresh.RefreshToken == "" {
		t.Errorf("refresh gave %+v", fresh)
	}

	// Single sign-on: another app, same browser, no form.
	second := oauth2.Config{ClientID: secondID, ClientSecret: "second-secret", Endpoint: provider.Endpoint(),
		RedirectURL: "https://second.contoso.com/callback", Scopes: []string{oidc.ScopeOpenID}}
	p := b.get(second.AuthCodeURL("s2", oidc.Nonce("n2")))
	sq := p.redirectParams(t)
	if sq.Get("code") == "" {
		t.Fatalf("SSO did not skip the sign-in page: %d %s", p.status, p.body)
	}
	t2, err := second.Exchange(ctx, sq.Get("code"))
	if err != nil {
		t.Fatal(err)
	}
	id2, err := provider.Verifier(&oidc.Config{ClientID: secondID, Now: env.clock.Now}).Verify(ctx, t2.Extra("id_token").(string))
	if err != nil {
		t.Fatal(err)
	}
	if id2.Subject == idt.Subject {
		t.Error("sub must be pairwise: two apps saw the same subject")
	}
	// prompt=none rides the session too; prompt=login does not.
	if q := b.get(second.AuthCodeURL("s3", oauth2.SetAuthURLParam("prompt", "none"))).redirectParams(t); q.Get("code") == "" {
		t.Errorf("prompt=none with a session: %v", q)
	}
	if p := b.get(second.AuthCodeURL("s4", oauth2.SetAuthURLParam("prompt", "login"))); p.status != 200 || !strings.Contains(p.body, `id="passwd"`) {
		t.Errorf("prompt=login showed no form: %d", p.status)
	}
	if p := b.get(second.AuthCodeURL("s5", oauth2.SetAuthURLParam("prompt", "select_account"))); !strings.Contains(p.body, "admin@contoso.onmicrosoft.com") {
		t.Errorf("select_account shows no account: %s", p.body)
	} else if q := b.submit(p, url.Values{"action": {"continue"}}).redirectParams(t); q.Get("code") == "" {
		t.Errorf("picking the account: %v", q)
	}
	// login_hint for someone else under prompt=none.
	if q := b.get(second.AuthCodeURL("s6", oauth2.SetAuthURLParam("prompt", "none"), oauth2.SetAuthURLParam("login_hint", "lynne@contoso.onmicrosoft.com"))).redirectParams(t); q.Get("error") != "interaction_required" {
		t.Errorf("hint mismatch: %v", q)
	}
	// A password reset ends the session.
	if err := env.srv.ResetUserPassword("admin@contoso.onmicrosoft.com", "changed"); err != nil {
		t.Fatal(err)
	}
	if q := b.get(second.AuthCodeURL("s7", oauth2.SetAuthURLParam("prompt", "none"))).redirectParams(t); q.Get("error") != "login_required" {
		t.Errorf("session after password reset: %v", q)
	}
}

// What the authorize endpoint refuses, and where it says so: on its own
// page when the redirect URI cannot be trusted, at the redirect URI after.
func TestAuthorizeErrors(t *testing.T) {
	env := newFlowEnv(t, false, nil)
	authz := func(params url.Values) string {
		return env.ts.URL + "/" + contosoID + "/oauth2/v2.0/authorize?" + params.Encode()
	}
	good := func(edit func(url.Values)) url.Values {
		v := url.Values{"client_id": {webID}, "redirect_uri": {webRedir}, "response_type": {"code"}, "scope": {"openid User.Read"}, "state": {"st"}}
		if edit != nil {
			edit(v)
		}
		return v
	}
	b := env.browser(t)
	for _, tc := range []struct {
		name   string
		params url.Values
		page   string // error shown on the page
		redir  string // or error sent to the redirect URI
		code   string
	}{
		{"unknown app", good(func(v url.Values) { v.Set("client_id", "00000000-1111-4222-8333-444444444444") }), "AADSTS700016: Application with identifier '00000000-1111-4222-8333-444444444444' was not found in the directory 'Contoso'.", "", ""},
		{"redirect mismatch", good(func(v url.Values) { v.Set("redirect_uri", "https://evil.example/cb") }), "AADSTS50011: The redirect URI 'https://evil.example/cb' specified in the request does not match the redirect URIs configured for the application '" + webID + "'.", "", ""},
		{"no prompt session", good(func(v url.Values) { v.Set("prompt", "none") }), "", "login_required", "AADSTS50058"},
		{"bad response type", good(func(v url.Values) { v.Set("response_type", "token") }), "", "unsupported_response_type", "AADSTS70005"},
		{"id_token without nonce", good(func(v url.Values) { v.Set("response_type", "id_token") }), "", "invalid_request", "AADSTS900144"},
		{"bad challenge method", good(func(v url.Values) {
			v.Set("code_challenge", strings.Repeat("a", 43))
			v.Set("code_challenge_method", "S512")
		}), "", "invalid_request", "AADSTS501491"},
	} {
		p := b.get(authz(tc.params))
		if tc.page != "" {
			if p.status != 400 || !strings.HasPrefix(p.errorText(), tc.page) {
				t.Errorf("%s: %d %q", tc.name, p.status, p.errorText())
			}
			continue
		}
		q := p.redirectParams(t)
		if q.Get("error") != tc.redir || !strings.HasPrefix(q.Get("error_description"), tc.code+":") || q.Get("state") != "st" {
			t.Errorf("%s: %v", tc.name, q)
		}
	}

	// Token-endpoint errors for codes: verifier, redirect URI, expiry.
	verifier := oauth2.GenerateVerifier()
	code := func() string {
		p := env.browser(t)
		params := good(func(v url.Values) {
			v.Set("code_challenge", oauth2.S256ChallengeFromVerifier(verifier))
			v.Set("code_challenge_method", "S256")
		})
		return p.submit(p.get(authz(params)), signInFields("lynne@contoso.onmicrosoft.com", "lynne-pw")).redirectParams(t).Get("code")
	}
	redeem := func(c string, edit func(url.Values)) response {
		f := url.Values{"grant_type": {"authorization_code"}, "client_id": {webID}, "client_secret": {"web-secret"}, "code": {c},
			"redirect_uri": {webRedir}, "code_verifier": {verifier}, "scope": {"openid User.Read"}}
		if edit != nil {
			edit(f)
		}
		return env.post(t, "/"+contosoID+"/oauth2/v2.0/token", f)
	}
	for _, tc := range []struct {
		name    string
		edit    func(url.Values)
		advance time.Duration
		prefix  string
	}{
		{"wrong verifier", func(f url.Values) { f.Set("code_verifier", oauth2.GenerateVerifier()) }, 0, "AADSTS501481: The Code_Verifier does not match the code_challenge supplied in the authorization request."},
		{"no verifier", func(f url.Values) { f.Del("code_verifier") }, 0, "AADSTS501481:"},
		{"other redirect", func(f url.Values) { f.Set("redirect_uri", "https://portal.contoso.com/other") }, 0, "AADSTS500112: The reply address 'https://portal.contoso.com/other' does not match the reply address '" + webRedir + "' provided when requesting Authorization code."},
		{"expired", nil, 11 * time.Minute, "AADSTS70008: The provided authorization code or refresh token has expired due to inactivity."},
		{"wrong secret", func(f url.Values) { f.Set("client_secret", "nope") }, 0, "AADSTS7000215:"},
	} {
		c := code()
		env.clock.Advance(tc.advance)
		r := redeem(c, tc.edit)
		if r.status/100 != 4 || !strings.HasPrefix(r.body["error_description"].(string), tc.prefix) {
			t.Errorf("%s: %d %s", tc.name, r.status, r.raw)
		}
	}
	// Redeemed once, then 54005.
	c := code()
	if r := redeem(c, nil); r.status != 200 {
		t.Fatalf("redeem: %s", r.raw)
	}
	if r := redeem(c, nil); !strings.HasPrefix(r.body["error_description"].(string), "AADSTS54005:") {
		t.Errorf("reuse: %s", r.raw)
	}
}

// response_mode form_post and fragment, and response_type id_token.
func TestAuthorizeResponseModes(t *testing.T) {
	env := newFlowEnv(t, false, nil)
	b := env.browser(t)
	base := url.Values{"client_id": {webID}, "redirect_uri": {webRedir}, "scope": {"openid"}, "state": {"st"}, "nonce": {"n-1"}}
	p := b.get(env.ts.URL + "/" + contosoID + "/oauth2/v2.0/authorize?" + base.Encode() + "&response_type=code+id_token&response_mode=form_post")
	p = b.submit(p, signInFields("lynne@contoso.onmicrosoft.com", "lynne-pw"))
	if p.status != http.StatusOK || !strings.Contains(p.body, `action="`+webRedir+`"`) || !strings.Contains(p.body, `name="code"`) || !strings.Contains(p.body, `name="id_token"`) {
		t.Fatalf("form_post page: %d %s", p.status, p.body)
	}
	p = b.get(env.ts.URL + "/" + contosoID + "/oauth2/v2.0/authorize?" + base.Encode() + "&response_type=id_token")
	if p.status != http.StatusFound || !strings.Contains(p.location, "#") {
		t.Fatalf("id_token defaults to fragment: %d %s", p.status, p.location)
	}
	_, c := decodeJWT(t, p.redirectParams(t).Get("id_token"))
	if c["nonce"] != "n-1" || c["aud"] != webID {
		t.Errorf("front-channel id_token %v", c)
	}
	if q := b.get(env.ts.URL + "/" + contosoID + "/oauth2/v2.0/authorize?" + base.Encode() + "&response_type=id_token&response_mode=query").redirectParams(t); q.Get("error") != "invalid_request" {
		t.Errorf("id_token in a query: %v", q)
	}
}

// Consent on the sign-in page: a consentMissing block makes the page ask;
// prompt=none answers consent_required; Cancel is access_denied (65004);
// Accept records the user's consent, which the password grant then sees.
func TestSignInConsentAndBlocks(t *testing.T) {
	env := newFlowEnv(t, false, func(f *Fixture) {
		f.Blocked = []Block{{State: "consentMissing", App: webID}, {State: "conditionalAccessBlocked", App: secondID}}
	})
	authz := func(edit func(url.Values)) string {
		v := url.Values{"client_id": {webID}, "redirect_uri": {webRedir}, "response_type": {"code"}, "scope": {"openid User.Read"}, "state": {"st"}}
		if edit != nil {
			edit(v)
		}
		return env.ts.URL + "/" + contosoID + "/oauth2/v2.0/authorize?" + v.Encode()
	}
	b := env.browser(t)
	p := b.submit(b.get(authz(nil)), signInFields("lynne@contoso.onmicrosoft.com", "lynne-pw"))
	if p.status != 200 || !strings.Contains(p.body, `id="accept"`) || !strings.Contains(p.body, "<li>User.Read</li>") {
		t.Fatalf("consent page: %d %s", p.status, p.body)
	}
	if q := b.get(authz(func(v url.Values) { v.Set("prompt", "none") })).redirectParams(t); q.Get("error") != "consent_required" || !strings.HasPrefix(q.Get("error_description"), "AADSTS65001:") {
		t.Errorf("prompt=none without consent: %v", q)
	}
	if q := b.submit(p, url.Values{"action": {"decline"}}).redirectParams(t); q.Get("error") != "access_denied" || !strings.HasPrefix(q.Get("error_description"), "AADSTS65004:") {
		t.Errorf("declined consent: %v", q)
	}
	if q := b.submit(p, url.Values{"action": {"accept"}}).redirectParams(t); q.Get("code") == "" {
		t.Fatalf("accepted consent: %v", q)
	}
	ropcWeb := func(upn, pw string) response {
		return env.post(t, "/"+contosoID+"/oauth2/v2.0/token", url.Values{"grant_type": {"password"}, "client_id": {webID}, "client_secret": {"web-secret"},
			"username": {upn}, "password": {pw}, "scope": {"User.Read"}})
	}
	if r := ropcWeb("lynne@contoso.onmicrosoft.com", "lynne-pw"); r.status != 200 {
		t.Errorf("after consent: %s", r.raw)
	}
	if r := ropcWeb("admin@contoso.onmicrosoft.com", "admin-pw"); !strings.Contains(r.raw, "AADSTS65001") || !strings.Contains(r.raw, `"invalid_grant"`) {
		t.Errorf("another user has not consented: %s", r.raw)
	}
	// A Conditional Access block comes back to the app as access_denied.
	p2 := b.get(env.ts.URL + "/" + contosoID + "/oauth2/v2.0/authorize?" + url.Values{"client_id": {secondID}, "redirect_uri": {"https://second.contoso.com/callback"},
		"response_type": {"code"}, "scope": {"openid"}}.Encode())
	if q := p2.redirectParams(t); q.Get("error") != "access_denied" || !strings.HasPrefix(q.Get("error_description"), "AADSTS53003:") {
		t.Errorf("CA block on the front channel: %v", q)
	}
}

// Blocked states and key credentials survive a state export and import.
func TestBlocksAndKeyCredentialsRoundTrip(t *testing.T) {
	k := appCert(t)
	env := newFlowEnv(t, false, func(f *Fixture) {
		withCertificate(k)(f)
		f.Blocked = []Block{{State: "throttled", App: webID, RetryAfter: 5}}
	})
	out, err := env.srv.ExportState()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"state: throttled", "retryAfter: 5", "keyCredentials:", "BEGIN CERTIFICATE"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("export lacks %q", want)
		}
	}
	if err := env.srv.ImportState(out); err != nil {
		t.Fatalf("import of own export: %v", err)
	}
	if got := env.srv.Blocks(); len(got) != 1 || got[0].App != webID {
		t.Errorf("blocks after import %v", got)
	}
	for _, bad := range []Block{{State: "sleepy"}, {State: "userDisabled"}, {State: "consentMissing"}} {
		if err := env.srv.AddBlock(bad); err == nil {
			t.Errorf("accepted %+v", bad)
		}
	}
}
