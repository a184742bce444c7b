// Command fakeaad serves the fake Azure AD on its own.
//
//	fakeaad [--listen 127.0.0.1:8081] [--fixture sandbox] [--public-url URL]
//	        [--tls-cert F --tls-key F | --tls-self-signed DIR] [--log-level info] [--log-format text]
//	        [--proxy-listen 127.0.0.1:3128 [--ca-dir DIR]]
//	fakeaad healthcheck [--url http://127.0.0.1:8081/healthz]
package main

import (
	"context"
	"log/slog"
	"net/http"
	"os"

	"github.com/m365snow/m365snow/fakeaad"
	"github.com/m365snow/m365snow/internal/clock"
	"github.com/m365snow/m365snow/internal/fixture"
	"github.com/m365snow/m365snow/internal/hostmap"
	"github.com/m365snow/m365snow/internal/journal"
	"github.com/m365snow/m365snow/internal/serve"
	"github.com/m365snow/m365snow/internal/wellknown"
	"github.com/m365snow/m365snow/world"
)

var command = serve.Command{
	Name:          "fakeaad",
	Summary:       "fakeaad serves an in-memory Azure AD: token endpoints, OIDC discovery, JWKS and a little Microsoft Graph.",
	DefaultListen: "127.0.0.1:8081",
	Schema:        world.Schema(),
	RealURL:       "https://" + wellknown.LoginHost,
	TLSHosts:      []string{wellknown.LoginHost, wellknown.GraphHost},
	Build: func(f *serve.Flags, wf *fixture.File, hosts *hostmap.Map, log *slog.Logger) (http.Handler, error) {
		fx, err := fakeaad.ParseFixture(&wf.AAD)
		if err != nil {
			return nil, err
		}
		// The offset clock runs in real time but lets /__admin/clock jump ahead.
		clk := &clock.Offset{}
		srv, err := fakeaad.New(fakeaad.Options{PublicURL: f.Public(), Clock: clk, Fixture: fx, Logger: log, Journal: journal.New(journal.DefaultSize)})
		if err != nil {
			return nil, err
		}
		// The world's induce: list, as the sandbox and compose apply it.
		return srv, world.InduceAlone(wf, world.Alone{AAD: srv, Clock: clk, Others: hosts})
	},
}

func main() { os.Exit(command.Run(context.Background(), os.Args[1:], os.Stderr)) }
