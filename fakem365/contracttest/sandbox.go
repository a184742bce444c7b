package contracttest

import (
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/m365snow/m365snow/internal/fixture"
	"github.com/m365snow/m365snow/internal/hostmap"
	"github.com/m365snow/m365snow/internal/wellknown"
)

// sandboxAAD is the part of a world's aad: section the checks read. App
// registrations are listed either inside a tenant or at the top level with
// their home tenant (id or domain), as fixtures/sandbox.yaml does.
type sandboxAAD struct {
	Tenants []struct {
		ID      string   `yaml:"id"`
		Domains []string `yaml:"domains"`
		Users   []struct {
			UPN      string   `yaml:"userPrincipalName"`
			Mail     string   `yaml:"mail"`
			Password string   `yaml:"password"`
			Roles    []string `yaml:"roles"`
		} `yaml:"users"`
		Apps []sandboxApp `yaml:"applications"`
	} `yaml:"tenants"`
	Apps []sandboxApp `yaml:"applications"`
}

type sandboxApp struct {
	Tenant      string `yaml:"tenant"`
	AppID       string `yaml:"appId"`
	DisplayName string `yaml:"displayName"`
	Secrets     []struct {
		Secret string `yaml:"secret"`
	} `yaml:"passwordCredentials"`
}

func (a sandboxApp) secret() string {
	if len(a.Secrets) == 0 {
		return ""
	}
	return a.Secrets[len(a.Secrets)-1].Secret
}

// SandboxTarget builds a Target for a connector at connectorURL (admin
// portal at adminURL) that trusts a fake Azure AD at aadURL loaded with the
// given world (the shipped sandbox world: its first tenant, a Global
// Administrator, a user without roles, the outbound app and the AAD Auth
// Rest API / Rest User apps; the second tenant's administrator for the
// cross-tenant checks). Its client keeps no connections alive between
// requests, so that no check depends on a connection another one left.
func SandboxTarget(world *fixture.File, connectorURL, adminURL, aadURL string) (Target, error) {
	var aad sandboxAAD
	if err := world.AAD.Decode(&aad); err != nil || len(aad.Tenants) == 0 {
		return Target{}, fmt.Errorf("the world has no aad tenant: %v", err)
	}
	ten := aad.Tenants[0]
	tg := Target{ConnectorURL: strings.TrimRight(connectorURL, "/"), AdminURL: strings.TrimRight(adminURL, "/"),
		AADURL: strings.TrimRight(aadURL, "/"), Tenant: ten.ID}
	// Azure AD's discovery names its keys under its real host name: the
	// stand-ins that check AAD Auth tokens reach it there.
	hosts := hostmap.New()
	for _, h := range []string{wellknown.LoginHost, wellknown.GraphHost} {
		if err := hosts.Set(h, tg.AADURL); err != nil {
			return Target{}, err
		}
	}
	tg.Client = hosts.Client(&http.Transport{DisableKeepAlives: true})
	for _, u := range ten.Users {
		switch {
		case slices.Contains(u.Roles, "Global Administrator") && tg.Admin.ID == "":
			tg.Admin, tg.AdminEmail = Credentials{u.UPN, u.Password}, u.UPN
		case len(u.Roles) == 0 && tg.NonAdmin.ID == "":
			tg.NonAdmin, tg.NonAdminEmail = Credentials{u.UPN, u.Password}, u.UPN
		}
	}
	if len(aad.Tenants) > 1 {
		other := aad.Tenants[1]
		for _, u := range other.Users {
			if slices.Contains(u.Roles, "Global Administrator") {
				tg.OtherTenant, tg.OtherAdmin = other.ID, Credentials{u.UPN, u.Password}
				break
			}
		}
	}
	apps := append([]sandboxApp(nil), ten.Apps...)
	for _, a := range aad.Apps {
		if strings.EqualFold(a.Tenant, ten.ID) || slices.ContainsFunc(ten.Domains, func(d string) bool { return strings.EqualFold(d, a.Tenant) }) {
			apps = append(apps, a)
		}
	}
	for _, a := range apps {
		name := strings.ToLower(a.DisplayName)
		switch {
		case strings.Contains(name, "outbound") && tg.Outbound.ID == "":
			tg.Outbound = Credentials{a.AppID, a.secret()}
		case strings.Contains(name, "rest api"):
			tg.RestAPI = a.AppID
		case strings.Contains(name, "rest user"):
			tg.RestUser = Credentials{a.AppID, a.secret()}
			tg.Other = tg.RestUser // any app that is not the Application ID
		}
	}
	var missing []string
	for what, v := range map[string]string{"a Global Administrator": tg.Admin.ID, "a user without roles": tg.NonAdmin.ID,
		"the outbound app": tg.Outbound.ID, "the Rest API app": tg.RestAPI, "the Rest User app": tg.RestUser.ID} {
		if v == "" {
			missing = append(missing, what)
		}
	}
	if len(missing) > 0 {
		slices.Sort(missing)
		return Target{}, fmt.Errorf("the world's first tenant %s lacks %s (aad.tenants[0] and aad.applications with tenant: %s)",
			ten.ID, strings.Join(missing, ", "), strings.Join(ten.Domains, " or "))
	}
	return tg, nil
}
