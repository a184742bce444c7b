package features

import (
	"context"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/cucumber/godog"

	"github.com/m365snow/m365snow/fakem365"
	"github.com/m365snow/m365snow/internal/hostmap"
	"github.com/m365snow/m365snow/internal/wellknown"
)

// flags are godog's options as given on the command line; -godog.tags,
// -godog.format, -godog.concurrency, -godog.random and friends come through
// `go test` (godog's own CLI is deprecated):
//
//	go test ./features -godog.tags=@aad -godog.format=pretty
var flags = godog.Options{}

func init() { godog.BindFlags("godog.", flag.CommandLine, &flags) }

// TestFeatures runs every feature against in-process worlds or, with
// M365SNOW_CONNECTOR_URL set, against that connector build.
func TestFeatures(t *testing.T) {
	cfg := suiteConfig{connectorURL: os.Getenv("M365SNOW_CONNECTOR_URL")}
	if cfg.connectorURL != "" {
		cfg.fronts = &fronts{aad: listenFront(t, envOr("M365SNOW_AAD_LISTEN", "127.0.0.1:8081"), "Azure AD"),
			snow: listenFront(t, envOr("M365SNOW_SNOW_LISTEN", "127.0.0.1:8080"), "ServiceNow instance")}
	}
	runSuite(t, cfg, false)
}

// TestFeaturesAgainstAnExternalConnector proves the vendor mode: a
// fakem365 that no world owns (as a vendor's build would be, with no
// tenants until the scenarios provision them) is driven through its
// published API only, one scenario at a time, without the scenarios that
// need faults inside the connector.
func TestFeaturesAgainstAnExternalConnector(t *testing.T) {
	if os.Getenv("M365SNOW_CONNECTOR_URL") != "" {
		t.Skip("TestFeatures already drives the external connector")
	}
	if testing.Short() {
		t.Skip("-short")
	}
	// The fronts hold their ports for the whole run, so any free port
	// will do: concurrent runs (other packages, other worktrees) cannot
	// collide with them.
	fs := &fronts{aad: listenFront(t, "127.0.0.1:0", "Azure AD"), snow: listenFront(t, "127.0.0.1:0", "ServiceNow instance")}
	aadAddr, snowAddr := fs.aad.addr, fs.snow.addr
	hosts := hostmap.New()
	for host, addr := range map[string]string{wellknown.LoginHost: aadAddr, wellknown.GraphHost: aadAddr, "dev12345.service-now.com": snowAddr} {
		if err := hosts.Set(host, "http://"+addr); err != nil {
			t.Fatal(err)
		}
	}
	// M365SNOW_TEST_MUTANT (set only by TestSuiteKillsMutants) makes the
	// stranger one of fakem365's deliberately broken variants.
	connector, err := fakem365.New(fakem365.Options{Transport: &hostmap.Transport{Map: hosts}, Fixture: vendorContent(t),
		Mutant: fakem365.Mutant(os.Getenv("M365SNOW_TEST_MUTANT"))})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: connector, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	// Its own progress output only: the reports under reports/ are the
	// main run's.
	runSuite(t, suiteConfig{connectorURL: "http://" + ln.Addr().String(), fronts: fs}, true)
}

// vendorContent is articles and service health different from the
// shipped worlds', so that the vendor mode cannot lean on the fixtures'.
func vendorContent(t *testing.T) *fakem365.Fixture {
	return &fakem365.Fixture{
		Solutions: []fakem365.Solution{
			{ID: "V-1", Title: "Vendor article on mail flow", Summary: "Mail flow.", URL: "https://vendor.example/1", Keywords: []string{"mail", "mobile", "sync", "email"}},
			{ID: "V-2", Title: "Vendor article on meetings", Summary: "Meetings.", URL: "https://vendor.example/2", Keywords: []string{"teams", "meetings", "outlook", "web", "wrong"}},
		},
		Health: []fakem365.HealthIncident{{ID: "VH1", Service: "Exchange Online", Title: "Vendor health incident", Classification: "incident",
			Status: "serviceDegradation", ImpactDescription: "Vendor.", StartDateTime: "2026-01-01T00:00:00Z"}},
	}
}

func runSuite(t *testing.T, cfg suiteConfig, progressOnly bool) {
	opts := flags
	set := map[string]bool{}
	flag.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if !set["godog.format"] && !set["godog.f"] {
		opts.Format = envOr("GODOG_FORMAT", "progress")
	}
	if !set["godog.concurrency"] && !set["godog.c"] {
		opts.Concurrency = 2 * runtime.NumCPU()
	}
	if !set["godog.random"] {
		opts.Randomize = -1
	}
	if !set["godog.tags"] && !set["godog.t"] {
		opts.Tags = os.Getenv("GODOG_TAGS")
	}
	if cfg.connectorURL != "" {
		// A connector outside this process reaches the fakes at fixed
		// addresses and keeps one state: one scenario at a time. Those
		// that need faults inside the connector are reported skipped.
		opts.Concurrency = 1
		cfg.ledger = &skipLedger{}
	}
	// testdata/report holds the report tests' fixture, failures included.
	opts.Tags = withoutReportFixture(opts.Tags)
	if progressOnly {
		opts.Format = "progress"
	}
	opts.Strict = true
	opts.TestingT = t
	opts.NoColors = opts.NoColors || os.Getenv("CI") != ""
	if len(opts.Paths) == 0 {
		opts.Paths = []string{"."}
	}
	format, files, err := splitFormats(opts.Format) // report.go writes junit:, cucumber: and html:
	if err != nil {
		t.Fatal(err)
	}
	opts.Format = format
	checkOptions(t, &opts)
	rep := newRunReport(files)
	initialize := initScenario(cfg)
	suite := godog.TestSuite{Name: "m365snow", ScenarioInitializer: func(s *godog.ScenarioContext) { initialize(s); rep.register(s) }, Options: &opts}
	status := suite.Run()
	if err := rep.write(); err != nil {
		t.Error(err)
	}
	if cfg.ledger != nil {
		line, names := cfg.ledger.summary()
		for _, n := range names {
			t.Log(n)
		}
		// Printed, not only logged: the last line of every vendor run.
		fmt.Printf("vendor mode against %s: %s\n", cfg.connectorURL, line)
	}
	if status != 0 {
		t.Fatalf("godog exited with status %d", status)
	}
}

// joinTags ands two godog tag expressions.
func joinTags(a, b string) string {
	if a == "" {
		return b
	}
	return a + " && " + b
}

// envOr reads an environment variable with a default.
func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// checkOptions guards against godog's silent pitfalls: Cucumber tag
// expressions select nothing and exit 0; report directories are not made.
func checkOptions(t *testing.T, o *godog.Options) {
	t.Helper()
	if strings.Contains(" "+o.Tags+" ", " not ") || strings.Contains(o.Tags, " and ") || strings.Contains(o.Tags, " or ") {
		t.Fatalf("godog tags use ~@tag, && and , — not Cucumber's not/and/or (got %q)", o.Tags)
	}
	for _, f := range strings.Split(o.Format, ",") {
		if _, path, ok := strings.Cut(f, ":"); ok {
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func initScenario(cfg suiteConfig) func(*godog.ScenarioContext) {
	return func(s *godog.ScenarioContext) {
		s.Before(func(ctx context.Context, gs *godog.Scenario) (context.Context, error) {
			ctx = context.WithValue(ctx, scenarioKey{}, newScenario(cfg))
			if cfg.ledger != nil {
				return skipInVendorMode(ctx, cfg, gs)
			}
			return ctx, nil
		})
		worldSteps(s)
		aadSteps(s)
		snowSteps(s)
		setupSteps(s)
		m365Steps(s)
		incidentSteps(s)
		inboundSteps(s)
		troubleshootingSteps(s)
		timeSteps(s)
	}
}
