package contracttest

import (
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/m365snow/m365snow/internal/fixture"
)

// SandboxTarget builds a Target for a connector at connectorURL (admin
// portal at adminURL) that trusts a fake Azure AD at aadURL loaded with the
// given world (the shipped sandbox world: its first tenant, a Global
// Administrator, a user without roles, the outbound app and the AAD Auth
// Rest API / Rest User apps). Clock-dependent checks are skipped.
func SandboxTarget(world *fixture.File, connectorURL, adminURL, aadURL string) (Target, error) {
	var aad struct {
		Tenants []struct {
			ID    string `yaml:"id"`
			Users []struct {
				UPN      string   `yaml:"userPrincipalName"`
				Password string   `yaml:"password"`
				Roles    []string `yaml:"roles"`
			} `yaml:"users"`
			Apps []struct {
				AppID       string `yaml:"appId"`
				DisplayName string `yaml:"displayName"`
				Secrets     []struct {
					Secret string `yaml:"secret"`
				} `yaml:"passwordCredentials"`
			} `yaml:"applications"`
		} `yaml:"tenants"`
	}
	if err := world.AAD.Decode(&aad); err != nil || len(aad.Tenants) == 0 {
		return Target{}, fmt.Errorf("the world has no aad tenant: %v", err)
	}
	ten := aad.Tenants[0]
	tg := Target{ConnectorURL: strings.TrimRight(connectorURL, "/"), AdminURL: strings.TrimRight(adminURL, "/"),
		AADURL: strings.TrimRight(aadURL, "/"), Client: http.DefaultClient, Tenant: ten.ID}
	for _, u := range ten.Users {
		switch {
		case slices.Contains(u.Roles, "Global Administrator") && tg.Admin.ID == "":
			tg.Admin, tg.AdminEmail = Credentials{u.UPN, u.Password}, u.UPN
		case len(u.Roles) == 0 && tg.NonAdmin.ID == "":
			tg.NonAdmin, tg.NonAdminEmail = Credentials{u.UPN, u.Password}, u.UPN
		}
	}
	secret := func(i int) string {
		if len(ten.Apps[i].Secrets) == 0 {
			return ""
		}
		return ten.Apps[i].Secrets[0].Secret
	}
	for i, a := range ten.Apps {
		name := strings.ToLower(a.DisplayName)
		switch {
		case strings.Contains(name, "outbound"):
			tg.Outbound = Credentials{a.AppID, secret(i)}
		case strings.Contains(name, "rest api"):
			tg.RestAPI = a.AppID
		case strings.Contains(name, "rest user"):
			tg.RestUser = Credentials{a.AppID, secret(i)}
			tg.Other = tg.RestUser // any app that is not the Application ID
		}
	}
	if tg.Admin.ID == "" || tg.NonAdmin.ID == "" || tg.Outbound.ID == "" || tg.RestAPI == "" || tg.RestUser.ID == "" {
		return Target{}, fmt.Errorf("the world lacks an admin, a plain user, or the outbound / Rest API / Rest User apps")
	}
	return tg, nil
}
