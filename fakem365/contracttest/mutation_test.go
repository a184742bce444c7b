package contracttest_test

import (
	"bytes"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"

	"github.com/m365snow/m365snow/fakem365"
)

// failLine is a failed leaf subtest in `go test -v` output.
var failLine = regexp.MustCompile(`(?m)^\s*--- FAIL: TestStrangerConnectorHonoursTheContract/(\S+)`)

// TestMutantsAreKilled proves the contract test's power: each deliberately
// broken variant of fakem365 (fakem365.Mutants) must fail at least one
// check when run as a stranger. It re-runs this test binary once per mutant
// and names the checks that caught it (docs/vendor-mode.md shows them).
func TestMutantsAreKilled(t *testing.T) {
	if os.Getenv("M365SNOW_TEST_MUTANT") != "" {
		t.Skip("already running one mutant")
	}
	doc, err := os.ReadFile("../../docs/vendor-mode.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range fakem365.Mutants {
		t.Run(string(m), func(t *testing.T) {
			t.Parallel()
			cmd := exec.Command(os.Args[0], "-test.run=^TestStrangerConnectorHonoursTheContract$", "-test.v", "-test.count=1")
			cmd.Env = append(os.Environ(), "M365SNOW_TEST_MUTANT="+string(m))
			var out bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &out
			err := cmd.Run()
			if err == nil {
				t.Fatalf("mutant %s survived: every contract check passed", m)
			}
			var killers []string
			for _, f := range failLine.FindAllStringSubmatch(out.String(), -1) {
				if leaf := f[1]; !hasChildFailure(out.String(), leaf) {
					killers = append(killers, leaf)
				}
			}
			if len(killers) == 0 {
				t.Fatalf("mutant %s: the run failed without a failed check (a crash?):\n%s", m, out.String())
			}
			t.Logf("mutant %s killed by %s", m, strings.Join(killers, ", "))
			if !bytes.Contains(doc, []byte("`"+string(m)+"`")) {
				t.Errorf("docs/vendor-mode.md does not list mutant `%s`", m)
			}
		})
	}
}

// hasChildFailure says whether a failed subtest failed because one of its
// own subtests did, so that only the checks that caught a mutant are named.
func hasChildFailure(out, name string) bool {
	return strings.Contains(out, "--- FAIL: TestStrangerConnectorHonoursTheContract/"+name+"/")
}
