package fakem365_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/m365snow/m365snow/fakem365/contracttest"
	"github.com/m365snow/m365snow/internal/wellknown"
)

// pingGate holds the instance's /inbound/ping until released, so a test can
// act while a repository save waits for its inbound test — instead of the
// 3 s fault delay the reproduction used.
type pingGate struct {
	next     http.Handler
	arm      sync.Once
	armed    chan struct{} // closed to arm the gate
	started  chan struct{} // closed when a held ping arrives
	release  chan struct{} // closed to let it through
	startOne sync.Once
}

func (g *pingGate) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasSuffix(r.URL.Path, "/ping") {
		select {
		case <-g.armed:
			g.startOne.Do(func() { close(g.started) })
			<-g.release
		default:
		}
	}
	g.next.ServeHTTP(w, r)
}

// Regression for issue 11 item 3: putRepository copied PendingLinks, ran
// the inbound test, then wrote the copy back over the repository that
// createCase had appended to meanwhile, so the case never linked.
func TestRepositorySaveKeepsCaseOpenedDuringIt(t *testing.T) {
	e := newEnv(t)
	gate := &pingGate{next: e.snow, armed: make(chan struct{}), started: make(chan struct{}), release: make(chan struct{})}
	ts := httptest.NewServer(gate)
	t.Cleanup(ts.Close)
	if err := e.hosts.Set("dev12345.service-now.com", ts.URL); err != nil {
		t.Fatal(err)
	}
	e.integrate(t, "Basic Auth")
	if r := e.handshake(t, "basic", inboundID, "m365.integration"); r.status != 200 {
		t.Fatalf("handshake: %d %s", r.status, r.raw)
	}
	admin := e.adminToken(t, "admin@contoso.onmicrosoft.com", "admin-pw")
	tok := e.appToken(t, contoso, outbound, "outbound-secret", wellknown.ConnectorResource)
	repo := map[string]any{"endpoint": endpoint, "authenticationType": "Basic Auth", "clientId": inboundID, "refreshTokenExpiry": 864000,
		"restUsername": "m365.integration"}

	e.snow.Set(func(s *contracttest.StandIn) { s.RefuseLinks = true })
	close(gate.armed)
	saved := make(chan resp, 1)
	go func() { saved <- e.do(t, "PUT", portal(contoso)+"/repositories/contoso-snow", admin, repo) }()
	<-gate.started // the save is waiting for its inbound test
	r := e.do(t, "POST", connector("contoso-snow")+"/cases", tok, map[string]any{"incidentNumber": "INC0010003", "title": "Teams", "contactEmail": "megan@contoso.com"})
	if r.status != 201 || r.body["linked"] != false {
		t.Fatalf("case opened during the save: %d %s", r.status, r.raw)
	}
	close(gate.release)
	if r := <-saved; r.status != 200 {
		t.Fatalf("first save: %d %s", r.status, r.raw)
	}
	if r := e.do(t, "GET", portal(contoso)+"/repositories/contoso-snow", admin, nil); r.body["pendingCaseLinks"] != float64(1) {
		t.Fatalf("the save lost the case opened during it: %s", r.raw)
	}
	// Clear the fault and save again: the pending case links.
	e.snow.Set(func(s *contracttest.StandIn) { s.RefuseLinks = false })
	if r := e.do(t, "PUT", portal(contoso)+"/repositories/contoso-snow", admin, repo); r.status != 200 || r.body["pendingCaseLinks"] != float64(0) {
		t.Fatalf("second save: %d %s", r.status, r.raw)
	}
	if e.snow.Link("7000000001") == nil {
		t.Fatalf("case 7000000001 never linked: %v", e.snow.Requests())
	}
}

// The handshake checked the saved repository, ran its inbound test, then
// stored the handshake in a second lock section: a save in between (here a
// new Endpoint) left a handshake that no longer matched the settings it was
// checked against. It must be refused as RepositoryChanged.
func TestHandshakeRefusedWhenRepositorySavedDuringIt(t *testing.T) {
	e := newEnv(t)
	gate := &pingGate{next: e.snow, armed: make(chan struct{}), started: make(chan struct{}), release: make(chan struct{})}
	ts := httptest.NewServer(gate)
	t.Cleanup(ts.Close)
	if err := e.hosts.Set("dev12345.service-now.com", ts.URL); err != nil {
		t.Fatal(err)
	}
	e.integrate(t, "Basic Auth")
	admin := e.adminToken(t, "admin@contoso.onmicrosoft.com", "admin-pw")
	close(gate.armed)
	done := make(chan resp, 1)
	go func() { done <- e.handshake(t, "basic", inboundID, "m365.integration") }()
	<-gate.started
	moved := map[string]any{"endpoint": "https://dev99999.service-now.com/api/x_mioms_m365_assis/v1/inbound", "authenticationType": "Basic Auth",
		"clientId": inboundID, "refreshTokenExpiry": 864000, "restUsername": "m365.integration"}
	if r := e.do(t, "PUT", portal(contoso)+"/repositories/contoso-snow", admin, moved); r.status != 200 {
		t.Fatalf("save during the handshake: %d %s", r.status, r.raw)
	}
	close(gate.release)
	wantAPIError(t, <-done, 409, "RepositoryChanged", "saved again during the handshake")
	if r := e.do(t, "GET", portal(contoso)+"/repositories/contoso-snow", admin, nil); r.body["handshake"] != nil {
		t.Fatalf("a handshake checked against other settings was stored: %s", r.raw)
	}
}
