package platform

import (
	"net/http"
	"strings"
	"testing"
)

// TestLowSeverityRefusals covers issue 11, defect 9 for the platform: each
// case is a request the old code accepted or answered wrongly.
func TestLowSeverityRefusals(t *testing.T) {
	e := newEnv(t)

	t.Run("a number beyond the counter does not overflow the next one", func(t *testing.T) {
		r := e.call(t, "POST", "/api/now/table/incident", "beth.anglin", `{"short_description":"x","number":"INC9223372036854775807"}`)
		if r.status != 201 || r.record()["number"] != "INC9223372036854775807" {
			t.Fatalf("%d %s", r.status, r.raw)
		}
		r = e.call(t, "POST", "/api/now/table/incident", "beth.anglin", `{"short_description":"next"}`)
		if got := r.record()["number"]; got != "INC0010004" {
			t.Errorf("next number %v, want INC0010004", got)
		}
	})

	t.Run("JSON sent as text/plain is 415", func(t *testing.T) {
		for _, ct := range []string{"text/plain", "text/plain;charset=UTF-8", "application/x-www-form-urlencoded"} {
			req, _ := http.NewRequest("POST", e.ts.URL+"/api/now/table/incident", strings.NewReader(`{"short_description":"plain"}`))
			req.SetBasicAuth("beth.anglin", "beth.anglin-pw")
			req.Header.Set("Content-Type", ct)
			wantError(t, e.do(t, req), 415, "Unsupported Media Type", "send application/json")
		}
		if rows, _ := e.inst.Query("incident", "short_description=plain"); len(rows) != 0 {
			t.Errorf("%d incidents created from text/plain bodies", len(rows))
		}
		req, _ := http.NewRequest("POST", e.ts.URL+"/api/now/table/incident", strings.NewReader(`{"short_description":"typed"}`))
		req.SetBasicAuth("beth.anglin", "beth.anglin-pw")
		req.Header.Set("Content-Type", "application/json; charset=utf-8")
		if r := e.do(t, req); r.status != 201 {
			t.Errorf("application/json; charset=utf-8: %d %s", r.status, r.raw)
		}
	})

	t.Run("OPTIONS and TRACE are 405 with Allow", func(t *testing.T) {
		for _, c := range []struct{ path, allow string }{
			{"/api/now/table/incident", "GET, HEAD, POST"},
			{"/api/now/v2/table/incident/0123456789abcdef0123456789abcdef", "GET, HEAD, PUT, PATCH, DELETE"},
			{"/login.do", "POST"},
			{"/api/now/ui/concoursepicker/application", "GET, PUT"},
		} {
			for _, m := range []string{"OPTIONS", "TRACE"} {
				r := e.call(t, m, c.path, "admin", "")
				wantError(t, r, 405, "Method not Supported", "")
				if got := r.header.Get("Allow"); got != c.allow {
					t.Errorf("%s %s: Allow %q, want %q", m, c.path, got, c.allow)
				}
			}
		}
	})

	t.Run("a deactivated OAuth client's tokens stop working", func(t *testing.T) {
		r := e.form(t, "/oauth_token.do", password("beth.anglin"))
		tok, _ := r.body["access_token"].(string)
		if tok == "" {
			t.Fatalf("token: %s", r.raw)
		}
		if r := e.call(t, "GET", "/api/now/table/incident?sysparm_limit=1", "bearer:"+tok, ""); r.status != 200 {
			t.Fatalf("fresh token: %d", r.status)
		}
		client, _ := e.inst.First("oauth_entity", "name=m365_inbound")
		if _, err := e.inst.Update("oauth_entity", client["sys_id"], map[string]string{"active": "false"}); err != nil {
			t.Fatal(err)
		}
		wantError(t, e.call(t, "GET", "/api/now/table/incident?sysparm_limit=1", "bearer:"+tok, ""), 401, "User Not Authenticated", "")
		if got := e.lastLog(t, "OAuth"); !strings.Contains(got, "inactive") {
			t.Errorf("system log %q", got)
		}
	})

	t.Run("a request target over 8 KiB is Tomcat's 400 page (KB0826932)", func(t *testing.T) {
		for _, long := range []string{
			"/api/now/table/incident?sysparm_fields=" + strings.Repeat("number,", 1200),
			"/api/now/table/" + strings.Repeat("x", 23000), // the 23,000-character table name
		} {
			r := e.call(t, "GET", long, "admin", "")
			if r.status != 400 || r.header.Get("Content-Type") != "text/html;charset=utf-8" || r.body != nil ||
				!strings.Contains(r.raw, "<title>HTTP Status 400 – Bad Request</title>") || !strings.Contains(r.raw, "Request header is too large") {
				t.Errorf("%d bytes: %d %v %s", len(long), r.status, r.header, r.raw)
			}
		}
		if r := e.call(t, "GET", "/api/now/table/incident?sysparm_fields="+strings.Repeat("number,", 1000), "admin", ""); r.status != 200 {
			t.Errorf("7 KB target: %d", r.status)
		}
	})
}
