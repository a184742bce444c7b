package fakeaad

import (
	"net/url"
	"slices"
	"strings"
)

// The sign-in page's consent, on the directory's one consent model
// (graph_consent.go): the page asks when a token for the request would be
// refused with AADSTS65001, and the user's Accept records what Entra
// records — an oauth2PermissionGrant of type Principal for that user, the
// client and the resource — besides lifting a consentMissing block.

// consentNeeded reports whether user u must consent before app gets a
// token for scope (v2 scope, or v1 resource). The caller holds s.mu.
func (s *Server) consentNeeded(t *Tenant, app *Application, u *User, scope string, v2 bool) bool {
	if s.dir.blocked("consentMissing", app.AppID, u.UPN) != nil && !s.flows.consented(t.ID, app.AppID, u.ObjectID) {
		return true
	}
	res, form := s.consentTarget(t, scope, v2)
	sp := s.dir.servicePrincipal(t, app.AppID)
	if res == nil || sp == nil {
		return false // the token endpoint will say what is wrong
	}
	cp := *u
	in := &mintInput{user: &cp}
	e := s.dir.applyConsent(t, app, sp, res, in, form)
	return e != nil && e.aadsts == 65001
}

// consentTarget is the resource a sign-in's scope asks for and the form
// the token endpoint would see.
func (s *Server) consentTarget(t *Tenant, scope string, v2 bool) (*Application, url.Values) {
	if !v2 {
		return s.dir.resource(t, scope), url.Values{"resource": {scope}}
	}
	resource, _, e := parseV2Scope(scope, false)
	if e != nil {
		return nil, nil
	}
	return s.dir.resource(t, resource), url.Values{"scope": {scope}}
}

// recordConsent stores the user's consent: the permissions the request
// named (User.Read when it named only OpenID scopes, as Entra's "Sign you
// in and read your profile") plus the OpenID scopes it asked for.
func (s *Server) recordConsent(tid, appID, userOID, scope string, v2 bool) {
	s.flows.grantConsent(tid, appID, userOID)
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.dir.tenant(tid)
	if t == nil {
		return
	}
	res, form := s.consentTarget(t, scope, v2)
	client := s.dir.servicePrincipal(t, appID)
	if res == nil || client == nil {
		return
	}
	resSP := s.dir.servicePrincipal(t, res.AppID)
	if resSP == nil {
		return
	}
	want := namedScopes(form)
	if len(want) == 0 {
		want = []string{"User.Read"}
	}
	for _, sc := range strings.Fields(form.Get("scope")) {
		if slices.Contains(oidcScopes, sc) {
			want = append(want, sc)
		}
	}
	// Only permissions the resource defines can be granted.
	var scopes []string
	for _, sc := range want {
		if slices.ContainsFunc(res.Scopes, func(p PermissionScope) bool { return p.IsEnabled && strings.EqualFold(p.Value, sc) }) &&
			!slices.Contains(scopes, sc) {
			scopes = append(scopes, sc)
		}
	}
	if len(scopes) == 0 {
		return
	}
	id := grantID(client.ObjectID, resSP.ObjectID, userOID)
	grants := slices.Clone(t.Grants)
	for i, g := range grants {
		if g.ID == id {
			merged := strings.Fields(g.Scope)
			for _, sc := range scopes {
				if !slices.Contains(merged, sc) {
					merged = append(merged, sc)
				}
			}
			cp := *g
			cp.Scope = strings.Join(merged, " ")
			grants[i] = &cp
			t.Grants = grants
			return
		}
	}
	t.Grants = append(grants, &PermissionGrant{ID: id, ClientID: client.ObjectID, ConsentType: "Principal", PrincipalID: userOID,
		ResourceID: resSP.ObjectID, Scope: strings.Join(scopes, " ")})
}
