package fakeaad

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/gorilla/mux"
)

// Service principals and the consents attached to them: app role
// assignments (application permissions) and oauth2PermissionGrants
// (delegated permissions). Shapes follow Graph v1.0's servicePrincipal,
// appRoleAssignment and oAuth2PermissionGrant resources.

var principalSet = &odataSet{
	name: "servicePrincipals", resource: "ServicePrincipal", typ: "microsoft.graph.servicePrincipal",
	filter: map[string]filterProp{
		"id": {}, "appId": {}, "displayName": {startsWith: true}, "accountEnabled": {},
		"appOwnerOrganizationId": {}, "servicePrincipalType": {}, "servicePrincipalNames": {collection: true},
		"tags": {collection: true},
	},
	orderBy: map[string]bool{"displayName": true},
}

var assignmentSet = &odataSet{
	name: "appRoleAssignments", resource: "AppRoleAssignment", typ: "microsoft.graph.appRoleAssignment",
	filter:  map[string]filterProp{"id": {}, "principalId": {}, "resourceId": {}, "appRoleId": {}},
	orderBy: map[string]bool{},
}

var grantSet = &odataSet{
	name: "oauth2PermissionGrants", resource: "OAuth2PermissionGrant", typ: "microsoft.graph.oAuth2PermissionGrant",
	filter:  map[string]filterProp{"id": {}, "clientId": {}, "resourceId": {}, "principalId": {}, "consentType": {}},
	orderBy: map[string]bool{},
}

func (s *Server) principalRoutes(r *mux.Router) {
	r.HandleFunc("/servicePrincipals", s.graph(s.createServicePrincipal)).Methods(http.MethodPost)
	r.HandleFunc("/servicePrincipals", s.graph(s.listServicePrincipals)).Methods(http.MethodGet)
	for _, sp := range []string{"/servicePrincipals/{id}", "/servicePrincipals(appId='{appId}')"} {
		r.HandleFunc(sp, s.graph(s.getServicePrincipal)).Methods(http.MethodGet)
		r.HandleFunc(sp, s.graph(s.patchServicePrincipal)).Methods(http.MethodPatch)
		r.HandleFunc(sp, s.graph(s.deleteServicePrincipal)).Methods(http.MethodDelete)
		r.HandleFunc(sp+"/appRoleAssignments", s.graph(s.listAssignments(false))).Methods(http.MethodGet)
		r.HandleFunc(sp+"/appRoleAssignedTo", s.graph(s.listAssignments(true))).Methods(http.MethodGet)
		r.HandleFunc(sp+"/appRoleAssignments", s.graph(s.createAssignment(false))).Methods(http.MethodPost)
		r.HandleFunc(sp+"/appRoleAssignedTo", s.graph(s.createAssignment(true))).Methods(http.MethodPost)
		r.HandleFunc(sp+"/appRoleAssignments/{aid}", s.graph(s.deleteAssignment(false))).Methods(http.MethodDelete)
		r.HandleFunc(sp+"/appRoleAssignedTo/{aid}", s.graph(s.deleteAssignment(true))).Methods(http.MethodDelete)
		r.HandleFunc(sp+"/oauth2PermissionGrants", s.graph(s.principalGrants)).Methods(http.MethodGet)
	}
	r.HandleFunc("/oauth2PermissionGrants", s.graph(s.listGrants)).Methods(http.MethodGet)
	r.HandleFunc("/oauth2PermissionGrants", s.graph(s.createGrant)).Methods(http.MethodPost)
	r.HandleFunc("/oauth2PermissionGrants/{gid}", s.graph(s.getGrant)).Methods(http.MethodGet)
	r.HandleFunc("/oauth2PermissionGrants/{gid}", s.graph(s.patchGrant)).Methods(http.MethodPatch)
	r.HandleFunc("/oauth2PermissionGrants/{gid}", s.graph(s.deleteGrant)).Methods(http.MethodDelete)
}

// principals lists t's service principals, Microsoft's first-party ones
// included, in a stable order.
func (d *directory) principals(t *Tenant) []*ServicePrincipal {
	var out []*ServicePrincipal
	for _, a := range d.apps {
		if sp := d.servicePrincipal(t, a.AppID); sp != nil {
			out = append(out, sp)
		}
	}
	slices.SortFunc(out, func(a, b *ServicePrincipal) int { return strings.Compare(a.ObjectID, b.ObjectID) })
	return out
}

func (d *directory) principalByID(t *Tenant, id string) *ServicePrincipal {
	for _, sp := range d.principals(t) {
		if strings.EqualFold(sp.ObjectID, id) {
			return sp
		}
	}
	return nil
}

// findPrincipal resolves {id} or (appId='…') of the request.
func (s *Server) findPrincipal(c *graphCaller, r *http.Request) (*ServicePrincipal, *Tenant, *graphError) {
	t := s.dir.tenant(c.tid)
	if t == nil {
		return nil, nil, errGraph(http.StatusUnauthorized, "InvalidAuthenticationToken", "The token's tenant does not exist.")
	}
	vars := mux.Vars(r)
	if appID := vars["appId"]; appID != "" {
		if sp := s.dir.servicePrincipal(t, appID); sp != nil {
			return sp, t, nil
		}
		return nil, t, errNotFound(appID)
	}
	if sp := s.dir.principalByID(t, vars["id"]); sp != nil {
		return sp, t, nil
	}
	return nil, t, errNotFound(vars["id"])
}

// dropPrincipal removes the consents a deleted principal took part in.
func (t *Tenant) dropPrincipal(oid string) {
	t.AppRoleAssignments = slices.DeleteFunc(slices.Clone(t.AppRoleAssignments), func(a *AppRoleAssignment) bool {
		return strings.EqualFold(a.PrincipalID, oid) || strings.EqualFold(a.ResourceID, oid)
	})
	t.Grants = slices.DeleteFunc(slices.Clone(t.Grants), func(g *PermissionGrant) bool {
		return strings.EqualFold(g.ClientID, oid) || strings.EqualFold(g.ResourceID, oid)
	})
}

func (s *Server) principalJSON(sp *ServicePrincipal, t *Tenant) map[string]any {
	a := s.dir.app(sp.AppID)
	if a == nil {
		a = &Application{}
	}
	owner := a.HomeTenant
	if a.firstParty {
		owner = firstPartyTenant
	}
	names := append([]string{a.AppID}, a.IdentifierURIs...)
	roles := orEmpty(slices.Clone(a.AppRoles))
	scopes := orEmpty(slices.Clone(a.Scopes))
	for i := range roles {
		roles[i].Origin = "Application"
	}
	for i := range scopes {
		scopes[i].Origin = "Application"
	}
	var logout any
	if a.LogoutURL != "" {
		logout = a.LogoutURL
	}
	return map[string]any{
		"id":                         sp.ObjectID,
		"deletedDateTime":            nil,
		"accountEnabled":             sp.AccountEnabled,
		"alternativeNames":           []string{},
		"appDisplayName":             a.DisplayName,
		"appDescription":             nil,
		"appId":                      sp.AppID,
		"applicationTemplateId":      nil,
		"appOwnerOrganizationId":     owner,
		"appRoleAssignmentRequired":  false,
		"description":                nil,
		"displayName":                sp.DisplayName,
		"homepage":                   nil,
		"loginUrl":                   nil,
		"logoutUrl":                  logout,
		"notes":                      nil,
		"notificationEmailAddresses": []string{},
		"preferredSingleSignOnMode":  nil,
		"replyUrls":                  orEmpty(slices.Concat(a.RedirectURIs, a.SPARedirectURIs, a.PublicRedirectURIs)),
		"servicePrincipalNames":      names,
		"servicePrincipalType":       "Application",
		"signInAudience":             a.SignInAudience,
		"tags":                       orEmpty(sp.Tags),
		"tokenEncryptionKeyId":       nil,
		"addIns":                     []any{},
		"appRoles":                   roles,
		"info":                       map[string]any{"logoUrl": nil, "marketingUrl": nil, "privacyStatementUrl": nil, "supportUrl": nil, "termsOfServiceUrl": nil},
		"keyCredentials":             []any{},
		"oauth2PermissionScopes":     scopes,
		"passwordCredentials":        []any{},
		"verifiedPublisher":          map[string]any{"displayName": nil, "verifiedPublisherId": nil, "addedDateTime": nil},
	}
}

// firstPartyTenant is the tenant that owns Microsoft's own applications
// (Graph reports it as appOwnerOrganizationId).
const firstPartyTenant = "f8cdef31-a31e-4b4a-93e4-5f571e91255a"

func (s *Server) createServicePrincipal(w http.ResponseWriter, r *http.Request, c *graphCaller) *graphError {
	if !c.isAppAdmin() {
		return errInsufficientPrivileges
	}
	var body struct {
		AppID          string   `json:"appId"`
		AccountEnabled *bool    `json:"accountEnabled"`
		Tags           []string `json:"tags"`
	}
	if e := decodeInto(w, r, &body, "servicePrincipal"); e != nil {
		return e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.dir.tenant(c.tid)
	a := s.dir.app(body.AppID)
	if t == nil || a == nil || a.firstParty || (a.HomeTenant != t.ID && a.SignInAudience == "AzureADMyOrg") {
		return errGraph(http.StatusBadRequest, "Request_BadRequest", "The appId '%s' of the service principal does not reference a valid application object.", body.AppID)
	}
	if t.ServicePrincipals[a.AppID] != nil {
		return errGraph(http.StatusConflict, "Request_MultipleObjectsWithSameKeyValue", "The service principal cannot be created, updated, or restored because the service principal name %s is already in use.", a.AppID)
	}
	sp := &ServicePrincipal{ObjectID: uuid.NewSHA1(uuid.MustParse(t.ID), []byte("sp:"+a.AppID)).String(), AppID: a.AppID,
		DisplayName: a.DisplayName, AccountEnabled: body.AccountEnabled == nil || *body.AccountEnabled, Tags: body.Tags}
	t.ServicePrincipals[a.AppID] = sp
	return writeEntity(w, r, principalSet, s.principalJSON(sp, t), http.StatusCreated)
}

func (s *Server) listServicePrincipals(w http.ResponseWriter, r *http.Request, c *graphCaller) *graphError {
	if !c.canReadDirectory() {
		return errInsufficientPrivileges
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	t := s.dir.tenant(c.tid)
	if t == nil {
		return errGraph(http.StatusUnauthorized, "InvalidAuthenticationToken", "The token's tenant does not exist.")
	}
	var value []map[string]any
	for _, sp := range s.dir.principals(t) {
		value = append(value, s.principalJSON(sp, t))
	}
	return writeCollection(w, r, principalSet, value, s.principalJSON(&ServicePrincipal{}, t))
}

func (s *Server) getServicePrincipal(w http.ResponseWriter, r *http.Request, c *graphCaller) *graphError {
	if !c.canReadDirectory() {
		return errInsufficientPrivileges
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	sp, t, e := s.findPrincipal(c, r)
	if e != nil {
		return e
	}
	return writeEntity(w, r, principalSet, s.principalJSON(sp, t), http.StatusOK)
}

// patchServicePrincipal updates accountEnabled and tags. Disabling a
// principal stops its sign-ins (AADSTS7000112 at the token endpoint).
func (s *Server) patchServicePrincipal(w http.ResponseWriter, r *http.Request, c *graphCaller) *graphError {
	if !c.isAppAdmin() {
		return errInsufficientPrivileges
	}
	raw, e := readBody(w, r)
	if e != nil {
		return e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	sp, t, e := s.findPrincipal(c, r)
	if e != nil {
		return e
	}
	if a := s.dir.app(sp.AppID); a != nil && a.firstParty {
		return errInsufficientPrivileges
	}
	cur := normalize(s.principalJSON(sp, t))
	for k, v := range raw {
		old, known := cur[k]
		switch {
		case !known:
			return errGraph(http.StatusBadRequest, "Request_BadRequest", "Property '%s' does not exist on type 'microsoft.graph.servicePrincipal'.", k)
		case k == "accountEnabled" || k == "tags":
		default:
			if b1, _ := json.Marshal(old); string(b1) != string(mustJSON(v)) {
				return errGraph(http.StatusBadRequest, "Request_BadRequest", "Updating property '%s' of a service principal is not supported by this fake (accountEnabled and tags are).", k)
			}
		}
	}
	var body struct {
		AccountEnabled *bool    `json:"accountEnabled"`
		Tags           []string `json:"tags"`
	}
	b, _ := json.Marshal(map[string]any{"accountEnabled": raw["accountEnabled"], "tags": raw["tags"]})
	if err := json.Unmarshal(b, &body); err != nil {
		return errGraph(http.StatusBadRequest, "BadRequest", "Cannot convert the literal to the expected type for property 'accountEnabled'.")
	}
	cp := *sp
	if body.AccountEnabled != nil {
		cp.AccountEnabled = *body.AccountEnabled
	}
	if _, ok := raw["tags"]; ok {
		cp.Tags = body.Tags
	}
	t.ServicePrincipals[sp.AppID] = &cp
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func mustJSON(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}

func (s *Server) deleteServicePrincipal(w http.ResponseWriter, r *http.Request, c *graphCaller) *graphError {
	if !c.isAppAdmin() {
		return errInsufficientPrivileges
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	sp, t, e := s.findPrincipal(c, r)
	if e != nil {
		return e
	}
	if t.ServicePrincipals[sp.AppID] == nil {
		return errInsufficientPrivileges // first-party principals stay
	}
	t.dropPrincipal(sp.ObjectID)
	delete(t.ServicePrincipals, sp.AppID)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// ---- appRoleAssignments ----

func guidBytes(id string) []byte {
	u, err := uuid.Parse(id)
	if err != nil {
		return nil
	}
	return u[:]
}

func (s *Server) assignmentJSON(t *Tenant, a *AppRoleAssignment) map[string]any {
	name := func(oid string) string {
		if sp := s.dir.principalByID(t, oid); sp != nil {
			return sp.DisplayName
		}
		return ""
	}
	return map[string]any{
		"id":                   a.ID,
		"deletedDateTime":      nil,
		"appRoleId":            a.AppRoleID,
		"createdDateTime":      a.Created,
		"principalDisplayName": name(a.PrincipalID),
		"principalId":          a.PrincipalID,
		"principalType":        "ServicePrincipal",
		"resourceDisplayName":  name(a.ResourceID),
		"resourceId":           a.ResourceID,
	}
}

// listAssignments lists the assignments {id} holds (appRoleAssignments)
// or the ones made on it as a resource (appRoleAssignedTo).
func (s *Server) listAssignments(assignedTo bool) graphHandler {
	return func(w http.ResponseWriter, r *http.Request, c *graphCaller) *graphError {
		if !c.canReadDirectory() {
			return errInsufficientPrivileges
		}
		s.mu.RLock()
		defer s.mu.RUnlock()
		sp, t, e := s.findPrincipal(c, r)
		if e != nil {
			return e
		}
		var value []map[string]any
		for _, a := range t.AppRoleAssignments {
			if (!assignedTo && strings.EqualFold(a.PrincipalID, sp.ObjectID)) || (assignedTo && strings.EqualFold(a.ResourceID, sp.ObjectID)) {
				value = append(value, s.assignmentJSON(t, a))
			}
		}
		return writeCollection(w, r, assignmentSet, value, s.assignmentJSON(t, &AppRoleAssignment{}))
	}
}

func (s *Server) createAssignment(assignedTo bool) graphHandler {
	return func(w http.ResponseWriter, r *http.Request, c *graphCaller) *graphError {
		if !c.canGrant() {
			return errInsufficientPrivileges
		}
		var body struct {
			PrincipalID string `json:"principalId"`
			ResourceID  string `json:"resourceId"`
			AppRoleID   string `json:"appRoleId"`
		}
		if e := decodeInto(w, r, &body, "appRoleAssignment"); e != nil {
			return e
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		sp, t, e := s.findPrincipal(c, r)
		if e != nil {
			return e
		}
		// The path names the principal (appRoleAssignments) or the
		// resource (appRoleAssignedTo); the body must agree with it.
		if (!assignedTo && !strings.EqualFold(body.PrincipalID, sp.ObjectID)) || (assignedTo && !strings.EqualFold(body.ResourceID, sp.ObjectID)) {
			return errGraph(http.StatusBadRequest, "Request_BadRequest", "Invalid value specified for property 'principalId' or 'resourceId' of resource 'AppRoleAssignment'.")
		}
		principal := s.dir.principalByID(t, body.PrincipalID)
		resource := s.dir.principalByID(t, body.ResourceID)
		if principal == nil {
			return errNotFound(body.PrincipalID)
		}
		if resource == nil {
			return errNotFound(body.ResourceID)
		}
		ra := s.dir.app(resource.AppID)
		if ra == nil || !slices.ContainsFunc(ra.AppRoles, func(x AppRole) bool {
			return strings.EqualFold(x.ID, body.AppRoleID) && x.IsEnabled && slices.Contains(x.AllowedMemberTypes, "Application")
		}) {
			return errGraph(http.StatusBadRequest, "Request_BadRequest", "Permission being assigned was not found on application '%s'.", resource.AppID)
		}
		for _, a := range t.AppRoleAssignments {
			if strings.EqualFold(a.PrincipalID, principal.ObjectID) && strings.EqualFold(a.ResourceID, resource.ObjectID) && strings.EqualFold(a.AppRoleID, body.AppRoleID) {
				return errGraph(http.StatusBadRequest, "Request_BadRequest", "Permission being assigned already exists on the object")
			}
		}
		a := &AppRoleAssignment{
			ID:          base64.RawURLEncoding.EncodeToString(append(guidBytes(principal.ObjectID), guidBytes(uuid.NewString())[:8]...)),
			PrincipalID: principal.ObjectID, ResourceID: resource.ObjectID, AppRoleID: strings.ToLower(body.AppRoleID),
			Created: s.clock.Now().UTC().Format(time.RFC3339),
		}
		t.AppRoleAssignments = append(slices.Clone(t.AppRoleAssignments), a)
		return writeEntity(w, r, assignmentSet, s.assignmentJSON(t, a), http.StatusCreated)
	}
}

func (s *Server) deleteAssignment(assignedTo bool) graphHandler {
	return func(w http.ResponseWriter, r *http.Request, c *graphCaller) *graphError {
		if !c.canGrant() {
			return errInsufficientPrivileges
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		sp, t, e := s.findPrincipal(c, r)
		if e != nil {
			return e
		}
		aid := mux.Vars(r)["aid"]
		i := slices.IndexFunc(t.AppRoleAssignments, func(a *AppRoleAssignment) bool {
			owner := a.PrincipalID
			if assignedTo {
				owner = a.ResourceID
			}
			return a.ID == aid && strings.EqualFold(owner, sp.ObjectID)
		})
		if i < 0 {
			return errNotFound(aid)
		}
		t.AppRoleAssignments = slices.Delete(slices.Clone(t.AppRoleAssignments), i, i+1)
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
}

// ---- oauth2PermissionGrants ----

func grantJSON(g *PermissionGrant) map[string]any {
	var principal any
	if g.PrincipalID != "" {
		principal = g.PrincipalID
	}
	return map[string]any{
		"id": g.ID, "clientId": g.ClientID, "consentType": g.ConsentType,
		"principalId": principal, "resourceId": g.ResourceID, "scope": g.Scope,
	}
}

// grantID is built like Graph's: the client, resource (and user) object
// ids' bytes, base64url-encoded.
func grantID(client, resource, principal string) string {
	b := append(guidBytes(client), guidBytes(resource)...)
	if principal != "" {
		b = append(b, guidBytes(principal)...)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

func (s *Server) listGrants(w http.ResponseWriter, r *http.Request, c *graphCaller) *graphError {
	if !c.canReadDirectory() {
		return errInsufficientPrivileges
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	t := s.dir.tenant(c.tid)
	if t == nil {
		return errGraph(http.StatusUnauthorized, "InvalidAuthenticationToken", "The token's tenant does not exist.")
	}
	var value []map[string]any
	for _, g := range t.Grants {
		value = append(value, grantJSON(g))
	}
	return writeCollection(w, r, grantSet, value, grantJSON(&PermissionGrant{}))
}

func (s *Server) principalGrants(w http.ResponseWriter, r *http.Request, c *graphCaller) *graphError {
	if !c.canReadDirectory() {
		return errInsufficientPrivileges
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	sp, t, e := s.findPrincipal(c, r)
	if e != nil {
		return e
	}
	var value []map[string]any
	for _, g := range t.Grants {
		if strings.EqualFold(g.ClientID, sp.ObjectID) {
			value = append(value, grantJSON(g))
		}
	}
	return writeCollection(w, r, grantSet, value, grantJSON(&PermissionGrant{}))
}

func (s *Server) findGrant(c *graphCaller, r *http.Request) (*PermissionGrant, *Tenant, *graphError) {
	t := s.dir.tenant(c.tid)
	if t == nil {
		return nil, nil, errGraph(http.StatusUnauthorized, "InvalidAuthenticationToken", "The token's tenant does not exist.")
	}
	gid := mux.Vars(r)["gid"]
	for _, g := range t.Grants {
		if g.ID == gid {
			return g, t, nil
		}
	}
	return nil, t, errNotFound(gid)
}

func (s *Server) getGrant(w http.ResponseWriter, r *http.Request, c *graphCaller) *graphError {
	if !c.canReadDirectory() {
		return errInsufficientPrivileges
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	g, _, e := s.findGrant(c, r)
	if e != nil {
		return e
	}
	return writeEntity(w, r, grantSet, grantJSON(g), http.StatusOK)
}

func (s *Server) createGrant(w http.ResponseWriter, r *http.Request, c *graphCaller) *graphError {
	if !c.canGrant() {
		return errInsufficientPrivileges
	}
	var body struct {
		ClientID    string  `json:"clientId"`
		ConsentType string  `json:"consentType"`
		PrincipalID *string `json:"principalId"`
		ResourceID  string  `json:"resourceId"`
		Scope       string  `json:"scope"`
	}
	if e := decodeInto(w, r, &body, "oAuth2PermissionGrant"); e != nil {
		return e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.dir.tenant(c.tid)
	if t == nil {
		return errGraph(http.StatusUnauthorized, "InvalidAuthenticationToken", "The token's tenant does not exist.")
	}
	principal := ""
	if body.PrincipalID != nil {
		principal = strings.ToLower(*body.PrincipalID)
	}
	switch {
	case body.ConsentType == "AllPrincipals" && principal == "":
	case body.ConsentType == "Principal" && principal != "":
		if t.userByID(principal) == nil {
			return errNotFound(principal)
		}
	default:
		return errGraph(http.StatusBadRequest, "Request_BadRequest", "Invalid value specified for property 'consentType' of resource 'OAuth2PermissionGrant': AllPrincipals takes no principalId, Principal needs one.")
	}
	client := s.dir.principalByID(t, body.ClientID)
	if client == nil {
		return errNotFound(body.ClientID)
	}
	resource := s.dir.principalByID(t, body.ResourceID)
	if resource == nil {
		return errNotFound(body.ResourceID)
	}
	for _, g := range t.Grants {
		if strings.EqualFold(g.ClientID, client.ObjectID) && strings.EqualFold(g.ResourceID, resource.ObjectID) && g.ConsentType == body.ConsentType && g.PrincipalID == principal {
			return errGraph(http.StatusConflict, "Request_MultipleObjectsWithSameKeyValue", "Permission entry already exists.")
		}
	}
	g := &PermissionGrant{ID: grantID(client.ObjectID, resource.ObjectID, principal), ClientID: client.ObjectID,
		ConsentType: body.ConsentType, PrincipalID: principal, ResourceID: resource.ObjectID, Scope: strings.Join(strings.Fields(body.Scope), " ")}
	t.Grants = append(slices.Clone(t.Grants), g)
	return writeEntity(w, r, grantSet, grantJSON(g), http.StatusCreated)
}

func (s *Server) patchGrant(w http.ResponseWriter, r *http.Request, c *graphCaller) *graphError {
	if !c.canGrant() {
		return errInsufficientPrivileges
	}
	var body struct {
		Scope *string `json:"scope"`
	}
	if e := decodeInto(w, r, &body, "oAuth2PermissionGrant"); e != nil {
		return e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	g, t, e := s.findGrant(c, r)
	if e != nil {
		return e
	}
	if body.Scope != nil {
		cp := *g
		cp.Scope = strings.Join(strings.Fields(*body.Scope), " ")
		t.Grants = slices.Clone(t.Grants)
		t.Grants[slices.Index(t.Grants, g)] = &cp
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) deleteGrant(w http.ResponseWriter, r *http.Request, c *graphCaller) *graphError {
	if !c.canGrant() {
		return errInsufficientPrivileges
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	g, t, e := s.findGrant(c, r)
	if e != nil {
		return e
	}
	t.Grants = slices.DeleteFunc(slices.Clone(t.Grants), func(x *PermissionGrant) bool { return x == g })
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// graphPermissions are the Microsoft Graph app roles and delegated scopes
// this fake knows, with Graph's real ids (as listed by
// GET /servicePrincipals(appId='00000003-0000-0000-c000-000000000000')).
func graphPermissions() ([]AppRole, []PermissionScope) {
	role := func(id, value, name string) AppRole {
		return AppRole{ID: id, Value: value, DisplayName: name, Description: "Allows the app to " + strings.ToLower(name[:1]) + name[1:] + " without a signed-in user.",
			AllowedMemberTypes: []string{"Application"}, IsEnabled: true}
	}
	scope := func(id, value, name, typ string) PermissionScope {
		return PermissionScope{ID: id, Value: value, AdminConsentDisplayName: name, AdminConsentDescription: "Allows the app to " + strings.ToLower(name[:1]) + name[1:] + " on behalf of the signed-in user.",
			UserConsentDisplayName: name, UserConsentDescription: "Allows the app to " + strings.ToLower(name[:1]) + name[1:] + " on your behalf.", Type: typ, IsEnabled: true}
	}
	roles := []AppRole{
		role("1bfefb4e-e0b5-418b-a88f-73c46d2cc8e9", "Application.ReadWrite.All", "Read and write all applications"),
		role("9a5d68dd-52b0-4cc2-bd40-abcf44ac3a30", "Application.Read.All", "Read all applications"),
		role("06b708a9-e830-4db3-a914-8e69da51d44f", "AppRoleAssignment.ReadWrite.All", "Manage app permission grants and app role assignments"),
		role("8e8e4742-1d95-4f68-9d56-6ee75648c72a", "DelegatedPermissionGrant.ReadWrite.All", "Manage all delegated permission grants"),
		role("7ab1d382-f21e-4acd-a863-ba3e13f7da61", "Directory.Read.All", "Read directory data"),
		role("19dbc75e-c2e2-444c-a770-ec69d8559fc7", "Directory.ReadWrite.All", "Read and write directory data"),
		role("498476ce-e0fe-48b0-b801-37ba7e2685c6", "Organization.Read.All", "Read organization information"),
		role("483bed4a-2ad3-4361-a73b-c83ccdbdc53c", "RoleManagement.Read.Directory", "Read all directory RBAC settings"),
		role("df021288-bdef-4463-88db-98f22de89214", "User.Read.All", "Read all users' full profiles"),
	}
	scopes := []PermissionScope{
		scope("e1fe6dd8-ba31-4d61-89e7-88639da4683d", "User.Read", "Sign in and read user profile", "User"),
		scope("a154be20-db9c-4678-8ab7-66f6cc099a59", "User.Read.All", "Read all users' full profiles", "Admin"),
		scope("06da0dbc-49e2-44d2-8312-53f166ab848a", "Directory.Read.All", "Read directory data", "Admin"),
		scope("c5366453-9fb0-48a5-a156-24f0c49a4b84", "Directory.ReadWrite.All", "Read and write directory data", "Admin"),
		scope("0e263e50-5827-48a4-b97c-d940288653c7", "Directory.AccessAsUser.All", "Access directory as the signed in user", "Admin"),
		scope("bdfbf15f-ee85-4955-8675-146e8e5296b5", "Application.ReadWrite.All", "Read and write all applications", "Admin"),
		scope("37f7f235-527c-4136-accd-4a02d197296e", "openid", "Sign users in", "User"),
		scope("14dad69e-099b-42c9-810b-d002981feec1", "profile", "View users' basic profile", "User"),
		scope("64a6cdd6-aab1-4aaf-94b8-3cc8405e90d0", "email", "View users' email address", "User"),
		scope("7427e0e9-2fba-42fe-b0c0-848c9e6a8182", "offline_access", "Maintain access to data you have given it access to", "User"),
	}
	return roles, scopes
}
