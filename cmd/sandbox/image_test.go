package main

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/m365snow/m365snow/world"
)

// The image's default command is the sandbox, and what it prints works from
// the host: addresses are loopback ones (never 0.0.0.0 or [::]) and, with
// no writable CA directory (FROM scratch, no HOME), the CA comes from the
// proxy. The command is read from the Dockerfile itself, with the ports
// made free ones.
func TestDockerfileDefaultCommandRuns(t *testing.T) {
	b, err := os.ReadFile("../../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^CMD (\[.*\])$`).FindSubmatch(b)
	if m == nil {
		t.Fatal("the Dockerfile has no CMD: `docker run m365snow` would say \"No command specified\"")
	}
	var argv []string
	if err := json.Unmarshal(m[1], &argv); err != nil {
		t.Fatal(err)
	}
	if argv[0] != "/sandbox" {
		t.Fatalf("CMD runs %s, want /sandbox", argv[0])
	}
	args := argv[1:]
	for i, a := range args {
		if strings.HasPrefix(a, "0.0.0.0:") {
			args[i] = "0.0.0.0:0"
		}
	}
	args = append(args, "--ca-dir", "/dev/null/ca") // unwritable, as in the image
	ctx, cancel := context.WithCancel(context.Background())
	var out, errOut syncBuffer
	ready := make(chan *world.World, 1)
	done := make(chan int, 1)
	go func() { done <- run(ctx, args, &out, &errOut, func(w *world.World) { ready <- w }) }()
	select {
	case <-ready:
	case code := <-done:
		t.Fatalf("the image's command exited %d: %s", code, errOut.String())
	}
	cancel()
	<-done
	printed := out.String()
	if strings.Contains(printed, "0.0.0.0") || strings.Contains(printed, "[::]") {
		t.Errorf("the sandbox printed an unspecified address:\n%s", printed)
	}
	// Beyond loopback the control plane needs a token: made and printed.
	if !regexp.MustCompile(`export M365SNOW_ADMIN_TOKEN=\S{16,}`).MatchString(printed) {
		t.Errorf("the sandbox listens beyond loopback without printing its admin token:\n%s", printed)
	}
	if !regexp.MustCompile(`curl -s http://127\.0\.0\.1:\d+/ca\.pem > m365snow-ca\.pem`).MatchString(printed) {
		t.Errorf("the sandbox does not say where to get its in-memory CA:\n%s", printed)
	}
}

// Issue 11 item 6: beyond loopback the control plane needs a token. The
// sandbox makes one when none is given, prints it, and every fake's
// /__admin/ refuses a request without it.
func TestBeyondLoopbackTheControlPlaneNeedsTheToken(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errOut syncBuffer
	ready := make(chan *world.World, 1)
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"--aad-listen", "0.0.0.0:0", "--snow-listen", "127.0.0.1:0", "--m365-listen", "127.0.0.1:0",
			"--listen", "127.0.0.1:0", "--proxy-listen", ""}, &out, &errOut, func(w *world.World) { ready <- w })
	}()
	var w *world.World
	select {
	case w = <-ready:
	case code := <-done:
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	m := regexp.MustCompile(`export M365SNOW_ADMIN_TOKEN=(\S+)`).FindStringSubmatch(out.String())
	if m == nil {
		t.Fatalf("no token printed:\n%s", out.String())
	}
	for token, want := range map[string]int{"": 401, "wrong": 401, m[1]: 200} {
		req, _ := http.NewRequest("GET", w.AADURL+"/__admin/state", nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("token %q: %s, want %d", token, resp.Status, want)
		}
	}
	cancel()
	<-done
}
