package faults

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

func TestMatchPath(t *testing.T) {
	cases := []struct {
		pattern, path string
		want          bool
	}{
		{"/api/v1/repositories/*/solutions/search", "/api/v1/repositories/r1/solutions/search", true},
		{"/api/v1/repositories/*/solutions/search", "/api/v1/repositories/r1/cases", false},
		{"/api/v1/repositories/*/solutions/search", "/api/v1/repositories/r1/solutions/search/x", false},
		{"/api/**", "/api/now/table/incident", true},
		{"/api/**", "/api", true},
		{"/oauth_token.do", "/oauth_token.do", true},
		{"/oauth_token.do", "/oauth_token.dox", false},
		{"/*/oauth2/token", "/contoso.onmicrosoft.com/oauth2/token", true},
	}
	for _, c := range cases {
		if got := MatchPath(c.pattern, c.path); got != c.want {
			t.Errorf("MatchPath(%q, %q) = %v, want %v", c.pattern, c.path, got, c.want)
		}
	}
}

func TestValidate(t *testing.T) {
	bad := []Fault{
		{Path: "api"},
		{Path: "/x"},
		{Path: "/x", Status: 42},
		{Path: "/x", Drop: true, Status: 500},
		{Path: "/x", Status: 500, Times: -1},
	}
	for _, f := range bad {
		if err := f.Validate(); err == nil {
			t.Errorf("Validate(%+v) accepted", f)
		}
	}
	if err := (Fault{Path: "/x", Delay: Duration(time.Millisecond)}).Validate(); err != nil {
		t.Errorf("delay-only fault refused: %v", err)
	}
}

func newServer(t *testing.T, s *Set) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(s.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, `{"ok":true}`)
	})))
	t.Cleanup(srv.Close)
	return srv
}

func get(t *testing.T, url string) (int, string, error) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), nil
}

func TestEffects(t *testing.T) {
	s := NewSet(func(status int) (string, []byte) {
		return "application/json", []byte(`{"error":"injected"}`)
	})
	srv := newServer(t, s)

	id, err := s.Add(Fault{Path: "/status", Status: 503, Times: 2})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		code, body, err := get(t, srv.URL+"/status")
		if err != nil || code != 503 || body != `{"error":"injected"}` {
			t.Fatalf("hit %d: %d %q %v", i, code, body, err)
		}
	}
	if code, _, _ := get(t, srv.URL+"/status"); code != 200 {
		t.Fatalf("fault with Times=2 still active on third request: %d", code)
	}
	if s.Remove(id) {
		t.Fatal("used-up fault should have been retired")
	}

	if _, err := s.Add(Fault{Path: "/body", Status: 418, Body: "teapot", ContentType: "text/plain"}); err != nil {
		t.Fatal(err)
	}
	if code, body, _ := get(t, srv.URL+"/body"); code != 418 || body != "teapot" {
		t.Fatalf("verbatim body: %d %q", code, body)
	}

	if _, err := s.Add(Fault{Path: "/malformed", Malformed: true}); err != nil {
		t.Fatal(err)
	}
	code, body, _ := get(t, srv.URL+"/malformed")
	var v any
	if code != 200 || json.Unmarshal([]byte(body), &v) == nil {
		t.Fatalf("malformed body parsed or wrong status: %d %q", code, body)
	}

	if _, err := s.Add(Fault{Path: "/drop", Drop: true}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := get(t, srv.URL+"/drop"); err == nil {
		t.Fatal("dropped connection produced a response")
	}

	if _, err := s.Add(Fault{Path: "/**", Status: 500}); err != nil {
		t.Fatal(err)
	}
	if code, _, _ := get(t, srv.URL+"/__admin/state"); code != 200 {
		t.Fatalf("control plane must never be faulted, got %d", code)
	}
	list := s.List()
	if len(list) != 4 || list[0].Path != "/body" || list[0].Hits != 1 {
		t.Fatalf("List = %+v", list)
	}
	s.Clear()
	if code, _, _ := get(t, srv.URL+"/body"); code != 200 {
		t.Fatalf("after Clear: %d", code)
	}
}

func TestDelayGivesUpWithTheClient(t *testing.T) {
	s := NewSet(nil)
	srv := newServer(t, s)
	if _, err := s.Add(Fault{Path: "/slow", Delay: Duration(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	c := &http.Client{Timeout: 50 * time.Millisecond}
	_, err := c.Get(srv.URL + "/slow")
	var ne interface{ Timeout() bool }
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("want a client timeout, got %v", err)
	}
}

func TestConcurrentTimes(t *testing.T) {
	s := NewSet(nil)
	srv := newServer(t, s)
	if _, err := s.Add(Fault{Path: "/x", Status: 500, Times: 10}); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	failures := 0
	var wg sync.WaitGroup
	for range 40 {
		wg.Go(func() {
			code, _, err := get(t, srv.URL+"/x")
			if err == nil && code == 500 {
				mu.Lock()
				failures++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if failures != 10 {
		t.Fatalf("fault with Times=10 applied %d times", failures)
	}
}

func TestDurationJSON(t *testing.T) {
	var f Fault
	if err := json.Unmarshal([]byte(`{"path":"/x","delay":"1.5s"}`), &f); err != nil {
		t.Fatal(err)
	}
	if time.Duration(f.Delay) != 1500*time.Millisecond {
		t.Fatalf("delay %v", time.Duration(f.Delay))
	}
	b, _ := json.Marshal(f)
	if string(b) != `{"path":"/x","delay":"1.5s","hits":0}` {
		t.Fatalf("marshal %s", b)
	}
	if err := json.Unmarshal([]byte(`{"path":"/x","delay":"soon"}`), &f); err == nil {
		t.Fatal("bad duration accepted")
	}
}
