package main

import (
	"crypto/tls"
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/m365snow/m365snow/cmd/sandbox/console"
	"github.com/m365snow/m365snow/internal/localca"
	"github.com/m365snow/m365snow/world"
)

// withGuide adds to the console's options what the guide's screens start
// with: the tenants whose admin center it opens, and for a prerequisites-*
// world the choices its integrated-* counterpart made, the ones setupWalk
// prints as commands (Setup's steps, the admin center's Basic information
// and repository).
//
// With ca (--tls), the console's client trusts the sandbox's CA: every
// party, and the sandbox's own address, are then https://.
func withGuide(o console.Options, w *world.World, name string, ca *localca.CA) console.Options {
	if ca != nil {
		o.Client = &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: ca.Pool(), MinVersion: tls.VersionTLS12}}}
	}
	if w.M365 != nil {
		// The admin portal knows the directory's tenants.
		for _, t := range w.AADFixture.Tenants {
			upn, pw, ok := portalAdmin(w.AADFixture, t.ID)
			if !ok {
				continue
			}
			domain := t.ID
			if len(t.Domains) > 0 {
				domain = t.Domains[0]
			}
			o.Tenants = append(o.Tenants, console.Tenant{ID: t.ID, Domain: domain, Admin: upn, Password: pw})
		}
	}
	steps, st, err := setupWalk(w, name)
	if err != nil || st == nil {
		return o
	}
	ch := &console.SetupChoices{OutboundProfile: st.OutboundProfile, RepositoryID: st.RepositoryID}
	if in := st.Inbound; in == nil || in.Skip {
		ch.InboundSkip = true
	} else {
		ch.ExternalOIDC, ch.InboundEntity = in.ExternalOIDC, in.Entity
	}
	if u := st.IntegrationUser; u == nil || u.Skip {
		ch.UserSkip = true
	} else {
		ch.User = u.User
	}
	if s := st.Settings; s != nil {
		ch.SSO, ch.AdminEmail, ch.TestEnvironment = s.SSO, s.AdminEmail, s.TestEnv
	}
	o.Setup = ch
	// The admin center's steps of the walk: its Basic information and
	// repository bodies are the forms' defaults for that tenant.
	for _, c := range steps {
		if c.JSON == nil {
			continue
		}
		b, err := json.Marshal(c.JSON)
		if err != nil {
			continue
		}
		for i := range o.Tenants {
			t := &o.Tenants[i]
			base := "/api/tenants/" + t.ID + "/supportIntegration"
			switch {
			case strings.HasSuffix(c.URL, base):
				var basic struct{ InternalSupportTool, ApplicationID string }
				if json.Unmarshal(b, &basic) == nil {
					t.InternalSupportTool, t.ApplicationID = basic.InternalSupportTool, basic.ApplicationID
				}
			case strings.Contains(c.URL, base+"/repositories/"):
				if json.Unmarshal(b, &t.Repository) == nil {
					t.Repository.ID = st.RepositoryID
				}
			}
		}
	}
	return o
}
