package proxy_test

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/AzureAD/microsoft-authentication-library-for-go/apps/confidential"
	"github.com/coreos/go-oidc/v3/oidc"

	"github.com/m365snow/m365snow/fixtures"
	"github.com/m365snow/m365snow/internal/fixture"
	"github.com/m365snow/m365snow/internal/localca"
	"github.com/m365snow/m365snow/internal/proxy"
	"github.com/m365snow/m365snow/world"
)

// Values of the integrated-basic world (fixtures/prerequisites-basic.yaml,
// fixtures/integrated-basic.yaml).
const (
	tenant       = "8b6a7f0e-3c2d-4e5f-9a1b-2c3d4e5f6a7b"
	outboundApp  = "1f9c2e4a-6b8d-4f0e-a2c4-6e8a0c2e4f61"
	snowClient   = "0c4f5a6b7d8e9f0a1b2c3d4e5f6a7b8c"
	snowSecret   = "Inb-ContosoInboundSecret-1"
	snowUser     = "m365.integration"
	snowPassword = "Snow-Integration-1!"
)

type env struct {
	w        *world.World
	ca       *localca.CA
	proxyURL *url.URL
	secret   string
}

func start(t *testing.T) *env {
	t.Helper()
	f, err := fixture.Load(fixtures.FS, "integrated-basic")
	if err != nil {
		t.Fatal(err)
	}
	w, err := world.Start(world.Options{Fixture: f})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	ca, err := localca.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	p, err := proxy.New(proxy.Options{Hosts: w.Hosts, CA: ca})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	srv := httptest.NewServer(p)
	t.Cleanup(srv.Close)
	u, _ := url.Parse(srv.URL)
	secrets := world.AppSecrets(w.AADFixture, outboundApp)
	if len(secrets) == 0 {
		t.Fatal("integrated-basic lost the outbound app's secret")
	}
	return &env{w: w, ca: ca, proxyURL: u, secret: secrets[0]}
}

// client is what a build configured with HTTPS_PROXY and the CA file uses.
func (e *env) client() *http.Client {
	return &http.Client{Transport: &http.Transport{
		Proxy:           http.ProxyURL(e.proxyURL),
		TLSClientConfig: &tls.Config{RootCAs: e.ca.Pool()},
	}}
}

func TestRealHostNamesThroughTheProxy(t *testing.T) {
	e := start(t)
	c := e.client()
	cases := []struct {
		name, method, url string
		form              url.Values
		want              int
		field             string
	}{
		{"Entra v2 discovery", "GET", "https://login.microsoftonline.com/" + tenant + "/v2.0/.well-known/openid-configuration", nil, 200, "token_endpoint"},
		{"Entra client credentials", "POST", "https://login.microsoftonline.com/" + tenant + "/oauth2/v2.0/token",
			url.Values{"grant_type": {"client_credentials"}, "client_id": {outboundApp}, "client_secret": {e.secret}, "scope": {"https://connector.rave.microsoft.com/.default"}}, 200, "access_token"},
		{"ServiceNow password grant", "POST", "https://dev12345.service-now.com/oauth_token.do",
			url.Values{"grant_type": {"password"}, "client_id": {snowClient}, "client_secret": {snowSecret}, "username": {snowUser}, "password": {snowPassword}}, 200, "access_token"},
		// A wrong secret is the fake's answer, not the proxy's: AADSTS7000215.
		{"Entra refuses a wrong secret", "POST", "https://login.microsoftonline.com/" + tenant + "/oauth2/v2.0/token",
			url.Values{"grant_type": {"client_credentials"}, "client_id": {outboundApp}, "client_secret": {"wrong"}, "scope": {"https://connector.rave.microsoft.com/.default"}}, 401, "error_description"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var resp *http.Response
			var err error
			if tc.form != nil {
				resp, err = c.PostForm(tc.url, tc.form)
			} else {
				resp, err = c.Get(tc.url)
			}
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var body map[string]any
			if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
				t.Fatalf("%s: body is not JSON: %v", resp.Status, err)
			}
			if resp.StatusCode != tc.want || body[tc.field] == nil {
				t.Fatalf("%s %s: got %s %v, want %d with %q", tc.method, tc.url, resp.Status, body, tc.want, tc.field)
			}
			if resp.TLS == nil || resp.TLS.PeerCertificates[0].VerifyHostname(strings.Split(strings.TrimPrefix(tc.url, "https://"), "/")[0]) != nil {
				t.Fatalf("certificate does not name the real host")
			}
			if tc.want == 401 && !strings.Contains(body["error_description"].(string), "AADSTS7000215") {
				t.Fatalf("wrong secret: %v, want AADSTS7000215", body["error_description"])
			}
		})
	}
}

func TestProxyRefusesEveryOtherHost(t *testing.T) {
	e := start(t)
	c := e.client()
	for _, u := range []string{
		"https://example.com/",
		"https://login.microsoftonline.com:8443/common/discovery/instance",
		"http://example.com/",
	} {
		resp, err := c.Get(u)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode != http.StatusForbidden {
				t.Fatalf("%s: %s, want refused", u, resp.Status)
			}
			continue
		}
		// Go's transport reports the CONNECT reason phrase as the error.
		if !strings.Contains(err.Error(), "m365snow proxy refuses") {
			t.Fatalf("%s: %v, want the proxy's reason", u, err)
		}
	}
}

// A client that does not trust the sandbox's CA is refused by TLS: the proxy
// never presents a certificate a default trust store accepts.
func TestUntrustedCAFails(t *testing.T) {
	e := start(t)
	c := &http.Client{Transport: &http.Transport{Proxy: http.ProxyURL(e.proxyURL)}}
	_, err := c.Get("https://login.microsoftonline.com/common/discovery/instance")
	if err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("got %v, want a certificate error", err)
	}
}

// Real clients, unmodified, through the proxy: MSAL Go's confidential
// client and go-oidc's discovery and key set.
func TestMSALAndOIDCThroughTheProxy(t *testing.T) {
	e := start(t)
	c := e.client()
	cred, err := confidential.NewCredFromSecret(e.secret)
	if err != nil {
		t.Fatal(err)
	}
	app, err := confidential.New("https://login.microsoftonline.com/"+tenant, outboundApp, cred, confidential.WithHTTPClient(c))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	res, err := app.AcquireTokenByCredential(ctx, []string{"https://connector.rave.microsoft.com/.default"})
	if err != nil {
		t.Fatalf("MSAL through the proxy: %v", err)
	}
	provider, err := oidc.NewProvider(oidc.ClientContext(ctx, c), "https://login.microsoftonline.com/"+tenant+"/v2.0")
	if err != nil {
		t.Fatalf("go-oidc discovery through the proxy: %v", err)
	}
	if _, err := provider.VerifierContext(oidc.ClientContext(ctx, c), &oidc.Config{SkipClientIDCheck: true}).Verify(oidc.ClientContext(ctx, c), res.AccessToken); err != nil {
		// The connector token is a v1 or v2 token for the connector; either
		// way its signature is checked against the JWKS fetched through
		// the proxy. An issuer mismatch is acceptable here, a key error not.
		if strings.Contains(err.Error(), "signature") || strings.Contains(err.Error(), "key") {
			t.Fatalf("go-oidc could not verify through the proxy: %v", err)
		}
	}
}

// The acceptance test: a plain Go program with default transports,
// configured only by HTTPS_PROXY and SSL_CERT_FILE, gets tokens from both
// token endpoints under their real names.
func TestUnmodifiedBuildWithOnlyProxyAndCA(t *testing.T) {
	e := start(t)
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go tool not on PATH: cannot build the stand-in vendor program")
	}
	bin := filepath.Join(t.TempDir(), "vendorbuild")
	build := exec.Command(goTool, "build", "-o", bin, "./testdata/vendorbuild")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	cmd := exec.Command(bin, tenant, outboundApp, e.secret, snowClient, snowSecret, snowUser, snowPassword)
	cmd.Env = append(cleanEnv(), "HTTPS_PROXY="+e.proxyURL.String(), "SSL_CERT_FILE="+e.ca.CertPath)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("vendor build: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "aad token: 2 dots") || !strings.Contains(string(out), "snow token: Bearer") {
		t.Fatalf("vendor build printed:\n%s", out)
	}
}

// curl, when installed, is a second unmodified client.
func TestCurlThroughTheProxy(t *testing.T) {
	curl, err := exec.LookPath("curl")
	if err != nil {
		t.Skip("curl not installed: the curl --proxy check did not run")
	}
	e := start(t)
	out, err := exec.Command(curl, "-sS", "--proxy", e.proxyURL.String(), "--cacert", e.ca.CertPath,
		"https://login.microsoftonline.com/"+tenant+"/v2.0/.well-known/openid-configuration").CombinedOutput()
	if err != nil || !strings.Contains(string(out), `"token_endpoint"`) {
		t.Fatalf("curl: %v\n%s", err, out)
	}
	out, _ = exec.Command(curl, "-sS", "--proxy", e.proxyURL.String(), "--cacert", e.ca.CertPath, "https://example.com/").CombinedOutput()
	if !strings.Contains(string(out), "403") {
		t.Fatalf("curl to a foreign host: %s, want the proxy's 403", out)
	}
}

// cleanEnv drops proxy and CA variables of the test's own environment.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch strings.ToUpper(k) {
		case "HTTPS_PROXY", "HTTP_PROXY", "NO_PROXY", "ALL_PROXY", "SSL_CERT_FILE", "SSL_CERT_DIR":
			continue
		}
		env = append(env, kv)
	}
	return env
}

// The proxy hands out its CA at /ca.pem, for builds in a container that
// cannot read the sandbox's CA directory.
func TestProxyServesItsCA(t *testing.T) {
	e := start(t)
	resp, err := http.Get(e.proxyURL.String() + "/ca.pem")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || string(b) != string(e.ca.PEM) {
		t.Fatalf("%s %q", resp.Status, b)
	}
	resp, err = http.Get(e.proxyURL.String() + "/anything")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("a plain request to the proxy: %s, want 400 with how to use it", resp.Status)
	}
}

// An http:// URL of a mapped host is forwarded in the clear, Host kept.
func TestPlainHTTPForMappedHosts(t *testing.T) {
	e := start(t)
	resp, err := e.client().Get("http://login.microsoftonline.com/" + tenant + "/v2.0/.well-known/openid-configuration")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]any
	if resp.StatusCode != 200 || json.NewDecoder(resp.Body).Decode(&body) != nil || body["token_endpoint"] == nil {
		t.Fatalf("%s %v", resp.Status, body)
	}
}
