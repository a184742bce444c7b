package fakeaad

import (
	"crypto/rsa"
	"crypto/sha1"
	"crypto/x509"
	"encoding/base64"
	"math/big"
	"net/url"
	"strings"
	"testing"
)

func TestDiscoveryDocuments(t *testing.T) {
	env := newEnv(t, false)
	base := env.ts.URL
	cases := []struct {
		path   string
		fields map[string]string
	}{
		{"/" + contosoID + "/.well-known/openid-configuration", map[string]string{
			"issuer":                 "https://sts.windows.net/" + contosoID + "/",
			"token_endpoint":         base + "/" + contosoID + "/oauth2/token",
			"authorization_endpoint": base + "/" + contosoID + "/oauth2/authorize",
			"jwks_uri":               base + "/common/discovery/keys",
			"end_session_endpoint":   base + "/" + contosoID + "/oauth2/logout",
			"tenant_region_scope":    "NA",
		}},
		// A domain name resolves to the GUID in every URL and the issuer.
		{"/Contoso.OnMicrosoft.com/v2.0/.well-known/openid-configuration", map[string]string{
			"issuer":                 base + "/" + contosoID + "/v2.0",
			"token_endpoint":         base + "/" + contosoID + "/oauth2/v2.0/token",
			"authorization_endpoint": base + "/" + contosoID + "/oauth2/v2.0/authorize",
			"jwks_uri":               base + "/" + contosoID + "/discovery/v2.0/keys",
			"end_session_endpoint":   base + "/" + contosoID + "/oauth2/v2.0/logout",
		}},
		{"/common/.well-known/openid-configuration", map[string]string{
			"issuer":         "https://sts.windows.net/{tenantid}/",
			"token_endpoint": base + "/common/oauth2/token",
		}},
		{"/organizations/v2.0/.well-known/openid-configuration", map[string]string{
			"issuer": base + "/{tenantid}/v2.0",
		}},
	}
	for _, c := range cases {
		t.Run(c.path, func(t *testing.T) {
			r := env.get(t, c.path)
			if r.status != 200 {
				t.Fatalf("%d %s", r.status, r.raw)
			}
			if r.header.Get("Cache-Control") != "max-age=86400, private" || r.header.Get("Access-Control-Allow-Origin") != "*" {
				t.Errorf("headers %v", r.header)
			}
			for k, v := range c.fields {
				if r.body[k] != v {
					t.Errorf("%s = %v, want %s", k, r.body[k], v)
				}
			}
		})
	}
	// MSAL requires these five in the v2 document.
	r := env.get(t, "/"+contosoID+"/v2.0/.well-known/openid-configuration")
	for _, k := range []string{"authorization_endpoint", "token_endpoint", "issuer", "jwks_uri", "end_session_endpoint"} {
		if s, _ := r.body[k].(string); s == "" {
			t.Errorf("v2 document lacks %s", k)
		}
	}
	if r.body["tenant_region_scope"] != "NA" {
		t.Errorf("tenant_region_scope %v", r.body["tenant_region_scope"])
	}
	if r := env.get(t, "/common/.well-known/openid-configuration"); r.body["tenant_region_scope"] != nil {
		t.Errorf("common tenant_region_scope %v, want null", r.body["tenant_region_scope"])
	}
}

func TestDiscoveryUnknownTenant(t *testing.T) {
	env := newEnv(t, false)
	checkSTSError(t, env.get(t, "/nowhere.onmicrosoft.com/v2.0/.well-known/openid-configuration"), 400, "invalid_tenant", 90002, "Tenant 'nowhere.onmicrosoft.com' not found.")
	checkSTSError(t, env.get(t, "/nowhere.onmicrosoft.com/discovery/keys"), 400, "invalid_tenant", 90002, "not found")
}

func TestDiscoveryWithRealHostPublicURL(t *testing.T) {
	srv, err := New(Options{PublicURL: "https://login.microsoftonline.com/", Fixture: testFixtureValue(t)})
	if err != nil {
		t.Fatal(err)
	}
	d := srv.buildDiscovery(contosoID, true)
	if d.Issuer != "https://login.microsoftonline.com/"+contosoID+"/v2.0" {
		t.Fatalf("v2 issuer behind the real host is %q", d.Issuer)
	}
}

func TestInstanceDiscovery(t *testing.T) {
	env := newEnv(t, false)
	host := strings.TrimPrefix(env.ts.URL, "http://")
	r := env.get(t, "/common/discovery/instance?api-version=1.1&authorization_endpoint="+url.QueryEscape(env.ts.URL+"/"+contosoID+"/oauth2/v2.0/authorize"))
	if r.status != 200 {
		t.Fatalf("%d %s", r.status, r.raw)
	}
	if r.body["tenant_discovery_endpoint"] != env.ts.URL+"/"+contosoID+"/v2.0/.well-known/openid-configuration" {
		t.Errorf("tenant_discovery_endpoint %v", r.body["tenant_discovery_endpoint"])
	}
	md := r.body["metadata"].([]any)[0].(map[string]any)
	if md["preferred_network"] != host || !strings.Contains(strings.Join(toStrings(md["aliases"]), ","), "login.microsoftonline.com") {
		t.Errorf("metadata %v", md)
	}
	r = env.get(t, "/common/discovery/instance?api-version=1.1&authorization_endpoint="+url.QueryEscape("https://evil.example/x/oauth2/v2.0/authorize"))
	checkSTSError(t, r, 400, "invalid_instance", 50049, "Unknown or invalid instance.")
}

func toStrings(v any) []string {
	var out []string
	for _, x := range v.([]any) {
		out = append(out, x.(string))
	}
	return out
}

func TestJWKS(t *testing.T) {
	env := newEnv(t, false)
	for _, path := range []string{"/common/discovery/keys", "/" + contosoID + "/discovery/keys", "/contoso.onmicrosoft.com/discovery/v2.0/keys", "/common/discovery/v2.0/keys"} {
		r := env.get(t, path)
		if r.status != 200 {
			t.Fatalf("%s: %d", path, r.status)
		}
		keys := r.body["keys"].([]any)
		// The signing key and the next one: Entra publishes ahead.
		if len(keys) != 2 {
			t.Fatalf("%s: %d keys", path, len(keys))
		}
		for _, key := range keys {
			k := key.(map[string]any)
			der, err := base64.StdEncoding.DecodeString(toStrings(k["x5c"])[0])
			if err != nil {
				t.Fatal(err)
			}
			sum := sha1.Sum(der)
			thumb := base64.RawURLEncoding.EncodeToString(sum[:])
			if k["kid"] != thumb || k["x5t"] != thumb {
				t.Errorf("%s: kid %v x5t %v, want SHA-1 thumbprint %s", path, k["kid"], k["x5t"], thumb)
			}
			cert, err := x509.ParseCertificate(der)
			if err != nil {
				t.Fatal(err)
			}
			n, _ := base64.RawURLEncoding.DecodeString(k["n"].(string))
			if cert.Subject.CommonName != "accounts.accesscontrol.windows.net" {
				t.Errorf("certificate subject %v", cert.Subject)
			}
			// go-jose rejects the whole set when x5c and n disagree.
			if pub, ok := cert.PublicKey.(*rsa.PublicKey); !ok || new(big.Int).SetBytes(n).Cmp(pub.N) != 0 {
				t.Errorf("%s: n does not match the certificate's key", path)
			}
			if k["kty"] != "RSA" || k["use"] != "sig" || k["e"] != "AQAB" || k["cloud_instance_name"] != "microsoftonline.com" {
				t.Errorf("%s: key %v", path, k)
			}
			_, hasIssuer := k["issuer"]
			if v2 := strings.Contains(path, "v2.0"); hasIssuer != v2 {
				t.Errorf("%s: issuer present=%v", path, hasIssuer)
			} else if v2 && k["issuer"] != env.ts.URL+"/{tenantid}/v2.0" {
				t.Errorf("%s: issuer %v", path, k["issuer"])
			}
		}
	}
}

// /consumers serves metadata with the personal-account tenant as issuer;
// instance discovery matches a host the client sent without its port, as
// MSAL Python does (authorization_endpoint=https://127.0.0.1/…).
func TestConsumersAndPortlessInstanceDiscovery(t *testing.T) {
	env := newEnv(t, false)
	r := env.get(t, "/consumers/v2.0/.well-known/openid-configuration")
	if r.status != 200 || r.body["issuer"] != env.ts.URL+"/9188040d-6c67-4c5b-b112-36a304b66dad/v2.0" ||
		r.body["token_endpoint"] != env.ts.URL+"/consumers/oauth2/v2.0/token" {
		t.Fatalf("consumers metadata: %d %s", r.status, r.raw)
	}
	if r.header.Get("x-ms-ests-server") == "" || strings.Contains(r.header.Get("x-ms-ests-server"), "fake") {
		t.Errorf("x-ms-ests-server %q", r.header.Get("x-ms-ests-server"))
	}
	u, _ := url.Parse(env.ts.URL)
	portless := "http://" + u.Hostname() + "/" + contosoID + "/oauth2/v2.0/authorize"
	r = env.get(t, "/common/discovery/instance?api-version=1.0&authorization_endpoint="+url.QueryEscape(portless))
	if r.status != 200 || !strings.Contains(r.raw, "tenant_discovery_endpoint") {
		t.Errorf("port-less instance discovery: %d %s", r.status, r.raw)
	}
	other := "http://" + u.Hostname() + ":1/" + contosoID + "/oauth2/v2.0/authorize"
	if r := env.get(t, "/common/discovery/instance?api-version=1.0&authorization_endpoint="+url.QueryEscape(other)); r.status != 400 || !strings.Contains(r.raw, "AADSTS50049") {
		t.Errorf("another port is another instance: %d %s", r.status, r.raw)
	}
}

// Every endpoint the discovery documents advertise answers (none is a
// 404), on v1 and v2.
func TestAdvertisedEndpointsAnswer(t *testing.T) {
	env := newEnv(t, false)
	for _, doc := range []string{"/" + contosoID + "/.well-known/openid-configuration", "/" + contosoID + "/v2.0/.well-known/openid-configuration"} {
		d := env.get(t, doc).body
		for _, field := range []string{"token_endpoint", "jwks_uri", "authorization_endpoint", "device_authorization_endpoint",
			"end_session_endpoint", "userinfo_endpoint", "check_session_iframe", "kerberos_endpoint"} {
			v, ok := d[field].(string)
			if !ok {
				continue
			}
			u, err := url.Parse(v)
			if err != nil {
				t.Fatal(err)
			}
			// graph.microsoft.com is mapped to this fake, which serves Graph.
			r := env.get(t, u.Path)
			if r.status == 404 || r.status >= 500 {
				t.Errorf("%s %s (%s): %d %s", doc, field, u.Path, r.status, r.raw)
			}
		}
	}
}
