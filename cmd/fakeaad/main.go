// Command fakeaad serves the fake Azure AD on its own.
//
//	fakeaad [--listen 127.0.0.1:8081] [--fixture sandbox] [--public-url URL]
//	        [--tls-cert F --tls-key F | --tls-self-signed DIR] [--log-level info]
//	fakeaad healthcheck [--url http://127.0.0.1:8081/healthz]
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/m365snow/m365snow/fakeaad"
	"github.com/m365snow/m365snow/fixtures"
	"github.com/m365snow/m365snow/internal/clock"
	"github.com/m365snow/m365snow/internal/fixture"
	"github.com/m365snow/m365snow/internal/serve"
	"github.com/m365snow/m365snow/internal/wellknown"
)

func main() { os.Exit(run(os.Args[1:])) }

func run(args []string) int {
	if len(args) > 0 && args[0] == "healthcheck" {
		return serve.HealthcheckCommand("fakeaad", args[1:], "http://127.0.0.1:8081/healthz")
	}
	fs := flag.NewFlagSet("fakeaad", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "fakeaad serves an in-memory Azure AD: token endpoints, OIDC discovery, JWKS and a little Microsoft Graph.\n\n"+
			"Usage:\n  fakeaad [flags]\n  fakeaad healthcheck [--url URL]\n\nFlags:\n")
		fs.PrintDefaults()
	}
	var f serve.Flags
	f.Register(fs, "127.0.0.1:8081", false)
	fixtureName := fs.String("fixture", "sandbox", "world fixture: a shipped world name or a path to a YAML file (its aad: section is used)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if err := f.Validate(); err != nil {
		fmt.Fprintln(os.Stderr, "fakeaad:", err)
		return 2
	}
	log, err := f.Logger(os.Stderr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "fakeaad:", err)
		return 2
	}
	world, err := fixture.Load(fixtures.FS, *fixtureName)
	if err != nil {
		fmt.Fprintln(os.Stderr, "fakeaad:", err)
		return 1
	}
	fx, err := fakeaad.ParseFixture(&world.AAD)
	if err != nil {
		fmt.Fprintln(os.Stderr, "fakeaad:", err)
		return 1
	}
	srv, err := fakeaad.New(fakeaad.Options{PublicURL: f.Public(), Clock: &clock.Offset{}, Fixture: fx, Logger: log})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	ln, err := f.Listener(wellknown.LoginHost, wellknown.GraphHost)
	if err != nil {
		fmt.Fprintln(os.Stderr, "fakeaad:", err)
		return 1
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	log.Info("fakeaad listening", "url", f.ListenURL(), "public_url", f.Public(), "fixture", *fixtureName)
	if err := serve.Run(ctx, serve.NewServer(srv, log), ln); err != nil {
		log.Error("fakeaad stopped", "err", err)
		return 1
	}
	log.Info("fakeaad stopped")
	return 0
}
