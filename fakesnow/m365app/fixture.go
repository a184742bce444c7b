package m365app

import (
	"fmt"

	"github.com/m365snow/m365snow/fakesnow/platform"
)

// Fixture is the snow.app: section: the app installed, optionally with
// Setup already walked. fixtures/README.md documents it for people.
type Fixture struct {
	// CrossScopeAccessMissing installs the app without the two
	// Application Cross-Scope Access records of the guide.
	CrossScopeAccessMissing bool            `yaml:"crossScopeAccessMissing,omitempty"`
	Setup                   *SetupFixture   `yaml:"setup,omitempty"`
	LinkedAccounts          []LinkedAccount `yaml:"linkedAccounts,omitempty"`
	// Grants give users the app's roles (the guide's "enable the
	// integration for an existing user").
	Grants []Grant `yaml:"grants,omitempty"`
}

// Grant gives a user roles.
type Grant struct {
	User  string   `yaml:"user"` // user_name
	Roles []string `yaml:"roles"`
}

// SetupFixture is a walked Setup, step by step. It is applied with the same
// validation as the Setup API, so a fixture cannot set what Setup refuses.
type SetupFixture struct {
	Consent         bool            `yaml:"consent,omitempty"`
	OutboundProfile string          `yaml:"outboundProfile,omitempty"` // profile name
	Inbound         *InboundChoice  `yaml:"inbound,omitempty"`
	IntegrationUser *UserChoice     `yaml:"integrationUser,omitempty"`
	RepositoryID    string          `yaml:"repositoryId,omitempty"`
	Settings        *SettingsChoice `yaml:"settings,omitempty"`
	// HandshakeCompleted records that Next succeeded (the M365 side of the
	// world must then hold the matching repository and handshake).
	HandshakeCompleted bool `yaml:"handshakeCompleted,omitempty"`
}

// LinkedAccount is a user's linked Microsoft 365 admin email.
type LinkedAccount struct {
	User  string `yaml:"user"` // user_name
	Email string `yaml:"email"`
}

// Apply walks the fixture's Setup steps and links its accounts.
func (a *App) Apply(f *Fixture) error {
	ctx, err := a.inst.App(Scope, a.inst.System())
	if err != nil {
		return err
	}
	s, err := a.settings(ctx)
	if err != nil {
		return err
	}
	if st := f.Setup; st != nil {
		step := func(name string, apply func() (platform.Record, error)) error {
			next, err := apply()
			if err != nil {
				return fmt.Errorf("app setup %s: %w", name, err)
			}
			s = next
			return nil
		}
		if st.Consent {
			if err := step("consent", func() (platform.Record, error) { return a.setConsent(ctx, s, true) }); err != nil {
				return err
			}
		}
		if st.OutboundProfile != "" {
			if err := step("outboundProfile", func() (platform.Record, error) { return a.setOutbound(ctx, s, st.OutboundProfile) }); err != nil {
				return err
			}
		}
		if st.Inbound != nil {
			if err := step("inbound", func() (platform.Record, error) { return a.setInbound(ctx, s, *st.Inbound) }); err != nil {
				return err
			}
		}
		if st.IntegrationUser != nil {
			if err := step("integrationUser", func() (platform.Record, error) { return a.setUser(ctx, s, *st.IntegrationUser) }); err != nil {
				return err
			}
		}
		if st.RepositoryID != "" {
			if err := step("repositoryId", func() (platform.Record, error) { return a.setRepository(ctx, s, st.RepositoryID) }); err != nil {
				return err
			}
		}
		if st.Settings != nil {
			if err := step("settings", func() (platform.Record, error) { return a.setSettings(ctx, s, *st.Settings) }); err != nil {
				return err
			}
		}
		if st.HandshakeCompleted {
			if state(s) == StateSetupIncomplete {
				return fmt.Errorf("app setup: handshakeCompleted needs steps 1 to 6 done")
			}
			if _, err := ctx.Update(TableSettings, s["sys_id"], map[string]string{"handshake_completed": "true",
				"handshake_on": a.inst.Clock().Now().UTC().Format(platform.TimeFormat)}, false); err != nil {
				return err
			}
		}
	}
	for _, g := range f.Grants {
		u, err := a.inst.First("sys_user", "user_name="+g.User)
		if err != nil {
			return fmt.Errorf("grant: no user %s", g.User)
		}
		for _, role := range g.Roles {
			if err := a.inst.GrantRole(u["sys_id"], role); err != nil {
				return fmt.Errorf("grant %s to %s: %w", role, g.User, err)
			}
		}
	}
	for _, l := range f.LinkedAccounts {
		u, err := a.inst.First("sys_user", "user_name="+l.User)
		if err != nil {
			return fmt.Errorf("linked account: no user %s", l.User)
		}
		if _, err := ctx.Insert(TableLinked, map[string]string{"user": u["sys_id"], "email": l.Email}, false); err != nil {
			return err
		}
	}
	return nil
}
