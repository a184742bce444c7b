package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

func TestRunArguments(t *testing.T) {
	for _, c := range []struct {
		args []string
		code int
	}{
		{[]string{"--help"}, 0},
		{[]string{"--map-host", "no-equals-sign"}, 2},
		{[]string{"--listen", "127.0.0.1:0", "--fixture", "no-such-world"}, 1},
	} {
		var out bytes.Buffer
		if got := command.Run(context.Background(), c.args, &out); got != c.code {
			t.Errorf("fakesnow %v exited %d, want %d: %s", c.args, got, c.code, out.String())
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var out bytes.Buffer
	if code := command.Run(ctx, []string{"--listen", "127.0.0.1:0", "--map-host", "login.microsoftonline.com=127.0.0.1:8081"}, &out); code != 0 ||
		!strings.Contains(out.String(), `map_host="login.microsoftonline.com=http://127.0.0.1:8081"`) ||
		!strings.Contains(out.String(), "public_url=https://dev12345.service-now.com ") {
		t.Fatalf("exit %d: %s", code, out.String())
	}
}
