package world

import (
	"strings"
	"testing"
	"time"

	"github.com/m365snow/m365snow/fixtures"
	"github.com/m365snow/m365snow/internal/fixture"
	"gopkg.in/yaml.v3"
)

func induceList(t *testing.T, doc string) []yaml.Node {
	t.Helper()
	var l []yaml.Node
	if err := yaml.Unmarshal([]byte(doc), &l); err != nil {
		t.Fatal(err)
	}
	return l
}

func TestInduce(t *testing.T) {
	f, err := fixture.Load(fixtures.FS, "integrated-basic")
	if err != nil {
		t.Fatal(err)
	}
	f.Induce = induceList(t, `
- note: a new short description, through the Table API as admin
  as: admin
  update: {table: incident, where: number=INC0010002, set: {short_description: Changed by an inducement}}
- note: the connector's search fails
  fault: {on: m365, method: POST, path: /api/v1/repositories/*/solutions/search, status: 500}
- advance: 49h
- note: an app registered through Graph by the Application Administrator
  as: appadmin@contoso.onmicrosoft.com
  request: POST https://graph.microsoft.com/v1.0/applications
  body: {displayName: Induced app}
`)
	w, err := Start(Options{Fixture: f})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	recs, err := w.Snow.Instance().Query("incident", "number=INC0010002")
	if err != nil || len(recs) != 1 || recs[0]["short_description"] != "Changed by an inducement" || recs[0]["sys_updated_by"] != "admin" {
		t.Errorf("the update did not go through the Table API as admin: %v %v", recs, err)
	}
	if l := w.M365.Faults().List(); len(l) != 1 || l[0].Status != 500 {
		t.Errorf("faults %+v", l)
	}
	if got := w.Clock.Now().Sub(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)); got < 49*time.Hour {
		t.Errorf("the clock moved %v", got)
	}
	state, err := w.AAD.ExportState()
	if err != nil || !strings.Contains(string(state), "displayName: Induced app") {
		t.Errorf("the Graph registration is not in Azure AD's state (%v)", err)
	}
}

func TestInduceRefusals(t *testing.T) {
	for _, tc := range []struct{ doc, want string }{
		{`[{advance: 1h, fault: {on: aad, path: /x, status: 500}}]`, "exactly one"},
		{`[{}]`, "exactly one"},
		{`[{advance: soon}]`, "not a positive Go duration"},
		{`[{fault: {on: graph, path: /x, status: 500}}]`, "aad, snow or m365"},
		{`[{fault: {on: aad, path: x, status: 500}}]`, "must start with /"},
		{`[{as: admin, update: {table: incident, where: number=INC9999999, set: {state: "2"}}}]`, "no incident record"},
		{`[{as: nobody, update: {table: incident, where: number=INC0010001, set: {state: "2"}}}]`, "no user nobody"},
		{`[{as: fred.luddy, update: {table: sys_properties, where: name=glide.x, set: {value: "1"}}}]`, "sys_properties"},
		{`[{as: admin@contoso.onmicrosoft.com, request: GET https://dev12345.service-now.com/api/now/table/incident}]`, "signs requests to"},
		{`[{request: GET}]`, "METHOD URL"},
		{`[{note: a refused call, request: GET https://dev12345.service-now.com/api/now/table/incident}]`, "a refused call"},
		{`[{advance: 1h, typo: 1}]`, "typo"},
	} {
		f, err := fixture.Load(fixtures.FS, "integrated-basic")
		if err != nil {
			t.Fatal(err)
		}
		f.Induce = induceList(t, tc.doc)
		w, err := Start(Options{Fixture: f})
		if err == nil {
			w.Close()
			t.Errorf("%s: started", tc.doc)
			continue
		}
		if !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.doc, err, tc.want)
		}
	}
}
