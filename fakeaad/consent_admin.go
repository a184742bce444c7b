package fakeaad

import (
	"crypto/subtle"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/gorilla/mux"

	"github.com/m365snow/m365snow/internal/wellknown"
)

// The admin consent endpoint (entra-docs v2-admin-consent.md):
//
//	GET /{tenant}/adminconsent?client_id&redirect_uri&state               (v1)
//	GET /{tenant}/v2.0/adminconsent?client_id&scope&redirect_uri&state    (v2)
//
// An administrator signs in and accepts; the application's
// requiredResourceAccess is then granted in the tenant (app roles as app
// role assignments, scopes as an AllPrincipals oauth2PermissionGrant) and
// the browser goes back to redirect_uri with admin_consent=True&tenant=…,
// or with error=access_denied when the administrator declines.

func (s *Server) consentRoutes(r *mux.Router) {
	r.HandleFunc("/{tenant}/adminconsent", s.adminConsent(false)).Methods(http.MethodGet, http.MethodPost)
	r.HandleFunc("/{tenant}/v2.0/adminconsent", s.adminConsent(true)).Methods(http.MethodGet, http.MethodPost)
}

var consentPage = template.Must(template.New("consent").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Permissions requested</title></head>
<body>
<h1>Permissions requested</h1>
<p><strong>{{.App}}</strong> ({{.AppID}}) asks for these permissions in {{.Tenant}}, for the whole organization:</p>
<ul>{{range .Perms}}<li>{{.}}</li>{{end}}</ul>
{{if .Error}}<p role="alert">{{.Error}}</p>{{end}}
<form method="post">
{{range $k, $v := .Hidden}}<input type="hidden" name="{{$k}}" value="{{$v}}">{{end}}
<label>Administrator <input name="login" autocomplete="username"></label>
<label>Password <input name="passwd" type="password" autocomplete="current-password"></label>
<button name="consent" value="accept">Accept</button>
<button name="consent" value="decline">Cancel</button>
</form>
</body></html>
`))

var consentErrorPage = template.Must(template.New("error").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Sign in</title></head>
<body><h1>Sorry, but we're having trouble signing you in.</h1><p role="alert">{{.}}</p></body></html>
`))

func (s *Server) consentError(w http.ResponseWriter, e *stsError) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(http.StatusBadRequest)
	_ = consentErrorPage.Execute(w, e.Error())
}

func errConsentRedirect(uri, appID string) *stsError {
	return &stsError{400, "invalid_request", 50011, "The redirect URI '" + uri + "' specified in the request does not match the redirect URIs configured for the application '" + appID + "'. Make sure the redirect URI sent in the request matches one added to your application in the Azure portal."}
}

// consentRequest is what the page asks for, resolved under the read lock.
type consentRequest struct {
	t        *Tenant
	app      *Application
	redirect string
	perms    []RequiredResourceAccess
}

func (s *Server) resolveConsent(v2 bool, tenantSeg string, q url.Values) (*consentRequest, *stsError) {
	d := s.dir
	t := d.tenant(tenantSeg)
	if t == nil {
		return nil, errTenantNotFound(tenantSeg)
	}
	clientID := q.Get("client_id")
	if clientID == "" {
		return nil, errMissingParam("client_id")
	}
	app := d.app(clientID)
	if app == nil || app.firstParty || (app.HomeTenant != t.ID && app.SignInAudience == "AzureADMyOrg") {
		return nil, errAppNotFound(clientID, t.ID)
	}
	redirect := q.Get("redirect_uri")
	if redirect == "" && len(app.RedirectURIs) > 0 {
		redirect = app.RedirectURIs[0]
	}
	if !slices.Contains(app.RedirectURIs, redirect) {
		return nil, errConsentRedirect(redirect, app.AppID)
	}
	perms := app.RequiredResourceAccess
	if v2 {
		// scope=<resource>/.default narrows the consent to one resource.
		scope := q.Get("scope")
		res := strings.TrimSuffix(scope, "/.default")
		if scope == "" || res == scope {
			return nil, errScopeNotDefault(scope)
		}
		ra := d.resource(t, res)
		if ra == nil {
			return nil, errResourceNotFound(res, t.ID)
		}
		perms = slices.DeleteFunc(slices.Clone(perms), func(r RequiredResourceAccess) bool { return !strings.EqualFold(r.ResourceAppID, ra.AppID) })
	}
	return &consentRequest{t: t, app: app, redirect: redirect, perms: perms}, nil
}

// describe lists the requested permissions by value for the page.
func (d *directory) describe(perms []RequiredResourceAccess) []string {
	var out []string
	for _, rra := range perms {
		res := d.app(rra.ResourceAppID)
		if res == nil {
			continue
		}
		for _, ra := range rra.ResourceAccess {
			for _, r := range res.AppRoles {
				if ra.Type == "Role" && strings.EqualFold(r.ID, ra.ID) {
					out = append(out, res.DisplayName+": "+r.Value+" (application)")
				}
			}
			for _, sc := range res.Scopes {
				if ra.Type == "Scope" && strings.EqualFold(sc.ID, ra.ID) {
					out = append(out, res.DisplayName+": "+sc.Value+" (delegated)")
				}
			}
		}
	}
	return out
}

func (s *Server) adminConsent(v2 bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, maxFormBody)
		if err := r.ParseForm(); err != nil {
			s.consentError(w, errMissingParam("client_id"))
			return
		}
		tenantSeg := mux.Vars(r)["tenant"]
		s.mu.RLock()
		req, e := s.resolveConsent(v2, tenantSeg, r.Form)
		var page map[string]any
		if e == nil {
			page = map[string]any{"App": req.app.DisplayName, "AppID": req.app.AppID, "Tenant": req.t.DisplayName,
				"Perms": s.dir.describe(req.perms), "Hidden": hiddenFields(r.Form)}
		}
		s.mu.RUnlock()
		if e != nil {
			s.consentError(w, e)
			return
		}
		back := func(params url.Values) {
			if st := r.Form.Get("state"); st != "" {
				params.Set("state", st)
			}
			sep := "?"
			if strings.Contains(req.redirect, "?") {
				sep = "&"
			}
			http.Redirect(w, r, req.redirect+sep+params.Encode(), http.StatusFound)
		}
		if r.Method == http.MethodGet {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			_ = consentPage.Execute(w, page)
			return
		}
		if r.PostForm.Get("consent") == "decline" {
			back(url.Values{"error": {"access_denied"}, "error_description": {"AADSTS65004: User declined to consent to access the app."}})
			return
		}
		s.mu.Lock()
		granted, fail := s.grantAsAdmin(req, r.PostForm.Get("login"), r.PostForm.Get("passwd"))
		s.mu.Unlock()
		if fail != "" {
			page["Error"] = fail
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.WriteHeader(http.StatusOK)
			_ = consentPage.Execute(w, page)
			return
		}
		params := url.Values{"admin_consent": {"True"}, "tenant": {req.t.ID}}
		if v2 {
			params.Set("scope", strings.Join(granted, " "))
		}
		back(params)
	}
}

func hiddenFields(f url.Values) map[string]string {
	out := map[string]string{}
	for _, k := range []string{"client_id", "redirect_uri", "scope", "state"} {
		if v := f.Get(k); v != "" {
			out[k] = v
		}
	}
	return out
}

// grantAsAdmin checks the administrator and records the consent. It runs
// under the write lock and re-reads the directory, as the page was shown
// under another lock section. It returns the granted scopes as
// "<resource>/<scope>" or a message for the page.
func (s *Server) grantAsAdmin(req *consentRequest, login, password string) ([]string, string) {
	d := s.dir
	t := d.tenants[req.t.ID]
	app := d.app(req.app.AppID)
	if t == nil || app == nil {
		return nil, "The application or the directory changed; start again."
	}
	u := t.user(login)
	if u == nil || !u.AccountEnabled || subtle.ConstantTimeCompare([]byte(u.Password), []byte(password)) != 1 {
		return nil, "Your account or password is incorrect."
	}
	// Granting tenant-wide consent, Graph app roles included, takes a
	// Global Administrator here (Entra also lets Privileged Role and
	// Cloud Application Administrators grant some of it).
	if !u.HasRole(wellknown.RoleGlobalAdministrator) {
		return nil, "AADSTS90094: Admin consent is required for the permissions requested by this application. An admin consent request may be sent to the admin."
	}
	clientSP := d.servicePrincipal(t, app.AppID)
	if clientSP == nil {
		// Admin consent provisions a multi-tenant app's principal.
		clientSP = &ServicePrincipal{ObjectID: uuid.NewSHA1(uuid.MustParse(t.ID), []byte("sp:"+app.AppID)).String(), AppID: app.AppID, DisplayName: app.DisplayName, AccountEnabled: true}
		t.ServicePrincipals[app.AppID] = clientSP
	}
	var granted []string
	for _, rra := range req.perms {
		res := d.app(rra.ResourceAppID)
		resSP := d.servicePrincipal(t, rra.ResourceAppID)
		if res == nil || resSP == nil {
			continue
		}
		var scopes []string
		for _, ra := range rra.ResourceAccess {
			switch ra.Type {
			case "Role":
				i := slices.IndexFunc(res.AppRoles, func(r AppRole) bool { return strings.EqualFold(r.ID, ra.ID) && r.IsEnabled })
				if i < 0 || slices.ContainsFunc(t.AppRoleAssignments, func(a *AppRoleAssignment) bool {
					return a.PrincipalID == clientSP.ObjectID && a.ResourceID == resSP.ObjectID && strings.EqualFold(a.AppRoleID, ra.ID)
				}) {
					continue
				}
				t.AppRoleAssignments = append(slices.Clone(t.AppRoleAssignments), &AppRoleAssignment{
					ID:          grantID(clientSP.ObjectID, uuid.NewString(), ""),
					PrincipalID: clientSP.ObjectID, ResourceID: resSP.ObjectID, AppRoleID: strings.ToLower(ra.ID),
					Created: s.clock.Now().UTC().Format(time.RFC3339),
				})
			case "Scope":
				for _, sc := range res.Scopes {
					if strings.EqualFold(sc.ID, ra.ID) && sc.IsEnabled {
						scopes = append(scopes, sc.Value)
					}
				}
			}
		}
		for _, sc := range scopes {
			granted = append(granted, strings.TrimRight(firstOr(res.IdentifierURIs, res.AppID), "/")+"/"+sc)
		}
		if len(scopes) > 0 {
			t.mergeGrant(clientSP.ObjectID, resSP.ObjectID, scopes)
		}
	}
	return granted, ""
}

func firstOr(list []string, def string) string {
	if len(list) > 0 {
		return list[0]
	}
	return def
}

// mergeGrant adds scopes to the client's AllPrincipals grant on resource.
func (t *Tenant) mergeGrant(client, resource string, scopes []string) {
	t.Grants = slices.Clone(t.Grants)
	for i, g := range t.Grants {
		if g.ClientID == client && g.ResourceID == resource && g.ConsentType == "AllPrincipals" {
			cp := *g
			have := strings.Fields(cp.Scope)
			for _, sc := range scopes {
				if !slices.Contains(have, sc) {
					have = append(have, sc)
				}
			}
			cp.Scope = strings.Join(have, " ")
			t.Grants[i] = &cp
			return
		}
	}
	t.Grants = append(t.Grants, &PermissionGrant{ID: grantID(client, resource, ""), ClientID: client, ConsentType: "AllPrincipals",
		ResourceID: resource, Scope: strings.Join(scopes, " ")})
}

// recordUserConsent turns a user's acceptance on the sign-in page's consent
// prompt into a Principal oauth2PermissionGrant for the scopes asked for
// ("<resource>/<scope>", or a bare Graph scope), as Entra records user
// consent. Scopes the resource does not define are left out; OpenID scopes
// need no grant.
func (s *Server) recordUserConsent(tid, clientAppID, userOID, scope string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d := s.dir
	t := d.tenants[strings.ToLower(tid)]
	if t == nil {
		return
	}
	clientSP := d.servicePrincipal(t, clientAppID)
	if clientSP == nil {
		return
	}
	byResource := map[string][]string{}
	for _, sc := range strings.Fields(scope) {
		if slices.Contains(oidcScopes, sc) {
			continue
		}
		res, perm := wellknown.GraphResource, sc
		if i := strings.LastIndex(sc, "/"); i > 0 {
			res, perm = sc[:i], sc[i+1:]
		}
		ra := d.resource(t, res)
		if ra == nil || perm == ".default" { // .default asks for what is granted already
			continue
		}
		for _, p := range ra.Scopes {
			if p.IsEnabled && strings.EqualFold(p.Value, perm) {
				byResource[ra.AppID] = append(byResource[ra.AppID], p.Value)
			}
		}
	}
	for resAppID, scopes := range byResource {
		resSP := d.servicePrincipal(t, resAppID)
		if resSP == nil {
			continue
		}
		t.Grants = slices.Clone(t.Grants)
		i := slices.IndexFunc(t.Grants, func(g *PermissionGrant) bool {
			return g.ClientID == clientSP.ObjectID && g.ResourceID == resSP.ObjectID && g.ConsentType == "Principal" && strings.EqualFold(g.PrincipalID, userOID)
		})
		if i < 0 {
			t.Grants = append(t.Grants, &PermissionGrant{ID: grantID(clientSP.ObjectID, resSP.ObjectID, userOID), ClientID: clientSP.ObjectID,
				ConsentType: "Principal", PrincipalID: strings.ToLower(userOID), ResourceID: resSP.ObjectID, Scope: strings.Join(scopes, " ")})
			continue
		}
		cp := *t.Grants[i]
		have := strings.Fields(cp.Scope)
		for _, sc := range scopes {
			if !slices.Contains(have, sc) {
				have = append(have, sc)
			}
		}
		cp.Scope = strings.Join(have, " ")
		t.Grants[i] = &cp
	}
}
