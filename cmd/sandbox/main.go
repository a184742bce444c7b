// Command sandbox runs the whole integration on one machine: fakeaad,
// fakesnow (with the x_mioms_m365_assis app) and fakem365 in one process,
// wired so that each reaches the others under their real host names, with
// a shipped world loaded. It prints what a person needs next: addresses,
// users and passwords, client ids and secrets, and curl commands that show
// the integration working.
//
//	sandbox [--world integrated-basic] [--snow-listen 127.0.0.1:8080]
//	        [--aad-listen 127.0.0.1:8081] [--m365-listen 127.0.0.1:8082]
//	        [--snow-public-url URL] [--aad-public-url URL] [--m365-public-url URL]
//	        [--admin-token TOKEN] [--listen 127.0.0.1:8083] [--no-console]
//	        [--tls] [--ca-dir DIR] [--proxy-listen 127.0.0.1:3128] [--save FILE]
//	sandbox --list-worlds
package main

import (
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"os/signal"
	"path"
	"reflect"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/m365snow/m365snow/fixtures"
	"github.com/m365snow/m365snow/internal/adminapi"
	"github.com/m365snow/m365snow/internal/clock"
	"github.com/m365snow/m365snow/internal/fixture"
	"github.com/m365snow/m365snow/internal/localca"
	"github.com/m365snow/m365snow/internal/serve"
	"github.com/m365snow/m365snow/world"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr, nil)
	stop()
	os.Exit(code)
}

// run is the command; ready, when not nil, receives the started world (for
// tests) before run waits for ctx to end.
func run(ctx context.Context, args []string, stdout, stderr io.Writer, ready func(*world.World)) int {
	fs := flag.NewFlagSet("sandbox", flag.ContinueOnError)
	fs.SetOutput(stderr)
	worldName := fs.String("world", "integrated-basic", "the world to load: a shipped world (see --list-worlds) or a path to a YAML file")
	list := fs.Bool("list-worlds", false, "list the shipped worlds with one line each, and exit")
	snowListen := fs.String("snow-listen", "127.0.0.1:8080", "address of the ServiceNow instance (fakesnow)")
	aadListen := fs.String("aad-listen", "127.0.0.1:8081", "address of Azure AD and Microsoft Graph (fakeaad)")
	m365Listen := fs.String("m365-listen", "127.0.0.1:8082", "address of the Microsoft 365 admin portal and support connector (fakem365)")
	// As the single binaries' --public-url: where a person reaches the fake.
	publicHelp := "base URL %s is reached at from outside, e.g. behind docker run -p 127.0.0.1:%s:%s: every printed URL, command and link names it (default: the listen URL)"
	snowPublic := fs.String("snow-public-url", "", fmt.Sprintf(publicHelp, "the ServiceNow instance", "9080", "8080"))
	aadPublic := fs.String("aad-public-url", "", fmt.Sprintf(publicHelp, "Azure AD", "9081", "8081"))
	m365Public := fs.String("m365-public-url", "", fmt.Sprintf(publicHelp, "the Microsoft 365 admin portal", "9082", "8082"))
	ownListen := fs.String("listen", "127.0.0.1:8083", "the sandbox's own address: the web console at /, and GET /__admin/world saves the running world as a world file; empty turns it off")
	noConsole := fs.Bool("no-console", false, "do not serve the web console at / on --listen")
	saveTo := fs.String("save", "", "on Ctrl-C, save the running world to this file (it loads with --world FILE)")
	proxyListen := fs.String("proxy-listen", "127.0.0.1:3128", "address of the forward proxy that serves the real host names to an unmodified build (HTTPS_PROXY); empty turns it off")
	caDir := fs.String("ca-dir", defaultCADir(), "directory of the sandbox's CA (ca.pem, ca-key.pem), made on first use; builds trust ca.pem")
	tlsOn := fs.Bool("tls", false, "serve every address over HTTPS with certificates from the sandbox's CA (--ca-dir); the printed commands trust ca.pem with curl --cacert")
	logLevel := fs.String("log-level", "info", "debug, info, warn or error (info logs one line per request, after it is answered)")
	logFormat := fs.String("log-format", "text", "text (key=value) or json (one object a line)")
	adminToken := fs.String("admin-token", "", "require \"Authorization: Bearer TOKEN\" on every fake's /__admin/ (default $"+adminapi.TokenEnv+"); needed when a listen address is not loopback")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), `sandbox runs fakeaad, fakesnow and fakem365 together with a shipped world
and prints the users, secrets and curl commands to try it.

Usage:
  sandbox [flags]
  sandbox --list-worlds

Flags:
`)
		fs.PrintDefaults()
		fmt.Fprint(fs.Output(), `
Ctrl-C stops everything. Save a world first with the control plane, e.g.
  curl -s http://127.0.0.1:8080/__admin/state > snow.yaml
`)
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	fail := func(code int, err error) int {
		fmt.Fprintf(stderr, "sandbox: %v\n", err)
		return code
	}
	if fs.NArg() > 0 {
		return fail(2, fmt.Errorf("unexpected arguments %q", fs.Args()))
	}
	if *list {
		if err := listWorlds(stdout); err != nil {
			return fail(1, err)
		}
		return 0
	}
	for _, pu := range []struct{ flag, value string }{{"--snow-public-url", *snowPublic}, {"--aad-public-url", *aadPublic}, {"--m365-public-url", *m365Public}} {
		if pu.value == "" {
			continue
		}
		if u, err := url.Parse(pu.value); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || strings.Trim(u.Path, "/") != "" {
			return fail(2, fmt.Errorf("%s %q: want a base URL such as http://127.0.0.1:9080", pu.flag, pu.value))
		}
	}
	if *adminToken == "" {
		*adminToken = os.Getenv(adminapi.TokenEnv)
	}
	generatedToken := false
	for _, l := range []string{*snowListen, *aadListen, *m365Listen, *ownListen} {
		if _, _, err := net.SplitHostPort(l); err == nil && *adminToken == "" && adminapi.ListensBeyondLoopback(l) {
			// Reachable from other machines (the image listens on 0.0.0.0
			// for docker's port publishing): the control plane needs a
			// token, so the sandbox makes one and prints it rather than
			// refusing to start.
			*adminToken = rand.Text()
			generatedToken = true
		}
	}
	flags := serve.Flags{LogLevel: *logLevel, LogFormat: *logFormat}
	log, err := flags.Logger(stderr)
	if err != nil {
		return fail(2, err)
	}
	schema := world.Schema()
	schema.Sandbox = reflect.TypeOf(Notes{})
	f, err := fixture.LoadSchema(fixtures.FS, *worldName, schema)
	if err != nil {
		return fail(1, fmt.Errorf("%w (sandbox --list-worlds shows the shipped worlds)", err))
	}
	// Wall-clock time, so that tokens age as a person expects; the control
	// plane (/__admin/clock) can still jump ahead.
	clk := &clock.Offset{}
	if f.Clock != "" {
		t, err := time.Parse(time.RFC3339, f.Clock)
		if err != nil {
			return fail(1, fmt.Errorf("world clock %q: %w", f.Clock, err))
		}
		clk.Set(t)
	}
	var ca *localca.CA
	caFile := ""
	if *tlsOn || *proxyListen != "" {
		if ca, caFile, err = openCA(*caDir, log); err != nil {
			return fail(1, err)
		}
		if *tlsOn && caFile == "" {
			// The printed commands name the CA file a client trusts.
			return fail(1, fmt.Errorf("--tls needs a CA file clients can trust, and --ca-dir %s cannot be written: choose another --ca-dir", *caDir))
		}
	}
	opts := world.Options{Fixture: f, Clock: clk, SnowListen: *snowListen, AADListen: *aadListen, M365Listen: *m365Listen, Logger: log, AdminToken: *adminToken,
		SnowPublicURL: *snowPublic, AADPublicURL: *aadPublic, M365PublicURL: *m365Public}
	// trust is the CA file the printed commands pass to curl --cacert
	// (empty: plain HTTP).
	trust := ""
	if *tlsOn {
		opts.CA, trust = ca, caFile
	}
	started := time.Now()
	w, err := world.Start(opts)
	var le *world.ListenError
	if errors.As(err, &le) {
		flagOf := map[string]string{"fakesnow": "--snow-listen", "fakeaad": "--aad-listen", "fakem365": "--m365-listen"}
		return fail(1, fmt.Errorf("%w (choose another address with %s)", err, flagOf[le.Party]))
	}
	if err != nil {
		return fail(1, err)
	}
	// Links the instance hands out name the address curl reaches it at
	// (inside the world they would name https://<instance>.service-now.com,
	// which only the fakes' host mapping resolves).
	w.Snow.SetLinkURL(w.SnowURL)
	var px *proxyInfo
	if *proxyListen != "" {
		if px, err = startProxy(*proxyListen, ca, caFile, w, log); err != nil {
			w.Close()
			return fail(1, err)
		}
		defer px.close()
	}
	ownURL := ""
	if *ownListen != "" {
		stopOwn, u, err := serveOwn(*ownListen, *worldName, f, w, *adminToken, !*noConsole, opts.CA, trust, log)
		if err != nil {
			w.Close()
			return fail(1, err)
		}
		defer stopOwn()
		ownURL = u
	}
	log.Info("sandbox ready", "world", *worldName, "fakesnow", w.SnowURL, "fakeaad", w.AADURL, "fakem365", w.M365URL,
		"journal", w.SnowURL+"/__admin/requests", "startup", time.Since(started))
	if ownURL != "" && !*noConsole {
		// First: the console is where a newcomer starts.
		switch {
		case generatedToken:
			fmt.Fprintf(stdout, "Console: %s/?token=%s\n\n", ownURL, *adminToken)
		case *adminToken != "":
			fmt.Fprintf(stdout, "Console: %s/?token=<the admin token>\n\n", ownURL)
		default:
			fmt.Fprintf(stdout, "Console: %s/\n\n", ownURL)
		}
	}
	describe(stdout, path.Base(strings.TrimSuffix(*worldName, ".yaml")), f, w, px, trust)
	auth := cacert(trust)
	if *adminToken != "" {
		auth += ` -H "Authorization: Bearer $` + adminapi.TokenEnv + `"`
	}
	if generatedToken {
		fmt.Fprintf(stdout, "\nThe control plane (/__admin/) listens beyond loopback, so it needs this token (made for this run; --admin-token sets one):\n  export %s=%s\n", adminapi.TokenEnv, *adminToken)
	}
	if ownURL != "" {
		fmt.Fprintf(stdout, "Save this world as it is now: curl -s%s %s/__admin/world > my-world.yaml, then sandbox --world ./my-world.yaml\n", auth, ownURL)
	}
	if ready != nil {
		ready(w)
	}
	<-ctx.Done()
	fmt.Fprintln(stderr, "sandbox: stopping")
	if *saveTo != "" {
		b, err := w.Save(savable(f, *worldName))
		if err == nil {
			err = os.WriteFile(*saveTo, b, 0o600)
		}
		if err != nil {
			w.Close()
			return fail(1, fmt.Errorf("--save %s: %w", *saveTo, err))
		}
		fmt.Fprintf(stderr, "sandbox: saved the world to %s (sandbox --world %s loads it)\n", *saveTo, worldArg(*saveTo))
	}
	if err := w.Close(); err != nil {
		return fail(1, err)
	}
	return 0
}

// worldOrder lists the families in the order --list-worlds shows them.
var worldOrder = []string{"integrated-", "prerequisites-", "troubleshooting-", "fresh", "sandbox"}

func listWorlds(out io.Writer) error {
	names, err := fixture.Names(fixtures.FS)
	if err != nil {
		return err
	}
	rank := func(n string) (int, int) {
		for i, p := range worldOrder {
			if strings.HasPrefix(n, p) {
				num := 0
				fmt.Sscanf(strings.TrimPrefix(n, p), "%d", &num)
				return i, num
			}
		}
		return len(worldOrder), 0
	}
	sort.Slice(names, func(i, j int) bool {
		a, an := rank(names[i])
		b, bn := rank(names[j])
		if a != b {
			return a < b
		}
		if an != bn {
			return an < bn
		}
		return names[i] < names[j]
	})
	width := 0
	for _, n := range names {
		width = max(width, len(n))
	}
	for _, n := range names {
		f, err := fixture.Load(fixtures.FS, n)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "%-*s  %s\n", width, n, f.Description)
	}
	return nil
}
