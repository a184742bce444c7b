package journal

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/m365snow/m365snow/internal/clock"
)

// serveWith runs one request through Middleware around h.
func serveWith(t *testing.T, c Config, h http.HandlerFunc, req *http.Request) *httptest.ResponseRecorder {
	t.Helper()
	w := httptest.NewRecorder()
	Middleware(h, c).ServeHTTP(w, req)
	return w
}

func TestRingKeepsTheLastSizeEntriesInOrder(t *testing.T) {
	j := New(3)
	h := func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(204) }
	for i := range 5 {
		serveWith(t, Config{Party: "fakesnow", Journal: j}, h, httptest.NewRequest("GET", fmt.Sprintf("/p/%d", i), nil))
	}
	got := j.Entries(Filter{})
	var paths []string
	for _, e := range got {
		paths = append(paths, fmt.Sprintf("%d:%s", e.Seq, e.Path))
	}
	if strings.Join(paths, " ") != "3:/p/2 4:/p/3 5:/p/4" {
		t.Fatalf("ring of 3 after 5 requests holds %v", paths)
	}
	j.Clear()
	if n := j.Count(Filter{}); n != 0 {
		t.Fatalf("after Clear, Count = %d", n)
	}
	serveWith(t, Config{Party: "fakesnow", Journal: j}, h, httptest.NewRequest("GET", "/after", nil))
	if e := j.Entries(Filter{}); len(e) != 1 || e[0].Seq != 6 {
		t.Fatalf("after Clear the sequence goes on: %+v", e)
	}
}

func TestFilters(t *testing.T) {
	j := New(0)
	clk := clock.NewManual(clock.Epoch)
	add := func(party, method, path string, status int) {
		serveWith(t, Config{Party: party, Journal: j, Clock: clk}, func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(status) },
			httptest.NewRequest(method, path, nil))
		clk.Advance(time.Minute)
	}
	add("fakeaad", "POST", "/contoso.onmicrosoft.com/oauth2/token", 401) // 09:00
	add("fakeaad", "GET", "/common/discovery/keys", 200)                 // 09:01
	add("fakesnow", "GET", "/api/now/table/incident", 200)               // 09:02
	add("fakesnow", "POST", "/api/now/table/incident", 201)              // 09:03
	add("fakem365", "GET", "/api/v1/repositories/r1/solutions", 403)     // 09:04
	tests := []struct {
		query string
		want  string // paths' seq numbers
	}{
		{"", "1 2 3 4 5"},
		{"party=fakeaad", "1 2"},
		{"method=post", "1 4"},
		{"path=/api/now/", "3 4"},
		{"status=4xx", "1 5"},
		{"status=201", "4"},
		{"since=2026-03-02T09:02:00Z", "3 4 5"},
		{"until=2026-03-02T09:01:00Z", "1 2"},
		{"party=fakesnow&method=GET", "3"},
		{"limit=2", "4 5"},
		{"after=3", "4 5"},
		{"after=3&limit=1", "5"},
	}
	for _, tc := range tests {
		q, _ := url.ParseQuery(tc.query)
		f, err := ParseFilter(q)
		if err != nil {
			t.Fatalf("%s: %v", tc.query, err)
		}
		var got []string
		for _, e := range j.Entries(f) {
			got = append(got, fmt.Sprint(e.Seq))
		}
		if strings.Join(got, " ") != tc.want {
			t.Errorf("?%s selects %v, want %s", tc.query, got, tc.want)
		}
	}
	for _, bad := range []string{"status=99", "status=6xx", "status=abc", "since=yesterday", "limit=0", "after=-1", "colour=red"} {
		q, _ := url.ParseQuery(bad)
		if _, err := ParseFilter(q); err == nil {
			t.Errorf("?%s accepted", bad)
		}
	}
}

func jwt(claims string) string {
	enc := base64.RawURLEncoding.EncodeToString
	return enc([]byte(`{"alg":"RS256","typ":"JWT"}`)) + "." + enc([]byte(claims)) + ".c2lnbmF0dXJl"
}

func TestRedaction(t *testing.T) {
	token := jwt(`{"aud":"https://connector.rave.microsoft.com","iss":"https://sts.windows.net/t1/","tid":"t1","appid":"app-1","exp":1772442000}`)
	secrets := []string{"Topsecret-1!", "Snow-Admin-1!", token, "refresh-xyz", "sessionid123", "c2lnbmF0dXJl", "hunter2", "abc-code"}
	j := New(0)
	handler := func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if !bytes.Contains(b, []byte("grant_type")) && !bytes.Contains(b, []byte("user_password")) {
			t.Errorf("the handler did not get the body it was sent: %q", b)
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Add("Set-Cookie", "JSESSIONID=sessionid123; Path=/; HttpOnly")
		fmt.Fprintf(w, `{"token_type":"Bearer","access_token":"%s","refresh_token":"refresh-xyz","expires_in":3599}`, token)
	}
	form := "grant_type=client_credentials&client_id=app-1&client_secret=Topsecret-1%21&scope=https%3A%2F%2Fgraph.microsoft.com%2F.default"
	req := httptest.NewRequest("POST", "/t1/oauth2/token?code=abc-code&state=s1", strings.NewReader(form))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Cookie", "JSESSIONID=sessionid123; glide_user=hunter2")
	serveWith(t, Config{Party: "fakeaad", Journal: j}, handler, req)

	req = httptest.NewRequest("POST", "/login.do", strings.NewReader(`{"user_name":"admin","user_password":"Snow-Admin-1!","connectorSecret":"hunter2"}`))
	req.Header.Set("Content-Type", "application/json")
	req.SetBasicAuth("admin", "Snow-Admin-1!")
	serveWith(t, Config{Party: "fakesnow", Journal: j}, handler, req)

	entries := j.Entries(Filter{})
	all, _ := json.Marshal(entries)
	for _, s := range secrets {
		if bytes.Contains(all, []byte(s)) || bytes.Contains(all, []byte(url.QueryEscape(s))) {
			t.Errorf("secret %q appears in the journal: %s", s, all)
		}
	}
	e := entries[0]
	for _, want := range []struct{ where, got, want string }{
		{"Authorization", e.Request.Headers["Authorization"][0], "Bearer [redacted:"},
		{"Authorization claims", e.Request.Headers["Authorization"][0], "(JWT aud=https://connector.rave.microsoft.com iss=https://sts.windows.net/t1/ tid=t1 appid=app-1 exp=2026-03-02T09:00:00Z)"},
		{"Cookie", e.Request.Headers["Cookie"][0], "JSESSIONID=[redacted:"},
		{"form keeps the rest", e.Request.Body, "grant_type=client_credentials&client_id=app-1&client_secret=%5Bredacted%3A"},
		{"query", e.URL, "/t1/oauth2/token?code=%5Bredacted%3A"},
		{"query keeps state", e.URL, "&state=s1"},
		{"response token", e.Response.Body, `"access_token":"[redacted:`},
		{"response keeps token_type", e.Response.Body, `"token_type":"Bearer"`},
		{"Set-Cookie", e.Response.Headers["Set-Cookie"][0], "JSESSIONID=[redacted:"},
		{"Set-Cookie attributes", e.Response.Headers["Set-Cookie"][0], "; Path=/; HttpOnly"},
		{"Basic", entries[1].Request.Headers["Authorization"][0], "Basic [redacted:"},
		{"JSON password", entries[1].Request.Body, `"user_name":"admin","user_password":"[redacted:`},
		{"JSON connectorSecret", entries[1].Request.Body, `"connectorSecret":"[redacted:`},
	} {
		if !strings.Contains(want.got, want.want) {
			t.Errorf("%s: %q does not contain %q", want.where, want.got, want.want)
		}
	}
	// The same credential hashes alike within a journal, so that two
	// requests can be compared.
	c1 := strings.TrimPrefix(strings.SplitN(e.Request.Headers["Cookie"][0], ";", 2)[0], "JSESSIONID=")
	c2 := strings.TrimPrefix(strings.SplitN(e.Response.Headers["Set-Cookie"][0], ";", 2)[0], "JSESSIONID=")
	if c1 != c2 {
		t.Errorf("one session id hashed as %s and %s", c1, c2)
	}
}

func TestMiddlewareCapturesTheExchange(t *testing.T) {
	j := New(0)
	big := strings.Repeat("x", MaxBody+100)
	var logs bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&logs, nil))
	h := func(w http.ResponseWriter, r *http.Request) {
		if RequestID(r.Context()) == "" {
			t.Error("no request id in the handler's context")
		}
		b, _ := io.ReadAll(r.Body)
		if len(b) != len(big) {
			t.Errorf("handler read %d bytes of %d", len(b), len(big))
		}
		w.Header().Set("Content-Type", "text/plain")
		w.WriteHeader(http.StatusTeapot)
		_, _ = io.WriteString(w, big)
	}
	serveWith(t, Config{Party: "fakem365", Journal: j, Logger: log}, h, httptest.NewRequest("PUT", "https://connector.rave.microsoft.com/api/x?y=1", strings.NewReader(big)))
	serveWith(t, Config{Party: "fakem365", Journal: j, Logger: log}, func(http.ResponseWriter, *http.Request) {}, httptest.NewRequest("GET", "/__admin/faults", nil))
	e := j.Entries(Filter{})
	if len(e) != 1 {
		t.Fatalf("want the one non-control request journaled, got %d", len(e))
	}
	got := e[0]
	if got.Status != 418 || got.Method != "PUT" || got.URL != "connector.rave.microsoft.com/api/x?y=1" || got.Path != "/api/x" || got.Party != "fakem365" {
		t.Errorf("entry %d %s %s %s %s %s", got.Status, got.Method, got.URL, got.Path, got.Party, got.RequestID)
	}
	if len(got.Request.Body) != MaxBody || !got.Request.Truncated || got.Request.Size != int64(len(big)) {
		t.Errorf("request body kept %d bytes, truncated %v, size %d", len(got.Request.Body), got.Request.Truncated, got.Request.Size)
	}
	if len(got.Response.Body) != MaxBody || !got.Response.Truncated || got.Response.Size != int64(len(big)) {
		t.Errorf("response body kept %d bytes, truncated %v, size %d", len(got.Response.Body), got.Response.Truncated, got.Response.Size)
	}
	// One line per request, after it was answered, with what a reader needs.
	lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
	if len(lines) != 1 {
		t.Fatalf("info logs %d lines for one request and one control call: %s", len(lines), logs.String())
	}
	var line map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &line); err != nil {
		t.Fatal(err)
	}
	for k, v := range map[string]any{"level": "INFO", "msg": "request", "party": "fakem365", "method": "PUT", "path": "/api/x", "status": float64(418), "request_id": got.RequestID} {
		if line[k] != v {
			t.Errorf("log %s = %v, want %v (%s)", k, line[k], v, lines[0])
		}
	}
	if _, ok := line["latency"]; !ok {
		t.Errorf("no latency in %s", lines[0])
	}
}

func TestNoJournalStillLogsAndPassesThrough(t *testing.T) {
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	w := serveWith(t, Config{Party: "fakeaad", Logger: log}, func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "ok") },
		httptest.NewRequest("GET", "/x", nil))
	if w.Code != 200 || w.Body.String() != "ok" {
		t.Fatalf("answer %d %q", w.Code, w.Body)
	}
	if !strings.Contains(logs.String(), "status=200") || !strings.Contains(logs.String(), "request_id=fakeaad-1") {
		t.Fatalf("log %q", logs.String())
	}
	var nilJournal *Journal
	if nilJournal.Entries(Filter{}) != nil || nilJournal.Count(Filter{}) != 0 || nilJournal.Size() != 0 {
		t.Fatal("a nil journal is not empty")
	}
}

func TestDroppedConnectionIsRecordedAsStatusZero(t *testing.T) {
	j := New(0)
	h := Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, _, err := http.NewResponseController(w).Hijack()
		if err != nil {
			t.Error(err)
			return
		}
		conn.Close()
	}), Config{Party: "fakesnow", Journal: j})
	done := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer close(done)
		h.ServeHTTP(w, r)
	}))
	defer srv.Close()
	if _, err := http.Get(srv.URL + "/drop"); err == nil {
		t.Fatal("a dropped connection answered")
	}
	<-done // the entry is written once the handler returns
	e := j.Entries(Filter{})
	if len(e) != 1 || e[0].Status != 0 || !strings.Contains(Compact(e[0], 100), "connection dropped, no answer") {
		t.Fatalf("entries %+v", e)
	}
}

func TestAdminEndpoints(t *testing.T) {
	j := New(0)
	serveWith(t, Config{Party: "fakeaad", Journal: j}, func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(401) }, httptest.NewRequest("POST", "/t/oauth2/token", nil))
	serveWith(t, Config{Party: "fakesnow", Journal: j}, func(w http.ResponseWriter, r *http.Request) {}, httptest.NewRequest("GET", "/api/now/table/incident", nil))
	mux := http.NewServeMux()
	mux.HandleFunc("GET /__admin/requests", j.ServeList)
	mux.HandleFunc("GET /__admin/requests/count", j.ServeCount)
	mux.HandleFunc("DELETE /__admin/requests", j.ServeClear)
	do := func(method, target string) *httptest.ResponseRecorder {
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, httptest.NewRequest(method, target, nil))
		return w
	}
	w := do("GET", "/__admin/requests?party=fakeaad")
	var list struct {
		Requests []Entry        `json:"requests"`
		Meta     map[string]int `json:"meta"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &list); err != nil || w.Code != 200 {
		t.Fatalf("%d %s %v", w.Code, w.Body, err)
	}
	if len(list.Requests) != 1 || list.Requests[0].Party != "fakeaad" || list.Meta["total"] != 1 || list.Meta["journalSize"] != DefaultSize {
		t.Fatalf("?party=fakeaad answered %s", w.Body)
	}
	if w := do("GET", "/__admin/requests/count?status=4xx"); w.Body.String() != "{\n  \"count\": 1\n}\n" {
		t.Fatalf("count answered %q", w.Body)
	}
	if w := do("GET", "/__admin/requests?format=text"); !strings.Contains(w.Body.String(), "fakeaad fakeaad-1 POST example.com/t/oauth2/token -> 401") {
		t.Fatalf("text answered %q", w.Body)
	}
	if w := do("GET", "/__admin/requests?status=teapot"); w.Code != 400 || !strings.Contains(w.Body.String(), "4xx") {
		t.Fatalf("bad filter answered %d %s", w.Code, w.Body)
	}
	if w := do("DELETE", "/__admin/requests"); w.Code != 204 {
		t.Fatalf("clear answered %d", w.Code)
	}
	if w := do("GET", "/__admin/requests"); !strings.Contains(w.Body.String(), `"requests": []`) {
		t.Fatalf("after clear: %s", w.Body)
	}
}

func TestConcurrentRecordingAndReading(t *testing.T) {
	j := New(50)
	h := Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "{}") }), Config{Party: "fakesnow", Journal: j})
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(2)
		go func() {
			defer wg.Done()
			for i := range 100 {
				h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("POST", fmt.Sprintf("/g%d/%d", g, i), strings.NewReader(`{"a":1}`)))
			}
		}()
		go func() {
			defer wg.Done()
			for range 50 {
				_ = j.Entries(Filter{Limit: 10})
				_ = j.Count(Filter{Method: "POST"})
			}
		}()
	}
	wg.Wait()
	if n := j.Count(Filter{}); n != 50 {
		t.Fatalf("a ring of 50 holds %d after 400 requests", n)
	}
	e := j.Entries(Filter{})
	if e[len(e)-1].Seq != 400 {
		t.Fatalf("last seq %d", e[len(e)-1].Seq)
	}
}

func TestTransportRecordsACallerSideParty(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		fmt.Fprintf(w, `{"echo":%q}`, b)
	}))
	defer srv.Close()
	j := New(0)
	u, _ := url.Parse(srv.URL)
	client := &http.Client{Transport: Transport(nil, Config{Party: "connector", Journal: j}, u.Hostname())}
	res, err := client.Post(srv.URL+"/api/v1/x?client_secret=s3cr3t", "application/json", strings.NewReader(`{"a":"b"}`))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if string(body) != `{"echo":"{\"a\":\"b\"}"}` {
		t.Fatalf("the server saw another body: %s", body)
	}
	other := &http.Client{Transport: Transport(nil, Config{Party: "connector", Journal: j}, "connector.rave.microsoft.com")}
	if res, err := other.Get(srv.URL + "/not-the-connector"); err == nil {
		res.Body.Close()
	}
	if _, err := client.Get("http://127.0.0.1:1/refused"); err == nil {
		t.Fatal("port 1 answered")
	}
	e := j.Entries(Filter{})
	if len(e) != 2 {
		t.Fatalf("want the connector call and the refused one, got %d", len(e))
	}
	if e[0].Party != "connector" || e[0].Status != 201 || e[0].Request.Body != `{"a":"b"}` || e[0].Response.Body != string(body) ||
		strings.Contains(e[0].URL, "s3cr3t") {
		t.Errorf("entry %s %d %q %q", e[0].URL, e[0].Status, e[0].Request.Body, e[0].Response.Body)
	}
	if e[1].Status != 0 || !strings.Contains(e[1].Response.Body, "no answer") {
		t.Errorf("refused call recorded as %d %q", e[1].Status, e[1].Response.Body)
	}
}
