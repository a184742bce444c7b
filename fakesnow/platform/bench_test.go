package platform

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/m365snow/m365snow/internal/journal"
)

// Table API throughput over loopback HTTP with basic auth, as a client sees
// it. docs/benchmarks.md records the numbers.

func benchEnv(b *testing.B, incidents int) *env {
	e := newEnv(b)
	for k := range incidents {
		if _, err := e.inst.Insert("incident", map[string]string{"short_description": fmt.Sprintf("Incident %d: Teams meetings drop", k), "caller_id": e.ids["abel.tuter"]}); err != nil {
			b.Fatal(err)
		}
	}
	return e
}

func benchRequests(b *testing.B, e *env, method, path, body string) {
	benchRequestsAs(b, e, method, path, body, func(r *http.Request) { r.SetBasicAuth("beth.anglin", "beth.anglin-pw") })
}

func benchRequestsAs(b *testing.B, e *env, method, path, body string, auth func(*http.Request)) {
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req, _ := http.NewRequest(method, e.ts.URL+path, strings.NewReader(body))
			auth(req)
			if body != "" {
				req.Header.Set("Content-Type", "application/json")
			}
			res, err := client.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			_, _ = io.Copy(io.Discard, res.Body)
			res.Body.Close()
			if res.StatusCode >= 300 {
				b.Fatalf("%s %s: %d", method, path, res.StatusCode)
			}
		}
	})
}

func BenchmarkTableListIncidents(b *testing.B) {
	e := benchEnv(b, 100)
	benchRequests(b, e, "GET", "/api/now/table/incident?sysparm_limit=10&sysparm_query=active%3Dtrue", "")
}

// BenchmarkTableListIncidentsJournaled is the list read through the
// request journal's middleware, as fakesnow serves it in the binaries and
// worlds: the 8 KB answer is copied into the ring on every request.
func BenchmarkTableListIncidentsJournaled(b *testing.B) {
	e := benchEnv(b, 100)
	j := journal.New(journal.DefaultSize)
	ts := httptest.NewServer(journal.Middleware(e.inst, journal.Config{Party: "fakesnow", Journal: j, Clock: e.clock}))
	b.Cleanup(ts.Close)
	e.ts = ts
	b.ResetTimer()
	benchRequests(b, e, "GET", "/api/now/table/incident?sysparm_limit=10&sysparm_query=active%3Dtrue", "")
	if j.Count(journal.Filter{}) == 0 {
		b.Fatal("nothing journaled")
	}
}

// BenchmarkTableListIncidentsSession is the list read with a UI session,
// as the sandbox's curl steps and most CI clients hold one: no password
// check per request.
func BenchmarkTableListIncidentsSession(b *testing.B) {
	e := benchEnv(b, 100)
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := c.PostForm(e.ts.URL+"/login.do", url.Values{"user_name": {"beth.anglin"}, "user_password": {"beth.anglin-pw"}})
	if err != nil || len(res.Cookies()) == 0 {
		b.Fatalf("login: %v", err)
	}
	ck := res.Cookies()[0]
	e.inst.mu.RLock()
	tok := e.inst.sessions[ck.Value].token
	e.inst.mu.RUnlock()
	benchRequestsAs(b, e, "GET", "/api/now/table/incident?sysparm_limit=10&sysparm_query=active%3Dtrue", "", func(r *http.Request) {
		r.AddCookie(ck)
		r.Header.Set("X-UserToken", tok)
	})
}

func BenchmarkTableListDisplayValues(b *testing.B) {
	e := benchEnv(b, 100)
	benchRequests(b, e, "GET", "/api/now/table/incident?sysparm_limit=10&sysparm_display_value=true", "")
}

func BenchmarkTableGetRecord(b *testing.B) {
	e := benchEnv(b, 100)
	rec, _ := e.inst.First("incident", "")
	benchRequests(b, e, "GET", "/api/now/table/incident/"+rec["sys_id"], "")
}

func BenchmarkTableInsert(b *testing.B) {
	e := benchEnv(b, 0)
	benchRequests(b, e, "POST", "/api/now/table/incident", `{"short_description":"Printer on fire","impact":"2"}`)
}

func BenchmarkTablePatch(b *testing.B) {
	e := benchEnv(b, 1)
	rec, _ := e.inst.First("incident", "")
	benchRequests(b, e, "PATCH", "/api/now/table/incident/"+rec["sys_id"], `{"state":"2"}`)
}
