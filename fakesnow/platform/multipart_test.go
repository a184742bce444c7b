package platform

import (
	"bytes"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"strings"
	"testing"
)

// TestAttachmentMultipartUpload: POST /api/now/attachment/upload as the
// Attachment API reference describes it: multipart/form-data, "You must
// specify the table name and record sys_id values within the form body",
// "the file content is contained in the final part of the message only",
// "The Content-Type must be defined within the file portion"; 201 with the
// metadata and Location; 400 for a malformed request, 404 for a record
// that is not there. Files are bounded by com.glide.attachment.max_size
// (megabytes, "Maximum allowed attachment size") and the request body
// limit.
func TestAttachmentMultipartUpload(t *testing.T) {
	e := newEnv(t)
	inc := mustFirst(t, e, "number=INC0010001")
	type part struct{ name, file, ctype, content string }
	form := func(parts ...part) (string, *bytes.Buffer) {
		var b bytes.Buffer
		mw := multipart.NewWriter(&b)
		for _, p := range parts {
			h := textproto.MIMEHeader{}
			disp := `form-data; name="` + p.name + `"`
			if p.file != "" {
				disp += `; filename="` + p.file + `"`
			}
			h.Set("Content-Disposition", disp)
			if p.ctype != "" {
				h.Set("Content-Type", p.ctype)
			}
			w, _ := mw.CreatePart(h)
			_, _ = w.Write([]byte(p.content))
		}
		_ = mw.Close()
		return mw.FormDataContentType(), &b
	}
	table, record := part{"table_name", "", "", "incident"}, part{"table_sys_id", "", "", inc}
	png := part{"uploadFile", "screen.png", "image/png", "\x89PNG fake image bytes"}
	big := part{"uploadFile", "big.bin", "application/octet-stream", strings.Repeat("b", 1<<20+1)}
	cases := []struct {
		name, path, ctype string
		parts             []part
		maxSizeMB         string
		status            int
		want              string // in the body
	}{
		{"the reference's cURL form", "/api/now/attachment/upload", "", []part{table, record, png}, "", 201, `"file_name":"screen.png"`},
		{"versioned path", "/api/now/v1/attachment/upload", "", []part{table, record, png}, "", 201, `"download_link":"https://dev12345.service-now.com/api/now/v1/attachment/`},
		{"not multipart", "/api/now/attachment/upload", "application/json", nil, "", 400, "multipart/form-data"},
		{"file before the metadata", "/api/now/attachment/upload", "", []part{png, table, record}, "", 400, "Missing parameters"},
		{"file without its Content-Type", "/api/now/attachment/upload", "", []part{table, record, {"uploadFile", "x.txt", "", "x"}}, "", 400, "Missing parameters"},
		{"no file part", "/api/now/attachment/upload", "", []part{table, record}, "", 400, "the form has no file part"},
		{"a record that is not there", "/api/now/attachment/upload", "", []part{table, {"table_sys_id", "", "", "00000000000000000000000000000000"}, png}, "", 404, "No Record found"},
		{"a metadata field too long", "/api/now/attachment/upload", "", []part{{"table_name", "", "", strings.Repeat("t", 2000)}, record, png}, "", 400, "too long"},
		{"over com.glide.attachment.max_size", "/api/now/attachment/upload", "", []part{table, record, big}, "1", 400, "larger than the maximum allowed attachment size (1048576 bytes)"},
		{"within com.glide.attachment.max_size", "/api/now/attachment/upload", "", []part{table, record, big}, "2", 201, `"size_bytes":"1048577"`},
	}
	for _, c := range cases {
		if err := e.inst.SetProperty(PropAttachmentMaxSize, c.maxSizeMB); err != nil {
			t.Fatal(err)
		}
		ctype, body := form(c.parts...)
		if c.ctype != "" {
			ctype = c.ctype
		}
		req, _ := http.NewRequest("POST", e.ts.URL+c.path, body)
		req.SetBasicAuth("beth.anglin", "beth.anglin-pw")
		req.Header.Set("Content-Type", ctype)
		r := e.do(t, req)
		if r.status != c.status || !strings.Contains(r.raw, c.want) {
			t.Errorf("%s: %d %.300s, want %d with %q", c.name, r.status, r.raw, c.status, c.want)
			continue
		}
		if r.status != 201 {
			continue
		}
		rec := r.record()
		loc := r.header.Get("Location")
		if loc != rec["download_link"] || rec["table_name"] != "incident" || rec["table_sys_id"] != inc {
			t.Errorf("%s: Location %q, metadata %v", c.name, loc, rec)
		}
		// The file comes back as uploaded, with its type.
		get, _ := http.NewRequest("GET", e.ts.URL+strings.TrimPrefix(loc, "https://dev12345.service-now.com"), nil)
		get.SetBasicAuth("beth.anglin", "beth.anglin-pw")
		f := e.do(t, get)
		last := c.parts[len(c.parts)-1]
		if f.status != 200 || f.raw != last.content || f.header.Get("Content-Type") != last.ctype {
			t.Errorf("%s: download %d %q (%.40q)", c.name, f.status, f.header.Get("Content-Type"), f.raw)
		}
	}
}

// TestAttachmentMaxSizeOnFileUpload: the same bound applies to POST
// /attachment/file, and a body over the request limit answers the REST
// framework's "Rejected large REST payload".
func TestAttachmentMaxSizeOnFileUpload(t *testing.T) {
	e := newEnv(t)
	inc := mustFirst(t, e, "number=INC0010001")
	if err := e.inst.SetProperty(PropAttachmentMaxSize, "0"); err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("POST", e.ts.URL+"/api/now/attachment/file?table_name=incident&table_sys_id="+inc+"&file_name=a.txt", strings.NewReader("x"))
	req.SetBasicAuth("beth.anglin", "beth.anglin-pw")
	req.Header.Set("Content-Type", "text/plain")
	if r := e.do(t, req); r.status != 400 || !strings.Contains(r.raw, "maximum allowed attachment size (0 bytes)") {
		t.Errorf("max_size 0: %d %s", r.status, r.raw)
	}
	if err := e.inst.SetProperty(PropAttachmentMaxSize, ""); err != nil {
		t.Fatal(err)
	}
	req, _ = http.NewRequest("POST", e.ts.URL+"/api/now/attachment/file?table_name=incident&table_sys_id="+inc+"&file_name=a.txt", strings.NewReader(strings.Repeat("x", 10485761)))
	req.SetBasicAuth("beth.anglin", "beth.anglin-pw")
	req.Header.Set("Content-Type", "text/plain")
	if r := e.do(t, req); r.status != 400 || !strings.Contains(r.raw, "Rejected large REST payload") {
		t.Errorf("over the body limit: %d %.200s", r.status, r.raw)
	}
}
