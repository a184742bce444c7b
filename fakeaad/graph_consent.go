package fakeaad

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
)

// The consent model: what a token may carry is what the tenant granted.
//
//   - App-only tokens carry in roles the values of the resource's app roles
//     assigned to the client's service principal (appRoleAssignments). A
//     first-party client also carries the roles Microsoft pre-grants it
//     (Application.GrantedAppRoles).
//   - Delegated tokens carry in scp the resource's scopes granted to the
//     client (oauth2PermissionGrants for all principals or for the user).
//     Microsoft's first-party clients are pre-authorized for every scope a
//     resource defines, as Entra pre-authorizes the Azure CLI.
//   - A requested scope the resource does not define is AADSTS70011; a
//     defined but ungranted one needs consent, AADSTS65001.
//
// Resources that define no scopes at all (the modelled first-party APIs)
// keep the fake's earlier behaviour: the requested permissions, or
// user_impersonation.

func errInvalidScope(scope string) *stsError {
	return &stsError{400, "invalid_scope", 70011, fmt.Sprintf("The provided value for the input parameter 'scope' is not valid. The scope %s is not valid.", scope)}
}

// applyConsent fills in.roles (app-only) or in.scp (delegated) from the
// tenant's consents. form is the token request, to tell "/.default" (all
// granted permissions) from named scopes.
func (d *directory) applyConsent(t *Tenant, client *Application, clientSP *ServicePrincipal, res *Application, in *mintInput, form url.Values) *stsError {
	resSP := d.servicePrincipal(t, res.AppID)
	// Optional claims of the resource's access tokens
	// (optional-claims-reference.md): idtyp says app or user.
	if oc := res.OptionalClaims; oc != nil && slices.ContainsFunc(oc.AccessToken, func(c OptionalClaim) bool { return c.Name == "idtyp" }) {
		in.idtyp = "app"
		if in.user != nil {
			in.idtyp = "user"
		}
	}
	if in.user == nil {
		in.roles = d.grantedRoles(t, client, clientSP, res, resSP)
		return nil
	}
	if len(res.Scopes) == 0 {
		return nil // the modelled first-party APIs: in.scp stays as parsed
	}
	named := namedScopes(form)
	for _, sc := range named {
		if !slices.ContainsFunc(res.Scopes, func(p PermissionScope) bool { return p.IsEnabled && strings.EqualFold(p.Value, sc) }) {
			return errInvalidScope(sc)
		}
	}
	var granted []string
	if client.firstParty {
		for _, p := range res.Scopes {
			if p.IsEnabled && !slices.Contains(oidcScopes, p.Value) {
				granted = append(granted, p.Value)
			}
		}
	} else if resSP != nil {
		for _, g := range t.Grants {
			if strings.EqualFold(g.ClientID, clientSP.ObjectID) && strings.EqualFold(g.ResourceID, resSP.ObjectID) &&
				(g.ConsentType == "AllPrincipals" || strings.EqualFold(g.PrincipalID, in.user.ObjectID)) {
				for _, sc := range strings.Fields(g.Scope) {
					if !slices.ContainsFunc(granted, func(x string) bool { return strings.EqualFold(x, sc) }) {
						granted = append(granted, sc)
					}
				}
			}
		}
	}
	if len(named) == 0 {
		if len(granted) == 0 {
			return errConsentRequired(client.AppID, client.DisplayName)
		}
		in.scp = strings.Join(granted, " ")
		return nil
	}
	for _, sc := range named {
		if !slices.ContainsFunc(granted, func(x string) bool { return strings.EqualFold(x, sc) }) {
			return errConsentRequired(client.AppID, client.DisplayName)
		}
	}
	in.scp = strings.Join(named, " ")
	return nil
}

// namedScopes are the permissions a v2 request names explicitly; a v1
// request (resource=) and "/.default" name none.
func namedScopes(form url.Values) []string {
	var out []string
	for _, sc := range strings.Fields(form.Get("scope")) {
		if slices.Contains(oidcScopes, sc) || strings.HasSuffix(sc, "/.default") || sc == ".default" {
			continue
		}
		if i := strings.LastIndex(sc, "/"); i >= 0 {
			sc = sc[i+1:]
		}
		out = append(out, sc)
	}
	return out
}

// grantedRoles are the role values of res assigned to the client in t.
func (d *directory) grantedRoles(t *Tenant, client *Application, clientSP *ServicePrincipal, res *Application, resSP *ServicePrincipal) []string {
	roles := slices.Clone(client.GrantedAppRoles[res.AppID])
	if resSP == nil {
		return roles
	}
	for _, a := range t.AppRoleAssignments {
		if !strings.EqualFold(a.PrincipalID, clientSP.ObjectID) || !strings.EqualFold(a.ResourceID, resSP.ObjectID) {
			continue
		}
		for _, r := range res.AppRoles {
			if strings.EqualFold(r.ID, a.AppRoleID) && r.IsEnabled && !slices.Contains(roles, r.Value) {
				roles = append(roles, r.Value)
			}
		}
	}
	return roles
}
