package main

import (
	"context"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/m365snow/m365snow/world"
)

var consoleLine = regexp.MustCompile(`\AConsole: (http://127\.0\.0\.1:\d+)/\n`)

// TestConsoleIsPrintedFirstAndServed: the console's URL is the first line
// of the sandbox's output, and it answers there with the world's parties.
func TestConsoleIsPrintedFirstAndServed(t *testing.T) {
	w, out := start(t, "integrated-basic")
	m := consoleLine.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("the output does not start with the console's URL:\n%s", out)
	}
	resp, err := http.Get(m[1] + "/")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(b), "The world at a glance") || !strings.Contains(string(b), w.SnowURL) {
		t.Errorf("GET %s/: %d\n%s", m[1], resp.StatusCode, b)
	}
	// The saved world is still served beside it.
	if resp, err := http.Get(m[1] + "/__admin/world"); err != nil || resp.StatusCode != 200 {
		t.Errorf("GET /__admin/world beside the console: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}
}

func TestNoConsole(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var out, errOut syncBuffer
	ready := make(chan *world.World, 1)
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"--no-console", "--snow-listen", "127.0.0.1:0", "--aad-listen", "127.0.0.1:0", "--m365-listen", "127.0.0.1:0",
			"--proxy-listen", "", "--listen", "127.0.0.1:0"}, &out, &errOut, func(w *world.World) { ready <- w })
	}()
	select {
	case <-ready:
	case code := <-done:
		t.Fatalf("sandbox exited with %d: %s", code, errOut.String())
	}
	defer func() {
		cancel()
		<-done
	}()
	if strings.Contains(out.String(), "Console:") {
		t.Errorf("--no-console still prints the console:\n%s", out.String())
	}
	m := ownURL.FindStringSubmatch(out.String())
	if m == nil {
		t.Fatalf("no own address in:\n%s", out.String())
	}
	resp, err := http.Get(m[1] + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("GET / with --no-console: %d, want 404", resp.StatusCode)
	}
}
