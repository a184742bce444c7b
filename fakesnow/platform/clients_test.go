package platform

import (
	"encoding/base64"
	"net/http"
	"strings"
	"testing"
)

// TestServiceNowRestAPIRequests sends every request the npm client
// servicenow-rest-api makes (ChaitanyaKaranam/servicenow-rest-api,
// servicenow.js), byte for byte in its URL shapes: raw "=" and "^" inside
// sysparm_query, name=value filters, v2 paths for reads, Basic auth,
// Content-Type on a body-less DELETE.
func TestServiceNowRestAPIRequests(t *testing.T) {
	e := newEnv(t)
	inc, _ := e.inst.First("incident", "number=INC0010002")
	up := e.call(t, "POST", "/api/now/v1/attachment/file?table_name=incident&table_sys_id="+inc["sys_id"]+"&file_name=a.txt", "beth.anglin", "hello")
	att, _ := up.record()["sys_id"].(string)
	cases := []struct {
		name, method, path, body string
		status                   int
		want                     string // in the body
	}{
		{"Authenticate", "GET", "/api/now/v2/table/sys_user?user_name=beth.anglin", "", 200, `"user_name":"beth.anglin"`},
		{"getSampleData", "GET", "/api/now/v2/table/incident?sysparm_limit=1", "", 200, `"number":"INC0010001"`},
		{"getTableData", "GET", "/api/now/v2/table/incident?sysparm_display_value=true&sysparm_fields=number,short_description,state&sysparm_query=short_descriptionLIKEvpn^active=true", "", 200,
			`{"result":[{"number":"INC0010002","short_description":"VPN is down","state":"New"}]}`},
		{"getSysId", "GET", "/api/now/v2/table/incident?sysparm_query=number=INC0010002&sysparm_fields=sys_id", "", 200, `{"result":[{"sys_id":"` + inc["sys_id"] + `"}]}`},
		{"createNewTask", "POST", "/api/now/table/incident?sysparm_input_display_value=true&sysparm_display_value=true", `{"short_description":"From npm","urgency":"1 - High","caller_id":"Abel Tuter"}`, 201,
			`"urgency":"1 - High"`},
		{"UpdateTask", "PUT", "/api/now/table/incident/" + inc["sys_id"] + "?sysparm_input_display_value=true&sysparm_display_value=true", `{"state":"In Progress"}`, 200, `"state":"In Progress"`},
		{"getAttachmentMetaData", "GET", "/api/now/attachment/" + att, "", 200, `"file_name":"a.txt"`},
		{"getAllAttachmentsMetaData", "GET", "/api/now/attachment?table_sys_id=" + inc["sys_id"], "", 200, `"file_name":"a.txt"`},
		{"getAttachment", "GET", "/api/now/attachment/" + att + "/file", "", 200, "hello"},
		{"getChangeTasks (name=value filter)", "GET", "/api/now/table/incident?number=INC0010002&sysparm_fields=number,sys_id", "", 200, `"number":"INC0010002"`},
		{"DeleteTask", "DELETE", "/api/now/table/incident/" + inc["sys_id"], "", 204, ""},
	}
	for _, c := range cases {
		req, _ := http.NewRequest(c.method, e.ts.URL+c.path, strings.NewReader(c.body))
		req.SetBasicAuth("admin", "admin-pw")
		if c.method != "GET" {
			req.Header.Set("Accept", "application/json")
			req.Header.Set("Content-Type", "application/json")
		}
		r := e.do(t, req)
		if r.status != c.status || !strings.Contains(r.raw, c.want) {
			t.Errorf("%s: %d %s, want %d containing %s", c.name, r.status, r.raw, c.status, c.want)
		}
	}
}

// TestPySNCRequests sends what PySNC's TableAPI and GlideRecord send
// (pysnc/client.py _set_params, record.py): sysparm_display_value=all,
// sysparm_exclude_reference_link=true, sysparm_suppress_pagination_header
// =true, sysparm_limit/sysparm_offset paging read by X-Total-Count, and
// a GET by sys_id without sysparm_offset.
func TestPySNCRequests(t *testing.T) {
	e := newEnv(t)
	list := e.call(t, "GET", "/api/now/table/incident?sysparm_query=active%3Dtrue%5EORDERBYnumber&sysparm_display_value=all&sysparm_exclude_reference_link=true&sysparm_suppress_pagination_header=true&sysparm_limit=2&sysparm_offset=0", "beth.anglin", "")
	rows := list.result()
	if list.status != 200 || len(rows) != 2 || list.header.Get("X-Total-Count") != "3" || list.header.Get("Link") != "" {
		t.Fatalf("list: %d %d rows, %v", list.status, len(rows), list.header)
	}
	first := rows[0].(map[string]any)
	if n, _ := first["number"].(map[string]any); n["value"] != "INC0010001" || n["display_value"] != "INC0010001" {
		t.Errorf("display_value=all member: %v", first["number"])
	}
	if c, _ := first["caller_id"].(map[string]any); c["value"] != e.ids["abel.tuter"] || c["display_value"] != "Abel Tuter" || c["link"] != nil {
		t.Errorf("reference without link: %v", first["caller_id"])
	}
	id := first["sys_id"].(map[string]any)["value"].(string)
	get := e.call(t, "GET", "/api/now/table/incident/"+id+"?sysparm_display_value=all&sysparm_exclude_reference_link=true&sysparm_suppress_pagination_header=true", "beth.anglin", "")
	if get.status != 200 {
		t.Errorf("get: %d %s", get.status, get.raw)
	}
	// update_multiple: PATCHes batched by /api/now/v1/batch.
	body := base64.StdEncoding.EncodeToString([]byte(`{"short_description":"batched"}`))
	b := e.call(t, "POST", "/api/now/v1/batch", "beth.anglin", `{"batch_request_id": 1, "rest_requests": [{"id": "140", "method": "PATCH", "url": "/api/now/table/incident/`+id+
		`?sysparm_display_value=all&sysparm_exclude_reference_link=true&sysparm_suppress_pagination_header=true", "headers": [{"name": "Content-Type", "value": "application/json"}, {"name": "Accept", "value": "application/json"}], "body": "`+body+`"}]}`)
	if b.body["batch_request_id"] != "1" || !strings.Contains(b.raw, `"status_code":200`) {
		t.Errorf("batch: %s", b.raw)
	}
	if rec, _ := e.inst.Get("incident", id); rec["short_description"] != "batched" {
		t.Errorf("after the batch: %v", rec["short_description"])
	}
}
