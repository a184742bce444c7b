package main

import (
	"github.com/m365snow/m365snow/cmd/sandbox/console"
	"github.com/m365snow/m365snow/world"
)

// withGuide adds to the console's options what the guide's screens start
// with: for a prerequisites-* world, the Setup choices its integrated-*
// counterpart made (the ones setupWalk prints as commands).
func withGuide(o console.Options, w *world.World, name string) console.Options {
	if _, st, err := setupWalk(w, name); err == nil && st != nil {
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
	}
	return o
}
