package fakesnow_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/m365snow/m365snow/fixtures"
	"github.com/m365snow/m365snow/internal/fixture"
	"github.com/m365snow/m365snow/world"
)

// TestEveryRouteRefusesBadInputInItsOwnShape sends every route of fakesnow
// (platform and app) malformed JSON, wrong JSON types, an oversize body,
// invalid UTF-8, NUL bytes, a non-JSON Content-Type and a huge query
// string (issue 11, "Checks that keep it fixed"). No answer may be a 5xx
// or a dropped connection (a panic), and every refusal comes in the
// route owner's shape: ServiceNow's error envelope, the token endpoint's
// OAuth error, the login page, or — for a target too long for the
// application server — Tomcat's error page.
func TestEveryRouteRefusesBadInputInItsOwnShape(t *testing.T) {
	f, err := fixture.Load(fixtures.FS, "integrated-basic")
	if err != nil {
		t.Fatal(err)
	}
	w, err := world.Start(world.Options{Fixture: f})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	admin, err := w.Login("admin", "Snow-Admin-1!")
	if err != nil {
		t.Fatal(err)
	}
	tok, err := w.Do("POST", w.InstanceURL+"/oauth_token.do", nil, url.Values{"grant_type": {"password"}, "client_id": {"0c4f5a6b7d8e9f0a1b2c3d4e5f6a7b8c"},
		"client_secret": {"Inb-ContosoInboundSecret-1"}, "username": {"m365.integration"}, "password": {"Snow-Integration-1!"}})
	if err != nil || tok.Status != 200 {
		t.Fatalf("token: %v %v", err, tok)
	}
	integration := world.Bearer(tok.JSON["access_token"].(string))
	session := world.Session(admin)
	inc, _ := w.Snow.Instance().First("incident", "number=INC0010001")

	const app = "/api/x_mioms_m365_assis/v1"
	// Setup edits the app's records: the admin works in the app's scope.
	if r, err := w.Do("PUT", w.InstanceURL+"/api/now/ui/concoursepicker/application", session, map[string]string{"app_id": "6d05c93f1b7784507ddd4227cc4bcb9f"}); err != nil || r.Status != 200 {
		t.Fatalf("switching to the app: %v %v", err, r)
	}
	// The credentials work: the bad inputs below reach the handlers, not
	// the authentication's 401.
	for _, c := range []struct {
		path string
		auth world.Auth
	}{{"/api/now/table/incident?sysparm_limit=1", session}, {app + "/setup/", session}, {app + "/inbound/ping", integration}} {
		if r, err := w.Do("GET", w.InstanceURL+c.path, c.auth, nil); err != nil || r.Status != 200 {
			t.Fatalf("GET %s with good input: %v %v", c.path, err, r)
		}
	}
	routes := []struct {
		method, path string
		auth         world.Auth
		shape        string // envelope (default), oauth or login
	}{
		{"POST", "/login.do", nil, "login"},
		{"POST", "/oauth_token.do", nil, "oauth"},
		{"GET", "/api/now/table/incident", session, ""},
		{"POST", "/api/now/table/incident", session, ""},
		{"GET", "/api/now/v2/table/incident/" + inc["sys_id"], session, ""},
		{"PUT", "/api/now/v1/table/incident/" + inc["sys_id"], session, ""},
		{"PATCH", "/api/now/table/incident/" + inc["sys_id"], session, ""},
		{"DELETE", "/api/now/table/incident/00000000000000000000000000000000", session, ""},
		{"GET", "/api/now/ui/concoursepicker/application", session, ""},
		{"PUT", "/api/now/ui/concoursepicker/application", session, ""},
		{"GET", app + "/setup/", session, ""},
		{"POST", app + "/setup/consent", session, ""},
		{"PUT", app + "/setup/outbound", session, ""},
		{"PUT", app + "/setup/inbound", session, ""},
		{"PUT", app + "/setup/integration_user", session, ""},
		{"PUT", app + "/setup/repository", session, ""},
		{"PUT", app + "/setup/settings", session, ""},
		{"GET", app + "/setup/complete", session, ""},
		{"GET", app + "/incidents/INC0010001/form", session, ""},
		{"POST", app + "/incidents/INC0010001/solutions", session, ""},
		{"GET", app + "/incidents/INC0010001/servicehealth", session, ""},
		{"POST", app + "/incidents/INC0010001/cases", session, ""},
		{"PATCH", app + "/incidents/INC0010001/cases/7000000099", session, ""},
		{"GET", app + "/link_account/", session, ""},
		{"PUT", app + "/link_account/", session, ""},
		{"GET", app + "/inbound/ping", integration, ""},
		{"PUT", app + "/inbound/cases/7000000099", integration, ""},
	}
	type input struct {
		name, contentType, query string
		body                     []byte
	}
	inputs := []input{
		{"malformed JSON", "application/json", "", []byte(`{"short_description":`)},
		{"array of numbers", "application/json", "", []byte(`[1,2,3]`)},
		{"string", "application/json", "", []byte(`"just a string"`)},
		{"null", "application/json", "", []byte(`null`)},
		{"wrong types", "application/json", "", []byte(`{"short_description":{"x":[1]},"number":12,"active":[true],"email":{"value":7},"details":"not a map","searchText":42,"incidentNumber":["INC0010001"],"createdDateTime":1e999,"app_id":false,"profile":{}}`)},
		{"invalid UTF-8", "application/json", "sysparm_query=number%3D%FF%FE", []byte("{\"short_description\":\"\xff\xfe\",\"incidentNumber\":\"\xc3\x28\"}")},
		{"NUL bytes", "application/json", "sysparm_query=number%3D%00&sysparm_fields=%00", []byte("{\"short_description\":\"a\\u0000b\",\"incidentNumber\":\"INC\\u0000\",\"email\":\"a\\u0000@b.c\"}")},
		{"form body as text/plain", "text/plain", "", []byte("short_description=x")},
		{"huge query string", "application/json", "sysparm_query=" + strings.Repeat("numberLIKEx%5E", 2000), []byte(`{}`)},
		{"oversize body", "application/json", "", append(append([]byte(`{"short_description":"`), bytes.Repeat([]byte("x"), 10485760)...), `"}`...)},
	}
	// The body limit is applied once, in front of every route
	// (Instance.ServeHTTP): an oversize body goes to one route only, which
	// keeps this test fast under -race.
	oversizeTo := map[string]bool{"/api/now/table/incident": true}
	for _, rt := range routes {
		for _, in := range inputs {
			if in.name == "oversize body" && !oversizeTo[rt.path] {
				continue
			}
			target := w.InstanceURL + rt.path
			if in.query != "" {
				target += "?" + in.query
			}
			var body io.Reader
			if rt.method != "GET" && rt.method != "DELETE" {
				body = bytes.NewReader(in.body)
			}
			req, err := http.NewRequest(rt.method, target, body)
			if err != nil {
				t.Fatal(err)
			}
			if body != nil {
				req.Header.Set("Content-Type", in.contentType)
			}
			if rt.auth != nil {
				rt.auth(req)
			}
			res, err := w.Client.Do(req)
			if err != nil {
				t.Errorf("%s %s, %s: no answer (%v)", rt.method, rt.path, in.name, err)
				continue
			}
			raw, _ := io.ReadAll(res.Body)
			res.Body.Close()
			where := rt.method + " " + rt.path + ", " + in.name
			if res.StatusCode >= 500 {
				t.Errorf("%s: %d %.200s", where, res.StatusCode, raw)
				continue
			}
			if res.StatusCode < 400 && rt.shape != "login" {
				continue
			}
			shape := rt.shape
			if in.name == "huge query string" {
				// Refused in front of every route by the application
				// server, as an instance's Tomcat does (KB0826932).
				shape = "tomcat"
			}
			switch shape {
			case "oauth":
				var e struct{ Error, ErrorDescription string }
				if json.Unmarshal(raw, &e) != nil || e.Error == "" {
					t.Errorf("%s: %d not an OAuth error: %.200s", where, res.StatusCode, raw)
				}
			case "tomcat":
				if res.StatusCode != 400 || !strings.Contains(string(raw), "Request header is too large") {
					t.Errorf("%s: %d not Tomcat's 400 page: %.200s", where, res.StatusCode, raw)
				}
			case "login":
				if res.StatusCode != 200 || !strings.Contains(string(raw), "outputmsg_error") {
					t.Errorf("%s: %d not the login page: %.200s", where, res.StatusCode, raw)
				}
			default:
				var e struct {
					Error *struct {
						Message string  `json:"message"`
						Detail  *string `json:"detail"`
					} `json:"error"`
					Status string `json:"status"`
				}
				if json.Unmarshal(raw, &e) != nil || e.Error == nil || e.Error.Message == "" || e.Status != "failure" {
					t.Errorf("%s: %d not ServiceNow's error envelope: %.200s", where, res.StatusCode, raw)
				}
			}
		}
	}
}
