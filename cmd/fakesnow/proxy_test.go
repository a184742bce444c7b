package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/m365snow/m365snow/internal/serve/servetest"
)

// Issue 16: fakesnow's binary serves the forward proxy for its instance's
// real name (from the world) and for every --map-host name, so that compose
// offers one proxy for the three fakes; other hosts are refused.
func TestProxyServesTheInstanceAndMappedHosts(t *testing.T) {
	aadHost := make(chan string, 1)
	aad := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { aadHost <- r.Host }))
	defer aad.Close()
	pu := servetest.StartWithProxy(t, command, "--map-host", "login.microsoftonline.com="+strings.TrimPrefix(aad.URL, "http://"))
	c := servetest.ClientThrough(t, pu, "")

	// The instance's OAuth endpoint answers a wrong client as ServiceNow
	// does: 401 {"error":"access_denied"...} (DESIGN.md, fakesnow OAuth).
	resp, err := c.PostForm("https://dev12345.service-now.com/oauth_token.do", url.Values{"grant_type": {"password"}, "client_id": {"nobody"}, "client_secret": {"x"}, "username": {"admin"}, "password": {"x"}})
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(string(body), "access_denied") {
		t.Errorf("oauth_token.do through the proxy: %s %s", resp.Status, body)
	}
	// A --map-host name reaches its target, Host unchanged.
	resp, err = c.Get("https://login.microsoftonline.com/common/v2.0/.well-known/openid-configuration")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if h := <-aadHost; h != "login.microsoftonline.com" {
		t.Errorf("the mapped host received Host %q", h)
	}
	if resp, err := c.Get("https://example.com/"); err == nil {
		resp.Body.Close()
		t.Fatal("the proxy reached example.com")
	} else if !strings.Contains(err.Error(), "m365snow proxy refuses example.com") {
		t.Errorf("example.com: %v, want the proxy's refusal", err)
	}
}
