package main

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"net/http"
	"net/http/httptest"
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
			t.Errorf("fakesnow exited %d", code)
		}
	})
	sc := bufio.NewScanner(pr)
	proxyLine := regexp.MustCompile(`fakesnow forward proxy.* https_proxy=(\S+)`)
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
	t.Fatal("fakesnow logged no forward proxy")
	return nil
}

// Issue 16: fakesnow's binary serves the forward proxy for its instance's
// real name (from the world) and for every --map-host name, so that compose
// offers one proxy for the three fakes; other hosts are refused.
func TestProxyServesTheInstanceAndMappedHosts(t *testing.T) {
	aadHost := make(chan string, 1)
	aad := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { aadHost <- r.Host }))
	defer aad.Close()
	pu := startWithProxy(t, "--map-host", "login.microsoftonline.com="+strings.TrimPrefix(aad.URL, "http://"))
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

	// The instance's OAuth endpoint answers a wrong client as ServiceNow
	// does: 401 {"error":"access_denied"...} (DESIGN.md, fakesnow OAuth).
	resp, err = c.PostForm("https://dev12345.service-now.com/oauth_token.do", url.Values{"grant_type": {"password"}, "client_id": {"nobody"}, "client_secret": {"x"}, "username": {"admin"}, "password": {"x"}})
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
