package platform

import (
	"net/http"
	"strings"
	"testing"
)

// TestTableAPIParamsAndHeaders: sysparm_fields in the order requested,
// X-HTTP-Method-Override (REST API reference, supported headers),
// sysparm_input_display_value=true taking choice labels (Table API
// reference), a caller's upper-case sys_id, X-no-response-body (Table API
// reference).
func TestTableAPIParamsAndHeaders(t *testing.T) {
	e := newEnv(t)
	r := e.call(t, "GET", "/api/now/table/incident?sysparm_limit=1&sysparm_fields=state,number,short_description,number", "beth.anglin", "")
	if !strings.HasPrefix(r.raw, `{"result":[{"state":"1","number":"INC0010001","short_description":`) {
		t.Errorf("fields order: %s", r.raw)
	}

	cases := []struct {
		name, method, path, override, body string
		status                             int
		check                              func(resp) string
	}{
		{"POST overridden to PATCH", "POST", "/api/now/table/incident/{id}?sysparm_fields=short_description", "PATCH", `{"short_description":"patched"}`, 200,
			func(r resp) string {
				if r.record()["short_description"] != "patched" {
					return r.raw
				}
				return ""
			}},
		{"POST overridden to GET", "POST", "/api/now/table/incident/{id}?sysparm_fields=number", "get", "", 200, nil},
		{"POST overridden to DELETE", "POST", "/api/now/table/incident/{id}", "DELETE", "", 204, nil},
		{"labels with sysparm_input_display_value=true", "POST", "/api/now/table/incident?sysparm_input_display_value=true&sysparm_fields=impact,urgency,state", "",
			`{"impact":"1 - High","urgency":"2 - Medium","state":"In Progress"}`, 201,
			func(r resp) string {
				if rec := r.record(); rec["impact"] != "1" || rec["urgency"] != "2" || rec["state"] != "2" {
					return r.raw
				}
				return ""
			}},
		{"upper-case sys_id", "POST", "/api/now/table/incident?sysparm_fields=sys_id", "", `{"sys_id":"ABCDEF0123456789ABCDEF0123456789","short_description":"u"}`, 201,
			func(r resp) string {
				if r.record()["sys_id"] != "abcdef0123456789abcdef0123456789" {
					return r.raw
				}
				return ""
			}},
		{"GET by upper-case sys_id", "GET", "/api/now/table/incident/ABCDEF0123456789ABCDEF0123456789?sysparm_fields=short_description", "", "", 200, nil},
	}
	inc, _ := e.inst.First("incident", "number=INC0010002")
	for _, c := range cases {
		req, _ := http.NewRequest(c.method, e.ts.URL+strings.ReplaceAll(c.path, "{id}", inc["sys_id"]), strings.NewReader(c.body))
		req.SetBasicAuth("admin", "admin-pw")
		if c.body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		if c.override != "" {
			req.Header.Set("X-HTTP-Method-Override", c.override)
		}
		r := e.do(t, req)
		if r.status != c.status {
			t.Errorf("%s: %d, want %d: %s", c.name, r.status, c.status, r.raw)
			continue
		}
		if c.check != nil {
			if bad := c.check(r); bad != "" {
				t.Errorf("%s: %s", c.name, bad)
			}
		}
	}
	req, _ := http.NewRequest("POST", e.ts.URL+"/api/now/table/incident", strings.NewReader(`{"short_description":"quiet"}`))
	req.SetBasicAuth("beth.anglin", "beth.anglin-pw")
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-no-response-body", "true")
	if r := e.do(t, req); r.status != 201 || r.raw != "" || r.header.Get("Location") == "" {
		t.Errorf("X-no-response-body: %d %q %v", r.status, r.raw, r.header)
	}
}

// TestDotWalkedReferenceDisplay: a dot-walked reference field under
// sysparm_display_value=true is {display_value, link} (all adds value);
// without display values it stays the flat sys_id under its dotted name
// (REST API reference, dot-walking example "user.name").
func TestDotWalkedReferenceDisplay(t *testing.T) {
	e := newEnv(t)
	if _, err := e.inst.Update("incident", mustFirst(t, e, "number=INC0010001"), map[string]string{"opened_by": e.ids["beth.anglin"]}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.inst.Insert("incident", map[string]string{"short_description": "child", "parent_incident": mustFirst(t, e, "number=INC0010001")}); err != nil {
		t.Fatal(err)
	}
	base := "/api/now/table/incident?sysparm_query=short_description%3Dchild&sysparm_fields=parent_incident.opened_by,parent_incident.number"
	link := `"link":"https://dev12345.service-now.com/api/now/table/sys_user/` + e.ids["beth.anglin"] + `"`
	cases := []struct{ params, want string }{
		{"", `"parent_incident.opened_by":"` + e.ids["beth.anglin"] + `","parent_incident.number":"INC0010001"`},
		{"&sysparm_display_value=true", `"parent_incident.opened_by":{"display_value":"Beth Anglin",` + link + `},"parent_incident.number":"INC0010001"`},
		{"&sysparm_display_value=all", `"parent_incident.opened_by":{"display_value":"Beth Anglin",` + link + `,"value":"` + e.ids["beth.anglin"] + `"}`},
		{"&sysparm_display_value=true&sysparm_exclude_reference_link=true", `"parent_incident.opened_by":"Beth Anglin"`},
	}
	for _, c := range cases {
		r := e.call(t, "GET", base+c.params, "beth.anglin", "")
		if !strings.Contains(r.raw, c.want) {
			t.Errorf("%s:\n got %s\nwant …%s…", c.params, r.raw, c.want)
		}
	}
}

func mustFirst(t *testing.T, e *env, q string) string {
	t.Helper()
	rec, err := e.inst.First("incident", q)
	if err != nil {
		t.Fatal(err)
	}
	return rec["sys_id"]
}

// TestInputDisplayValue: sysparm_input_display_value. The Table API
// reference: "true: Treats input values as display values and they are
// manipulated so they can be stored properly in the database. false:
// Treats input values as actual values and stored them in the database
// without manipulation" (default false); ServiceNow's mobile SDK docs say
// the same of TREAT_INPUT_VALUES_AS_DISPLAY_VALUES ("If this value isn't
// set to true, the passed values are assumed to be the actual field
// values"). A reference given by name is stored as given unless the
// parameter is true.
func TestInputDisplayValue(t *testing.T) {
	e := newEnv(t)
	abel := e.ids["abel.tuter"]
	cases := []struct {
		name, method, params, caller string
		wantValue                    string // caller_id's stored value
		wantDisplay                  string // its display value
	}{
		{"default: a name is stored raw", "POST", "", "Abel Tuter", "Abel Tuter", ""},
		{"false: a name is stored raw", "POST", "?sysparm_input_display_value=false", "Abel Tuter", "Abel Tuter", ""},
		{"false: a sys_id is stored", "POST", "?sysparm_input_display_value=false", abel, abel, "Abel Tuter"},
		{"true: a name resolves to its sys_id", "POST", "?sysparm_input_display_value=true", "Abel Tuter", abel, "Abel Tuter"},
		{"true: a name in another case resolves", "POST", "?sysparm_input_display_value=TRUE", "abel tuter", abel, "Abel Tuter"},
		{"true: a sys_id is kept", "POST", "?sysparm_input_display_value=true", abel, abel, "Abel Tuter"},
		{"true: an unknown name is kept", "POST", "?sysparm_input_display_value=true", "Nobody Here", "Nobody Here", ""},
		{"PATCH default: a name is stored raw", "PATCH", "", "Abel Tuter", "Abel Tuter", ""},
		{"PATCH true: a name resolves", "PATCH", "?sysparm_input_display_value=true", "Abel Tuter", abel, "Abel Tuter"},
	}
	target := mustFirst(t, e, "number=INC0010002")
	for _, c := range cases {
		path := "/api/now/table/incident"
		if c.method == "PATCH" {
			path += "/" + target
		}
		sep := "?"
		if c.params != "" {
			sep = "&"
		}
		r := e.call(t, c.method, path+c.params+sep+"sysparm_display_value=all&sysparm_fields=caller_id", "admin", `{"caller_id":"`+c.caller+`","short_description":"idv"}`)
		if r.status != 201 && r.status != 200 {
			t.Errorf("%s: %d %s", c.name, r.status, r.raw)
			continue
		}
		got, _ := r.record()["caller_id"].(map[string]any)
		if got["value"] != c.wantValue || got["display_value"] != c.wantDisplay {
			t.Errorf("%s: caller_id %v, want value %q display %q", c.name, got, c.wantValue, c.wantDisplay)
		}
	}
}
