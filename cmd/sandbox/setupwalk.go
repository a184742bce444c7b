package main

import (
	"fmt"
	"slices"
	"strings"

	"github.com/m365snow/m365snow/fakeaad"
	"github.com/m365snow/m365snow/fakem365"
	"github.com/m365snow/m365snow/fakesnow"
	"github.com/m365snow/m365snow/fakesnow/m365app"
	"github.com/m365snow/m365snow/world"
)

// setupWalk is the whole of the guide's Setup for a prerequisites-* world,
// as commands: the ServiceNow admin's Setup steps 1–6, the Microsoft 365
// admin's Organization profile and repository in the admin center, and
// Setup's final step (Next), which makes the handshake. The choices are
// the ones the matching integrated-* world made: that world is where the
// guide leads; they are returned too. It returns no steps when the world
// has no such counterpart.
func setupWalk(w *world.World, name string) ([]call, *m365app.SetupFixture, error) {
	suffix, ok := strings.CutPrefix(name, "prerequisites-")
	if !ok {
		return nil, nil, nil
	}
	target, err := world.Load("integrated-" + suffix)
	if err != nil {
		return nil, nil, nil
	}
	sf, err := fakesnow.ParseFixture(&target.Snow)
	if err != nil || sf.App == nil || sf.App.Setup == nil {
		return nil, nil, err
	}
	mf, err := fakem365.ParseFixture(&target.M365)
	if err != nil {
		return nil, nil, err
	}
	st := sf.App.Setup
	var tenant *fakem365.TenantFixture
	var repo *fakem365.Repository
	for i := range mf.Tenants {
		for _, r := range mf.Tenants[i].Repositories {
			if r.ID == st.RepositoryID && repo == nil {
				tenant, repo = &mf.Tenants[i], r
			}
		}
	}
	if repo == nil || tenant.Integration == nil {
		return nil, nil, fmt.Errorf("integrated-%s saves no repository %q", suffix, st.RepositoryID)
	}
	upn, password, ok := portalAdmin(w.AADFixture, tenant.ID)
	if !ok {
		return nil, nil, fmt.Errorf("tenant %s has no administrator who may use the admin center", tenant.ID)
	}
	setup := w.SnowURL + "/api/x_mioms_m365_assis/v1/setup"
	step := func(note, method, path string, body any) call {
		return call{Note: note, Method: method, URL: setup + path, JSON: body, Session: true, Want: 200}
	}
	steps := []call{
		step("Setup step 1: agree to the consent", "POST", "/consent", map[string]bool{"agree": true}),
		step("Setup step 2: the outbound OAuth provider's profile", "PUT", "/outbound", map[string]string{"profile": st.OutboundProfile}),
	}
	switch in := st.Inbound; {
	case in == nil || in.Skip:
		steps = append(steps, step("Setup step 3: no inbound OAuth provider (Insights only)", "PUT", "/inbound", map[string]any{"skip": true}))
	default:
		steps = append(steps, step("Setup step 3: the inbound OAuth provider", "PUT", "/inbound", map[string]any{"entity": in.Entity, "externalOIDC": in.ExternalOIDC}))
	}
	switch u := st.IntegrationUser; {
	case u == nil || u.Skip:
		steps = append(steps, step("Setup step 4: no integration user", "PUT", "/integration_user", map[string]any{"skip": true}))
	default:
		steps = append(steps, step("Setup step 4: the integration user", "PUT", "/integration_user", map[string]any{"user": u.User}))
	}
	steps = append(steps, step("Setup step 5: the repository ID", "PUT", "/repository", map[string]string{"repositoryId": st.RepositoryID}))
	if s := st.Settings; s != nil {
		steps = append(steps, step("Setup step 6: the application settings", "PUT", "/settings",
			map[string]any{"ssoWithMicrosoft365": s.SSO, "adminEmail": s.AdminEmail, "testEnvironment": s.TestEnv}))
	}
	portal := portalRepository(w, tenant.ID, upn, password, repo, "")
	steps = append(steps,
		call{Note: "The completion page: the values the Microsoft 365 admin needs", Method: "GET", URL: setup + "/complete", Session: true, Want: 200},
		portal[0],
		call{Note: "Admin center: the Organization profile names ServiceNow and the outbound app", Method: "PUT", Bearer: "ADMIN_TOKEN", Want: 200,
			URL:  w.M365URL + "/api/tenants/" + tenant.ID + "/supportIntegration",
			JSON: map[string]string{"internalSupportTool": tenant.Integration.InternalSupportTool, "applicationId": tenant.Integration.ApplicationID}},
		portal[1],
		call{Note: "Setup's final step: Next completes the integration (the handshake with the connector)", Method: "POST", URL: setup + "/complete", Session: true, Want: 200},
	)
	return steps, st, nil
}

// portalAdmin is a user of the tenant who may use the admin center's
// support integration, with the password the world gave them.
func portalAdmin(af *fakeaad.Fixture, tenantID string) (upn, password string, ok bool) {
	for _, t := range af.Tenants {
		if !strings.EqualFold(t.ID, tenantID) {
			continue
		}
		for _, u := range t.Users {
			if u.Password != "" && (slices.Contains(u.Roles, "Global Administrator") || slices.Contains(u.Roles, "Helpdesk Administrator")) {
				return u.UserPrincipalName, u.Password, true
			}
		}
	}
	return "", "", false
}
