// Command fakem365 serves the fake Microsoft 365 admin portal and support
// connector on their own.
//
//	fakem365 [--listen 127.0.0.1:8082] [--fixture sandbox] [--public-url URL]
//	         [--map-host HOST=ADDR ...] [--tls-cert F --tls-key F | --tls-self-signed DIR]
//	         [--proxy-listen 127.0.0.1:3128 [--ca-dir DIR]]
//	fakem365 healthcheck [--url http://127.0.0.1:8082/healthz]
package main

import (
	"context"
	"log/slog"
	"net/http"
	"os"

	"github.com/m365snow/m365snow/fakem365"
	"github.com/m365snow/m365snow/internal/clock"
	"github.com/m365snow/m365snow/internal/fixture"
	"github.com/m365snow/m365snow/internal/hostmap"
	"github.com/m365snow/m365snow/internal/journal"
	"github.com/m365snow/m365snow/internal/serve"
	"github.com/m365snow/m365snow/internal/wellknown"
	"github.com/m365snow/m365snow/world"
)

var command = serve.Command{
	Name:          "fakem365",
	Summary:       "fakem365 serves the Microsoft 365 admin portal (support integration, repositories) and the support connector.",
	DefaultListen: "127.0.0.1:8082",
	Schema:        world.Schema(),
	RealURL:       "https://" + wellknown.ConnectorHost,
	MapHost:       true,
	TLSHosts:      []string{wellknown.ConnectorHost, wellknown.AdminHost},
	Build: func(f *serve.Flags, wf *fixture.File, hosts *hostmap.Map, log *slog.Logger) (http.Handler, error) {
		fx, err := fakem365.ParseFixture(&wf.M365)
		if err != nil {
			return nil, err
		}
		clk := &clock.Offset{}
		srv, err := fakem365.New(fakem365.Options{PublicURL: f.Public(), Clock: clk, Fixture: fx, Logger: log, Journal: journal.New(journal.DefaultSize),
			Transport: &hostmap.Transport{Map: hosts}})
		if err != nil {
			return nil, err
		}
		// The world's induce: list, as the sandbox and compose apply it.
		return srv, world.InduceAlone(wf, world.Alone{M365: srv, Clock: clk, Others: hosts})
	},
}

func main() { os.Exit(command.Run(context.Background(), os.Args[1:], os.Stderr)) }
