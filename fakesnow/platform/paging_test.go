package platform

import (
	"strings"
	"testing"
)

// TestPagingLinks compares Link headers with the shape of recorded real
// ones (paging.go cites them): the client's parameters in their order and
// encoding, sysparm_offset replaced in place or appended after
// sysparm_limit, prev = offset-limit even when negative, last =
// (total-1)/limit*limit.
func TestPagingLinks(t *testing.T) {
	e := newEnv(t)
	for k := 0; k < 4; k++ { // 7 incidents
		if _, err := e.inst.Insert("incident", map[string]string{"short_description": "more"}); err != nil {
			t.Fatal(err)
		}
	}
	const u = "https://dev12345.service-now.com/api/now/table/incident?"
	cases := []struct {
		name, query string
		want        []string
	}{
		{"first page, limit only (dev86373 capture)", "sysparm_limit=1",
			[]string{u + `sysparm_limit=1&sysparm_offset=0>;rel="first"`, u + `sysparm_limit=1&sysparm_offset=-1>;rel="prev"`,
				u + `sysparm_limit=1&sysparm_offset=1>;rel="next"`, u + `sysparm_limit=1&sysparm_offset=6>;rel="last"`}},
		{"client order kept (dev130168 capture)", "sysparm_query=active%3Dtrue&sysparm_display_value=true&sysparm_limit=3",
			[]string{u + `sysparm_query=active%3Dtrue&sysparm_display_value=true&sysparm_limit=3&sysparm_offset=0>;rel="first"`,
				u + `sysparm_query=active%3Dtrue&sysparm_display_value=true&sysparm_limit=3&sysparm_offset=-3>;rel="prev"`,
				u + `sysparm_query=active%3Dtrue&sysparm_display_value=true&sysparm_limit=3&sysparm_offset=3>;rel="next"`,
				u + `sysparm_query=active%3Dtrue&sysparm_display_value=true&sysparm_limit=3&sysparm_offset=6>;rel="last"`}},
		{"offset in place, last page", "sysparm_offset=6&sysparm_fields=number&sysparm_limit=3",
			[]string{u + `sysparm_offset=0&sysparm_fields=number&sysparm_limit=3>;rel="first"`,
				u + `sysparm_offset=3&sysparm_fields=number&sysparm_limit=3>;rel="prev"`,
				u + `sysparm_offset=6&sysparm_fields=number&sysparm_limit=3>;rel="last"`}},
		{"no limit given", "sysparm_fields=number",
			[]string{u + `sysparm_fields=number&sysparm_limit=10000&sysparm_offset=0>;rel="first"`,
				u + `sysparm_fields=number&sysparm_limit=10000&sysparm_offset=-10000>;rel="prev"`,
				u + `sysparm_fields=number&sysparm_limit=10000&sysparm_offset=0>;rel="last"`}},
	}
	for _, c := range cases {
		r := e.call(t, "GET", "/api/now/table/incident?"+c.query, "beth.anglin", "")
		if got := r.header.Get("Link"); got != "<"+strings.Join(c.want, ",<") {
			t.Errorf("%s\n got %s\nwant %s", c.name, got, "<"+strings.Join(c.want, ",<"))
		}
		if r.header.Get("X-Total-Count") != "7" {
			t.Errorf("%s: X-Total-Count %s", c.name, r.header.Get("X-Total-Count"))
		}
	}
}

// TestLimitBeforeACL: "sysparm_limit … is applied before ACL evaluation"
// (Table API reference): rows the caller may not see leave a short page,
// and X-Total-Count counts the query's rows.
func TestLimitBeforeACL(t *testing.T) {
	e := newEnv(t)
	for _, u := range []string{"admin", "beth.anglin", "admin", "beth.anglin"} {
		if _, err := e.inst.Insert("sys_user_preference", map[string]string{"user": e.ids[u], "name": "p"}); err != nil {
			t.Fatal(err)
		}
	}
	r := e.call(t, "GET", "/api/now/table/sys_user_preference?sysparm_query=name%3Dp&sysparm_limit=2", "beth.anglin", "")
	if len(r.result()) != 1 || r.header.Get("X-Total-Count") != "4" {
		t.Errorf("page of 2 with one of beth's rows: %d rows, X-Total-Count %s", len(r.result()), r.header.Get("X-Total-Count"))
	}
	r = e.call(t, "GET", "/api/now/table/sys_user_preference?sysparm_query=name%3Dp&sysparm_limit=2", "admin", "")
	if len(r.result()) != 2 {
		t.Errorf("admin sees every row: %d", len(r.result()))
	}
}

// TestLinksFollowTheLinkURL: with a link URL (the sandbox's listen URL),
// Link, Location, reference and download links name it, so a client that
// reaches the instance there can follow every link; the instance keeps
// its own URL otherwise. Cached renders do not keep the old links.
func TestLinksFollowTheLinkURL(t *testing.T) {
	e := newEnv(t)
	read := func() resp {
		return e.call(t, "GET", "/api/now/table/incident?sysparm_limit=1&sysparm_fields=caller_id", "beth.anglin", "")
	}
	if r := read(); !strings.Contains(r.raw, "https://dev12345.service-now.com/api/now/table/sys_user/") {
		t.Fatalf("before: %s", r.raw)
	}
	e.inst.SetLinkURL("http://127.0.0.1:8080/")
	r := read()
	if !strings.Contains(r.raw, `"link":"http://127.0.0.1:8080/api/now/table/sys_user/`) || !strings.HasPrefix(r.header.Get("Link"), "<http://127.0.0.1:8080/api/now/table/incident?") {
		t.Errorf("after: %s %s", r.raw, r.header.Get("Link"))
	}
	p := e.call(t, "POST", "/api/now/table/incident?sysparm_fields=number", "beth.anglin", `{"short_description":"x"}`)
	if !strings.HasPrefix(p.header.Get("Location"), "http://127.0.0.1:8080/api/now/table/incident/") {
		t.Errorf("Location %s", p.header.Get("Location"))
	}
	if e.inst.URL() != "https://dev12345.service-now.com" {
		t.Errorf("the instance URL changed: %s", e.inst.URL())
	}
}
