package main

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"testing"
)

// The sandbox prints the two settings an unmodified build needs; a client
// configured from the printed lines alone reaches the fakes under their real
// names, and the same CA file is what it trusts; with --tls too, where
// the proxy reaches fakes that serve HTTPS themselves.
func TestSandboxPrintsAWorkingProxyAndCA(t *testing.T) {
	for _, extra := range [][]string{nil, {"--tls"}} {
		t.Run(fmt.Sprint(extra), func(t *testing.T) { testProxy(t, extra) })
	}
}

func testProxy(t *testing.T, extra []string) {
	_, out := start(t, "integrated-aad", extra...)
	proxyLine := regexp.MustCompile(`export HTTPS_PROXY=(\S+)`).FindStringSubmatch(out)
	caLine := regexp.MustCompile(`export SSL_CERT_FILE=(\S+)`).FindStringSubmatch(out)
	if proxyLine == nil || caLine == nil {
		t.Fatalf("the sandbox printed no proxy settings:\n%s", out)
	}
	pem, err := os.ReadFile(caLine[1])
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		t.Fatalf("%s holds no certificate", caLine[1])
	}
	pu, err := url.Parse(proxyLine[1])
	if err != nil {
		t.Fatal(err)
	}
	c := &http.Client{Transport: &http.Transport{Proxy: http.ProxyURL(pu), TLSClientConfig: &tls.Config{RootCAs: pool}}}
	for u, want := range map[string]int{
		"https://login.microsoftonline.com/common/v2.0/.well-known/openid-configuration": 200,
		// The Table API without credentials: the instance's own 401.
		"https://dev12345.service-now.com/api/now/table/incident": 401,
	} {
		resp, err := c.Get(u)
		if err != nil {
			t.Fatalf("%s: %v", u, err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Fatalf("%s: %s, want %d", u, resp.Status, want)
		}
	}
	if resp, err := c.Get("https://example.com/"); err == nil {
		resp.Body.Close()
		t.Fatal("the proxy reached example.com")
	}
}
