package main

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// consoleOf is the console's address in a started sandbox's output.
func consoleOf(t *testing.T, out string) string {
	t.Helper()
	m := consoleLine.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no console in the output:\n%s", out)
	}
	return m[1]
}

func get(t *testing.T, u string) (int, string) {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func postForm(t *testing.T, u string, form url.Values) (int, string) {
	t.Helper()
	resp, err := http.PostForm(u, form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestConsoleSetupStartsWithTheCounterpartsChoices: in a prerequisites-*
// world the wizard's fields start with what integrated-* chose, the values
// setupWalk prints as commands.
func TestConsoleSetupStartsWithTheCounterpartsChoices(t *testing.T) {
	t.Parallel()
	_, out := start(t, "prerequisites-basic")
	c := consoleOf(t, out)
	if status, body := postForm(t, c+"/setup/scope", url.Values{}); status != 200 {
		t.Fatalf("switch: %d\n%s", status, body)
	}
	tests := []struct{ step, want string }{
		{"outbound", `<option value="contoso_outbound default_profile" selected>`},
		{"inbound", `<option value="m365_inbound" selected>`},
		{"user", `value="m365.integration"`},
		{"repository", `value="contoso-snow"`},
		{"settings", `value="admin@contoso.onmicrosoft.com"`},
	}
	for _, tc := range tests {
		if status, body := get(t, c+"/setup?step="+tc.step); status != 200 || !strings.Contains(body, tc.want) {
			t.Errorf("step %s: %d, no %q in\n%s", tc.step, status, tc.want, body)
		}
	}
}
