package main

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Errors a person can act on: each names the fake, the file or the flag.
func TestStartupErrorsSayWhatToChange(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	typo := filepath.Join(t.TempDir(), "typo.yaml")
	if err := os.WriteFile(typo, []byte("description: x\nextends: integrated-basic\nsnow:\n  userz: []\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	// An inducement of the user's file that selects nothing, in a world
	// that extends one with inducements of its own.
	badInduce := filepath.Join(t.TempDir(), "mine.yaml")
	if err := os.WriteFile(badInduce, []byte("description: mine\nextends: troubleshooting-9\ninduce:\n  - as: admin\n    update: {table: oauth_entity, where: name=nope, set: {client_secret: x}}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	free := []string{"--aad-listen", "127.0.0.1:0", "--m365-listen", "127.0.0.1:0", "--proxy-listen", ""}
	// A CA directory whose files are not a CA, and one that cannot be
	// made (a regular file is in the way; root may write anywhere else).
	badCA := t.TempDir()
	for _, f := range []string{"ca.pem", "ca-key.pem"} {
		if err := os.WriteFile(filepath.Join(badCA, f), []byte("not PEM\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	blocked := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(blocked, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	ports := []string{"--snow-listen", "127.0.0.1:0", "--aad-listen", "127.0.0.1:0", "--m365-listen", "127.0.0.1:0"}
	cases := []struct {
		name string
		args []string
		want []string
	}{
		{"port taken", append([]string{"--snow-listen", busy.Addr().String()}, free...),
			[]string{"fakesnow cannot listen on " + busy.Addr().String(), "--snow-listen"}},
		{"world typo", append([]string{"--world", typo, "--snow-listen", "127.0.0.1:0"}, free...),
			[]string{typo + `:4:3: unknown key "userz" under snow (did you mean "users"?)`}},
		{"unknown world", append([]string{"--world", "integrated-ad", "--snow-listen", "127.0.0.1:0"}, free...),
			[]string{`no shipped world "integrated-ad" (did you mean "integrated-aad"?)`, "--list-worlds"}},
		{"proxy port taken", []string{"--snow-listen", "127.0.0.1:0", "--aad-listen", "127.0.0.1:0", "--m365-listen", "127.0.0.1:0", "--proxy-listen", busy.Addr().String(), "--ca-dir", t.TempDir()},
			[]string{"--proxy-listen"}},
		{"inducement fails", append([]string{"--world", badInduce, "--listen", "", "--proxy-listen", ""}, ports...),
			[]string{badInduce + ":4:5: no oauth_entity record where name=nope"}},
		{"own port taken", append([]string{"--listen", busy.Addr().String(), "--proxy-listen", ""}, ports...),
			[]string{"the sandbox cannot listen on " + busy.Addr().String(), "--listen"}},
		{"bad CA", append([]string{"--tls", "--ca-dir", badCA, "--listen", ""}, ports...),
			[]string{"CA in " + badCA + ": ca.pem holds no PEM certificate", "delete the directory"}},
		{"--tls without a writable CA directory", append([]string{"--tls", "--ca-dir", filepath.Join(blocked, "ca"), "--proxy-listen", "", "--listen", ""}, ports...),
			[]string{"--tls needs a CA file", "--ca-dir " + filepath.Join(blocked, "ca")}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var out, errOut syncBuffer
			code := run(context.Background(), tc.args, &out, &errOut, nil)
			if code == 0 {
				t.Fatalf("exit 0, want an error")
			}
			for _, w := range tc.want {
				if !strings.Contains(errOut.String(), w) {
					t.Errorf("stderr %q lacks %q", errOut.String(), w)
				}
			}
		})
	}
}
