package platform

import (
	"encoding/base64"
	"net/http"
	"slices"
	"strings"
	"testing"
)

// TestBatchLimits: the Batch API reference, "Size and processing limits":
// each request item 5 MB by default (glide.rest.batch.max.inputSize,
// maximum 10 MB), each response item 10 MB (glide.rest.batch.max.outputSize,
// lowered per request by X-BATCHREQUEST-MAX-OUTPUT-SIZE, never raised);
// "When a batch request reaches a size or processing limit, the system
// cancels the transaction and returns unprocessed requests in the
// unserviced JSON array".
func TestBatchLimits(t *testing.T) {
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	items := `{"batch_request_id": "b", "rest_requests": [
		{"id": "one", "method": "GET", "url": "/api/now/table/incident?sysparm_limit=1&sysparm_fields=number"},
		{"id": "two", "method": "POST", "url": "/api/now/table/incident?sysparm_fields=number", "headers": [{"name": "Content-Type", "value": "application/json"}],
		 "body": "` + b64(`{"short_description":"`+strings.Repeat("x", 200)+`"}`) + `"},
		{"id": "three", "method": "GET", "url": "/api/now/table/incident?sysparm_fields=number,short_description,description,caller_id"}
	]}`
	cases := []struct {
		name             string
		inSize, outSize  string // properties ("" unset)
		header           string // X-BATCHREQUEST-MAX-OUTPUT-SIZE
		serviced, unsvcd []string
		insertedTwo      bool
	}{
		{"defaults", "", "", "", []string{"one", "two", "three"}, []string{}, true},
		{"an item over the input size cancels it and the rest", "100", "", "", []string{"one"}, []string{"two", "three"}, false},
		{"an answer over the output size cancels from there", "", "300", "", []string{"one", "two"}, []string{"three"}, true},
		{"the header lowers the output size", "", "", "300", []string{"one", "two"}, []string{"three"}, true},
		{"the header cannot raise it", "", "300", "99999999", []string{"one", "two"}, []string{"three"}, true},
		{"a unit-less or bad value keeps the default", "5MB", "-1", "x", []string{"one", "two", "three"}, []string{}, true},
	}
	for _, c := range cases {
		e := newEnv(t)
		for prop, v := range map[string]string{PropBatchMaxInputSize: c.inSize, PropBatchMaxOutputSize: c.outSize} {
			if v != "" {
				if err := e.inst.SetProperty(prop, v); err != nil {
					t.Fatal(err)
				}
			}
		}
		req, _ := http.NewRequest("POST", e.ts.URL+"/api/now/v1/batch", strings.NewReader(items))
		req.SetBasicAuth("admin", "admin-pw")
		req.Header.Set("Content-Type", "application/json")
		if c.header != "" {
			req.Header.Set("X-BATCHREQUEST-MAX-OUTPUT-SIZE", c.header)
		}
		r := e.do(t, req)
		if r.status != 200 {
			t.Errorf("%s: %d %s", c.name, r.status, r.raw)
			continue
		}
		var served, unserved []string
		for _, it := range r.body["serviced_requests"].([]any) {
			served = append(served, it.(map[string]any)["id"].(string))
		}
		for _, id := range r.body["unserviced_requests"].([]any) {
			unserved = append(unserved, id.(string))
		}
		if !slices.Equal(served, c.serviced) || !slices.Equal(append([]string{}, unserved...), c.unsvcd) {
			t.Errorf("%s: serviced %v unserviced %v, want %v and %v", c.name, served, unserved, c.serviced, c.unsvcd)
		}
		rows, _ := e.inst.Query("incident", "short_descriptionSTARTSWITHxxxx")
		if got := len(rows) == 1; got != c.insertedTwo {
			t.Errorf("%s: item two inserted %v, want %v", c.name, got, c.insertedTwo)
		}
	}
}

func TestBatchLimitValues(t *testing.T) {
	cases := []struct {
		in, out, header string
		maxIn, maxOut   int
	}{
		{"", "", "", 5 << 20, 10 << 20},
		{"1048576", "2097152", "", 1 << 20, 2 << 20},
		{"20971520", "", "", 10 << 20, 10 << 20}, // "Maximum value: 10 MB"
		{"", "", "1000", 5 << 20, 1000},
		{"", "1000", "5000", 5 << 20, 1000},
		{"0", "abc", "-5", 5 << 20, 10 << 20},
	}
	for _, c := range cases {
		e := newEnv(t)
		if c.in != "" {
			_ = e.inst.SetProperty(PropBatchMaxInputSize, c.in)
		}
		if c.out != "" {
			_ = e.inst.SetProperty(PropBatchMaxOutputSize, c.out)
		}
		r, _ := http.NewRequest("POST", "/api/now/v1/batch", nil)
		if c.header != "" {
			r.Header.Set("X-BATCHREQUEST-MAX-OUTPUT-SIZE", c.header)
		}
		if in, out := e.inst.batchLimits(r); in != c.maxIn || out != c.maxOut {
			t.Errorf("%+v: limits %d, %d", c, in, out)
		}
	}
}
