package platform

import (
	"encoding/xml"
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestXMLBodies: the Table API answers XML when the client's Accept asks
// for it and takes XML bodies. The Table API reference: "Accept: Data
// format of the response body. Supported types: application/json or
// application/xml"; request bodies as the REST API Explorer writes them,
// <request><entry>…</entry></request>; clients run against real
// instances read response.result.<field> for a record and repeated
// response.result elements for a list (public RestAssured suites,
// docs/fidelity.md).
func TestXMLBodies(t *testing.T) {
	e := newEnv(t)
	inc := mustFirst(t, e, "number=INC0010001")
	abel := e.ids["abel.tuter"]
	const decl = `<?xml version="1.0" encoding="UTF-8"?>`
	userLink := "https://dev12345.service-now.com/api/now/table/sys_user/" + abel
	cases := []struct {
		name, method, path, auth, accept, ctype, body string
		status                                        int
		wantType                                      string // Content-Type prefix
		want                                          string // exact body, or prefix when it ends in …
	}{
		{"one record", "GET", "/api/now/table/incident/" + inc + "?sysparm_fields=number,caller_id,active", "beth.anglin", "application/xml", "", "", 200, "application/xml; charset=UTF-8",
			decl + `<response><result><number>INC0010001</number><caller_id><link>` + userLink + `</link><value>` + abel + `</value></caller_id><active>true</active></result></response>`},
		{"a list repeats result", "GET", "/api/now/table/incident?sysparm_fields=number&sysparm_limit=2", "beth.anglin", "application/xml", "", "", 200, "application/xml",
			decl + `<response><result><number>INC0010001</number></result><result><number>INC0010002</number></result></response>`},
		{"an empty value is an empty element", "GET", "/api/now/table/incident/" + inc + "?sysparm_fields=number,close_notes", "beth.anglin", "text/xml", "", "", 200, "application/xml",
			decl + `<response><result><number>INC0010001</number><close_notes/></result></response>`},
		{"an empty list", "GET", "/api/now/v2/table/incident?sysparm_query=number%3DINC9", "beth.anglin", "application/xml", "", "", 200, "application/xml",
			decl + `<response/>`},
		{"404 in XML", "GET", "/api/now/table/incident/00000000000000000000000000000000", "beth.anglin", "application/xml", "", "", 404, "application/xml",
			decl + `<response><error><message>No Record found</message><detail>Record doesn&#39;t exist or ACL restricts the record retrieval</detail></error><status>failure</status></response>`},
		{"401 in XML", "GET", "/api/now/table/incident", "", "application/xml", "", "", 401, "application/xml",
			decl + `<response><error><message>User Not Authenticated</message><detail>Required to provide Auth information</detail></error><status>failure</status></response>`},
		{"JSON first wins", "GET", "/api/now/table/incident/" + inc + "?sysparm_fields=number", "beth.anglin", "application/json, application/xml", "", "", 200, "application/json",
			`{"result":{"number":"INC0010001"}}` + "\n"},
		{"*/* is JSON", "GET", "/api/now/table/incident/" + inc + "?sysparm_fields=number", "beth.anglin", "*/*", "", "", 200, "application/json",
			`{"result":{"number":"INC0010001"}}` + "\n"},
		{"insert from XML, answer in XML", "POST", "/api/now/table/incident?sysparm_fields=short_description,urgency,caller_id", "beth.anglin", "application/xml", "application/xml",
			`<request><entry><short_description>Mouse &amp; keyboard &lt;USB&gt;</short_description><urgency>2</urgency><caller_id>` + abel + `</caller_id></entry></request>`, 201, "application/xml",
			decl + `<response><result><short_description>Mouse &amp; keyboard &lt;USB&gt;</short_description><urgency>2</urgency><caller_id><link>` + userLink + `</link><value>` + abel + `</value></caller_id></result></response>`},
		{"insert from XML, answer in JSON", "POST", "/api/now/table/incident?sysparm_fields=short_description", "beth.anglin", "application/json", "text/xml; charset=utf-8",
			`<?xml version="1.0"?><request><entry><short_description>from xml</short_description></entry></request>`, 201, "application/json",
			`{"result":{"short_description":"from xml"}}` + "\n"},
		{"a reference as <value>", "PATCH", "/api/now/table/incident/" + inc + "?sysparm_fields=caller_id&sysparm_exclude_reference_link=true", "beth.anglin", "application/json", "application/xml",
			`<request><entry><caller_id><link>x</link><value>` + e.ids["beth.anglin"] + `</value></caller_id></entry></request>`, 200, "application/json",
			`{"result":{"caller_id":"` + e.ids["beth.anglin"] + `"}}` + "\n"},
		{"only the first entry counts", "PATCH", "/api/now/table/incident/" + inc + "?sysparm_fields=short_description", "beth.anglin", "", "application/xml",
			`<request><entry><short_description>first</short_description></entry><entry><short_description>second</short_description></entry></request>`, 200, "application/json",
			`{"result":{"short_description":"first"}}` + "\n"},
		{"malformed XML", "POST", "/api/now/table/incident", "beth.anglin", "application/xml", "application/xml", `<request><entry><short_description>x</entry></request>`, 400, "application/xml",
			decl + `<response><error><message>Exception while reading request</message><detail>The payload is not valid XML.</detail></error><status>failure</status></response>`},
		{"too deep", "POST", "/api/now/table/incident", "beth.anglin", "", "application/xml", `<request><entry><a><b><c>x</c></b></a></entry></request>`, 400, "application/json",
			`{"error":{"message":"Exception while reading request","detail":"The payload is not valid XML."},"status":"failure"}`},
		{"an entity bomb is not expanded", "POST", "/api/now/table/incident", "beth.anglin", "", "application/xml",
			`<!DOCTYPE r [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]><request><entry><short_description>&b;</short_description></entry></request>`, 400, "application/json", `{"error":…`},
		{"delete answers no body", "DELETE", "/api/now/table/incident/" + inc, "admin", "application/xml", "", "", 204, "", ""},
	}
	for _, c := range cases {
		req, _ := http.NewRequest(c.method, e.ts.URL+c.path, strings.NewReader(c.body))
		if c.auth != "" {
			req.SetBasicAuth(c.auth, c.auth+"-pw")
		}
		if c.accept != "" {
			req.Header.Set("Accept", c.accept)
		}
		if c.ctype != "" {
			req.Header.Set("Content-Type", c.ctype)
		}
		r := e.do(t, req)
		if r.status != c.status {
			t.Errorf("%s: status %d, want %d: %s", c.name, r.status, c.status, r.raw)
			continue
		}
		if got := r.header.Get("Content-Type"); !strings.HasPrefix(got, c.wantType) {
			t.Errorf("%s: Content-Type %q, want %q", c.name, got, c.wantType)
		}
		if prefix, ok := strings.CutSuffix(c.want, "…"); ok {
			if !strings.HasPrefix(r.raw, prefix) {
				t.Errorf("%s:\n got %s\nwant %s…", c.name, r.raw, prefix)
			}
		} else if r.raw != c.want {
			t.Errorf("%s:\n got %s\nwant %s", c.name, r.raw, c.want)
		}
		if strings.HasPrefix(c.wantType, "application/xml") {
			if err := wellFormed(r.raw); err != nil {
				t.Errorf("%s: not well-formed XML: %v", c.name, err)
			}
		}
	}
}

// TestXMLDisplayValuesAndControlCharacters: display values nest as in JSON
// (display_value, link, value) and characters XML cannot carry are
// replaced rather than breaking the document.
func TestXMLDisplayValuesAndControlCharacters(t *testing.T) {
	e := newEnv(t)
	inc := mustFirst(t, e, "number=INC0010002")
	if _, err := e.inst.Update("incident", inc, map[string]string{"short_description": "bell\x07 and\nnewline"}); err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("GET", e.ts.URL+"/api/now/table/incident/"+inc+"?sysparm_fields=caller_id,short_description&sysparm_display_value=all", nil)
	req.SetBasicAuth("beth.anglin", "beth.anglin-pw")
	req.Header.Set("Accept", "application/xml")
	r := e.do(t, req)
	want := `<caller_id><display_value>Abel Tuter</display_value><link>https://dev12345.service-now.com/api/now/table/sys_user/` + e.ids["abel.tuter"] + `</link><value>` + e.ids["abel.tuter"] + `</value></caller_id>`
	if !strings.Contains(r.raw, want) {
		t.Errorf("display all:\n got %s\nwant …%s…", r.raw, want)
	}
	if !strings.Contains(r.raw, "<short_description><display_value>bell\uFFFD and&#xA;newline</display_value>") {
		t.Errorf("control characters: %s", r.raw)
	}
	if err := wellFormed(r.raw); err != nil {
		t.Errorf("not well-formed: %v", err)
	}
}

func wellFormed(s string) error {
	dec := xml.NewDecoder(strings.NewReader(s))
	for {
		if _, err := dec.Token(); err == io.EOF {
			return nil
		} else if err != nil {
			return err
		}
	}
}
