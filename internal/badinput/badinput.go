// Package badinput is the route-wide bad-input check the fakes' tests run
// (issue 11, "Checks"): every route gets malformed JSON, wrong types, an
// oversize body, invalid UTF-8, NUL bytes and a huge query string, and must
// answer in its owner's error shape — never a 5xx, never a panic. A real
// service answers such requests with a 4xx; a fake that falls over instead
// hides how a vendor's client handles the refusal.
package badinput

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// Request is one bad request for a route.
type Request struct {
	Name        string
	Query       string // appended to the URL after "?"
	ContentType string
	Body        []byte
	// Oversize sends OversizeBytes of a JSON string instead of Body.
	Oversize bool
}

// OversizeBytes exceeds every body limit of the fakes (fakem365 1 MiB,
// the control plane 10 MiB).
const OversizeBytes = 11 << 20

// Variants returns the bad requests for a route served with method.
func Variants(method string) []Request {
	huge := "q=" + strings.Repeat("a", 64<<10)
	out := []Request{
		{Name: "huge query string", Query: huge},
		{Name: "NUL and invalid UTF-8 in the query", Query: "a=%00&b=%FF%FE&%zz=1"},
	}
	if method == http.MethodGet || method == http.MethodHead {
		return out
	}
	jsonBody := func(name, body string) Request {
		return Request{Name: name, ContentType: "application/json", Body: []byte(body)}
	}
	wrongTypes := `{"endpoint":1,"authenticationType":[],"clientId":{},"details":"x","status":7,"query":5,"incidentNumber":1,` +
		`"title":[],"contactEmail":2,"inboundMode":3,"internalSupportTool":4,"applicationId":5,"displayName":6,` +
		`"advance":7,"now":8,"key":9,"path":10,"kid":11,"passwordCredential":"x","web":3}`
	out = append(out,
		jsonBody("malformed JSON", `{"a":`),
		jsonBody("trailing garbage", `{} {}`),
		jsonBody("JSON array", `[1,2,3]`),
		jsonBody("JSON string", `"x"`),
		jsonBody("JSON null", `null`),
		jsonBody("wrong types", wrongTypes),
		jsonBody("deep nesting", strings.Repeat("[", 10000)+strings.Repeat("]", 10000)),
		jsonBody("invalid UTF-8", "{\"displayName\":\"\xff\xfe\",\"query\":\"\xc3\x28\"}"),
		jsonBody("NUL bytes", "{\"displayName\":\"a\\u0000b\",\"query\":\"\x00\"}\x00"),
		Request{Name: "oversize body", ContentType: "application/json", Oversize: true},
		Request{Name: "form with bad escapes", ContentType: "application/x-www-form-urlencoded", Body: []byte("grant_type=%zz&a=%00&b=%FF")},
		Request{Name: "JSON as text/plain", ContentType: "text/plain", Body: []byte(`{"a":1}`)},
		Request{Name: "no content type", Body: []byte("\x00\x01\x02")},
	)
	return out
}

// oversizeReader streams {"a":"xxx…"} of OversizeBytes without holding
// it in memory.
type oversizeReader struct{ sent int }

func (r *oversizeReader) Read(p []byte) (int, error) {
	total := OversizeBytes + len(`{"a":""}`)
	if r.sent >= total {
		return 0, io.EOF
	}
	n := 0
	for n < len(p) && r.sent < total {
		switch {
		case r.sent < 6:
			p[n] = `{"a":"`[r.sent]
		case r.sent >= total-2:
			p[n] = `"}`[r.sent-(total-2)]
		default:
			p[n] = 'x'
		}
		n++
		r.sent++
	}
	return n, nil
}

// Server is an httptest server for h whose error log (where net/http
// reports a handler panic) is kept; the test fails at cleanup if a panic
// was logged.
func Server(t testing.TB, h http.Handler) *httptest.Server {
	t.Helper()
	var mu sync.Mutex
	var logged bytes.Buffer
	srv := httptest.NewUnstartedServer(h)
	srv.Config.ErrorLog = log.New(writerFunc(func(p []byte) (int, error) {
		mu.Lock()
		defer mu.Unlock()
		return logged.Write(p)
	}), "", 0)
	srv.Start()
	t.Cleanup(func() {
		srv.Close()
		mu.Lock()
		defer mu.Unlock()
		if strings.Contains(logged.String(), "panic") {
			t.Errorf("a handler panicked:\n%s", logged.String())
		}
	})
	return srv
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// Shape checks a refusal's body against its owner's error shape.
type Shape func(status int, body []byte) error

// AdminShape is the control plane's error body (internal/adminapi):
// {"error": "…"}.
func AdminShape(_ int, body []byte) error {
	var b struct {
		Error string `json:"error"`
	}
	if err := json.Unmarshal(body, &b); err != nil || b.Error == "" {
		return errors.New(`want {"error":"…"}`)
	}
	return nil
}

// CodeMessageShape is a Graph-style error body without innerError, as
// fakem365's APIs and fakeaad's userinfo endpoint answer:
// {"error":{"code":…,"message":…}}.
func CodeMessageShape(_ int, body []byte) error {
	var b struct {
		Error struct{ Code, Message string } `json:"error"`
	}
	if err := json.Unmarshal(body, &b); err != nil || b.Error.Code == "" || b.Error.Message == "" {
		return errors.New(`want {"error":{"code":…,"message":…}}`)
	}
	return nil
}

// Check sends every variant for method to target with the given headers
// (authorization and the like) and checks the answers.
func Check(t *testing.T, client *http.Client, method, target string, header http.Header, shape Shape) {
	t.Helper()
	for _, v := range Variants(method) {
		u := target
		if v.Query != "" {
			sep := "?"
			if strings.Contains(u, "?") {
				sep = "&"
			}
			u += sep + v.Query
		}
		var payload io.Reader = bytes.NewReader(v.Body)
		if v.Oversize {
			payload = &oversizeReader{}
		}
		req, err := http.NewRequest(method, u, payload)
		if err != nil {
			t.Fatalf("%s %s (%s): %v", method, target, v.Name, err)
		}
		for k, vals := range header {
			req.Header[k] = vals
		}
		if v.ContentType != "" {
			req.Header.Set("Content-Type", v.ContentType)
		}
		res, err := client.Do(req)
		if err != nil {
			if v.Oversize {
				continue // the server answered early and closed; a panic shows in the log
			}
			t.Errorf("%s %s (%s): %v", method, target, v.Name, err)
			continue
		}
		body, _ := io.ReadAll(io.LimitReader(res.Body, 1<<20))
		res.Body.Close()
		if res.StatusCode >= 500 {
			t.Errorf("%s %s (%s): %d %s", method, target, v.Name, res.StatusCode, clip(body))
			continue
		}
		if res.StatusCode >= 400 {
			if err := shape(res.StatusCode, body); err != nil {
				t.Errorf("%s %s (%s): %d in the wrong shape: %v: %s", method, target, v.Name, res.StatusCode, err, clip(body))
			}
		}
	}
}

func clip(b []byte) string {
	if len(b) > 300 {
		return fmt.Sprintf("%s…", b[:300])
	}
	return string(b)
}
