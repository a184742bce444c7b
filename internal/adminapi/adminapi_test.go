package adminapi

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/mux"

	"github.com/m365snow/m365snow/internal/clock"
	"github.com/m365snow/m365snow/internal/faults"
)

type memTarget struct {
	state  string
	resets int
}

func (m *memTarget) Reset() error                 { m.resets++; m.state = "initial"; return nil }
func (m *memTarget) ExportState() ([]byte, error) { return []byte(m.state), nil }
func (m *memTarget) ImportState(b []byte) error {
	if strings.Contains(string(b), "bad") {
		return errors.New("bad state")
	}
	m.state = string(b)
	return nil
}

func do(t *testing.T, srv *httptest.Server, method, path, body string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, strings.TrimSpace(string(b))
}

func TestControlPlane(t *testing.T) {
	target := &memTarget{state: "initial"}
	clk := clock.NewManual(clock.Epoch)
	fs := faults.NewSet(nil)
	r := mux.NewRouter()
	Mount(r, Config{Service: "fakeaad", Target: target, Faults: fs, Clock: clk})
	srv := httptest.NewServer(r)
	defer srv.Close()

	steps := []struct {
		method, path, body string
		status             int
		want               string
	}{
		{"GET", "/healthz", "", 200, `{"service":"fakeaad","status":"ok"}`},
		{"PUT", "/__admin/state", "tenants: []", 200, `{"status":"imported"}`},
		{"GET", "/__admin/state", "", 200, "tenants: []"},
		{"PUT", "/__admin/state", "bad", 400, `{"error":"bad state"}`},
		{"POST", "/__admin/reset", "", 200, `{"status":"reset"}`},
		{"GET", "/__admin/state", "", 200, "initial"},
		{"POST", "/__admin/faults", `{"path":"/x","status":500,"id":"f1"}`, 201, `{"id":"f1"}`},
		{"POST", "/__admin/faults", `{"path":"/x"}`, 400, `{"error":"fault needs an effect: status, malformed, delay or drop"}`},
		{"POST", "/__admin/faults", `{"path":"/x","status":500,"colour":"red"}`, 400, ""},
		{"GET", "/__admin/faults", "", 200, `{"faults":[{"id":"f1","path":"/x","status":500,"hits":0}]}`},
		{"DELETE", "/__admin/faults/f1", "", 204, ""},
		{"DELETE", "/__admin/faults/f1", "", 404, `{"error":"no such fault"}`},
		{"GET", "/__admin/clock", "", 200, `{"now":"2026-03-02T09:00:00Z"}`},
		{"POST", "/__admin/clock", `{"advance":"61m"}`, 200, `{"now":"2026-03-02T10:01:00Z"}`},
		{"POST", "/__admin/clock", `{"now":"2027-01-01T00:00:00Z"}`, 200, `{"now":"2027-01-01T00:00:00Z"}`},
		{"POST", "/__admin/clock", `{"advance":"1m","now":"2027-01-01T00:00:00Z"}`, 400, ""},
		{"POST", "/__admin/clock", `{}`, 400, ""},
		{"GET", "/__admin/nope", "", 404, ""},
	}
	for _, s := range steps {
		code, body := do(t, srv, s.method, s.path, s.body)
		if code != s.status {
			t.Errorf("%s %s: status %d, want %d (body %s)", s.method, s.path, code, s.status, body)
		}
		if s.want != "" && body != s.want {
			t.Errorf("%s %s: body %s, want %s", s.method, s.path, body, s.want)
		}
	}
	if target.resets != 1 {
		t.Errorf("resets = %d", target.resets)
	}
	if !clk.Now().Equal(time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("clock %v", clk.Now())
	}
}

func TestClockNotAdjustable(t *testing.T) {
	r := mux.NewRouter()
	Mount(r, Config{Service: "x", Target: &memTarget{}, Faults: faults.NewSet(nil), Clock: clock.Real{}})
	srv := httptest.NewServer(r)
	defer srv.Close()
	if code, _ := do(t, srv, "POST", "/__admin/clock", `{"advance":"1m"}`); code != http.StatusConflict {
		t.Fatalf("moving the wall clock: status %d, want 409", code)
	}
}
