// Command fakesnow serves the fake ServiceNow instance on its own.
//
//	fakesnow [--listen 127.0.0.1:8080] [--fixture sandbox] [--public-url URL]
//	         [--map-host HOST=ADDR ...] [--tls-cert F --tls-key F | --tls-self-signed DIR]
//	         [--proxy-listen 127.0.0.1:3128 [--ca-dir DIR]]
//	fakesnow healthcheck [--url http://127.0.0.1:8080/healthz]
package main

import (
	"context"
	"log/slog"
	"net/http"
	"os"

	"github.com/m365snow/m365snow/fakesnow"
	"github.com/m365snow/m365snow/internal/clock"
	"github.com/m365snow/m365snow/internal/fixture"
	"github.com/m365snow/m365snow/internal/hostmap"
	"github.com/m365snow/m365snow/internal/journal"
	"github.com/m365snow/m365snow/internal/serve"
	"github.com/m365snow/m365snow/world"
)

var command = serve.Command{
	Name:          "fakesnow",
	Summary:       "fakesnow serves an in-memory ServiceNow instance: Table API, OAuth, external OIDC tokens, scopes, logs.",
	DefaultListen: "127.0.0.1:8080",
	Schema:        world.Schema(),
	MapHost:       true,
	PublicURLHelp: "the instance's base URL in links, Setup's Endpoint and the handshake (default: https://<instance>.service-now.com, from the world)",
	Build: func(f *serve.Flags, wf *fixture.File, hosts *hostmap.Map, log *slog.Logger) (http.Handler, error) {
		fx, err := fakesnow.ParseFixture(&wf.Snow)
		if err != nil {
			return nil, err
		}
		clk := &clock.Offset{}
		srv, err := fakesnow.New(fakesnow.Options{PublicURL: f.PublicURL, Clock: clk, Fixture: fx, Logger: log, Journal: journal.New(journal.DefaultSize),
			Transport: &hostmap.Transport{Map: hosts}})
		if err != nil {
			return nil, err
		}
		// The world's induce: list, as the sandbox and compose apply it.
		return srv, world.InduceAlone(wf, world.Alone{Snow: srv, Clock: clk, Others: hosts})
	},
}

func main() { os.Exit(command.Run(context.Background(), os.Args[1:], os.Stderr)) }
