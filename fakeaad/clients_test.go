package fakeaad

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/AzureAD/microsoft-authentication-library-for-go/apps/confidential"
	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/m365snow/m365snow/internal/wellknown"
)

// These tests use unmodified client libraries as peers: if they accept the
// fake, a vendor's build using them will too.

func TestGoOIDCVerifiesV2Tokens(t *testing.T) {
	env := newEnv(t, false)
	ctx := oidc.ClientContext(context.Background(), env.ts.Client())
	p, err := oidc.NewProvider(ctx, env.ts.URL+"/"+contosoID+"/v2.0")
	if err != nil {
		t.Fatal(err)
	}
	v := p.Verifier(&oidc.Config{ClientID: modernID, Now: env.clock.Now})
	tok := env.token(t, "/"+contosoID+"/oauth2/v2.0/token", ccV2(outboundID, "outbound-secret", "api://modern/.default"))
	idt, err := v.Verify(ctx, tok)
	if err != nil {
		t.Fatalf("go-oidc refused a v2 token: %v", err)
	}
	var claims struct {
		Azp string `json:"azp"`
	}
	if err := idt.Claims(&claims); err != nil || claims.Azp != outboundID {
		t.Fatalf("claims %+v %v", claims, err)
	}
}

func TestGoOIDCVerifiesV1Tokens(t *testing.T) {
	env := newEnv(t, false)
	// v1 metadata names https://sts.windows.net/{tid}/ as issuer, which is
	// not the URL it is served from: go-oidc's documented escape hatch.
	ctx := oidc.InsecureIssuerURLContext(oidc.ClientContext(context.Background(), env.ts.Client()), "https://sts.windows.net/"+contosoID+"/")
	p, err := oidc.NewProvider(ctx, env.ts.URL+"/"+contosoID)
	if err != nil {
		t.Fatal(err)
	}
	v := p.Verifier(&oidc.Config{ClientID: connector, Now: env.clock.Now})
	if _, err := v.Verify(ctx, env.token(t, "/"+contosoID+"/oauth2/token", cc(outboundID, "outbound-secret", connector))); err != nil {
		t.Fatalf("go-oidc refused a v1 token: %v", err)
	}
}

func TestGoOIDCRejectsBadTokens(t *testing.T) {
	env := newEnv(t, false)
	ctx := oidc.ClientContext(context.Background(), env.ts.Client())
	p, err := oidc.NewProvider(ctx, env.ts.URL+"/"+contosoID+"/v2.0")
	if err != nil {
		t.Fatal(err)
	}
	v := p.Verifier(&oidc.Config{ClientID: modernID, Now: env.clock.Now})

	// Another key: a second fake signing with a key this one never published.
	other := newEnv(t, false)
	if _, err := other.srv.RotateSigningKey("builtin-3"); err != nil {
		t.Fatal(err)
	}
	foreign := other.token(t, "/"+contosoID+"/oauth2/v2.0/token", ccV2(outboundID, "outbound-secret", "api://modern/.default"))
	if _, err := v.Verify(ctx, foreign); err == nil || !strings.Contains(err.Error(), "signature") {
		t.Errorf("accepted a token signed with an unpublished key: %v", err)
	}

	// Another tenant: Fabrikam's token for a multi-tenant API, checked
	// against Contoso's provider.
	shared := p.Verifier(&oidc.Config{ClientID: sharedID, Now: env.clock.Now})
	if _, err := shared.Verify(ctx, env.token(t, "/"+contosoID+"/oauth2/v2.0/token", ccV2(multiID, "multi-secret", "api://shared/.default"))); err != nil {
		t.Fatalf("Contoso's own token refused: %v", err)
	}
	fab := env.token(t, "/"+fabrikamID+"/oauth2/v2.0/token", ccV2(multiID, "multi-secret", "api://shared/.default"))
	if _, err := shared.Verify(ctx, fab); err == nil || !strings.Contains(err.Error(), "different provider") {
		t.Errorf("accepted another tenant's token: %v", err)
	}

	// Expired by the clock.
	tok := env.token(t, "/"+contosoID+"/oauth2/v2.0/token", ccV2(outboundID, "outbound-secret", "api://modern/.default"))
	if _, err := v.Verify(ctx, tok); err != nil {
		t.Fatalf("fresh token refused: %v", err)
	}
	env.clock.Advance(61 * time.Minute)
	if _, err := v.Verify(ctx, tok); err == nil || !strings.Contains(err.Error(), "expired") {
		t.Errorf("accepted an expired token: %v", err)
	}
}

func TestKeyRotation(t *testing.T) {
	env := newEnv(t, false)
	ctx := oidc.ClientContext(context.Background(), env.ts.Client())
	p, err := oidc.NewProvider(ctx, env.ts.URL+"/"+contosoID+"/v2.0")
	if err != nil {
		t.Fatal(err)
	}
	v := p.Verifier(&oidc.Config{ClientID: modernID, Now: env.clock.Now})
	get := func() string {
		return env.token(t, "/"+contosoID+"/oauth2/v2.0/token", ccV2(outboundID, "outbound-secret", "api://modern/.default"))
	}
	old := get()
	ids := env.srv.SigningKeyIDs()
	oldKID := env.srv.ActiveSigningKeyID()
	if len(ids) != 2 || ids[0] != oldKID {
		t.Fatalf("a fresh fake publishes the signing key and the next one: %v (signing %s)", ids, oldKID)
	}
	// An emergency rotation signs with the published next key at once and
	// publishes a new next key.
	newKID, err := env.srv.RotateSigningKey("")
	if err != nil {
		t.Fatal(err)
	}
	if ids := env.srv.SigningKeyIDs(); len(ids) != 3 || newKID != ids[1] || env.srv.ActiveSigningKeyID() != newKID {
		t.Fatalf("published %v signing %s", ids, env.srv.ActiveSigningKeyID())
	}
	fresh := get()
	if h, _ := decodeJWT(t, fresh); h["kid"] != newKID {
		t.Fatalf("new token signed by %v, want %s", h["kid"], newKID)
	}
	// go-oidc refetches the set on an unknown kid; the old key stays published.
	for name, tok := range map[string]string{"old": old, "new": fresh} {
		if _, err := v.Verify(ctx, tok); err != nil {
			t.Errorf("%s token refused during overlap: %v", name, err)
		}
	}
	if r := env.get(t, "/common/discovery/v2.0/keys"); len(r.body["keys"].([]any)) != 3 {
		t.Errorf("JWKS has %d keys during overlap", len(r.body["keys"].([]any)))
	}
	if err := env.srv.RetireSigningKey(oldKID); err != nil {
		t.Fatal(err)
	}
	p2, _ := oidc.NewProvider(ctx, env.ts.URL+"/"+contosoID+"/v2.0")
	v2 := p2.Verifier(&oidc.Config{ClientID: modernID, Now: env.clock.Now})
	if _, err := v2.Verify(ctx, old); err == nil {
		t.Error("token of a retired key still verifies")
	}
	if err := env.srv.RetireSigningKey(newKID); err == nil {
		t.Error("retired the signing key")
	}
}

// Entra's scheduled rollover: the next key is published before it signs,
// signs after the overlap, and the old key goes another overlap later —
// all by the fake's clock.
func TestScheduledKeyRollover(t *testing.T) {
	env := newEnv(t, false)
	first := env.srv.ActiveSigningKeyID()
	next := env.srv.SigningKeyIDs()[1]
	kid, err := env.srv.RolloverSigningKey(24 * time.Hour)
	if err != nil || kid != next {
		t.Fatalf("rollover to %s: %v", kid, err)
	}
	keysNow := func() int { return len(env.get(t, "/common/discovery/v2.0/keys").body["keys"].([]any)) }
	signer := func() any {
		h, _ := decodeJWT(t, env.token(t, "/"+contosoID+"/oauth2/v2.0/token", ccV2(outboundID, "outbound-secret", "api://modern/.default")))
		return h["kid"]
	}
	if signer() != first || keysNow() != 3 {
		t.Fatalf("before the overlap: signer %v, %d keys", signer(), keysNow())
	}
	if _, err := env.srv.RolloverSigningKey(time.Hour); err == nil {
		t.Error("a second rollover during the first")
	}
	env.clock.Advance(24 * time.Hour)
	if signer() != next || keysNow() != 3 {
		t.Fatalf("after the overlap: signer %v, %d keys", signer(), keysNow())
	}
	env.clock.Advance(24 * time.Hour)
	if keysNow() != 2 || slicesContain(env.srv.SigningKeyIDs(), first) {
		t.Fatalf("after retirement: %v", env.srv.SigningKeyIDs())
	}
}

func slicesContain(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

func TestOAuth2ClientCredentials(t *testing.T) {
	env := newEnv(t, false)
	// AuthStyle auto: x/oauth2 tries HTTP Basic first.
	cfg := clientcredentials.Config{
		ClientID:     outboundID,
		ClientSecret: "outbound-secret",
		TokenURL:     env.ts.URL + "/contoso.onmicrosoft.com/oauth2/v2.0/token",
		Scopes:       []string{connector + "/.default"},
	}
	ctx := context.WithValue(context.Background(), oauth2.HTTPClient, env.ts.Client())
	tok, err := cfg.Token(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if tok.TokenType != "Bearer" || tok.Expiry.IsZero() {
		t.Fatalf("token %+v", tok)
	}
	// v1 through EndpointParams.
	cfg.TokenURL = env.ts.URL + "/" + contosoID + "/oauth2/token"
	cfg.Scopes = nil
	cfg.EndpointParams = map[string][]string{"resource": {connector}}
	if _, err := cfg.Token(ctx); err != nil {
		t.Fatalf("v1 with x/oauth2: %v", err)
	}
	cfg.ClientSecret = "wrong"
	_, err = cfg.Token(ctx)
	var re *oauth2.RetrieveError
	if !asRetrieveError(err, &re) || re.ErrorCode != "invalid_client" || !strings.HasPrefix(re.ErrorDescription, "AADSTS7000215:") {
		t.Fatalf("wrong secret through x/oauth2: %v", err)
	}
}

func TestMSALConfidentialClientOverHTTPS(t *testing.T) {
	env := newEnv(t, true)
	cred, err := confidential.NewCredFromSecret("outbound-secret")
	if err != nil {
		t.Fatal(err)
	}
	app, err := confidential.New(env.ts.URL+"/"+contosoID, outboundID, cred,
		confidential.WithHTTPClient(env.ts.Client()),
		confidential.WithInstanceDiscovery(false))
	if err != nil {
		t.Fatal(err)
	}
	res, err := app.AcquireTokenByCredential(context.Background(), []string{wellknown.ConnectorResource + "/.default"})
	if err != nil {
		t.Fatalf("MSAL Go: %v", err)
	}
	_, c := decodeJWT(t, res.AccessToken)
	if c["appid"] != outboundID || c["aud"] != connector {
		t.Fatalf("claims %v", c)
	}
	// A domain-name authority works too: discovery answers with the GUID.
	app2, err := confidential.New(env.ts.URL+"/contoso.onmicrosoft.com", outboundID, cred,
		confidential.WithHTTPClient(env.ts.Client()), confidential.WithInstanceDiscovery(false))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := app2.AcquireTokenByCredential(context.Background(), []string{wellknown.ConnectorResource + "/.default"}); err != nil {
		t.Fatalf("MSAL Go with a domain authority: %v", err)
	}
	bad, _ := confidential.NewCredFromSecret("wrong")
	app3, _ := confidential.New(env.ts.URL+"/"+contosoID, outboundID, bad, confidential.WithHTTPClient(env.ts.Client()), confidential.WithInstanceDiscovery(false))
	if _, err := app3.AcquireTokenByCredential(context.Background(), []string{wellknown.ConnectorResource + "/.default"}); err == nil || !strings.Contains(err.Error(), "AADSTS7000215") {
		t.Fatalf("MSAL Go with a wrong secret: %v", err)
	}
}

func asRetrieveError(err error, re **oauth2.RetrieveError) bool {
	e, ok := err.(*oauth2.RetrieveError)
	if ok {
		*re = e
	}
	return ok
}
