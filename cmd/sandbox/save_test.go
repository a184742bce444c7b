package main

import (
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/m365snow/m365snow/fixtures"
	"github.com/m365snow/m365snow/internal/fixture"
	"github.com/m365snow/m365snow/world"
)

var ownURL = regexp.MustCompile(`curl -s (http://127\.0\.0\.1:\d+)/__admin/world`)

// normalize drops what differs between two runs of one world: addresses
// and the header that names the world.
func normalize(out string) string {
	out = regexp.MustCompile(`http://127\.0\.0\.1:\d+`).ReplaceAllString(out, "URL")
	out = regexp.MustCompile(`\S*/ca\.pem`).ReplaceAllString(out, "CA")
	return regexp.MustCompile(`(?m)^m365snow sandbox — world .*$`).ReplaceAllString(out, "HEADER")
}

// A world saved from the running sandbox loads with --world and describes
// itself exactly as the original did — users, secrets, repositories and the
// walk-through included — for every shipped world.
func TestSavedWorldsDescribeThemselvesAsTheOriginal(t *testing.T) {
	names, err := fixture.Names(fixtures.FS)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			_, out := start(t, name)
			m := ownURL.FindStringSubmatch(out)
			if m == nil {
				t.Fatalf("the sandbox does not say how to save the world:\n%s", out)
			}
			resp, err := http.Get(m[1] + "/__admin/world")
			if err != nil {
				t.Fatal(err)
			}
			saved, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 {
				t.Fatalf("GET /__admin/world: %s %s", resp.Status, saved)
			}
			file := filepath.Join(t.TempDir(), name+"-saved.yaml")
			if err := os.WriteFile(file, saved, 0o600); err != nil {
				t.Fatal(err)
			}
			w2, out2 := start(t, file)
			if a, b := normalize(out), normalize(out2); a != b {
				t.Fatalf("the saved world describes itself differently:\n--- original\n%s\n--- saved\n%s", a, b)
			}
			// Every walk-through runs green from the saved world as from the
			// original (a troubleshooting world's shows its symptom and
			// diagnostics, not steps its cause would break).
			if steps, err := walkthrough(w2, name); err == nil {
				execute(t, steps)
			}
		})
	}
}

// --save writes the world on Ctrl-C.
func TestSaveOnStop(t *testing.T) {
	file := filepath.Join(t.TempDir(), "on-stop.yaml")
	ctx, cancel := context.WithCancel(context.Background())
	var out, errOut syncBuffer
	ready := make(chan *world.World, 1)
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"--world", "troubleshooting-10", "--save", file, "--snow-listen", "127.0.0.1:0", "--aad-listen", "127.0.0.1:0",
			"--m365-listen", "127.0.0.1:0", "--proxy-listen", "", "--listen", ""}, &out, &errOut, func(w *world.World) { ready <- w })
	}()
	select {
	case <-ready:
	case code := <-done:
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	cancel()
	if code := <-done; code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	f, err := world.Load(file)
	if err != nil {
		t.Fatalf("the saved file does not load: %v", err)
	}
	// troubleshooting-10's cause is a fault inside the connector: it must
	// survive the save as an inducement.
	if len(f.Induce) != 1 || !strings.Contains(errOut.String(), "saved the world to "+file) {
		t.Fatalf("induce %d, stderr %q", len(f.Induce), errOut.String())
	}
}
