// Package examples holds the CI files a vendor copies (GitHub Actions,
// GitLab CI) and the test that runs what they run: `make vendor-check`
// against a connector in a separate process.
package examples

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestMakeVendorCheckJudgesAStranger builds fakem365, starts it as a
// stranger connector in its own process (fresh state, wall-clock time,
// host names mapped to the ports vendor-check serves Azure AD and the
// instance on), and runs `make vendor-check` against it as a vendor's CI
// does: the contract test and the suite must pass and leave Cucumber JSON
// and JUnit reports, and the run must end with its run/skipped line.
func TestMakeVendorCheckJudgesAStranger(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: builds a binary and runs make vendor-check (two go test runs) in separate processes")
	}
	if _, err := exec.LookPath("make"); err != nil {
		t.Skip("make is not installed: `make vendor-check` cannot be run")
	}
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(t.TempDir(), "fakem365")
	if out, err := exec.Command("go", "build", "-o", bin, "../cmd/fakem365").CombinedOutput(); err != nil {
		t.Fatalf("building fakem365: %v\n%s", err, out)
	}
	conn, aad, snow := freePort(t), freePort(t), freePort(t)
	ctx, cancel := context.WithCancel(context.Background())
	logPath := filepath.Join(t.TempDir(), "connector.log")
	connLog, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	stranger := exec.CommandContext(ctx, bin, "--listen", conn, "--fixture", "fresh",
		"--map-host", "login.microsoftonline.com="+aad, "--map-host", "graph.microsoft.com="+aad,
		"--map-host", "dev12345.service-now.com="+snow)
	stranger.Stdout, stranger.Stderr = connLog, connLog
	if err := stranger.Start(); err != nil {
		t.Fatal(err)
	}
	// Stop the connector first, then wait for it (cleanups run last in,
	// first out, after any t.Fatal).
	t.Cleanup(func() { _ = stranger.Wait(); connLog.Close() })
	t.Cleanup(cancel)
	readLog := func() string { b, _ := os.ReadFile(logPath); return string(b) }
	waitHealthy(t, "http://"+conn+"/healthz", readLog)

	reports := t.TempDir()
	cmd := exec.Command("make", "-s", "vendor-check", "CONNECTOR_URL=http://"+conn, "AAD_LISTEN="+aad, "SNOW_LISTEN="+snow, "VENDOR_REPORTS="+reports)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CI=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("make vendor-check failed: %v\n%s\nconnector log:\n%s", err, tail(out), readLog())
	}
	// Every scenario runs against a stranger: nothing is skipped (the
	// count grows with the features, the zero must not).
	if !regexp.MustCompile(`\n?vendor mode against \S+: \d+ run, 0 skipped`).Match(out) {
		t.Errorf("make vendor-check's output lacks \"N run, 0 skipped\":\n%s", tail(out))
	}
	for _, want := range []string{"--- PASS: TestVendorConnector", "--- PASS: TestFeatures"} {
		if !bytes.Contains(out, []byte(want)) {
			t.Errorf("make vendor-check's output lacks %q:\n%s", want, tail(out))
		}
	}
	for _, f := range []string{"cucumber.json", "junit.xml"} {
		b, err := os.ReadFile(filepath.Join(reports, f))
		if err != nil || len(b) == 0 {
			t.Errorf("report %s: %v (%d bytes)", f, err, len(b))
		}
		if f == "junit.xml" && (!bytes.Contains(b, []byte("<testcase")) || bytes.Contains(b, []byte("<failure"))) {
			t.Errorf("junit.xml lists no scenario, or a failed one")
		}
	}
}

// TestReadmeVendorCommandsAsPrinted runs every vendor command of the
// README — the lines that start with M365SNOW_CONNECTOR_URL= or make
// vendor-check — exactly as printed, from the repository's root, against
// fakem365 started as a stranger at the README's 127.0.0.1:9000 (Azure AD
// and the instance at their defaults, 127.0.0.1:8081 and :8080). Those
// ports are fixed by the README: when one is taken (a sandbox, another
// run) the test says which and skips.
func TestReadmeVendorCommandsAsPrinted(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: runs the README's go test and make commands in separate processes")
	}
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	var commands []string
	for _, l := range strings.Split(string(readme), "\n") {
		if strings.HasPrefix(l, "M365SNOW_CONNECTOR_URL=") || strings.HasPrefix(l, "make vendor-check") {
			commands = append(commands, l)
		}
	}
	if len(commands) < 3 {
		t.Fatalf("the README prints %d vendor commands, want the suite's, the contract test's and make vendor-check's: %q", len(commands), commands)
	}
	for _, addr := range []string{"127.0.0.1:9000", "127.0.0.1:8081", "127.0.0.1:8080"} {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			t.Skipf("%s is taken (%v): the README's commands use it as printed", addr, err)
		}
		ln.Close()
	}
	bin := filepath.Join(t.TempDir(), "fakem365")
	if out, err := exec.Command("go", "build", "-o", bin, "../cmd/fakem365").CombinedOutput(); err != nil {
		t.Fatalf("building fakem365: %v\n%s", err, out)
	}
	ctx, cancel := context.WithCancel(context.Background())
	stranger := exec.CommandContext(ctx, bin, "--listen", "127.0.0.1:9000", "--fixture", "fresh",
		"--map-host", "login.microsoftonline.com=127.0.0.1:8081", "--map-host", "graph.microsoft.com=127.0.0.1:8081",
		"--map-host", "dev12345.service-now.com=127.0.0.1:8080")
	if err := stranger.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = stranger.Wait() })
	t.Cleanup(cancel)
	waitHealthy(t, "http://127.0.0.1:9000/healthz", func() string { return "" })
	for _, c := range commands {
		cmd := exec.Command("bash", "-c", c)
		cmd.Dir = ".."
		cmd.Env = append(os.Environ(), "CI=1")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("README command %q failed: %v\n%s", c, err, tail(out))
		}
	}
}

func freePort(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func waitHealthy(t *testing.T, url string, log func() string) {
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if res, err := http.Get(url); err == nil {
			res.Body.Close()
			if res.StatusCode == 200 {
				return
			}
		}
		time.Sleep(100 * time.Millisecond) // polling another process's start-up, not a test's clock
	}
	t.Fatalf("the stranger connector did not answer %s:\n%s", url, log())
}

func tail(b []byte) string {
	lines := strings.Split(string(b), "\n")
	if len(lines) > 80 {
		lines = lines[len(lines)-80:]
	}
	return fmt.Sprint(strings.Join(lines, "\n"))
}
