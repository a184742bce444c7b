package fakeaad

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/m365snow/m365snow/internal/journal"
)

// Over real loopback HTTP, as clients see it: `make bench` runs these and
// docs/benchmarks.md records the numbers.

func BenchmarkTokenClientCredentialsV1(b *testing.B) {
	env := newEnv(b, false)
	body := cc(outboundID, "outbound-secret", connector).Encode()
	benchPost(b, env, "/"+contosoID+"/oauth2/token", body)
}

func BenchmarkTokenClientCredentialsV2(b *testing.B) {
	env := newEnv(b, false)
	body := ccV2(outboundID, "outbound-secret", "api://modern/.default").Encode()
	benchPost(b, env, "/"+contosoID+"/oauth2/v2.0/token", body)
}

func BenchmarkTokenWrongSecret(b *testing.B) {
	env := newEnv(b, false)
	body := cc(outboundID, "wrong", connector).Encode()
	benchPost(b, env, "/"+contosoID+"/oauth2/token", body)
}

func BenchmarkDiscoveryV2(b *testing.B) {
	env := newEnv(b, false)
	benchGet(b, env, "/contoso.onmicrosoft.com/v2.0/.well-known/openid-configuration")
}

func BenchmarkJWKS(b *testing.B) {
	env := newEnv(b, false)
	benchGet(b, env, "/common/discovery/keys")
}

func BenchmarkNewServer(b *testing.B) {
	f := testFixtureValue(b)
	for b.Loop() {
		if _, err := New(Options{PublicURL: "https://login.microsoftonline.com", Fixture: f}); err != nil {
			b.Fatal(err)
		}
	}
}

func benchPost(b *testing.B, env *testEnv, path, body string) {
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			resp, err := client.Post(env.ts.URL+path, "application/x-www-form-urlencoded", strings.NewReader(body))
			if err != nil {
				b.Fatal(err)
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	})
}

func benchGet(b *testing.B, env *testEnv, path string) {
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			resp, err := client.Get(env.ts.URL + path)
			if err != nil || resp.StatusCode != 200 {
				b.Fatal(err, resp.StatusCode)
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	})
}

// BenchmarkTokenClientCredentialsV1Journaled is the same with the request
// journal on, as the binaries and worlds run (docs/benchmarks.md).
func BenchmarkTokenClientCredentialsV1Journaled(b *testing.B) {
	env := newEnv(b, false)
	srv, err := New(Options{PublicURL: env.ts.URL, Clock: env.clock, Fixture: testFixtureValue(b), Journal: journal.New(journal.DefaultSize)})
	if err != nil {
		b.Fatal(err)
	}
	env.srv = srv
	body := cc(outboundID, "outbound-secret", connector).Encode()
	b.ResetTimer() // the second server's construction is not the journal's cost
	benchPost(b, env, "/"+contosoID+"/oauth2/token", body)
	if srv.journal.Count(journal.Filter{}) == 0 {
		b.Fatal("nothing journaled")
	}
}
