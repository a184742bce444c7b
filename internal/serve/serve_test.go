package serve

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"flag"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/m365snow/m365snow/internal/fixture"
	"github.com/m365snow/m365snow/internal/hostmap"
)

func TestSelfSignedTLSServesAndReusesFiles(t *testing.T) {
	dir := t.TempDir()
	f := &Flags{}
	fs := flag.NewFlagSet("x", flag.ContinueOnError)
	f.Register(fs, "127.0.0.1:0", true)
	if err := fs.Parse([]string{"--tls-self-signed", dir, "--map-host", "login.microsoftonline.com=127.0.0.1:1"}); err != nil {
		t.Fatal(err)
	}
	if err := f.Validate(); err != nil {
		t.Fatal(err)
	}
	ln, err := f.Listener("login.microsoftonline.com")
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok") })
	srv := NewServer(mux, mustLogger(t, f))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Run(ctx, srv, ln) }()

	caPEM, err := os.ReadFile(filepath.Join(dir, "ca.pem"))
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(caPEM)
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	resp, err := c.Get("https://" + ln.Addr().String() + "/healthz")
	if err != nil {
		t.Fatalf("client trusting ca.pem failed: %v", err)
	}
	resp.Body.Close()
	if err := Healthcheck("https://" + ln.Addr().String() + "/healthz"); err != nil {
		t.Fatalf("healthcheck: %v", err)
	}
	if code := HealthcheckCommand("x", []string{"--url", "https://" + ln.Addr().String() + "/nope"}, ""); code != 1 {
		t.Fatalf("healthcheck of a 404 exited %d", code)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("graceful shutdown: %v", err)
	}

	before, _ := os.ReadFile(filepath.Join(dir, "server.pem"))
	if _, _, err := SelfSigned(dir, []string{"127.0.0.1"}); err != nil {
		t.Fatal(err)
	}
	after, _ := os.ReadFile(filepath.Join(dir, "server.pem"))
	if string(before) != string(after) {
		t.Fatal("existing certificate was regenerated")
	}
	m, err := f.HostMap()
	if err != nil || m.String() != "login.microsoftonline.com=http://127.0.0.1:1" {
		t.Fatalf("host map %v %v", m, err)
	}
}

func TestValidate(t *testing.T) {
	bad := []Flags{
		{Listen: "127.0.0.1:1", TLSCert: "c"},
		{Listen: "127.0.0.1:1", TLSCert: "c", TLSKey: "k", TLSSelfSigned: "d"},
		{Listen: "nonsense"},
		// The forward proxy (issue 16): its CA goes with it, and it
		// trusts only that CA when forwarding to the fake.
		{Listen: "127.0.0.1:1", ProxyListen: "nonsense"},
		{Listen: "127.0.0.1:1", CADir: "d"},
		{Listen: "127.0.0.1:1", ProxyListen: "127.0.0.1:0", TLSCert: "c", TLSKey: "k"},
		{Listen: "127.0.0.1:1", ProxyListen: "127.0.0.1:0", TLSSelfSigned: "a", CADir: "b"},
	}
	for _, f := range bad {
		if err := f.Validate(); err == nil {
			t.Errorf("Validate(%+v) accepted", f)
		}
	}
	f := Flags{Listen: "127.0.0.1:8081"}
	if f.Public() != "http://127.0.0.1:8081" {
		t.Errorf("Public() = %q", f.Public())
	}
	f.PublicURL = "https://login.microsoftonline.com/"
	if f.Public() != "https://login.microsoftonline.com" {
		t.Errorf("Public() = %q", f.Public())
	}
}

func mustLogger(t *testing.T, f *Flags) *slog.Logger {
	t.Helper()
	l, err := f.Logger(io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func TestCommandPrintsItsStartupLineInTheChosenFormat(t *testing.T) {
	cmd := Command{Name: "fakex", Summary: "fakex", DefaultListen: "127.0.0.1:0",
		Build: func(*Flags, *fixture.File, *hostmap.Map, *slog.Logger) (http.Handler, error) {
			return http.NotFoundHandler(), nil
		}}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for _, tc := range []struct {
		args []string
		want string
	}{
		// The default level and format: one startup line a person reads.
		{nil, `level=INFO msg="fakex listening" url=http://127.0.0.1:`},
		{[]string{"--log-format", "json"}, `{"time":`},
		{[]string{"--log-format", "json"}, `"level":"INFO","msg":"fakex listening","url":"http://127.0.0.1:`},
	} {
		var out strings.Builder
		if code := cmd.Run(ctx, tc.args, &out); code != 0 {
			t.Fatalf("%v exited %d: %s", tc.args, code, out.String())
		}
		if !strings.Contains(out.String(), tc.want) {
			t.Errorf("%v printed %q, want %q", tc.args, out.String(), tc.want)
		}
	}
	var out strings.Builder
	if code := cmd.Run(ctx, []string{"--log-format", "xml"}, &out); code != 2 || !strings.Contains(out.String(), `--log-format "xml": want text or json`) {
		t.Errorf("--log-format xml exited %d: %s", code, out.String())
	}
}

// A bad certificate or key is reported with its file name: the one that
// is wrong alone, or both when they do not belong together.
func TestBadCertificateNamesItsFiles(t *testing.T) {
	dir := t.TempDir()
	good, goodKey, err := SelfSigned(filepath.Join(dir, "ca"), []string{"127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	_, otherKey, err := SelfSigned(filepath.Join(dir, "other"), []string{"127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	junk := filepath.Join(dir, "junk.pem")
	if err := os.WriteFile(junk, []byte("not a PEM"), 0o600); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "missing.pem")
	for _, tc := range []struct {
		name, cert, key string
		want, notWant   string
	}{
		{"bad certificate", junk, goodKey, "certificate " + junk + " holds no PEM block", goodKey},
		{"bad key", good, junk, "key " + junk + " holds no PEM block", good},
		{"missing key", good, missing, "key " + missing + ": open", good},
		{"not a pair", good, otherKey, "certificate " + good + " with key " + otherKey, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := Flags{Listen: "127.0.0.1:0", TLSCert: tc.cert, TLSKey: tc.key}
			_, err := f.Listener()
			if err == nil || !strings.Contains(err.Error(), tc.want) || tc.notWant != "" && strings.Contains(err.Error(), tc.notWant) {
				t.Fatalf("got %v, want %q", err, tc.want)
			}
		})
	}
}

// A port already taken is reported with the fake's name and its flag.
func TestBusyPortNamesTheFakeAndItsFlag(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	cmd := Command{Name: "fakex", Summary: "fakex", DefaultListen: "127.0.0.1:0",
		Build: func(*Flags, *fixture.File, *hostmap.Map, *slog.Logger) (http.Handler, error) {
			return http.NotFoundHandler(), nil
		}}
	var out strings.Builder
	code := cmd.Run(context.Background(), []string{"--listen", busy.Addr().String()}, &out)
	if want := "fakex: cannot serve on " + busy.Addr().String() + " (--listen): "; code != 1 || !strings.Contains(out.String(), want) ||
		!strings.Contains(out.String(), "address already in use") {
		t.Errorf("exit %d, output %q, want %q and the reason", code, out.String(), want)
	}
	out.Reset()
	code = cmd.Run(context.Background(), []string{"--proxy-listen", busy.Addr().String()}, &out)
	if want := "fakex: the forward proxy cannot listen on " + busy.Addr().String() + " (--proxy-listen; empty turns it off): "; code != 1 || !strings.Contains(out.String(), want) ||
		!strings.Contains(out.String(), "address already in use") {
		t.Errorf("exit %d, output %q, want %q and the reason", code, out.String(), want)
	}
}

// A fake listening on every interface advertises a loopback address, not
// 0.0.0.0 or [::] (compose's fakem365 advertised http://[::]:8082/).
func TestAdvertisedNeverNamesAnUnspecifiedAddress(t *testing.T) {
	for _, listen := range []string{"0.0.0.0:0", "127.0.0.1:0"} {
		ln, err := net.Listen("tcp", listen)
		if err != nil {
			t.Fatal(err)
		}
		got := Advertised(ln.Addr())
		ln.Close()
		if !strings.HasPrefix(got, "127.0.0.1:") {
			t.Errorf("listening on %s advertises %s", listen, got)
		}
	}
}
