package main

import (
	"crypto/tls"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"sort"
	"strings"

	"github.com/m365snow/m365snow/cmd/sandbox/console"
	"github.com/m365snow/m365snow/fakem365"
	"github.com/m365snow/m365snow/internal/adminapi"
	"github.com/m365snow/m365snow/internal/fixture"
	"github.com/m365snow/m365snow/internal/localca"
	"github.com/m365snow/m365snow/internal/serve"
	"github.com/m365snow/m365snow/internal/wellknown"
	"github.com/m365snow/m365snow/world"
)

// serveOwn serves the sandbox's own address: what concerns the whole
// world rather than one fake.
// With withConsole, the console (package console) answers everything else
// on it, from /.
func serveOwn(listen, name string, f *fixture.File, w *world.World, adminToken string, withConsole bool, ca *localca.CA, trust string, log *slog.Logger) (stop func(), url string, err error) {
	mux := http.NewServeMux()
	if withConsole {
		opts := withGuide(consoleOptions(w, adminToken), w, name, ca)
		opts.CAFile = trust
		mux.Handle("/", console.New(opts))
	}
	mountTroubleshooting(mux, w)
	mux.HandleFunc("GET /__admin/world", func(rw http.ResponseWriter, r *http.Request) {
		b, err := w.Save(savable(f, name))
		if err != nil {
			http.Error(rw, err.Error(), http.StatusInternalServerError)
			return
		}
		rw.Header().Set("Content-Type", "application/yaml")
		rw.Header().Set("Content-Disposition", `attachment; filename="world.yaml"`)
		rw.Write(b)
	})
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return nil, "", fmt.Errorf("the sandbox cannot listen on %s (--listen; empty turns it off): %w", listen, err)
	}
	scheme := "http"
	if ca != nil {
		host, _, _ := net.SplitHostPort(world.Advertised(ln.Addr()))
		cert, err := ca.Issue(host, "127.0.0.1", "::1", "localhost")
		if err != nil {
			ln.Close()
			return nil, "", fmt.Errorf("--listen %s: certificate: %w", listen, err)
		}
		ln, scheme = tls.NewListener(ln, serve.TLSConfig(*cert)), "https"
	}
	// A saved world holds every password and secret: the same guard as
	// the fakes' control planes (no foreign Origin or Host, the token).
	srv := serve.NewServer(adminapi.Guard{Token: adminToken}.Wrap(mux), log)
	go func() { _ = srv.Serve(ln) }()
	return func() { srv.Close() }, scheme + "://" + world.Advertised(ln.Addr()), nil
}

// worldArg is how --world names a saved file: always as a path.
func worldArg(file string) string {
	if fixture.IsPath(file) && (strings.ContainsRune(file, filepath.Separator) || strings.HasPrefix(file, ".")) {
		return file
	}
	return "." + string(filepath.Separator) + file
}

// consoleOptions is what the sandbox knows of the world for the console:
// the parties' addresses and what the fixture and start-up state hold. The
// console reads the rest live over HTTP.
func consoleOptions(w *world.World, adminToken string) console.Options {
	o := console.Options{
		Parties: []console.Party{
			{Name: "fakesnow", Title: "ServiceNow instance (with the x_mioms_m365_assis app)", Hosts: w.InstanceHost, URL: w.SnowURL},
			{Name: "fakeaad", Title: "Azure AD, Microsoft Graph", Hosts: wellknown.LoginHost + ", " + wellknown.GraphHost, URL: w.AADURL},
		},
		AdminToken: adminToken,
	}
	if w.M365 != nil {
		o.Parties = append(o.Parties, console.Party{Name: "fakem365", Title: "Microsoft 365 admin portal and support connector",
			Hosts: wellknown.ConnectorHost + ", " + wellknown.AdminHost, URL: w.M365URL})
	}
	for _, u := range snowUsers(w) {
		o.Users = append(o.Users, console.User{Name: u.UserName, Password: u.Password, Roles: u.Roles, WebServiceOnly: u.WebServiceAccessOnly})
	}
	for _, a := range w.AADFixture.Applications {
		o.Apps = append(o.Apps, console.App{Name: a.DisplayName, Tenant: a.Tenant, ClientID: a.AppID, Secret: first(world.AppSecrets(w.AADFixture, a.AppID))})
	}
	for _, t := range w.AADFixture.Tenants {
		for _, a := range t.Applications {
			o.Apps = append(o.Apps, console.App{Name: a.DisplayName, Tenant: t.Domains[0], ClientID: a.AppID, Secret: first(world.AppSecrets(w.AADFixture, a.AppID))})
		}
	}
	sort.SliceStable(o.Apps, func(i, j int) bool { return o.Apps[i].Tenant < o.Apps[j].Tenant })
	m365 := w.M365Fixture
	if w.M365 != nil {
		if b, err := w.M365.ExportState(); err == nil {
			var live fakem365.Fixture
			if err := fixture.Strict(b, &live); err == nil {
				m365 = &live
			}
		}
	}
	if m365 != nil {
		for _, t := range m365.Tenants {
			for _, r := range t.Repositories {
				state := "saved"
				if r.Handshake != nil {
					state = "connected (" + r.Handshake.InboundMode + " inbound)"
				}
				o.Repositories = append(o.Repositories, console.Repository{Tenant: t.Domains[0], ID: r.ID, AuthenticationType: r.AuthenticationType, State: state})
			}
		}
	}
	return o
}
