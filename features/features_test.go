package features

import (
	"context"
	"flag"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/cucumber/godog"
)

// opts are godog's options; -godog.tags, -godog.format, -godog.concurrency,
// -godog.random and friends come through `go test` (godog's own CLI is
// deprecated):
//
//	go test ./features -godog.tags=@aad -godog.format=pretty
var opts = godog.Options{}

func init() { godog.BindFlags("godog.", flag.CommandLine, &opts) }

func TestFeatures(t *testing.T) {
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
	if os.Getenv("M365SNOW_CONNECTOR_URL") != "" {
		// A connector outside this process reaches the fakes at fixed
		// addresses: one scenario at a time, and none that needs faults
		// inside the connector.
		opts.Concurrency = 1
		opts.Tags = joinTags(opts.Tags, "~@reference-connector")
	}
	opts.Strict = true
	opts.TestingT = t
	opts.NoColors = opts.NoColors || os.Getenv("CI") != ""
	if len(opts.Paths) == 0 {
		opts.Paths = []string{"."}
	}
	checkOptions(t, &opts)
	suite := godog.TestSuite{Name: "m365snow", ScenarioInitializer: initScenario, Options: &opts}
	if status := suite.Run(); status != 0 {
		t.Fatalf("godog exited with status %d", status)
	}
}

func joinTags(a, b string) string {
	if a == "" {
		return b
	}
	return a + " && " + b
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

func initScenario(s *godog.ScenarioContext) {
	s.Before(func(ctx context.Context, _ *godog.Scenario) (context.Context, error) {
		return context.WithValue(ctx, scenarioKey{}, newScenario()), nil
	})
	worldSteps(s)
	aadSteps(s)
	snowSteps(s)
	setupSteps(s)
	m365Steps(s)
	incidentSteps(s)
	inboundSteps(s)
}
