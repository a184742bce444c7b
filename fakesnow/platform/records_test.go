package platform

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var updateGolden = flag.Bool("update", false, "rewrite testdata/*.golden.json from the fake's answers")

// incidentByUI creates an incident as beth.anglin through the Table API
// with a comment and a work note, then adds a second comment a minute
// later as david.miller.
func incidentByUI(t *testing.T, e *env) string {
	t.Helper()
	r := e.call(t, "POST", "/api/now/table/incident", "beth.anglin",
		`{"sys_id":"a9e30c7dc61122760116894de7bcc7bd","short_description":"Can't access SFA software","caller_id":"`+e.ids["abel.tuter"]+
			`","impact":"2","urgency":"1","category":"software","comments":"Reported by phone","work_notes":"Checking the SFA licence server"}`)
	if r.status != 201 {
		t.Fatalf("insert: %d %s", r.status, r.raw)
	}
	e.clock.Advance(time.Minute)
	if r := e.call(t, "PATCH", "/api/now/table/incident/a9e30c7dc61122760116894de7bcc7bd", "david.miller", `{"comments":"Licence renewed; please retry"}`); r.status != 200 {
		t.Fatalf("update: %d %s", r.status, r.raw)
	}
	return "a9e30c7dc61122760116894de7bcc7bd"
}

// TestIncidentGolden pins a full incident record in value, display and
// all modes against golden files (go test -run TestIncidentGolden -update
// rewrites them). The field set is the Table API reference's full
// incident record (records.go); user sys_ids are replaced by <user_name>.
func TestIncidentGolden(t *testing.T) {
	e := newEnv(t)
	id := incidentByUI(t, e)
	for _, mode := range []string{"false", "true", "all"} {
		r := e.call(t, "GET", "/api/now/table/incident/"+id+"?sysparm_display_value="+mode, "beth.anglin", "")
		if r.status != 200 {
			t.Fatalf("%s: %d %s", mode, r.status, r.raw)
		}
		got := r.raw
		for name, uid := range e.ids {
			got = strings.ReplaceAll(got, uid, "<"+name+">")
		}
		var pretty bytes.Buffer
		if err := json.Indent(&pretty, []byte(got), "", "  "); err != nil {
			t.Fatal(err)
		}
		path := filepath.Join("testdata", "incident_display_"+mode+".golden.json")
		if *updateGolden {
			if err := os.MkdirAll("testdata", 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, pretty.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run with -update to create it)", err)
		}
		if !bytes.Equal(pretty.Bytes(), want) {
			t.Errorf("sysparm_display_value=%s differs from %s:\n%s", mode, path, pretty.String())
		}
	}
}

// TestRecordsAsAnInstanceWritesThem: what an instance's business rules and
// data lookups set on a Table API insert (Table API reference example
// record; the base priority lookup), journal fields as sys_journal_field
// entries, and a generated secret for an OAuth client created without one.
func TestRecordsAsAnInstanceWritesThem(t *testing.T) {
	e := newEnv(t)
	id := incidentByUI(t, e)
	rec, _ := e.inst.Get("incident", id)
	for k, want := range map[string]string{
		"opened_by": e.ids["beth.anglin"], "opened_at": "2026-03-02 09:00:00", "priority": "2", "incident_state": "1",
		"sys_class_name": "incident", "sys_domain": "global", "sys_domain_path": "/", "approval": "not requested",
		"comments": "", "work_notes": "", "task_effective_number": "INC0010004",
	} {
		if rec[k] != want {
			t.Errorf("%s = %q, want %q", k, rec[k], want)
		}
	}
	journal, _ := e.inst.Query("sys_journal_field", "element_id="+id)
	if len(journal) != 3 || journal[0]["element"] != "comments" || journal[1]["element"] != "work_notes" || journal[2]["sys_created_by"] != "david.miller" {
		t.Errorf("journal %v", journal)
	}

	// impact × urgency, the base priority lookup.
	for _, c := range []struct{ impact, urgency, priority string }{
		{"1", "1", "1"}, {"1", "2", "2"}, {"1", "3", "3"}, {"2", "1", "2"}, {"2", "2", "3"}, {"2", "3", "4"}, {"3", "1", "3"}, {"3", "2", "4"}, {"3", "3", "5"},
	} {
		r := e.call(t, "POST", "/api/now/table/incident?sysparm_fields=priority", "beth.anglin", `{"impact":"`+c.impact+`","urgency":"`+c.urgency+`","priority":"1"}`)
		if r.record()["priority"] != c.priority {
			t.Errorf("impact %s × urgency %s: priority %v, want %s", c.impact, c.urgency, r.record()["priority"], c.priority)
		}
	}
	r := e.call(t, "PATCH", "/api/now/table/incident/"+id+"?sysparm_fields=priority,incident_state", "beth.anglin", `{"urgency":"3","state":"2"}`)
	if r.record()["priority"] != "4" || r.record()["incident_state"] != "2" {
		t.Errorf("after urgency 3, state 2: %s", r.raw)
	}

	// "Leave this field blank to have the instance auto-generate" the secret.
	r = e.call(t, "POST", "/api/now/table/oauth_entity", "admin", `{"name":"new client","type":"client"}`)
	ent, _ := e.inst.First("oauth_entity", "name=new client")
	if r.status != 201 || len(ent["client_secret"]) != 32 || !ValidSysID(ent["client_id"]) {
		t.Errorf("generated credentials: %d %q %q", r.status, ent["client_id"], ent["client_secret"])
	}
}
