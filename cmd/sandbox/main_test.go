package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/m365snow/m365snow/fixtures"
	"github.com/m365snow/m365snow/internal/fixture"
	"github.com/m365snow/m365snow/internal/wellknown"
	"github.com/m365snow/m365snow/world"
)

// start runs the sandbox on free ports and returns its world and output.
// extra flags follow the defaults (a later flag wins).
func start(t *testing.T, name string, extra ...string) (*world.World, string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var out, errOut syncBuffer
	ready := make(chan *world.World, 1)
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, append([]string{"--world", name, "--snow-listen", "127.0.0.1:0", "--aad-listen", "127.0.0.1:0", "--m365-listen", "127.0.0.1:0",
			"--proxy-listen", "127.0.0.1:0", "--ca-dir", t.TempDir(), "--listen", "127.0.0.1:0"}, extra...),
			&out, &errOut, func(w *world.World) { ready <- w })
	}()
	var w *world.World
	select {
	case w = <-ready:
	case code := <-done:
		t.Fatalf("sandbox exited with %d: %s", code, errOut.String())
	}
	t.Cleanup(func() {
		cancel()
		if code := <-done; code != 0 {
			t.Errorf("sandbox stopped with %d: %s", code, errOut.String())
		}
	})
	return w, out.String()
}

// execute runs walk-through steps the way the printed curl commands do.
func execute(t *testing.T, steps []call) []map[string]any {
	t.Helper()
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	if len(steps) > 0 && steps[0].CAFile != "" {
		// Over --tls: trust the printed CA file and nothing else, as
		// curl --cacert does.
		pem, err := os.ReadFile(steps[0].CAFile)
		if err != nil {
			t.Fatal(err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			t.Fatalf("%s holds no certificate", steps[0].CAFile)
		}
		client.Transport = &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}
	}
	var session *http.Cookie
	vars := map[string]string{}
	var answers []map[string]any
	for i, c := range steps {
		var body io.Reader
		ct := ""
		if c.Form != nil {
			v := url.Values{}
			for _, f := range c.Form {
				v.Add(f.k, f.v)
			}
			body, ct = strings.NewReader(v.Encode()), "application/x-www-form-urlencoded"
		}
		if c.JSON != nil {
			js, _ := json.Marshal(c.JSON)
			body, ct = bytes.NewReader(js), "application/json"
		}
		target := shellVar.ReplaceAllStringFunc(c.URL, func(v string) string { return vars[v[1:]] })
		req, err := http.NewRequest(c.Method, target, body)
		if err != nil {
			t.Fatal(err)
		}
		if ct != "" {
			req.Header.Set("Content-Type", ct)
		}
		if c.Session && session != nil {
			req.AddCookie(session)
			if !c.Token {
				req.Header.Set("X-UserToken", vars["G_CK"])
			}
		}
		if c.Bearer != "" {
			req.Header.Set("Authorization", "Bearer "+vars[c.Bearer])
		}
		if user, password, ok := strings.Cut(c.Basic, ":"); ok {
			req.SetBasicAuth(user, password)
		}
		res, err := client.Do(req)
		if err != nil {
			t.Fatalf("step %d (%s): %v", i+1, c.Note, err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != c.Want {
			t.Fatalf("step %d (%s): want %d, got %d %s", i+1, c.Note, c.Want, res.StatusCode, b)
		}
		if c.Shows != "" && !strings.Contains(string(b), c.Shows) {
			t.Errorf("step %d (%s): the answer does not show %q: %s", i+1, c.Note, c.Shows, b)
		}
		if c.Lacks != "" && strings.Contains(string(b), c.Lacks) {
			t.Errorf("step %d (%s): the answer still shows %q: %s", i+1, c.Note, c.Lacks, b)
		}
		var js map[string]any
		_ = json.Unmarshal(b, &js)
		answers = append(answers, js)
		if c.Login {
			for _, ck := range res.Cookies() {
				if ck.Name == "JSESSIONID" {
					session = ck
				}
			}
			if session == nil {
				t.Fatalf("step %d: no session cookie", i+1)
			}
		}
		if strings.Contains(c.URL, "/api/") {
			// Every link an API answer hands out is one a client can follow.
			for _, link := range linksIn(res.Header, js) {
				lr, _ := http.NewRequest("GET", link, nil)
				if c.Session && session != nil {
					lr.AddCookie(session)
					lr.Header.Set("X-UserToken", vars["G_CK"])
				}
				if c.Bearer != "" {
					lr.Header.Set("Authorization", "Bearer "+vars[c.Bearer])
				}
				if user, password, ok := strings.Cut(c.Basic, ":"); ok {
					lr.SetBasicAuth(user, password)
				}
				got, err := client.Do(lr)
				if err != nil {
					t.Errorf("step %d (%s): link %s: %v", i+1, c.Note, link, err)
					continue
				}
				got.Body.Close()
				if got.StatusCode != 200 {
					t.Errorf("step %d (%s): link %s: %d", i+1, c.Note, link, got.StatusCode)
				}
			}
		}
		if c.Token {
			m := regexp.MustCompile(`g_ck = '([^']+)'`).FindSubmatch(b)
			if m == nil {
				t.Fatalf("step %d: no g_ck in %s", i+1, b)
			}
			vars["G_CK"] = string(m[1])
		}
		if c.Capture != "" {
			// As the printed sed does: the member's last string value.
			all := regexp.MustCompile(`"`+c.field()+`":"([^"]+)"`).FindAllSubmatch(b, -1)
			if all == nil {
				t.Fatalf("step %d: no %s in %s", i+1, c.field(), b)
			}
			tok := string(all[len(all)-1][1])
			vars[c.Capture] = tok
		}
	}
	return answers
}

// linksIn lists the links of an answer: Link and Location headers, and
// "link" and "download_link" members anywhere in its JSON.
func linksIn(h http.Header, js any) []string {
	var out []string
	for _, part := range strings.Split(h.Get("Link"), ",") {
		if a, b := strings.Index(part, "<"), strings.Index(part, ">"); a >= 0 && b > a {
			out = append(out, part[a+1:b])
		}
	}
	if loc := h.Get("Location"); loc != "" {
		out = append(out, loc)
	}
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, e := range x {
				if s, ok := e.(string); ok && (k == "link" || k == "download_link") {
					out = append(out, s)
				}
				walk(e)
			}
		case []any:
			for _, e := range x {
				walk(e)
			}
		}
	}
	walk(js)
	return out
}

// TestWalkthroughs runs every printed walk-through against its world, so
// the commands a newcomer copies are known to lead to recommended solutions.
func TestWalkthroughs(t *testing.T) {
	for _, tc := range []struct {
		world    string
		solution string // first recommended solution; "" = Setup still to walk
		mode     string
	}{
		{"integrated-basic", "Mail is not syncing on mobile devices", "Basic mode"},
		{"integrated-basic-multitenant", "Mail is not syncing on mobile devices", "Basic mode"},
		{"integrated-aad", "Mail is not syncing on mobile devices", "AAD mode"},
		{"integrated-insights-only", "Mail is not syncing on mobile devices", "Insights only"},
		// The prerequisites worlds print the whole Setup and admin-center
		// sequence; walked, the integration works.
		{"prerequisites-basic", "Mail is not syncing on mobile devices", "Basic mode"},
		{"prerequisites-basic-multitenant", "Mail is not syncing on mobile devices", "Basic mode"},
		{"prerequisites-aad", "Mail is not syncing on mobile devices", "AAD mode"},
		{"prerequisites-insights-only", "Mail is not syncing on mobile devices", "Insights only"},
		{"fresh", "", ""},
	} {
		t.Run(tc.world, func(t *testing.T) {
			w, out := start(t, tc.world)
			steps, err := walkthrough(w, tc.world)
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range steps {
				if !strings.Contains(out, c.curl()[:40]) {
					t.Errorf("the output does not print step %q", c.Note)
				}
			}
			for _, want := range []string{w.SnowURL, w.AADURL, w.M365URL, "admin", "Snow-Admin-1!", "admin@contoso.onmicrosoft.com", "Contoso-Admin-1!"} {
				if !strings.Contains(out, want) {
					t.Errorf("the output does not mention %q", want)
				}
			}
			answers := execute(t, steps)
			var solutions map[string]any
			for i, c := range steps {
				if strings.HasSuffix(c.URL, "/solutions") {
					solutions, _ = answers[i]["result"].(map[string]any)
				}
			}
			if solutions == nil {
				t.Fatal("no recommended-solutions step")
			}
			list, _ := solutions["solutions"].([]any)
			if tc.solution == "" {
				msgs, _ := json.Marshal(solutions["messages"])
				// The guide's Troubleshooting rows 2, 4 and 6.
				if len(list) != 0 || !strings.Contains(string(msgs), `"Please contact your ServiceNow admin and ask them to complete the setup steps for the app."`) {
					t.Errorf("before Setup, want the setup message and no solutions: %v", solutions)
				}
				return
			}
			if len(list) == 0 || list[0].(map[string]any)["title"] != tc.solution {
				t.Errorf("want solutions led by %q, got %v", tc.solution, solutions)
			}
			if !strings.Contains(out, tc.mode) {
				t.Errorf("the walk-through does not show the %s inbound call", tc.mode)
			}
			// And as printed, bash and curl in a fresh directory, against
			// a world of its own that nothing has walked yet.
			w2, _ := start(t, tc.world)
			steps2, err := walkthrough(w2, tc.world)
			if err != nil {
				t.Fatal(err)
			}
			if got := runPrinted(t, steps2); !strings.Contains(got, tc.solution) {
				t.Errorf("the printed commands did not lead to %q:\n%s", tc.solution, got)
			}
		})
	}
}

func TestListWorlds(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := run(context.Background(), []string{"--list-worlds"}, &out, &errOut, nil); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	want := []string{"integrated-basic ", "integrated-basic-multitenant", "integrated-aad", "integrated-insights-only",
		"prerequisites-basic ", "prerequisites-aad", "prerequisites-insights-only", "prerequisites-basic-multitenant", "fresh", "sandbox"}
	for _, w := range want {
		found := false
		for _, l := range lines {
			if strings.HasPrefix(l, w) && len(strings.Fields(l)) > 2 {
				found = true
			}
		}
		if !found {
			t.Errorf("--list-worlds has no line for %q with a description:\n%s", w, out.String())
		}
	}
	if !strings.HasPrefix(lines[0], "integrated-") {
		t.Errorf("integrated worlds come first: %q", lines[0])
	}
}

func TestFlags(t *testing.T) {
	t.Setenv("M365SNOW_ADMIN_TOKEN", "")
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--help"}, 0, "--list-worlds"},
		{[]string{"--world", "no-such-world"}, 1, "sandbox --list-worlds"},
		{[]string{"extra"}, 2, "unexpected arguments"},
		{[]string{"--log-level", "loud"}, 2, "--log-level"},
		// The other parties on free ports: the default ones may be taken on
		// a shared machine, and which party binds first is not the point.
		{[]string{"--snow-listen", "nonsense", "--aad-listen", "127.0.0.1:0", "--m365-listen", "127.0.0.1:0", "--listen", "127.0.0.1:0", "--proxy-listen", "127.0.0.1:0"}, 1, "nonsense"},
	} {
		var out, errOut bytes.Buffer
		code := run(context.Background(), tc.args, &out, &errOut, nil)
		if code != tc.code || !strings.Contains(out.String()+errOut.String(), tc.want) {
			t.Errorf("%v: exit %d (want %d), output %q (want %q)", tc.args, code, tc.code, out.String()+errOut.String(), tc.want)
		}
	}
}

// syncBuffer is a bytes.Buffer safe for the sandbox goroutine and the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// troubleshootingWorlds are the shipped troubleshooting worlds: one per
// row of the guide's table (16) and the cross-scope note.
func troubleshootingWorlds(t *testing.T) []string {
	t.Helper()
	names, err := fixture.Names(fixtures.FS)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, name := range names {
		if strings.HasPrefix(name, troubleshootingPrefix) {
			out = append(out, name)
		}
	}
	if len(out) < 17 {
		t.Errorf("%d troubleshooting worlds; the guide has 16 rows and the cross-scope note", len(out))
	}
	return out
}

// TestTroubleshootingWorlds starts every troubleshooting world and checks
// that the sandbox prints what to look at; the symptoms themselves are
// checked by features/troubleshooting-sandbox-worlds.feature.
func TestTroubleshootingWorlds(t *testing.T) {
	for _, name := range troubleshootingWorlds(t) {
		t.Run(name, func(t *testing.T) {
			_, out := start(t, name)
			if !strings.Contains(out, "What to look at\n  - ") || !strings.Contains(out, `world "`+name+`"`) {
				t.Errorf("no notes for %s:\n%s", name, out)
			}
		})
	}
}

// TestPrintsTheConnectorsOwnAppRegistration: a vendor's connector reads
// the directory with the support connector's own app, so the sandbox
// prints its client id and secret (fakem365/CONTRACT.md).
func TestPrintsTheConnectorsOwnAppRegistration(t *testing.T) {
	_, out := start(t, "integrated-basic")
	want := "Support connector's own app registration"
	i := strings.Index(out, want)
	if i < 0 {
		t.Fatalf("the sandbox does not print %q:\n%s", want, out)
	}
	section := out[i:]
	section = section[:strings.Index(section, "\n\n")]
	for _, v := range []string{wellknown.ConnectorAppID, wellknown.ConnectorDefaultSecret, wellknown.ConnectorResource} {
		if !strings.Contains(section, v) {
			t.Errorf("the connector's app registration lacks %s:\n%s", v, section)
		}
	}
}

// Every troubleshooting world's walk-through runs as printed: the symptom
// the guide's row names, its diagnostic, the fix as calls, and the symptom
// call again, which no longer shows it (execute checks each step's Shows
// and Lacks). Row 9 (a wrong outbound Client Secret): the outbound HTTP
// log holds Azure AD's 401 with AADSTS7000215, the guide's "the logs show
// a 401 error".
func TestTroubleshootingWalkthroughs(t *testing.T) {
	for _, name := range troubleshootingWorlds(t) {
		t.Run(name, func(t *testing.T) {
			w, out := start(t, name)
			steps, err := walkthrough(w, name)
			if err != nil {
				t.Fatal(err)
			}
			symptom, fix, after := false, false, false
			for _, c := range steps {
				if strings.HasSuffix(c.URL, "/setup/") && !strings.HasSuffix(name, "cross-scope") || c.Capture == "OUT_TOKEN" {
					t.Errorf("a generic step the induced cause would break is printed: %q", c.Note)
				}
				if !strings.Contains(out, c.curl()[:40]) {
					t.Errorf("the output does not print step %q", c.Note)
				}
				symptom = symptom || strings.HasPrefix(c.Note, "The symptom") && (c.Shows != "" || c.Lacks != "")
				fix = fix || strings.HasPrefix(c.Note, "Fix")
				after = after || strings.HasPrefix(c.Note, "After the fix") && (c.Shows != "" || c.Lacks != "")
			}
			if !symptom || !fix || !after {
				t.Errorf("want the symptom (%v), a fix (%v) and the symptom gone after it (%v)", symptom, fix, after)
			}
			answers := execute(t, steps)
			if name == "troubleshooting-9" {
				for i, c := range steps {
					if strings.Contains(c.URL, "sys_outbound_http_log") {
						got, _ := json.Marshal(answers[i])
						if !strings.Contains(string(got), `"http_status":"401"`) {
							t.Errorf("the outbound HTTP log step does not show Azure AD's 401: %s", got)
						}
					}
				}
			}
		})
	}
}

// Every troubleshooting world's printed commands run as bash prints them,
// end users signed in with -u and a case number carried from one call to
// the next ($CASE): curl's output shows each symptom before the fix and no
// longer after it.
func TestTroubleshootingWalkthroughsAsPrinted(t *testing.T) {
	for _, name := range troubleshootingWorlds(t) {
		t.Run(name, func(t *testing.T) {
			w, _ := start(t, name)
			steps, err := walkthrough(w, name)
			if err != nil {
				t.Fatal(err)
			}
			runPrinted(t, steps)
		})
	}
}
