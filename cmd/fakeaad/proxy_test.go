package main

import (
	"encoding/json"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/m365snow/m365snow/internal/serve/servetest"
)

// Issue 16: each fake's binary serves the forward proxy. A build calling
// https://login.microsoftonline.com/<tenant>/oauth2/v2.0/token with only a
// proxy and a CA gets a token from fakeaad; another host is refused. The
// CA is in memory, in --ca-dir, or --tls-self-signed's (the fake then
// serves HTTPS itself and the proxy trusts it by the same CA).
func TestProxyServesTheRealTokenEndpoint(t *testing.T) {
	for _, mode := range []string{"in memory", "--ca-dir", "--tls-self-signed"} {
		t.Run(mode, func(t *testing.T) {
			var args []string
			caFile := ""
			if mode != "in memory" {
				dir := t.TempDir()
				args, caFile = []string{mode, dir}, filepath.Join(dir, "ca.pem")
			}
			testProxy(t, servetest.ClientThrough(t, servetest.StartWithProxy(t, command, args...), caFile))
		})
	}
}

func testProxy(t *testing.T, c *http.Client) {
	// A build that discovers the endpoint (MSAL, go-oidc) follows the
	// discovery document: with --proxy-listen it names the real host, so
	// the build stays behind the proxy.
	resp, err := c.Get("https://login.microsoftonline.com/contoso.onmicrosoft.com/v2.0/.well-known/openid-configuration")
	if err != nil {
		t.Fatal(err)
	}
	var disco struct {
		TokenEndpoint string `json:"token_endpoint"`
	}
	err = json.NewDecoder(resp.Body).Decode(&disco)
	resp.Body.Close()
	if want := "https://login.microsoftonline.com/"; err != nil || !strings.HasPrefix(disco.TokenEndpoint, want) || !strings.HasSuffix(disco.TokenEndpoint, "/oauth2/v2.0/token") {
		t.Fatalf("discovery through the proxy: token_endpoint %q (%v), want %s…/oauth2/v2.0/token", disco.TokenEndpoint, err, want)
	}
	// The outbound app of fixtures/sandbox.yaml.
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {"1f9c2e4a-6b8d-4f0e-a2c4-6e8a0c2e4f61"},
		"client_secret": {"Out8Q~ContosoOutboundSecret.000000000000"}, "scope": {"https://graph.microsoft.com/.default"}}
	resp, err = c.PostForm(disco.TokenEndpoint, form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var tok struct {
		AccessToken string `json:"access_token"`
		TokenType   string `json:"token_type"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&tok); err != nil || resp.StatusCode != 200 || tok.TokenType != "Bearer" || strings.Count(tok.AccessToken, ".") != 2 {
		t.Fatalf("token through the proxy: %s %+v %v", resp.Status, tok, err)
	}
	// graph.microsoft.com is fakeaad's too.
	if resp, err := c.Get("https://graph.microsoft.com/v1.0/organization"); err != nil {
		t.Fatal(err)
	} else if resp.Body.Close(); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("graph without a token: %s, want 401", resp.Status)
	}
	// fakeaad alone serves only its own names: the instance is not one.
	for _, u := range []string{"https://dev12345.service-now.com/oauth_token.do", "https://example.com/"} {
		resp, err := c.Get(u)
		if err == nil {
			resp.Body.Close()
			t.Fatalf("%s reached through fakeaad's proxy: %s", u, resp.Status)
		}
		if !strings.Contains(err.Error(), "m365snow proxy refuses") || !strings.Contains(err.Error(), "not a host of the integration") {
			t.Errorf("%s: %v, want the proxy's refusal", u, err)
		}
	}
}
