package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

func TestRunArguments(t *testing.T) {
	var out bytes.Buffer
	if code := command.Run(context.Background(), []string{"--help"}, &out); code != 0 || !strings.Contains(out.String(), "-map-host value") ||
		!strings.Contains(out.String(), "-proxy-listen string") || !strings.Contains(out.String(), "-ca-dir string") {
		t.Fatalf("--help: %d %s", code, out.String())
	}
	out.Reset()
	if code := command.Run(context.Background(), []string{"--fixture", "no-such-world", "--listen", "127.0.0.1:0"}, &out); code != 1 {
		t.Fatalf("bad fixture: %d", code)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	out.Reset()
	if code := command.Run(ctx, []string{"--listen", "127.0.0.1:0"}, &out); code != 0 || !strings.Contains(out.String(), "fakem365 listening") {
		t.Fatalf("serve: %d %s", code, out.String())
	}
}
