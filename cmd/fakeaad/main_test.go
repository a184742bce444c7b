package main

import "testing"

func TestRunArguments(t *testing.T) {
	cases := []struct {
		args []string
		code int
	}{
		{[]string{"--help"}, 0},
		{[]string{"--no-such-flag"}, 2},
		{[]string{"--listen", "nonsense"}, 2},
		{[]string{"--tls-cert", "only-cert.pem"}, 2},
		{[]string{"--log-level", "loud"}, 2},
		{[]string{"--listen", "127.0.0.1:0", "--fixture", "no-such-world"}, 1},
		{[]string{"healthcheck", "--url", "http://127.0.0.1:1/healthz"}, 1},
	}
	for _, c := range cases {
		if got := run(c.args); got != c.code {
			t.Errorf("fakeaad %v exited %d, want %d", c.args, got, c.code)
		}
	}
}
