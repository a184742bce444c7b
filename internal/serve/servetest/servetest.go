// Package servetest runs a fake's binary (a serve.Command) in a test the
// way a person runs it, for the three cmd packages' tests.
package servetest

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"testing"

	"github.com/m365snow/m365snow/internal/serve"
)

// StartWithProxy runs c with --proxy-listen on a free port and returns the
// proxy URL from its log line, as a person reads it. The binary stops, and
// must exit 0, when the test ends.
func StartWithProxy(t *testing.T, c serve.Command, args ...string) *url.URL {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan int, 1)
	go func() {
		done <- c.Run(ctx, append([]string{"--listen", "127.0.0.1:0", "--proxy-listen", "127.0.0.1:0"}, args...), pw)
		pw.Close()
	}()
	t.Cleanup(func() {
		cancel()
		go io.Copy(io.Discard, pr) // drain the shutdown lines
		if code := <-done; code != 0 {
			t.Errorf("%s exited %d", c.Name, code)
		}
	})
	sc := bufio.NewScanner(pr)
	proxyLine := regexp.MustCompile(regexp.QuoteMeta(c.Name) + ` forward proxy.* https_proxy=(\S+)`)
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
	t.Fatalf("%s logged no forward proxy", c.Name)
	return nil
}

// ClientThrough is an unmodified build's client: a proxy and one CA, the
// file caFile or, when empty, the in-memory CA the proxy serves at /ca.pem.
func ClientThrough(t *testing.T, proxyURL *url.URL, caFile string) *http.Client {
	t.Helper()
	var pem []byte
	if caFile != "" {
		b, err := os.ReadFile(caFile)
		if err != nil {
			t.Fatal(err)
		}
		pem = b
	} else {
		resp, err := http.Get(proxyURL.String() + "/ca.pem")
		if err != nil {
			t.Fatal(err)
		}
		pem, _ = io.ReadAll(resp.Body)
		resp.Body.Close()
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		t.Fatalf("/ca.pem holds no certificate: %q", pem)
	}
	return &http.Client{Transport: &http.Transport{Proxy: http.ProxyURL(proxyURL), TLSClientConfig: &tls.Config{RootCAs: pool}}}
}
