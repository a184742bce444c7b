package fakem365_test

import (
	"bytes"
	"io"
	"net/http"
	"testing"

	"github.com/m365snow/m365snow/internal/wellknown"
)

// BenchmarkSolutionsSearch measures the connector's search with token
// verification (keys cached after the first call), over loopback HTTP.
func BenchmarkSolutionsSearch(b *testing.B) {
	e := newEnv(b)
	e.integrate(b, "AAD Auth")
	e.do(b, "PUT", portal(contoso)+"/repositories/contoso-snow", e.adminToken(b, "admin@contoso.onmicrosoft.com", "admin-pw"),
		map[string]any{"endpoint": endpoint, "authenticationType": "AAD Auth", "clientId": "ignored"})
	if r := e.handshake(b, "none", "", ""); r.status != 200 {
		b.Fatal(r.raw)
	}
	tok := e.appToken(b, contoso, outbound, "outbound-secret", wellknown.ConnectorResource)
	body := []byte(`{"query":"Email is not syncing in Outlook on my phone","incidentNumber":"INC0010001"}`)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req, _ := http.NewRequest("POST", connector("contoso-snow")+"/solutions/search", bytes.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+tok)
			req.Header.Set("Content-Type", "application/json")
			res, err := e.client.Do(req)
			if err != nil || res.StatusCode != 200 {
				b.Fatal(err, res.StatusCode)
			}
			_, _ = io.Copy(io.Discard, res.Body)
			res.Body.Close()
		}
	})
}
