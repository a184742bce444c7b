package platform

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// TestBatchAPI sends what PySNC's BatchAPI sends (pysnc/client.py:
// batch_request_id as a number, relative urls, base64 bodies, request
// headers as [{name,value}]) and checks the answer against ServiceNow's
// Batch API reference (markdown/api-reference/rest-apis/batch-api.md in
// ServiceNow/ServiceNowDocs): unwrapped, batch_request_id echoed as a
// string, each item's status_code, status_text and base64 body.
func TestBatchAPI(t *testing.T) {
	e := newEnv(t)
	inc, _ := e.inst.First("incident", "number=INC0010002")
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	body := `{"batch_request_id": 7, "rest_requests": [
		{"id": "list", "method": "GET", "url": "/api/now/table/incident?sysparm_limit=1&sysparm_fields=number", "headers": [{"name": "Accept", "value": "application/json"}]},
		{"id": "create", "method": "POST", "url": "/api/now/table/incident?sysparm_fields=short_description", "exclude_response_headers": true,
		 "headers": [{"name": "Content-Type", "value": "application/json"}], "body": "` + b64(`{"short_description":"from a batch"}`) + `"},
		{"id": "gone", "method": "GET", "url": "/api/now/table/incident/00000000000000000000000000000000"},
		{"id": "delete", "method": "DELETE", "url": "/api/now/table/incident/` + inc["sys_id"] + `"},
		{"id": "nested", "method": "POST", "url": "/api/now/v1/batch", "body": "` + b64(`{}`) + `"},
		{"id": "garbled", "method": "POST", "url": "/api/now/table/incident", "body": "%%%"}
	]}`
	r := e.call(t, "POST", "/api/now/v1/batch", "admin", body)
	if r.status != 200 {
		t.Fatalf("batch: %d %s", r.status, r.raw)
	}
	if r.body["batch_request_id"] != "7" || r.body["result"] != nil {
		t.Errorf("envelope: %s", r.raw)
	}
	if u, _ := r.body["unserviced_requests"].([]any); u == nil || len(u) != 0 {
		t.Errorf("unserviced_requests %v, want []", r.body["unserviced_requests"])
	}
	items, _ := r.body["serviced_requests"].([]any)
	want := []struct {
		id, statusText, bodyHas string
		status                  int
		headers                 bool
	}{
		{"list", "OK", `{"result":[{"number":"INC0010001"}]}`, 200, true},
		{"create", "Created", `"short_description":"from a batch"`, 201, false},
		{"gone", "Not Found", `"No Record found"`, 404, true},
		{"delete", "No Content", ``, 204, true},
		{"nested", "Bad Request", `Requested URI does not represent any resource`, 400, true},
		{"garbled", "Bad Request", `base64`, 400, true},
	}
	if len(items) != len(want) {
		t.Fatalf("%d serviced requests: %s", len(items), r.raw)
	}
	for k, w := range want {
		it := items[k].(map[string]any)
		raw, _ := base64.StdEncoding.DecodeString(it["body"].(string))
		if it["id"] != w.id || int(it["status_code"].(float64)) != w.status || it["status_text"] != w.statusText || !strings.Contains(string(raw), w.bodyHas) {
			t.Errorf("item %s: %v body %s", w.id, it, raw)
		}
		hs, _ := it["headers"].([]any)
		if (len(hs) > 0) != w.headers {
			t.Errorf("item %s: headers %v, want present=%v", w.id, hs, w.headers)
		}
	}
	if _, err := e.inst.Get("incident", inc["sys_id"]); err == nil {
		t.Error("the batched DELETE did not delete")
	}
	if got, _ := e.inst.First("incident", "short_description=from a batch"); got["sys_created_by"] != "admin" {
		t.Errorf("the batched insert ran as %q, want the batch's caller", got["sys_created_by"])
	}

	other, _ := e.inst.First("incident", "number=INC0010003")
	// "Apply existing ACLs to each API call in the batch" (the reference).
	acl := e.call(t, "POST", "/api/now/v1/batch", "david.miller", `{"batch_request_id":"x","rest_requests":[{"id":"1","method":"DELETE","url":"/api/now/table/incident/`+other["sys_id"]+`"}]}`)
	if it, _ := acl.body["serviced_requests"].([]any); len(it) != 1 || it[0].(map[string]any)["status_code"] != 403.0 {
		t.Errorf("a batched delete without the delete ACL: %s", acl.raw)
	}

	for _, c := range []struct{ path, auth string }{
		{"/api/now/batch", "david.miller"},    // no unversioned Batch API (community capture 2623575)
		{"/api/now/v2/batch", "david.miller"}, // nor a v2
	} {
		wantError(t, e.call(t, "POST", c.path, c.auth, body), 400, "Requested URI does not represent any resource", "<null>")
	}
	wantUnauthenticated(t, e.call(t, "POST", "/api/now/v1/batch", "", body))
	wantError(t, e.call(t, "POST", "/api/now/v1/batch", "david.miller", "not json"), 400, "Exception while reading request", "")
}

// TestAggregateAPI follows the Aggregate API reference
// (markdown/api-reference/rest-apis/c_AggregateAPI.md): counts and averages
// as strings, averages with four decimals, grouped answers as
// {stats, groupby_fields:[{value, field}]}, sysparm_having and
// sysparm_order_by, 403 without read access.
func TestAggregateAPI(t *testing.T) {
	e := newEnv(t)
	for _, vals := range []map[string]string{{"short_description": "p1", "priority": "1", "impact": "1"}, {"short_description": "p2", "priority": "2", "active": "false"}} {
		if _, err := e.inst.Insert("incident", vals); err != nil {
			t.Fatal(err)
		}
	}
	cases := []struct {
		name, query, want string
	}{
		{"count", "sysparm_count=true", `{"result":{"stats":{"count":"5"}}}`},
		{"count with query", "sysparm_count=true&sysparm_query=active%3Dtrue", `{"result":{"stats":{"count":"4"}}}`},
		{"name=value pair", "sysparm_count=true&active=false", `{"result":{"stats":{"count":"1"}}}`},
		{"avg min max sum", "sysparm_avg_fields=priority&sysparm_min_fields=priority&sysparm_max_fields=priority&sysparm_sum_fields=priority,nonsense",
			`{"result":{"stats":{"avg":{"priority":"2.4000"},"min":{"priority":"1"},"max":{"priority":"3"},"sum":{"priority":"12"}}}}`},
		{"no aggregate asked", "", `{"result":{"stats":{}}}`},
		{"group by", "sysparm_count=true&sysparm_group_by=priority",
			`{"result":[{"stats":{"count":"1"},"groupby_fields":[{"value":"1","field":"priority"}]},{"stats":{"count":"1"},"groupby_fields":[{"value":"2","field":"priority"}]},{"stats":{"count":"3"},"groupby_fields":[{"value":"3","field":"priority"}]}]}`},
		{"group by, display values", "sysparm_count=true&sysparm_group_by=impact&sysparm_display_value=all",
			`{"result":[{"stats":{"count":"1"},"groupby_fields":[{"display_value":"1 - High","value":"1","field":"impact"}]},{"stats":{"count":"4"},"groupby_fields":[{"display_value":"3 - Low","value":"3","field":"impact"}]}]}`},
		{"having", "sysparm_count=true&sysparm_group_by=priority&sysparm_having=count%5Epriority%5E%3E%5E1",
			`{"result":[{"stats":{"count":"3"},"groupby_fields":[{"value":"3","field":"priority"}]}]}`},
		{"order by count desc", "sysparm_count=true&sysparm_group_by=impact&sysparm_order_by=COUNT%5EDESC",
			`{"result":[{"stats":{"count":"4"},"groupby_fields":[{"value":"3","field":"impact"}]},{"stats":{"count":"1"},"groupby_fields":[{"value":"1","field":"impact"}]}]}`},
	}
	for _, c := range cases {
		for _, path := range []string{"/api/now/stats/incident?", "/api/now/v1/stats/incident?"} {
			r := e.call(t, "GET", path+c.query, "beth.anglin", "")
			if r.status != 200 || strings.TrimSpace(r.raw) != c.want {
				t.Errorf("%s (%s): %d\n got %s\nwant %s", c.name, path, r.status, strings.TrimSpace(r.raw), c.want)
			}
		}
	}
	wantError(t, e.call(t, "GET", "/api/now/stats/nosuch?sysparm_count=true", "beth.anglin", ""), 400, "Invalid table nosuch", "<null>")
	if r := e.call(t, "GET", "/api/now/stats/incident?sysparm_count=true", "abel.tuter", ""); r.status != 403 {
		t.Errorf("without read access: %d %s", r.status, r.raw)
	}
	wantUnauthenticated(t, e.call(t, "GET", "/api/now/stats/incident?sysparm_count=true", "", ""))
}

// TestAttachmentAPI walks PySNC's attachment test (test/test_snc_attachment.py:
// upload, list, Location equal to {instance}/api/now/v1/attachment/{id}/file,
// download, delete) against the Attachment API reference
// (markdown/api-reference/rest-apis/c_AttachmentAPI.md).
func TestAttachmentAPI(t *testing.T) {
	e := newEnv(t)
	inc, _ := e.inst.First("incident", "number=INC0010001")
	content := "this is a sample attachment\nwith\nmulti\nlines"
	upload := func(auth, query, ctype string) resp {
		req, _ := http.NewRequest("POST", e.ts.URL+"/api/now/v1/attachment/file?"+query, strings.NewReader(content))
		if ctype != "" {
			req.Header.Set("Content-Type", ctype)
		}
		req.SetBasicAuth(auth, auth+"-pw")
		return e.do(t, req)
	}
	good := "file_name=test.txt&table_name=incident&table_sys_id=" + inc["sys_id"]
	r := upload("beth.anglin", good, "text/plain")
	if r.status != 201 {
		t.Fatalf("upload: %d %s", r.status, r.raw)
	}
	meta := r.record()
	id, _ := meta["sys_id"].(string)
	if want := "https://dev12345.service-now.com/api/now/v1/attachment/" + id + "/file"; r.header.Get("Location") != want || meta["download_link"] != want {
		t.Errorf("Location %q, download_link %v, want %s", r.header.Get("Location"), meta["download_link"], want)
	}
	for k, v := range map[string]string{"file_name": "test.txt", "content_type": "text/plain", "size_bytes": "44", "table_name": "incident",
		"table_sys_id": inc["sys_id"], "sys_created_by": "beth.anglin", "created_by_name": "Beth Anglin", "sys_mod_count": "0", "compressed": "true"} {
		if meta[k] != v {
			t.Errorf("metadata %s = %v, want %q", k, meta[k], v)
		}
	}
	for _, k := range []string{"average_image_color", "image_height", "image_width", "size_compressed", "sys_tags", "updated_by_name", "sys_created_on"} {
		if _, ok := meta[k]; !ok {
			t.Errorf("metadata lacks %s", k)
		}
	}

	list := e.call(t, "GET", "/api/now/attachment?sysparm_query=table_sys_id%3D"+inc["sys_id"], "beth.anglin", "")
	if rows := list.result(); len(rows) != 1 || rows[0].(map[string]any)["download_link"] != "https://dev12345.service-now.com/api/now/attachment/"+id+"/file" {
		t.Errorf("list: %s", list.raw)
	}
	if rows := e.call(t, "GET", "/api/now/attachment", "abel.tuter", "").result(); len(rows) != 0 {
		t.Errorf("a user who cannot read the incident lists its attachment: %v", rows)
	}

	req, _ := http.NewRequest("GET", e.ts.URL+"/api/now/v1/attachment/"+id+"/file", nil)
	req.SetBasicAuth("beth.anglin", "beth.anglin-pw")
	f := e.do(t, req)
	var xm map[string]any
	if f.status != 200 || f.raw != content || f.header.Get("Content-Type") != "text/plain" || json.Unmarshal([]byte(f.header.Get("X-Attachment-Metadata")), &xm) != nil || xm["file_name"] != "test.txt" {
		t.Errorf("download: %d %q %v", f.status, f.raw, f.header)
	}

	cases := []struct {
		name, method, path, auth string
		status                   int
	}{
		{"metadata", "GET", "/api/now/attachment/" + id, "beth.anglin", 200},
		{"metadata, no read access", "GET", "/api/now/attachment/" + id, "abel.tuter", 404},
		{"file, no read access", "GET", "/api/now/attachment/" + id + "/file", "abel.tuter", 404},
		{"delete, no read access", "DELETE", "/api/now/attachment/" + id, "abel.tuter", 404},
		{"no such attachment", "GET", "/api/now/attachment/00000000000000000000000000000000", "beth.anglin", 404},
		{"unauthenticated", "GET", "/api/now/attachment", "", 401},
		{"delete", "DELETE", "/api/now/attachment/" + id, "beth.anglin", 204},
		{"deleted", "GET", "/api/now/attachment/" + id, "beth.anglin", 404},
	}
	for _, c := range cases {
		if got := e.call(t, c.method, c.path, c.auth, ""); got.status != c.status {
			t.Errorf("%s: %d, want %d: %s", c.name, got.status, c.status, got.raw)
		}
	}
	if docs, _ := e.inst.Query("sys_attachment_doc", "sys_attachment="+id); len(docs) != 0 {
		t.Errorf("delete left %d sys_attachment_doc rows", len(docs))
	}

	for _, c := range []struct {
		name, auth, query, ctype string
		status                   int
	}{
		{"missing file_name", "beth.anglin", "table_name=incident&table_sys_id=" + inc["sys_id"], "text/plain", 400},
		{"missing Content-Type", "beth.anglin", good, "", 400},
		{"no such record", "beth.anglin", "file_name=a&table_name=incident&table_sys_id=00000000000000000000000000000000", "text/plain", 404},
		{"no read access to the record", "abel.tuter", good, "text/plain", 404},
	} {
		if got := upload(c.auth, c.query, c.ctype); got.status != c.status {
			t.Errorf("upload, %s: %d, want %d: %s", c.name, got.status, c.status, got.raw)
		}
	}
}

// TestQueryDatesAgainstTheClock is the poller's query: records updated in
// the last hour, by javascript:gs.minutesAgoStart(60) — evaluated against
// the instance's clock, and again after the clock moves (the read cache
// must not answer the old hour). And caller_id=javascript:gs.getUserID()
// and the "Me" dynamic filter name the caller (Table API reference;
// operators reference).
func TestQueryDatesAgainstTheClock(t *testing.T) {
	e := newEnv(t)
	e.clock.Advance(2 * time.Hour)
	if _, err := e.inst.Insert("incident", map[string]string{"short_description": "recent", "caller_id": e.ids["beth.anglin"]}); err != nil {
		t.Fatal(err)
	}
	count := func(query, as string) int {
		t.Helper()
		r := e.call(t, "GET", "/api/now/table/incident?sysparm_fields=number&sysparm_query="+url.QueryEscape(query), as, "")
		if r.status != 200 {
			t.Fatalf("%s: %d %s", query, r.status, r.raw)
		}
		return len(r.result())
	}
	cases := []struct {
		query, as string
		want      int
	}{
		{"sys_updated_on>javascript:gs.minutesAgoStart(60)", "beth.anglin", 1},
		{"sys_updated_on<javascript:gs.minutesAgoStart(60)", "beth.anglin", 3},
		{"sys_created_onRELATIVEGT@hour@ago@1", "beth.anglin", 1},
		{"caller_id=javascript:gs.getUserID()", "beth.anglin", 1},
		{"caller_idDYNAMIC90d1921e5f510100a9ad2572f2b477fe", "beth.anglin", 1},
		{"caller_idDYNAMIC90d1921e5f510100a9ad2572f2b477fe", "david.miller", 0},
	}
	for _, c := range cases {
		if got := count(c.query, c.as); got != c.want {
			t.Errorf("%s as %s: %d rows, want %d", c.query, c.as, got, c.want)
		}
	}
	e.clock.Advance(2 * time.Hour)
	if got := count("sys_updated_on>javascript:gs.minutesAgoStart(60)", "beth.anglin"); got != 0 {
		t.Errorf("two hours later the last hour still has %d incidents", got)
	}
}
