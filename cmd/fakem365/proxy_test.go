package main

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// startWithProxy runs the binary with --proxy-listen on a free port and
// returns the proxy URL from its log line, as a person reads it.
func startWithProxy(t *testing.T, args ...string) *url.URL {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan int, 1)
	go func() {
		done <- command.Run(ctx, append([]string{"--listen", "127.0.0.1:0", "--proxy-listen", "127.0.0.1:0"}, args...), pw)
		pw.Close()
	}()
	t.Cleanup(func() {
		cancel()
		go io.Copy(io.Discard, pr)
		if code := <-done; code != 0 {
			t.Errorf("fakem365 exited %d", code)
		}
	})
	sc := bufio.NewScanner(pr)
	proxyLine := regexp.MustCompile(`fakem365 forward proxy.* https_proxy=(\S+)`)
	for sc.Scan() {
		if m := proxyLine.FindStringSubmatch(sc.Text()); m != nil {
			u, err := url.Parse(m[1])
			if err != nil {
				t.Fatal(err)
			}
			go io.Copy(io.Discard, pr)
			return u
		}
	}
	t.Fatal("fakem365 logged no forward proxy")
	return nil
}

// Issue 16: fakem365's binary serves the forward proxy for both its real
// names, the admin portal's and the connector's; other hosts are refused.
func TestProxyServesThePortalAndTheConnector(t *testing.T) {
	pu := startWithProxy(t)
	resp, err := http.Get(pu.String() + "/ca.pem")
	if err != nil {
		t.Fatal(err)
	}
	pem, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		t.Fatalf("/ca.pem holds no certificate: %q", pem)
	}
	c := &http.Client{Transport: &http.Transport{Proxy: http.ProxyURL(pu), TLSClientConfig: &tls.Config{RootCAs: pool}}}
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
