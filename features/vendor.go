package features

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cucumber/godog"
	"gopkg.in/yaml.v3"

	"github.com/m365snow/m365snow/internal/faults"
	"github.com/m365snow/m365snow/world"
)

// Vendor mode (M365SNOW_CONNECTOR_URL): the suite drives a connector build
// outside this process. That build reaches Azure AD and the instance at
// fixed addresses, so the suite serves them from fronts that live for the
// whole run and pass each request to the current scenario's world: no
// listener is re-bound between scenarios (no port another process can
// take, no stale keep-alive connection into a closed world), and the
// connector's own connections stay valid from one scenario to the next.

// vendorSkips are the tags of scenarios vendor mode cannot run, with the
// reason every report gives for skipping them. Faults "inside the
// connector" are not among them: the world's gateway in front of the
// build injects those (world.ConnectorFaults).
var vendorSkips = map[string]string{
	"@moves-aad-clock": "moves Azure AD's clock past a secret's end date; a connector on wall-clock time would then refuse every token Azure AD issues as not yet valid",
}

// front is a long-lived listener that serves the current world's party.
type front struct {
	addr    string
	handler atomic.Pointer[http.Handler]
	srv     *http.Server
}

// listenFront serves a front at addr (127.0.0.1:0 picks a port).
func listenFront(t *testing.T, addr, party string) *front {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("vendor mode: %s must listen on %s, where the connector reaches it: %v", party, addr, err)
	}
	f := &front{addr: ln.Addr().String()}
	f.srv = &http.Server{ReadHeaderTimeout: 5 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if h := f.handler.Load(); h != nil {
			(*h).ServeHTTP(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = io.WriteString(w, `{"error":"no scenario is running: m365snow's `+party+` between two worlds"}`)
	})}
	go func() { _ = f.srv.Serve(ln) }()
	t.Cleanup(func() { _ = f.srv.Close() })
	return f
}

func (f *front) use(h http.Handler) {
	if h == nil {
		f.handler.Store(nil)
		return
	}
	f.handler.Store(&h)
}

// fronts are the fixed addresses of Azure AD and the instance.
type fronts struct{ aad, snow *front }

func (fs *fronts) use(w *world.World) {
	if w == nil {
		fs.aad.use(nil)
		fs.snow.use(nil)
		return
	}
	fs.aad.use(w.AAD)
	fs.snow.use(w.Snow)
}

// skipLedger records what a run skipped and why; runSuite prints it.
type skipLedger struct {
	mu      sync.Mutex
	run     int
	skipped map[string][]string // reason → scenario names
}

func (l *skipLedger) add(name, reason string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.skipped == nil {
		l.skipped = map[string][]string{}
	}
	l.skipped[reason] = append(l.skipped[reason], name)
}

func (l *skipLedger) ran() {
	l.mu.Lock()
	l.run++
	l.mu.Unlock()
}

// summary is the run's last line: "83 run, 5 skipped (reason: 5)".
func (l *skipLedger) summary() (line string, names []string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	var reasons []string
	for r, list := range l.skipped {
		n += len(list)
		reasons = append(reasons, fmt.Sprintf("%s: %d", r, len(list)))
		for _, s := range list {
			names = append(names, s+" — skipped: "+r)
		}
	}
	sort.Strings(reasons)
	sort.Strings(names)
	line = fmt.Sprintf("%d run, %d skipped", l.run, n)
	if n > 0 {
		line += " (" + strings.Join(reasons, "; ") + ")"
	}
	return line, names
}

// skipInVendorMode notes, before a scenario, whether vendor mode cannot
// run it; its first step (the world step) then reports it skipped.
func skipInVendorMode(ctx context.Context, cfg suiteConfig, gs *godog.Scenario) (context.Context, error) {
	for _, tag := range gs.Tags {
		if reason, ok := vendorSkips[tag.Name]; ok {
			cfg.ledger.add(gs.Name, reason)
			from(ctx).vendorSkip = tag.Name + ": " + reason
			return ctx, nil
		}
	}
	cfg.ledger.ran()
	return ctx, nil
}

// skipped reports the scenario as skipped, with its reason in the step
// log, the Cucumber JSON (an attachment of the first step) and JUnit (a
// skipped step). It is the world step's answer, not a hook's: godog
// records a failing hook as a failed step.
func (sc *scenario) skipped(ctx context.Context) (context.Context, error) {
	godog.Logf(ctx, "skipped in vendor mode (%s)", sc.vendorSkip)
	ctx = godog.Attach(ctx, godog.Attachment{FileName: "skipped", MediaType: "text/plain", Body: []byte("skipped in vendor mode: " + sc.vendorSkip)})
	return ctx, fmt.Errorf("%w in vendor mode: %s", godog.ErrSkip, sc.vendorSkip)
}

// gatewayFault adds a fault at the world's gateway in front of an external
// connector (world.ConnectorFaults), or clears them (f nil).
func (sc *scenario) gatewayFault(f map[string]any) error {
	if f == nil {
		sc.w.ConnectorFaults.Clear()
		return nil
	}
	b, err := yaml.Marshal(f)
	if err != nil {
		return err
	}
	var fault faults.Fault
	if err := yaml.Unmarshal(b, &fault); err != nil {
		return err
	}
	_, err = sc.w.ConnectorFaults.Add(fault)
	return err
}
