package adminapi

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gorilla/mux"

	"github.com/m365snow/m365snow/internal/clock"
	"github.com/m365snow/m365snow/internal/faults"
)

// Regression for issue 11 item 6: /__admin had no authentication, took
// cross-origin text/plain POSTs and answered any Host, so a web page could
// POST /__admin/keys/rotate (or reset, or import a world) through the
// tester's browser, directly or by DNS rebinding.
func TestGuard(t *testing.T) {
	r := mux.NewRouter()
	Mount(r, Config{Service: "fakeaad", Target: &memTarget{state: "initial"}, Faults: faults.NewSet(nil), Clock: clock.NewManual(clock.Epoch)})
	open := httptest.NewServer(Guard{Hosts: []string{"login.microsoftonline.com"}}.Wrap(r))
	defer open.Close()
	locked := httptest.NewServer(Guard{Token: "s3cret"}.Wrap(r))
	defer locked.Close()

	type req struct {
		srv                       *httptest.Server
		method, path, body        string
		host, origin, ctype, auth string
	}
	cases := []struct {
		name   string
		req    req
		status int
		want   string
	}{
		{"loopback GET", req{srv: open, method: "GET", path: "/__admin/clock"}, 200, `"now"`},
		{"localhost Host", req{srv: open, method: "GET", path: "/__admin/clock", host: "localhost:8081"}, 200, `"now"`},
		{"configured public name", req{srv: open, method: "GET", path: "/__admin/clock", host: "login.microsoftonline.com"}, 200, `"now"`},
		{"DNS rebinding Host", req{srv: open, method: "GET", path: "/__admin/state", host: "attacker.example:8081"}, 403, `not \"attacker.example:8081\"`},
		{"foreign Origin", req{srv: open, method: "POST", path: "/__admin/reset", origin: "https://attacker.example"}, 403, "cross-origin"},
		{"null Origin", req{srv: open, method: "POST", path: "/__admin/reset", origin: "null"}, 403, "cross-origin"},
		{"text/plain POST", req{srv: open, method: "POST", path: "/__admin/clock", body: `{"advance":"1h"}`, ctype: "text/plain"}, 415, "JSON bodies"},
		{"form POST", req{srv: open, method: "POST", path: "/__admin/faults", body: `a=b`, ctype: "application/x-www-form-urlencoded"}, 415, "JSON bodies"},
		{"no Content-Type", req{srv: open, method: "POST", path: "/__admin/clock", body: `{"advance":"1h"}`}, 415, "JSON bodies"},
		{"JSON POST", req{srv: open, method: "POST", path: "/__admin/clock", body: `{"advance":"1h"}`, ctype: "application/json; charset=utf-8"}, 200, `"now"`},
		{"YAML state", req{srv: open, method: "PUT", path: "/__admin/state", body: "tenants: []", ctype: "application/yaml"}, 200, "imported"},
		{"YAML elsewhere", req{srv: open, method: "POST", path: "/__admin/faults", body: "path: /x", ctype: "application/yaml"}, 415, "JSON bodies"},
		{"bodiless reset", req{srv: open, method: "POST", path: "/__admin/reset"}, 200, "reset"},
		{"same-origin page", req{srv: open, method: "POST", path: "/__admin/reset", origin: "http://" + strings.TrimPrefix(open.URL, "http://")}, 200, "reset"},
		{"healthz is not guarded", req{srv: open, method: "GET", path: "/healthz", host: "attacker.example"}, 200, "ok"},
		{"token missing", req{srv: locked, method: "GET", path: "/__admin/state"}, 401, "admin token"},
		{"token wrong", req{srv: locked, method: "GET", path: "/__admin/state", auth: "Bearer guess"}, 401, "admin token"},
		{"token right", req{srv: locked, method: "GET", path: "/__admin/state", auth: "Bearer s3cret"}, 200, "initial"},
		{"token does not excuse a foreign Origin", req{srv: locked, method: "POST", path: "/__admin/reset", auth: "Bearer s3cret", origin: "https://attacker.example"}, 403, "cross-origin"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			hr, _ := http.NewRequest(c.req.method, c.req.srv.URL+c.req.path, strings.NewReader(c.req.body))
			if c.req.body == "" {
				hr.Body, hr.ContentLength = http.NoBody, 0
			}
			if c.req.host != "" {
				hr.Host = c.req.host
			}
			for k, v := range map[string]string{"Origin": c.req.origin, "Content-Type": c.req.ctype, "Authorization": c.req.auth} {
				if v != "" {
					hr.Header.Set(k, v)
				}
			}
			res, err := http.DefaultClient.Do(hr)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			b, _ := io.ReadAll(res.Body)
			if res.StatusCode != c.status || !strings.Contains(string(b), c.want) {
				t.Fatalf("%d %s, want %d containing %q", res.StatusCode, b, c.status, c.want)
			}
			if res.StatusCode >= 400 && !strings.Contains(string(b), `"error"`) {
				t.Fatalf("refusal not in the control plane's error shape: %s", b)
			}
			if res.StatusCode == 401 && res.Header.Get("WWW-Authenticate") == "" {
				t.Fatal("401 without WWW-Authenticate")
			}
		})
	}
}

func TestListensBeyondLoopback(t *testing.T) {
	for listen, want := range map[string]bool{
		"127.0.0.1:8080": false, "localhost:8080": false, "[::1]:8080": false, "127.0.0.2:0": false,
		"0.0.0.0:8080": true, ":8080": true, "[::]:8080": true, "192.168.1.10:8080": true, "nonsense": true,
	} {
		if got := ListensBeyondLoopback(listen); got != want {
			t.Errorf("ListensBeyondLoopback(%q) = %v, want %v", listen, got, want)
		}
	}
}
