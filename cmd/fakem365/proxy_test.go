package main

import (
	"io"
	"strings"
	"testing"

	"github.com/m365snow/m365snow/internal/serve/servetest"
)

// Issue 16: fakem365's binary serves the forward proxy for both its real
// names, the admin portal's and the connector's; other hosts are refused.
func TestProxyServesThePortalAndTheConnector(t *testing.T) {
	pu := servetest.StartWithProxy(t, command)
	c := servetest.ClientThrough(t, pu, "")
	for _, u := range []string{
		"https://admin.microsoft.com/api/tenants/contoso.onmicrosoft.com/supportIntegration",
		"https://connector.rave.microsoft.com/api/v1/repositories/none/solutions",
	} {
		resp, err := c.Get(u)
		if err != nil {
			t.Fatalf("%s: %v", u, err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		// fakem365's own Graph-style error (no credentials, no such
		// repository), not the proxy's.
		if resp.StatusCode >= 500 || !strings.Contains(string(b), `{"error":{"code":`) || strings.Contains(string(b), "m365snow proxy") {
			t.Errorf("%s: %s %s, want fakem365's own error", u, resp.Status, b)
		}
	}
	// Azure AD is not fakem365's, and no --map-host names it here.
	if resp, err := c.Get("https://login.microsoftonline.com/common/v2.0/.well-known/openid-configuration"); err == nil {
		resp.Body.Close()
		t.Fatal("fakem365's proxy reached login.microsoftonline.com without --map-host")
	} else if !strings.Contains(err.Error(), "m365snow proxy refuses login.microsoftonline.com") {
		t.Errorf("login.microsoftonline.com: %v, want the proxy's refusal", err)
	}
}
