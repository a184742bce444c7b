package journal

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// The middleware's cost on one request with a form body and an 8 KB JSON
// answer (a Table API page), in memory: off is no journal (the log line
// only, discarded), on records into a full ring.
func BenchmarkMiddleware(b *testing.B) {
	page := []byte(`{"result":[` + strings.Repeat(`{"number":"INC0010001","short_description":"Teams meetings drop"},`, 120) + `{}]}`)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(page)
	})
	form := "grant_type=client_credentials&client_id=app&client_secret=s3cr3t&resource=https%3A%2F%2Fgraph.microsoft.com"
	for _, tc := range []struct {
		name string
		j    *Journal
	}{{"off", nil}, {"on", New(DefaultSize)}} {
		b.Run(tc.name, func(b *testing.B) {
			m := Middleware(h, Config{Party: "fakesnow", Journal: tc.j})
			b.ReportAllocs()
			for b.Loop() {
				req := httptest.NewRequest("POST", "/api/now/table/incident", strings.NewReader(form))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				m.ServeHTTP(httptest.NewRecorder(), req)
			}
		})
	}
}

// BenchmarkEntries is the read side: a full default ring, redacted.
func BenchmarkEntries(b *testing.B) {
	j := New(DefaultSize)
	m := Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"access_token":"eyJhbGciOiJSUzI1NiJ9.eyJhdWQiOiJ4In0.c2ln","token_type":"Bearer"}`)
	}), Config{Party: "fakeaad", Journal: j})
	for range DefaultSize {
		req := httptest.NewRequest("POST", "/t/oauth2/token", strings.NewReader("client_secret=x&grant_type=client_credentials"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		m.ServeHTTP(httptest.NewRecorder(), req)
	}
	b.ReportAllocs()
	for b.Loop() {
		if len(j.Entries(Filter{})) != DefaultSize {
			b.Fatal("short")
		}
	}
}
