package fakeaad

import (
	"net/http"
	"slices"
	"strings"

	"github.com/google/uuid"
	"github.com/gorilla/mux"

	"github.com/m365snow/m365snow/internal/wellknown"
)

// Users, /me, directory roles and the organization: what the support
// connector reads to decide who is an admin.

var userSet = &odataSet{
	name: "users", resource: "User", typ: "microsoft.graph.user",
	filter: map[string]filterProp{
		"id": {}, "userPrincipalName": {startsWith: true, endsWith: true}, "mail": {startsWith: true, endsWith: true},
		"displayName": {startsWith: true}, "givenName": {startsWith: true}, "surname": {startsWith: true},
		"accountEnabled": {}, "userType": {},
	},
	orderBy: map[string]bool{"displayName": false, "userPrincipalName": false},
	// Graph's default user properties (resources/user.md).
	defaults: []string{"businessPhones", "displayName", "givenName", "jobTitle", "mail", "mobilePhone",
		"officeLocation", "preferredLanguage", "surname", "userPrincipalName", "id"},
}

var roleSet = &odataSet{
	name: "directoryRoles", resource: "DirectoryRole", typ: "microsoft.graph.directoryRole",
	filter:  map[string]filterProp{"id": {}, "displayName": {}, "roleTemplateId": {}},
	orderBy: map[string]bool{},
}

var memberSet = &odataSet{
	name: "directoryObjects", resource: "DirectoryObject", typ: "microsoft.graph.directoryObject",
	filter:  map[string]filterProp{"id": {}},
	orderBy: map[string]bool{},
}

var organizationSet = &odataSet{
	name: "organization", resource: "Organization", typ: "microsoft.graph.organization",
	filter: map[string]filterProp{"id": {}}, orderBy: map[string]bool{},
}

func (s *Server) userRoutes(r *mux.Router) {
	r.HandleFunc("/users", s.graph(s.listUsers)).Methods(http.MethodGet)
	r.HandleFunc("/users/$count", s.graph(s.countUsers)).Methods(http.MethodGet)
	r.HandleFunc("/users/{id}", s.graph(s.getUser)).Methods(http.MethodGet)
	r.HandleFunc("/users/{id}/memberOf", s.graph(s.memberOf)).Methods(http.MethodGet)
	r.HandleFunc("/me", s.graph(s.getMe)).Methods(http.MethodGet)
	r.HandleFunc("/me/memberOf", s.graph(s.memberOf)).Methods(http.MethodGet)
	r.HandleFunc("/directoryRoles", s.graph(s.listDirectoryRoles)).Methods(http.MethodGet)
	for _, role := range []string{"/directoryRoles/{rid}", "/directoryRoles(roleTemplateId='{template}')"} {
		r.HandleFunc(role, s.graph(s.getDirectoryRole)).Methods(http.MethodGet)
		r.HandleFunc(role+"/members", s.graph(s.roleMembers)).Methods(http.MethodGet)
	}
	r.HandleFunc("/organization", s.graph(s.listOrganization)).Methods(http.MethodGet)
	r.HandleFunc("/organization/{oid}", s.graph(s.getOrganization)).Methods(http.MethodGet)
}

func userJSON(u *User) map[string]any {
	orNil := func(s string) any {
		if s == "" {
			return nil
		}
		return s
	}
	return map[string]any{
		"businessPhones":    []string{},
		"displayName":       u.DisplayName,
		"givenName":         orNil(u.GivenName),
		"jobTitle":          nil,
		"mail":              orNil(u.Mail),
		"mobilePhone":       nil,
		"officeLocation":    nil,
		"preferredLanguage": nil,
		"surname":           orNil(u.Surname),
		"userPrincipalName": u.UPN,
		"id":                u.ObjectID,
		"accountEnabled":    u.AccountEnabled,
		"userType":          "Member",
	}
}

func (s *Server) listUsers(w http.ResponseWriter, r *http.Request, c *graphCaller) *graphError {
	if !c.canReadUsers() {
		return errInsufficientPrivileges
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	t := s.dir.tenant(c.tid)
	if t == nil {
		return errGraph(http.StatusUnauthorized, "InvalidAuthenticationToken", "The token's tenant does not exist.")
	}
	value := make([]map[string]any, 0, len(t.Users))
	for _, u := range t.Users {
		value = append(value, userJSON(u))
	}
	return writeCollection(w, r, userSet, value, userJSON(&User{}))
}

func (s *Server) countUsers(w http.ResponseWriter, r *http.Request, c *graphCaller) *graphError {
	if !c.canReadUsers() {
		return errInsufficientPrivileges
	}
	s.mu.RLock()
	t := s.dir.tenant(c.tid)
	n := 0
	if t != nil {
		n = len(t.Users)
	}
	s.mu.RUnlock()
	return writeCount(w, r, n)
}

func (s *Server) lookupUser(c *graphCaller, id string) (*User, *Tenant, *graphError) {
	t := s.dir.tenant(c.tid)
	if t == nil {
		return nil, nil, errGraph(http.StatusUnauthorized, "InvalidAuthenticationToken", "The token's tenant does not exist.")
	}
	if u := t.userByID(id); u != nil {
		return u, t, nil
	}
	return nil, t, errNotFound(id)
}

func (s *Server) getUser(w http.ResponseWriter, r *http.Request, c *graphCaller) *graphError {
	if !c.canReadUsers() {
		return errInsufficientPrivileges
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	u, _, e := s.lookupUser(c, mux.Vars(r)["id"])
	if e != nil {
		return e
	}
	return writeEntity(w, r, userSet, userJSON(u), http.StatusOK)
}

// errMeAppOnly is Graph's answer to /me with an app-only token.
var errMeAppOnly = errGraph(http.StatusBadRequest, "BadRequest", "/me request is only valid with delegated authentication flow.")

func (s *Server) getMe(w http.ResponseWriter, r *http.Request, c *graphCaller) *graphError {
	if c.user == "" {
		return errMeAppOnly
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	u, _, e := s.lookupUser(c, c.user)
	if e != nil {
		return e
	}
	return writeEntity(w, r, userSet, userJSON(u), http.StatusOK)
}

// roleName is the display name of a directory role template.
func roleName(template string) string {
	for n, id := range wellknown.DirectoryRoles {
		if id == template {
			return n
		}
	}
	return ""
}

func roleJSON(t *Tenant, template string) map[string]any {
	return map[string]any{
		"@odata.type":     "#microsoft.graph.directoryRole",
		"id":              uuid.NewSHA1(uuid.MustParse(t.ID), []byte("role:"+template)).String(),
		"deletedDateTime": nil,
		"description":     roleName(template) + " (role template " + template + ").",
		"displayName":     roleName(template),
		"roleTemplateId":  template,
	}
}

// activeRoles are the directory roles activated in t: Global Administrator
// always (a tenant's first user holds it) and any role a user holds.
func activeRoles(t *Tenant) []string {
	active := []string{wellknown.RoleGlobalAdministrator}
	for _, u := range t.Users {
		for _, r := range u.Roles {
			if !slices.Contains(active, r) {
				active = append(active, r)
			}
		}
	}
	slices.Sort(active)
	return active
}

func (s *Server) memberOf(w http.ResponseWriter, r *http.Request, c *graphCaller) *graphError {
	id := mux.Vars(r)["id"]
	if id == "" {
		if c.user == "" {
			return errMeAppOnly
		}
		id = c.user
	} else if !c.canReadUsers() {
		return errInsufficientPrivileges
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	u, t, e := s.lookupUser(c, id)
	if e != nil {
		return e
	}
	value := []map[string]any{}
	for _, rid := range u.Roles {
		value = append(value, roleJSON(t, rid))
	}
	return writeCollection(w, r, memberSet, value, roleJSON(t, wellknown.RoleGlobalAdministrator))
}

func (s *Server) listDirectoryRoles(w http.ResponseWriter, r *http.Request, c *graphCaller) *graphError {
	if !c.canReadUsers() {
		return errInsufficientPrivileges
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	t := s.dir.tenant(c.tid)
	if t == nil {
		return errGraph(http.StatusUnauthorized, "InvalidAuthenticationToken", "The token's tenant does not exist.")
	}
	var value []map[string]any
	for _, rid := range activeRoles(t) {
		o := roleJSON(t, rid)
		delete(o, "@odata.type")
		value = append(value, o)
	}
	return writeCollection(w, r, roleSet, value, roleJSON(t, wellknown.RoleGlobalAdministrator))
}

// findRole resolves /directoryRoles/{id} or (roleTemplateId='…') among
// the activated roles.
func (s *Server) findRole(c *graphCaller, r *http.Request) (string, *Tenant, *graphError) {
	t := s.dir.tenant(c.tid)
	if t == nil {
		return "", nil, errGraph(http.StatusUnauthorized, "InvalidAuthenticationToken", "The token's tenant does not exist.")
	}
	vars := mux.Vars(r)
	for _, rid := range activeRoles(t) {
		if strings.EqualFold(rid, vars["template"]) || strings.EqualFold(roleJSON(t, rid)["id"].(string), vars["rid"]) {
			return rid, t, nil
		}
	}
	return "", t, errNotFound(vars["rid"] + vars["template"])
}

func (s *Server) getDirectoryRole(w http.ResponseWriter, r *http.Request, c *graphCaller) *graphError {
	if !c.canReadUsers() {
		return errInsufficientPrivileges
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	rid, t, e := s.findRole(c, r)
	if e != nil {
		return e
	}
	o := roleJSON(t, rid)
	delete(o, "@odata.type")
	return writeEntity(w, r, roleSet, o, http.StatusOK)
}

func (s *Server) roleMembers(w http.ResponseWriter, r *http.Request, c *graphCaller) *graphError {
	if !c.canReadUsers() {
		return errInsufficientPrivileges
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	rid, t, e := s.findRole(c, r)
	if e != nil {
		return e
	}
	value := []map[string]any{}
	for _, u := range t.Users {
		if u.HasRole(rid) {
			o := userJSON(u)
			o["@odata.type"] = "#microsoft.graph.user"
			value = append(value, o)
		}
	}
	sample := userJSON(&User{})
	sample["@odata.type"] = ""
	return writeCollection(w, r, memberSet, value, sample)
}

func organizationJSON(t *Tenant) map[string]any {
	domains := make([]map[string]any, 0, len(t.Domains))
	for i, d := range t.Domains {
		domains = append(domains, map[string]any{
			"capabilities": "Email, OfficeCommunicationsOnline", "isDefault": i == 0,
			"isInitial": strings.HasSuffix(d, ".onmicrosoft.com"), "name": d, "type": "Managed",
		})
	}
	return map[string]any{
		"id": t.ID, "deletedDateTime": nil, "displayName": t.DisplayName, "tenantType": "AAD",
		"countryLetterCode": "US", "preferredLanguage": "en", "verifiedDomains": domains,
		"businessPhones": []string{}, "technicalNotificationMails": []string{},
	}
}

// /organization is readable by any signed-in user and by apps with a
// directory read permission.
func (s *Server) listOrganization(w http.ResponseWriter, r *http.Request, c *graphCaller) *graphError {
	if !c.canReadDirectory() && !slices.Contains(c.roles, "Organization.Read.All") {
		return errInsufficientPrivileges
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	t := s.dir.tenant(c.tid)
	if t == nil {
		return errGraph(http.StatusUnauthorized, "InvalidAuthenticationToken", "The token's tenant does not exist.")
	}
	return writeCollection(w, r, organizationSet, []map[string]any{organizationJSON(t)}, organizationJSON(t))
}

func (s *Server) getOrganization(w http.ResponseWriter, r *http.Request, c *graphCaller) *graphError {
	if !c.canReadDirectory() && !slices.Contains(c.roles, "Organization.Read.All") {
		return errInsufficientPrivileges
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	t := s.dir.tenant(c.tid)
	if t == nil || !strings.EqualFold(mux.Vars(r)["oid"], t.ID) {
		return errNotFound(mux.Vars(r)["oid"])
	}
	return writeEntity(w, r, organizationSet, organizationJSON(t), http.StatusOK)
}
