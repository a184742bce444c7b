package features

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
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
// reason every report gives for skipping them. None is needed today:
// faults "inside the connector" are injected by the world's gateway in
// front of the build (world.ConnectorFaults), the instance's time moves on
// a clock of its own, and a secret expires by its end date rather than by
// Azure AD's clock (expireSecretInVendorMode). A tag added here is
// reported as skipped by every formatter and in the run's last line.
var vendorSkips = map[string]string{}

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

// fronts are the fixed addresses of Azure AD and the instance. The
// instance's front also counts the connector's token grants by type, so
// that scenarios can require a refresh grant of a build they cannot see
// into.
type fronts struct {
	aad, snow *front

	mu     sync.Mutex
	grants map[string]int
}

func (fs *fronts) use(w *world.World) {
	fs.resetGrants()
	if w == nil {
		fs.aad.use(nil)
		fs.snow.use(nil)
		return
	}
	fs.aad.use(w.AAD)
	fs.snow.use(fs.countGrants(w.Snow))
}

func (fs *fronts) resetGrants() {
	fs.mu.Lock()
	fs.grants = map[string]int{}
	fs.mu.Unlock()
}

// grantCount is how many /oauth_token.do requests of a grant type came
// through since the world started or the grants were last reset.
func (fs *fronts) grantCount(grant string) int {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	return fs.grants[grant]
}

func (fs *fronts) countGrants(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && r.URL.Path == "/oauth_token.do" {
			b, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
			r.Body = io.NopCloser(bytes.NewReader(b))
			if err == nil {
				if form, err := url.ParseQuery(string(b)); err == nil {
					fs.mu.Lock()
					fs.grants[form.Get("grant_type")]++
					fs.mu.Unlock()
				}
			}
		}
		next.ServeHTTP(w, r)
	})
}

// timeSteps move the instance's clock, which decides when the tokens it
// issued to the connector expire, and check how the connector renewed
// them.
func timeSteps(s *godog.ScenarioContext) {
	s.Step(`^the (access|refresh) token lifespan of the OAuth API endpoint "([^"]+)" passes on the instance$`, lifespanPasses)
	s.Step(`^the support connector (renewed its access token with the refresh token|signed in again with the password) grant$`, connectorGranted)
}

// lifespanPasses moves the instance's time, through its control plane,
// a minute past the entity's token lifespan (ServiceNow's defaults: 1800 s
// access, 8640000 s refresh).
func lifespanPasses(ctx context.Context, which, entity string) error {
	sc := from(ctx)
	r, err := sc.snow("admin", "GET", "/api/now/table/oauth_entity?sysparm_fields=access_token_lifespan,refresh_token_lifespan&sysparm_query="+url.QueryEscape("name="+entity), nil)
	if err != nil {
		return err
	}
	if err := expect(r, 200, "reading the OAuth entity "+entity); err != nil {
		return err
	}
	list := r.ResultList()
	if len(list) != 1 {
		return fmt.Errorf("want one OAuth entity %q, got %d", entity, len(list))
	}
	field, def := which+"_token_lifespan", map[string]int{"access": 1800, "refresh": 8640000}[which]
	secs := def
	if v := fmt.Sprint(list[0].(map[string]any)[field]); v != "" {
		if _, err := fmt.Sscanf(v, "%d", &secs); err != nil {
			return fmt.Errorf("%s %q: %w", field, v, err)
		}
	}
	if sc.cfg.fronts != nil {
		sc.cfg.fronts.resetGrants()
	}
	d := time.Duration(secs)*time.Second + time.Minute
	r, err = sc.w.Do("POST", sc.w.SnowURL+"/__admin/clock", nil, map[string]string{"advance": d.String()})
	if err != nil {
		return err
	}
	return expect(r, 200, "moving the instance's clock")
}

// connectorGranted checks, against an external connector, the grants that
// reached the instance since its clock last moved. In process the
// reference connector's requests do not pass a front; its own tests
// (fakem365, contracttest BasicAuthTokensExpire) hold it to the same rule,
// and the scenario's next steps still require that it recovered.
func connectorGranted(ctx context.Context, which string) error {
	sc := from(ctx)
	if sc.cfg.fronts == nil {
		godog.Logf(ctx, "the reference connector's grants are not observed in process")
		return nil
	}
	grant := "refresh_token"
	if strings.Contains(which, "password") {
		grant = "password"
	}
	if n := sc.cfg.fronts.grantCount(grant); n == 0 {
		return fmt.Errorf("the connector made no %s grant at the instance since its clock moved (refresh: %d, password: %d)",
			grant, sc.cfg.fronts.grantCount("refresh_token"), sc.cfg.fronts.grantCount("password"))
	}
	return nil
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

// summary is the run's last line: "90 run, 0 skipped", or with skips
// "88 run, 2 skipped (reason: 2)".
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

// expireSecretInVendorMode makes an app's secrets end a minute ago without
// moving Azure AD's clock, which an external connector would not follow:
// the secrets' end dates are edited through Azure AD's control plane
// (state export, edit, import; signing keys are kept by name), then the
// instance's clock moves past the outbound token the app cached, so that
// its next call asks Azure AD for a token with the expired secret.
func (sc *scenario) expireSecretInVendorMode(name string) error {
	r, err := sc.w.Do("GET", sc.w.AADURL+"/__admin/state", nil, nil)
	if err != nil {
		return err
	}
	if err := expect(r, 200, "exporting Azure AD's state"); err != nil {
		return err
	}
	var state any
	if err := yaml.Unmarshal(r.Body, &state); err != nil {
		return err
	}
	end := sc.w.Clock.Now().Add(-time.Minute).UTC().Format(time.RFC3339)
	found := 0
	var walk func(v any)
	walk = func(v any) {
		switch n := v.(type) {
		case map[string]any:
			if creds, ok := n["passwordCredentials"].([]any); ok && n["displayName"] == name {
				for _, c := range creds {
					if m, ok := c.(map[string]any); ok {
						m["endDateTime"] = end
						found++
					}
				}
			}
			for _, c := range n {
				walk(c)
			}
		case []any:
			for _, c := range n {
				walk(c)
			}
		}
	}
	walk(state)
	if found == 0 {
		return fmt.Errorf("Azure AD's state has no secret of %q", name)
	}
	b, err := yaml.Marshal(state)
	if err != nil {
		return err
	}
	req, err := http.NewRequest("PUT", sc.w.AADURL+"/__admin/state", bytes.NewReader(b))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/yaml")
	res, err := sc.w.Client.Do(req)
	if err != nil {
		return err
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 {
		return fmt.Errorf("importing Azure AD's state: HTTP %d %s", res.StatusCode, body)
	}
	// Azure AD's tokens live an hour; the instance's clock moves past
	// that, and stays within the five minutes of skew it allows tokens
	// Azure AD issues afterwards.
	r, err = sc.w.Do("POST", sc.w.SnowURL+"/__admin/clock", nil, map[string]string{"advance": "61m"})
	if err != nil {
		return err
	}
	return expect(r, 200, "moving the instance's clock past the cached outbound token")
}
