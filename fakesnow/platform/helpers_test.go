package platform

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/m365snow/m365snow/internal/clock"
	"github.com/m365snow/m365snow/internal/hostmap"
)

type env struct {
	inst  *Instance
	ts    *httptest.Server
	clock *clock.Manual
	hosts *hostmap.Map
	ids   map[string]string // user_name → sys_id
}

// newEnv builds an instance with a handful of users in every state the
// authentication matrix needs, an inbound OAuth client and three incidents.
func newEnv(t testing.TB) *env {
	t.Helper()
	e := &env{clock: clock.NewManual(clock.Epoch), hosts: hostmap.New(), ids: map[string]string{}}
	e.ts = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { e.inst.ServeHTTP(w, r) }))
	t.Cleanup(e.ts.Close)
	inst, err := New(Options{URL: "https://dev12345.service-now.com", Clock: e.clock, Transport: &hostmap.Transport{Map: e.hosts}})
	if err != nil {
		t.Fatal(err)
	}
	e.inst = inst
	users := []struct {
		name, first, last string
		roles             []string
		extra             map[string]string
	}{
		{"admin", "System", "Administrator", []string{"admin"}, nil},
		{"beth.anglin", "Beth", "Anglin", []string{"itil"}, nil},
		{"david.miller", "David", "Miller", []string{"incident_manager"}, nil},
		{"abel.tuter", "Abel", "Tuter", nil, nil},
		{"m365.integration", "M365", "Integration", []string{"itil"}, map[string]string{"web_service_access_only": "true"}},
		{"locked.user", "Locked", "User", []string{"itil"}, map[string]string{"locked_out": "true"}},
		{"former.user", "Former", "User", []string{"itil"}, map[string]string{"active": "false"}},
	}
	for _, u := range users {
		vals := map[string]string{"user_name": u.name, "first_name": u.first, "last_name": u.last, "user_password": u.name + "-pw", "email": u.name + "@example.com"}
		for k, v := range u.extra {
			vals[k] = v
		}
		rec, err := inst.Insert("sys_user", vals)
		if err != nil {
			t.Fatal(err)
		}
		e.ids[u.name] = rec["sys_id"]
		for _, r := range u.roles {
			if err := inst.GrantRole(rec["sys_id"], r); err != nil {
				t.Fatal(err)
			}
		}
	}
	if _, err := inst.Insert("oauth_entity", map[string]string{"name": "m365_inbound", "type": "client",
		"client_id": "0c4f5a6b7d8e9f0a1b2c3d4e5f6a7b8c", "client_secret": "inbound-secret"}); err != nil {
		t.Fatal(err)
	}
	for _, sd := range []string{"Email is not syncing on mobile", "VPN is down", "Teams calls drop"} {
		if _, err := inst.Insert("incident", map[string]string{"short_description": sd, "caller_id": e.ids["abel.tuter"], "priority": "3"}); err != nil {
			t.Fatal(err)
		}
	}
	return e
}

type resp struct {
	status int
	header http.Header
	body   map[string]any
	raw    string
}

// call makes a request; auth is "user" for Basic user:user-pw, "bearer:X",
// "cookie:X" (a UI page's call: the session cookie X and the session's
// X-UserToken), "cookieonly:X" (the cookie alone) or "" for none.
func (e *env) call(t testing.TB, method, path, auth, body string) resp {
	t.Helper()
	req, _ := http.NewRequest(method, e.ts.URL+path, strings.NewReader(body))
	switch {
	case strings.HasPrefix(auth, "bearer:"):
		req.Header.Set("Authorization", "Bearer "+strings.TrimPrefix(auth, "bearer:"))
	case strings.HasPrefix(auth, "cookie:"):
		sid := strings.TrimPrefix(auth, "cookie:")
		req.AddCookie(&http.Cookie{Name: "JSESSIONID", Value: sid})
		e.inst.mu.RLock()
		req.Header.Set("X-UserToken", e.inst.sessions[sid].token)
		e.inst.mu.RUnlock()
	case strings.HasPrefix(auth, "cookieonly:"):
		req.AddCookie(&http.Cookie{Name: "JSESSIONID", Value: strings.TrimPrefix(auth, "cookieonly:")})
	case auth != "":
		req.SetBasicAuth(auth, auth+"-pw")
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	return e.do(t, req)
}

func (e *env) do(t testing.TB, req *http.Request) resp {
	t.Helper()
	res, err := e.ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	out := resp{status: res.StatusCode, header: res.Header, raw: string(b)}
	_ = json.Unmarshal(b, &out.body)
	return out
}

func (e *env) form(t testing.TB, path string, v url.Values) resp {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, e.ts.URL+path, strings.NewReader(v.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return e.do(t, req)
}

func (r resp) result() []any {
	list, _ := r.body["result"].([]any)
	return list
}

func (r resp) record() map[string]any {
	rec, _ := r.body["result"].(map[string]any)
	return rec
}

// wantError checks ServiceNow's error envelope.
func wantError(t testing.TB, r resp, status int, message, detail string) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d: %s", r.status, status, r.raw)
	}
	e, _ := r.body["error"].(map[string]any)
	if e["message"] != message || r.body["status"] != "failure" {
		t.Errorf("envelope %s, want message %q", r.raw, message)
	}
	switch detail {
	case "<null>":
		if e["detail"] != nil {
			t.Errorf("detail %v, want null", e["detail"])
		}
	case "":
	default:
		if d, _ := e["detail"].(string); !strings.Contains(d, detail) {
			t.Errorf("detail %v, want it to contain %q", e["detail"], detail)
		}
	}
}

// lastLog returns the newest syslog message with the given source.
func (e *env) lastLog(t testing.TB, source string) string {
	t.Helper()
	rows, err := e.inst.Query("syslog", "source="+source)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) == 0 {
		return ""
	}
	return rows[len(rows)-1]["message"]
}
