package platform

import (
	"fmt"
	"testing"
)

// TestReadCacheFollowsWrites reads the same list again after each kind of
// write that changes it: the cache must never answer what was true before.
func TestReadCacheFollowsWrites(t *testing.T) {
	e := newEnv(t)
	inc, err := e.inst.Insert("incident", map[string]string{"short_description": "first", "caller_id": e.ids["abel.tuter"], "active": "true", "category": "cache-test"})
	if err != nil {
		t.Fatal(err)
	}
	list := "/api/now/table/incident?sysparm_query=active%3Dtrue%5Ecategory%3Dcache-test&sysparm_fields=number,short_description,caller_id&sysparm_display_value=true"
	read := func() []any {
		r := e.call(t, "GET", list, "admin", "")
		if r.status != 200 {
			t.Fatalf("list: %d %s", r.status, r.raw)
		}
		return r.body["result"].([]any)
	}
	first := func() map[string]any { return read()[0].(map[string]any) }
	caller := func() string { return fmt.Sprint(first()["caller_id"].(map[string]any)["display_value"]) }

	before := caller()
	if got := first()["short_description"]; got != "first" {
		t.Fatalf("short_description %v", got)
	}
	// An update of the record itself.
	if r := e.call(t, "PATCH", "/api/now/table/incident/"+inc["sys_id"], "admin", `{"short_description":"second"}`); r.status != 200 {
		t.Fatal(r.raw)
	}
	if got := first()["short_description"]; got != "second" {
		t.Errorf("after PATCH: %v", got)
	}
	// A change in another table that the list displays.
	if r := e.call(t, "PATCH", "/api/now/table/sys_user/"+e.ids["abel.tuter"], "admin", `{"first_name":"Renamed"}`); r.status != 200 {
		t.Fatal(r.raw)
	}
	if after := caller(); after == before || after != "Renamed Tuter" {
		t.Errorf("caller display value %q, was %q", after, before)
	}
	// A write that takes the record out of the query, and a new one.
	if r := e.call(t, "PATCH", "/api/now/table/incident/"+inc["sys_id"], "admin", `{"active":"false"}`); r.status != 200 {
		t.Fatal(r.raw)
	}
	if n := len(read()); n != 0 {
		t.Errorf("%d active incidents after deactivating the only one", n)
	}
	if r := e.call(t, "POST", "/api/now/table/incident", "admin", `{"short_description":"third","active":"true","category":"cache-test"}`); r.status != 201 {
		t.Fatal(r.raw)
	}
	if got := read(); len(got) != 1 || got[0].(map[string]any)["short_description"] != "third" {
		t.Errorf("after POST: %v", got)
	}
	// Log writes do not touch the cache's validity for other tables, but
	// the log's own list follows them.
	logs := func() int {
		r := e.call(t, "GET", "/api/now/table/syslog?sysparm_query=source%3Dcache-test", "admin", "")
		return len(r.body["result"].([]any))
	}
	n := logs()
	e.inst.Log(LevelInfo, "cache-test", "one more", "")
	if logs() != n+1 {
		t.Errorf("the syslog list did not show a new entry")
	}
	// A deletion.
	rows, _ := e.inst.Query("incident", "active=true^category=cache-test")
	if r := e.call(t, "DELETE", "/api/now/table/incident/"+rows[0]["sys_id"], "admin", ""); r.status != 204 {
		t.Fatal(r.raw)
	}
	if n := len(read()); n != 0 {
		t.Errorf("%d incidents after DELETE", n)
	}
}
