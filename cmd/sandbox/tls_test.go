package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/m365snow/m365snow/internal/localca"
)

// TestWalkthroughOverTLS: with --tls every address is https://, the
// printed commands pass curl --cacert with the CA file the sandbox prints,
// and the walk-through runs green with a client that trusts that file and
// nothing else: once in Go, once as the printed bash and curl commands.
func TestWalkthroughOverTLS(t *testing.T) {
	caDir := t.TempDir()
	caFile := filepath.Join(caDir, localca.CertFile)
	w, out := start(t, "integrated-basic", "--tls", "--ca-dir", caDir)
	for _, u := range []string{w.SnowURL, w.AADURL, w.M365URL} {
		if !strings.HasPrefix(u, "https://") {
			t.Errorf("--tls: %s is not https", u)
		}
	}
	for _, want := range []string{"HTTPS (--tls)", caFile, "Console: https://", "--cacert '" + caFile + "' https://"} {
		if !strings.Contains(out, want) {
			t.Errorf("the output does not say %q:\n%s", want, out)
		}
	}
	steps, err := walkthrough(w, "integrated-basic")
	if err != nil {
		t.Fatal(err)
	}
	steps = trusting(steps, caFile)
	for _, c := range steps {
		if !strings.Contains(out, c.curl()[:60]) {
			t.Errorf("the output does not print step %q as %q", c.Note, c.curl()[:60])
		}
	}
	answers := execute(t, steps) // follows every link an answer hands out, too
	solved := false
	for i, c := range steps {
		b, _ := json.Marshal(answers[i])
		solved = solved || strings.HasSuffix(c.URL, "/solutions") && strings.Contains(string(b), "Mail is not syncing on mobile devices")
	}
	if !solved {
		t.Errorf("over TLS, no step answered with recommended solutions: %v", answers)
	}

	got := runPrinted(t, steps)
	if !strings.Contains(string(got), "Mail is not syncing on mobile devices") {
		t.Errorf("the printed commands over TLS did not lead to solutions:\n%s", got)
	}
}

// runPrinted runs steps as the printed bash and curl commands, in a fresh
// directory, with no CA bundle or proxy from the environment, and returns
// their output. A step that says what its answer shows or no longer shows
// is checked on curl's output. It skips, saying why, where bash or curl is
// missing.
func runPrinted(t *testing.T, steps []call) string {
	t.Helper()
	bash, errBash := exec.LookPath("bash")
	_, errCurl := exec.LookPath("curl")
	if errBash != nil || errCurl != nil {
		t.Skipf("the printed commands need bash and curl (%v; %v); the Go run above passed", errBash, errCurl)
	}
	var script strings.Builder
	script.WriteString("set -euo pipefail\n")
	for i, c := range steps {
		if (c.Shows == "" && c.Lacks == "") || c.Capture != "" || c.Token || c.Login {
			script.WriteString(c.curl() + "\necho\n")
			continue
		}
		script.WriteString("out=$(" + c.curl() + ")\necho \"$out\"\n")
		if c.Shows != "" {
			fmt.Fprintf(&script, "grep -qF -- %s <<<\"$out\" || { echo %s; exit 1; }\n", shellQuote(c.Shows), shellQuote(fmt.Sprintf("step %d does not show %q: %s", i+1, c.Shows, c.Note)))
		}
		if c.Lacks != "" {
			fmt.Fprintf(&script, "! grep -qF -- %s <<<\"$out\" || { echo %s; exit 1; }\n", shellQuote(c.Lacks), shellQuote(fmt.Sprintf("step %d still shows %q: %s", i+1, c.Lacks, c.Note)))
		}
	}
	cmd := exec.Command(bash, "-c", script.String())
	cmd.Dir = t.TempDir()
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + cmd.Dir}
	got, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("the printed commands: %v\n%s", err, got)
	}
	return string(got)
}
