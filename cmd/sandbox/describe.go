package main

import (
	"fmt"
	"gopkg.in/yaml.v3"
	"io"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/m365snow/m365snow/fakem365"
	"github.com/m365snow/m365snow/internal/fixture"
	"github.com/m365snow/m365snow/internal/wellknown"
	"github.com/m365snow/m365snow/world"
)

// Notes is the optional sandbox: section of a world: what to look at.
type Notes struct {
	Notes []string `yaml:"notes,omitempty"`
	// From names the shipped world a saved world was saved from, so that
	// it prints that world's walk-through.
	From string `yaml:"from,omitempty"`
}

// savable is f as the sandbox saves it: its sandbox: section records the
// shipped world it came from (name, or what an earlier save recorded).
func savable(f *fixture.File, name string) *fixture.File {
	var notes Notes
	_ = fixture.Section(&f.Sandbox, &notes)
	if notes.From == "" && !fixture.IsPath(name) {
		notes.From = name
	}
	out := *f
	var n yaml.Node
	if err := n.Encode(notes); err == nil {
		out.Sandbox = n
	}
	return &out
}

// describe prints what a person needs to use the running world.
// trust, when the sandbox serves HTTPS, is the CA file clients trust.
func describe(out io.Writer, name string, f *fixture.File, w *world.World, px *proxyInfo, trust string) {
	p := func(format string, a ...any) { fmt.Fprintf(out, format, a...) }
	table := func(rows [][]string) {
		tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
		for _, r := range rows {
			fmt.Fprintln(tw, "  "+strings.Join(r, "\t"))
		}
		tw.Flush()
	}
	p("m365snow sandbox — world %q\n  %s\n\n", name, f.Description)

	p("Parties (inside the sandbox their real host names lead to these addresses)\n")
	table([][]string{
		{"ServiceNow instance", w.InstanceHost, w.SnowURL},
		{"Azure AD, Microsoft Graph", wellknown.LoginHost + ", " + wellknown.GraphHost, w.AADURL},
		{"Microsoft 365", wellknown.ConnectorHost + ", " + wellknown.AdminHost, w.M365URL},
	})
	if trust != "" {
		p("\nHTTPS (--tls): every address serves a certificate from the sandbox's CA; trust it, and only it:\n")
		p("  %s   (curl --cacert %s; Go and OpenSSL: SSL_CERT_FILE=%s)\n", trust, shellQuote(trust), trust)
	}

	if px != nil {
		p("\nYour own build, unmodified: it calls the real host names through the forward proxy\n")
		p("and trusts the sandbox's CA (every other host is refused; nothing leaves this machine)\n")
		caFile := px.CAFile
		if caFile == "" {
			caFile = "m365snow-ca.pem"
			p("  curl -s %s/ca.pem > %s   # the CA lives in memory only: save it first\n", px.URL, caFile)
		}
		table([][]string{
			{"export HTTPS_PROXY=" + px.URL, "# Go, curl, Python requests, Java (-Dhttps.proxyHost), …"},
			{"export SSL_CERT_FILE=" + caFile, "# Go and OpenSSL; Node: NODE_EXTRA_CA_CERTS, Python requests: REQUESTS_CA_BUNDLE"},
		})
		p("  e.g. curl --proxy %s --cacert %s https://%s/common/v2.0/.well-known/openid-configuration\n", px.URL, caFile, wellknown.LoginHost)
	}

	var rows [][]string
	for _, u := range snowUsers(w) {
		extra := ""
		if u.WebServiceAccessOnly {
			extra = "web service access only"
		}
		rows = append(rows, []string{u.UserName, u.Password, strings.Join(u.Roles, ", "), extra})
	}
	p("\nServiceNow users (user name, password, roles)\n")
	table(rows)

	rows = nil
	for _, t := range w.AADFixture.Tenants {
		for _, u := range t.Users {
			rows = append(rows, []string{u.UserPrincipalName, u.Password, strings.Join(u.Roles, ", ")})
		}
	}
	// Sorted: a saved world's export lists tenants in another order.
	sort.SliceStable(rows, func(i, j int) bool { return domainOf(rows[i][0]) < domainOf(rows[j][0]) })
	p("\nAzure AD users (user principal name, password, directory roles)\n")
	table(rows)

	rows = nil
	type appRow struct{ tenant, name, id string }
	var apps []appRow
	for _, a := range w.AADFixture.Applications {
		apps = append(apps, appRow{a.Tenant, a.DisplayName, a.AppID})
	}
	for _, t := range w.AADFixture.Tenants {
		for _, a := range t.Applications {
			apps = append(apps, appRow{t.Domains[0], a.DisplayName, a.AppID})
		}
	}
	sort.SliceStable(apps, func(i, j int) bool { return apps[i].tenant < apps[j].tenant })
	for _, a := range apps {
		rows = append(rows, []string{a.name, a.tenant, a.id, first(world.AppSecrets(w.AADFixture, a.id))})
	}
	if len(rows) > 0 {
		p("\nAzure AD app registrations (name, tenant, client id, secret)\n")
		table(rows)
	}

	// A vendor's connector build reads the directory with this app
	// (fakem365/CONTRACT.md, "The connector's own app registration").
	connectorSecret := w.AADFixture.ConnectorSecret
	if connectorSecret == "" {
		connectorSecret = wellknown.ConnectorDefaultSecret
	}
	p("\nSupport connector's own app registration, in every tenant (name, client id, secret, resource)\n")
	table([][]string{{wellknown.ConnectorName, wellknown.ConnectorAppID, connectorSecret, wellknown.ConnectorResource}})

	rows = nil
	// The instance's records, not the fixture's: a troubleshooting world
	// may have changed them.
	entities, err := w.Snow.Instance().Query("oauth_entity", "ORDERBYname")
	if err != nil {
		p("(oauth_entity unreadable: %v)\n", err)
	}
	for _, e := range entities {
		rows = append(rows, []string{e["name"], e["type"], e["client_id"], e["client_secret"], e["token_url"]})
	}
	if len(rows) > 0 {
		p("\nServiceNow OAuth entities (name, type, client id, secret, token URL)\n")
		table(rows)
	}

	rows = nil
	m365 := w.M365Fixture
	if w.M365 != nil {
		// The connector's state, not the fixture's (see the entities above).
		if b, err := w.M365.ExportState(); err == nil {
			var live fakem365.Fixture
			if err := fixture.Strict(b, &live); err == nil {
				m365 = &live
			}
		}
	}
	for _, t := range m365.Tenants {
		for _, r := range t.Repositories {
			state := "saved"
			if r.Handshake != nil {
				state = "connected (" + r.Handshake.InboundMode + " inbound)"
			}
			rows = append(rows, []string{t.Domains[0], r.ID, r.AuthenticationType, state})
		}
	}
	if len(rows) > 0 {
		p("\nMicrosoft 365 repositories (tenant, repository, authentication type, state)\n")
		table(rows)
	}

	var notes Notes
	if err := fixture.Section(&f.Sandbox, &notes); err != nil {
		p("\n(the world's sandbox: section is unreadable: %v)\n", err)
	}
	if len(notes.Notes) > 0 {
		p("\nWhat to look at\n")
		for _, n := range notes.Notes {
			p("  - %s\n", n)
		}
	}

	origin := name
	if notes.From != "" {
		origin = notes.From
	}
	steps, err := walkthrough(w, origin)
	steps = trusting(steps, trust)
	if err != nil {
		p("\n(no walk-through for this world: %v)\n", err)
	} else {
		p("\nTry it (bash, from any directory; the session is kept in ./%s)\n", jar)
		for i, c := range steps {
			note := c.Note
			if c.Shows != "" {
				note += " — look for: " + c.Shows
			}
			if c.Lacks != "" {
				note += " — no longer: " + c.Lacks
			}
			p("\n  # %d. %s\n  %s\n", i+1, note, strings.ReplaceAll(c.curl(), "\n", "\n  "))
		}
	}
	p("\nControl plane of each fake: /__admin/state (GET to save the world as YAML, PUT to load one),\n")
	p("/__admin/faults, /__admin/clock, /__admin/reset — e.g. curl -s%s %s/__admin/state > snow.yaml\n", cacert(trust), w.SnowURL)
	p("and back: curl -s%s -X PUT -H 'Content-Type: application/yaml' --data-binary @snow.yaml %s/__admin/state\n", cacert(trust), w.SnowURL)
	p("(it answers loopback only, refuses other web pages, and needs -H \"Authorization: Bearer $M365SNOW_ADMIN_TOKEN\" when started with a token)\n")
	p("Ctrl-C stops the sandbox.\n")
}

func domainOf(upn string) string {
	_, d, _ := strings.Cut(upn, "@")
	return d
}

func first(l []string) string {
	if len(l) == 0 {
		return ""
	}
	return l[0]
}
