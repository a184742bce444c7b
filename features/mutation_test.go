package features

import (
	"bytes"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"

	"github.com/m365snow/m365snow/fakem365"
)

// suiteKills are the mutants the vendor-mode suite catches by itself.
// The others break rules the guide shows no symptom for (token checks, the
// admin portal's tenant boundary, the handshake's outbound app id); the
// contract test's attacks catch every mutant (TestMutantsAreKilled).
var suiteKills = map[fakem365.Mutant]bool{
	fakem365.MutantNeverRefreshes: true, fakem365.MutantBasicWhenAAD: true, fakem365.MutantNoCaseNumber: true,
	fakem365.MutantForbiddenUnknownRepository: true, fakem365.MutantNoInboundTestOnSave: true, fakem365.MutantLosesPendingLinks: true,
}

var failedScenario = regexp.MustCompile(`(?m)^\s*--- FAIL: TestFeaturesAgainstAnExternalConnector/(\S+)`)

// TestSuiteKillsMutants runs the vendor-mode suite against each of
// fakem365's deliberately broken variants it should catch (suiteKills) and
// names the scenarios that caught it; docs/vendor-mode.md shows the score. Each
// mutant costs a whole vendor-mode run, so `make test` leaves it to
// M365SNOW_SUITE_MUTANTS=1 (the contract test's own mutation test,
// TestMutantsAreKilled, always runs).
func TestSuiteKillsMutants(t *testing.T) {
	if os.Getenv("M365SNOW_TEST_MUTANT") != "" {
		t.Skip("already running one mutant")
	}
	if os.Getenv("M365SNOW_SUITE_MUTANTS") == "" {
		t.Skip("set M365SNOW_SUITE_MUTANTS=1: one full vendor-mode run per mutant (docs/vendor-mode.md has the last result)")
	}
	for _, m := range fakem365.Mutants {
		t.Run(string(m), func(t *testing.T) {
			if !suiteKills[m] {
				t.Skipf("the suite is not expected to catch %s (the contract test does): docs/vendor-mode.md", m)
			}
			cmd := exec.Command(os.Args[0], "-test.run=^TestFeaturesAgainstAnExternalConnector$", "-test.v", "-test.count=1")
			cmd.Env = append(os.Environ(), "M365SNOW_TEST_MUTANT="+string(m))
			var out bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &out
			if err := cmd.Run(); err == nil {
				t.Errorf("mutant %s survived the vendor-mode suite", m)
				return
			}
			var killers []string
			for _, f := range failedScenario.FindAllStringSubmatch(out.String(), -1) {
				killers = append(killers, f[1])
			}
			if len(killers) == 0 {
				t.Fatalf("mutant %s: the run failed without a failed scenario:\n%s", m, out.String())
			}
			t.Logf("mutant %s killed by %d scenarios, e.g. %s", m, len(killers), strings.Join(killers[:min(3, len(killers))], ", "))
		})
	}
}
