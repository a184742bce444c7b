package fakeaad

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/gorilla/mux"

	"github.com/m365snow/m365snow/internal/oidckeys"
	"github.com/m365snow/m365snow/internal/wellknown"
)

// The Graph surface is what the guide's prerequisites need when automated
// ("create an application, get its Client ID, create an App Secret") plus
// the user reads the support connector makes to check admin roles.
const graphBase = "https://" + wellknown.GraphHost + "/v1.0/"

type graphError struct {
	status  int
	code    string
	message string
}

func (e *graphError) Error() string { return e.code + ": " + e.message }

func errGraph(status int, code, format string, args ...any) *graphError {
	return &graphError{status, code, fmt.Sprintf(format, args...)}
}

var errInsufficientPrivileges = errGraph(http.StatusForbidden, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.")

func (s *Server) writeGraphError(w http.ResponseWriter, r *http.Request, e *graphError) {
	req := uuid.NewString()
	client := r.Header.Get("client-request-id")
	if client == "" {
		client = req
	}
	w.Header().Set("request-id", req)
	w.Header().Set("client-request-id", client)
	writeJSON(w, e.status, map[string]any{"error": map[string]any{
		"code":    e.code,
		"message": e.message,
		"innerError": map[string]string{
			"date":              s.clock.Now().UTC().Format("2006-01-02T15:04:05"),
			"request-id":        req,
			"client-request-id": client,
		},
	}})
}

// graphCaller is who a Graph token says is calling.
type graphCaller struct {
	tid   string
	user  string   // object id; empty for app-only tokens
	wids  []string // directory roles of a user caller
	roles []string // app permissions of an app-only caller
}

func (c *graphCaller) isAppAdmin() bool {
	if c.user != "" {
		return slices.ContainsFunc(c.wids, func(r string) bool {
			return r == wellknown.RoleGlobalAdministrator || r == wellknown.RoleApplicationAdministrator
		})
	}
	return slices.Contains(c.roles, "Application.ReadWrite.All")
}

func (c *graphCaller) canReadUsers() bool {
	if c.user != "" {
		return true // members may read the directory's users
	}
	return slices.ContainsFunc(c.roles, func(r string) bool {
		return r == "User.Read.All" || r == "Directory.Read.All" || r == "Directory.ReadWrite.All"
	})
}

// graphAuth verifies a bearer token this server issued for Microsoft Graph.
func (s *Server) graphAuth(r *http.Request) (*graphCaller, *graphError) {
	raw, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || strings.TrimSpace(raw) == "" {
		return nil, errGraph(http.StatusUnauthorized, "InvalidAuthenticationToken", "Access token is empty.")
	}
	raw = strings.TrimSpace(raw)
	unverified, err := oidckeys.Unverified(raw)
	if err != nil {
		return nil, errGraph(http.StatusUnauthorized, "InvalidAuthenticationToken", "Access token validation failure. Invalid signature or malformed token.")
	}
	// Graph validates with the same rules as every other party here
	// (internal/oidckeys): the issuer is the token's own tenant's v1 STS,
	// the audience Graph's resource URI or app id, lifetime with 5 minutes
	// of skew on exp and nbf alike.
	tid, _ := unverified["tid"].(string)
	keyFor := func(kid string) (*rsa.PublicKey, error) {
		s.mu.RLock()
		k := s.keys.byKID[kid]
		s.mu.RUnlock()
		if k == nil {
			return nil, errors.New("unknown signing key")
		}
		return &k.Private.PublicKey, nil
	}
	claims, err := oidckeys.VerifyWith(raw, keyFor, oidckeys.Want{
		Issuer:    "https://" + wellknown.STSHost + "/" + tid + "/",
		Audiences: []string{wellknown.GraphResource, wellknown.GraphResource + "/", wellknown.GraphAppID},
		Skew:      oidckeys.DefaultSkew,
	}, s.clock.Now())
	if err != nil {
		var check oidckeys.Check
		if f := (*oidckeys.Failure)(nil); errors.As(err, &f) {
			check = f.Check
		}
		msg := "Access token validation failure. Invalid signature or malformed token."
		switch check {
		case oidckeys.CheckIssuer:
			msg = "Access token validation failure. Invalid issuer."
		case oidckeys.CheckAudience:
			msg = "Access token validation failure. Invalid audience."
		case oidckeys.CheckExpiry:
			msg = "Lifetime validation failed, the token is expired."
		case oidckeys.CheckNotBefore:
			msg = "Lifetime validation failed, the token is not yet valid."
		}
		return nil, errGraph(http.StatusUnauthorized, "InvalidAuthenticationToken", "%s", msg)
	}
	c := &graphCaller{tid: tid}
	if _, isUser := claims["upn"]; isUser {
		c.user, _ = claims["oid"].(string)
		c.wids = stringList(claims["wids"])
	} else {
		c.roles = stringList(claims["roles"])
	}
	return c, nil
}

func stringList(v any) []string {
	list, _ := v.([]any)
	out := make([]string, 0, len(list))
	for _, x := range list {
		if s, ok := x.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

type graphHandler func(w http.ResponseWriter, r *http.Request, c *graphCaller) *graphError

func (s *Server) graph(h graphHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		c, e := s.graphAuth(r)
		if e == nil {
			e = h(w, r, c)
		}
		if e != nil {
			s.writeGraphError(w, r, e)
		}
	}
}

func (s *Server) graphRoutes(r *mux.Router) {
	r.HandleFunc("/applications", s.graph(s.createApplication)).Methods(http.MethodPost)
	r.HandleFunc("/applications", s.graph(s.listApplications)).Methods(http.MethodGet)
	// An application is addressed by object id or by alternate key:
	// /applications/{id} and /applications(appId='{appId}').
	for _, app := range []string{"/applications/{id}", "/applications(appId='{appId}')"} {
		r.HandleFunc(app, s.graph(s.getApplication)).Methods(http.MethodGet)
		r.HandleFunc(app, s.graph(s.patchApplication)).Methods(http.MethodPatch)
		r.HandleFunc(app, s.graph(s.deleteApplication)).Methods(http.MethodDelete)
		r.HandleFunc(app+"/addPassword", s.graph(s.addPassword)).Methods(http.MethodPost)
		r.HandleFunc(app+"/removePassword", s.graph(s.removePassword)).Methods(http.MethodPost)
	}
	r.HandleFunc("/servicePrincipals", s.graph(s.createServicePrincipal)).Methods(http.MethodPost)
	r.HandleFunc("/users", s.graph(s.listUsers)).Methods(http.MethodGet)
	r.HandleFunc("/users/{id}", s.graph(s.getUser)).Methods(http.MethodGet)
	r.HandleFunc("/users/{id}/memberOf", s.graph(s.memberOf)).Methods(http.MethodGet)
	r.NotFoundHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.writeGraphError(w, r, errGraph(http.StatusBadRequest, "BadRequest",
			"Resource not found for the segment '%s'.", strings.TrimPrefix(r.URL.Path, "/v1.0/")))
	})
	r.MethodNotAllowedHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.writeGraphError(w, r, errGraph(http.StatusMethodNotAllowed, "Request_BadRequest",
			"Specified HTTP method is not allowed for the request uri."))
	})
}

// decodeGraph reads a JSON body strictly, with Graph's wording for errors.
func decodeGraph(w http.ResponseWriter, r *http.Request, v any, typ string) *graphError {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxFormBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		if field, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
			return errGraph(http.StatusBadRequest, "Request_BadRequest", "Property '%s' does not exist on type 'microsoft.graph.%s'.", strings.Trim(field, `"`), typ)
		}
		return errGraph(http.StatusBadRequest, "BadRequest", "Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format.")
	}
	return nil
}

type applicationBody struct {
	DisplayName            *string  `json:"displayName"`
	SignInAudience         *string  `json:"signInAudience"`
	IdentifierURIs         []string `json:"identifierUris"`
	IsFallbackPublicClient *bool    `json:"isFallbackPublicClient"`
	Web                    *struct {
		RedirectURIs []string `json:"redirectUris"`
	} `json:"web"`
	API *struct {
		RequestedAccessTokenVersion *int `json:"requestedAccessTokenVersion"`
	} `json:"api"`
}

func (b *applicationBody) apply(a *Application) *graphError {
	if b.DisplayName != nil {
		a.DisplayName = *b.DisplayName
	}
	if b.SignInAudience != nil {
		if *b.SignInAudience != "AzureADMyOrg" && *b.SignInAudience != "AzureADMultipleOrgs" {
			return errGraph(http.StatusBadRequest, "Request_BadRequest", "signInAudience '%s' is not supported here: use AzureADMyOrg or AzureADMultipleOrgs.", *b.SignInAudience)
		}
		a.SignInAudience = *b.SignInAudience
	}
	if b.IdentifierURIs != nil {
		a.IdentifierURIs = b.IdentifierURIs
	}
	if b.IsFallbackPublicClient != nil {
		a.PublicClient = *b.IsFallbackPublicClient
	}
	if b.Web != nil {
		a.RedirectURIs = b.Web.RedirectURIs
	}
	if b.API != nil && b.API.RequestedAccessTokenVersion != nil {
		v := *b.API.RequestedAccessTokenVersion
		if v != 1 && v != 2 {
			return errGraph(http.StatusBadRequest, "Request_BadRequest", "requestedAccessTokenVersion must be 1 or 2.")
		}
		a.TokenVersion = v
	}
	return nil
}

func (s *Server) applicationJSON(a *Application, t *Tenant) map[string]any {
	creds := make([]map[string]any, 0, len(a.Passwords))
	for _, p := range a.Passwords {
		creds = append(creds, passwordJSON(p, false))
	}
	publisher := ""
	if len(t.Domains) > 0 {
		publisher = t.Domains[0]
	}
	uris := a.IdentifierURIs
	if uris == nil {
		uris = []string{}
	}
	redirects := a.RedirectURIs
	if redirects == nil {
		redirects = []string{}
	}
	var tv any
	if a.TokenVersion == 2 {
		tv = 2
	}
	return map[string]any{
		"id":                     a.ObjectID,
		"deletedDateTime":        nil,
		"appId":                  a.AppID,
		"createdDateTime":        a.Created.UTC().Format(time.RFC3339),
		"displayName":            a.DisplayName,
		"identifierUris":         uris,
		"isFallbackPublicClient": a.PublicClient,
		"publisherDomain":        publisher,
		"signInAudience":         a.SignInAudience,
		"api":                    map[string]any{"requestedAccessTokenVersion": tv},
		"passwordCredentials":    creds,
		"web":                    map[string]any{"redirectUris": redirects},
	}
}

func passwordJSON(p *PasswordCredential, withSecret bool) map[string]any {
	var secret any
	if withSecret {
		secret = p.Secret
	}
	return map[string]any{
		"customKeyIdentifier": nil,
		"displayName":         p.DisplayName,
		"endDateTime":         p.End.UTC().Format(time.RFC3339),
		"hint":                p.Hint,
		"keyId":               p.KeyID,
		"secretText":          secret,
		"startDateTime":       p.Start.UTC().Format(time.RFC3339),
	}
}

// findApplication resolves the request's application by object id or by
// its appId alternate key.
func (s *Server) findApplication(c *graphCaller, r *http.Request) (*Application, *Tenant, *graphError) {
	t := s.dir.tenant(c.tid)
	if t == nil {
		return nil, nil, errGraph(http.StatusUnauthorized, "InvalidAuthenticationToken", "The token's tenant does not exist.")
	}
	vars := mux.Vars(r)
	id, appID := vars["id"], vars["appId"]
	for _, a := range s.dir.apps {
		if a.HomeTenant == t.ID && ((id != "" && strings.EqualFold(a.ObjectID, id)) || (appID != "" && strings.EqualFold(a.AppID, appID))) {
			return a, t, nil
		}
	}
	if id == "" {
		id = appID
	}
	return nil, t, errGraph(http.StatusNotFound, "Request_ResourceNotFound", "Resource '%s' does not exist or one of its queried reference-property objects are not present.", id)
}

func (s *Server) createApplication(w http.ResponseWriter, r *http.Request, c *graphCaller) *graphError {
	if !c.isAppAdmin() {
		return errInsufficientPrivileges
	}
	var body applicationBody
	if e := decodeGraph(w, r, &body, "application"); e != nil {
		return e
	}
	if body.DisplayName == nil || *body.DisplayName == "" {
		return errGraph(http.StatusBadRequest, "Request_BadRequest", "Property 'displayName' is required.")
	}
	a := &Application{ObjectID: uuid.NewString(), AppID: uuid.NewString(), SignInAudience: "AzureADMyOrg", TokenVersion: 1,
		Created: s.clock.Now().UTC().Truncate(time.Second)}
	if e := body.apply(a); e != nil {
		return e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.dir.tenant(c.tid)
	if t == nil {
		return errGraph(http.StatusUnauthorized, "InvalidAuthenticationToken", "The token's tenant does not exist.")
	}
	a.HomeTenant = t.ID
	s.dir.apps[strings.ToLower(a.AppID)] = a
	out := s.applicationJSON(a, t)
	out["@odata.context"] = graphBase + "$metadata#applications/$entity"
	writeJSON(w, http.StatusCreated, out)
	return nil
}

func (s *Server) listApplications(w http.ResponseWriter, r *http.Request, c *graphCaller) *graphError {
	if !c.isAppAdmin() {
		return errInsufficientPrivileges
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	t := s.dir.tenant(c.tid)
	if t == nil {
		return errGraph(http.StatusUnauthorized, "InvalidAuthenticationToken", "The token's tenant does not exist.")
	}
	want := ""
	if f := r.URL.Query().Get("$filter"); f != "" {
		m := regexp.MustCompile(`^appId eq '([0-9a-fA-F-]{36})'$`).FindStringSubmatch(f)
		if m == nil {
			return errGraph(http.StatusBadRequest, "Request_UnsupportedQuery", "Unsupported or invalid query filter clause specified for property of resource 'Application'; this fake supports appId eq '<guid>'.")
		}
		want = strings.ToLower(m[1])
	}
	value := []map[string]any{}
	for _, a := range s.dir.apps {
		if a.HomeTenant == t.ID && (want == "" || strings.ToLower(a.AppID) == want) {
			value = append(value, s.applicationJSON(a, t))
		}
	}
	slices.SortFunc(value, func(x, y map[string]any) int {
		return strings.Compare(x["createdDateTime"].(string)+x["appId"].(string), y["createdDateTime"].(string)+y["appId"].(string))
	})
	writeJSON(w, http.StatusOK, map[string]any{"@odata.context": graphBase + "$metadata#applications", "value": value})
	return nil
}

func (s *Server) getApplication(w http.ResponseWriter, r *http.Request, c *graphCaller) *graphError {
	if !c.isAppAdmin() {
		return errInsufficientPrivileges
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	a, t, e := s.findApplication(c, r)
	if e != nil {
		return e
	}
	out := s.applicationJSON(a, t)
	out["@odata.context"] = graphBase + "$metadata#applications/$entity"
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) patchApplication(w http.ResponseWriter, r *http.Request, c *graphCaller) *graphError {
	if !c.isAppAdmin() {
		return errInsufficientPrivileges
	}
	var body applicationBody
	if e := decodeGraph(w, r, &body, "application"); e != nil {
		return e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	a, _, e := s.findApplication(c, r)
	if e != nil {
		return e
	}
	cp := *a
	if e := body.apply(&cp); e != nil {
		return e
	}
	*a = cp
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) deleteApplication(w http.ResponseWriter, r *http.Request, c *graphCaller) *graphError {
	if !c.isAppAdmin() {
		return errInsufficientPrivileges
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	a, _, e := s.findApplication(c, r)
	if e != nil {
		return e
	}
	delete(s.dir.apps, strings.ToLower(a.AppID))
	// The registration takes its principals with it.
	for _, t := range s.dir.tenants {
		delete(t.ServicePrincipals, a.AppID)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// newSecretText makes a 40-character secret shaped like Entra's
// ("abc8Q~…"): three characters, a version marker, then 34 more.
func newSecretText() string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-~"
	pick := func(n int) string {
		b := make([]byte, n)
		for i := range b {
			k, _ := rand.Int(rand.Reader, big.NewInt(int64(len(alphabet))))
			b[i] = alphabet[k.Int64()]
		}
		return string(b)
	}
	return pick(3) + "8Q~" + pick(34)
}

func (s *Server) addPassword(w http.ResponseWriter, r *http.Request, c *graphCaller) *graphError {
	if !c.isAppAdmin() {
		return errInsufficientPrivileges
	}
	var body struct {
		PasswordCredential *struct {
			DisplayName   string `json:"displayName"`
			StartDateTime string `json:"startDateTime"`
			EndDateTime   string `json:"endDateTime"`
		} `json:"passwordCredential"`
	}
	if e := decodeGraph(w, r, &body, "passwordCredential"); e != nil {
		return e
	}
	now := s.clock.Now().UTC().Truncate(time.Second)
	p := &PasswordCredential{KeyID: uuid.NewString(), Secret: newSecretText(), Start: now, End: now.AddDate(2, 0, 0)}
	p.Hint = hint(p.Secret)
	if pc := body.PasswordCredential; pc != nil {
		p.DisplayName = pc.DisplayName
		var err error
		if pc.StartDateTime != "" {
			if p.Start, err = time.Parse(time.RFC3339, pc.StartDateTime); err != nil {
				return errGraph(http.StatusBadRequest, "Request_BadRequest", "Invalid value specified for property 'startDateTime' of resource 'PasswordCredential'.")
			}
		}
		if pc.EndDateTime != "" {
			if p.End, err = time.Parse(time.RFC3339, pc.EndDateTime); err != nil {
				return errGraph(http.StatusBadRequest, "Request_BadRequest", "Invalid value specified for property 'endDateTime' of resource 'PasswordCredential'.")
			}
		}
		if !p.End.After(p.Start) {
			return errGraph(http.StatusBadRequest, "Request_BadRequest", "Key credential end date is invalid.")
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	a, _, e := s.findApplication(c, r)
	if e != nil {
		return e
	}
	a.Passwords = append(slices.Clone(a.Passwords), p)
	out := passwordJSON(p, true)
	out["@odata.context"] = graphBase + "$metadata#microsoft.graph.passwordCredential"
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) removePassword(w http.ResponseWriter, r *http.Request, c *graphCaller) *graphError {
	if !c.isAppAdmin() {
		return errInsufficientPrivileges
	}
	var body struct {
		KeyID string `json:"keyId"`
	}
	if e := decodeGraph(w, r, &body, "application"); e != nil {
		return e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	a, _, e := s.findApplication(c, r)
	if e != nil {
		return e
	}
	i := slices.IndexFunc(a.Passwords, func(p *PasswordCredential) bool { return strings.EqualFold(p.KeyID, body.KeyID) })
	if i < 0 {
		return errGraph(http.StatusBadRequest, "Request_BadRequest", "No password credential found with keyId '%s'.", body.KeyID)
	}
	a.Passwords = slices.Delete(slices.Clone(a.Passwords), i, i+1)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) createServicePrincipal(w http.ResponseWriter, r *http.Request, c *graphCaller) *graphError {
	if !c.isAppAdmin() {
		return errInsufficientPrivileges
	}
	var body struct {
		AppID string `json:"appId"`
	}
	if e := decodeGraph(w, r, &body, "servicePrincipal"); e != nil {
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
	sp := &ServicePrincipal{ObjectID: uuid.NewSHA1(uuid.MustParse(t.ID), []byte("sp:"+a.AppID)).String(), AppID: a.AppID, DisplayName: a.DisplayName, AccountEnabled: true}
	t.ServicePrincipals[a.AppID] = sp
	names := append([]string{a.AppID}, a.IdentifierURIs...)
	writeJSON(w, http.StatusCreated, map[string]any{
		"@odata.context":         graphBase + "$metadata#servicePrincipals/$entity",
		"id":                     sp.ObjectID,
		"accountEnabled":         true,
		"appDisplayName":         a.DisplayName,
		"appId":                  a.AppID,
		"appOwnerOrganizationId": a.HomeTenant,
		"displayName":            a.DisplayName,
		"servicePrincipalNames":  names,
		"servicePrincipalType":   "Application",
		"signInAudience":         a.SignInAudience,
	})
	return nil
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
	}
}

var userFilterTerm = regexp.MustCompile(`^(mail|userPrincipalName) eq '([^']*)'$`)

func (s *Server) listUsers(w http.ResponseWriter, r *http.Request, c *graphCaller) *graphError {
	if !c.canReadUsers() {
		return errInsufficientPrivileges
	}
	type term struct{ field, value string }
	var terms []term
	if f := r.URL.Query().Get("$filter"); f != "" {
		for _, part := range strings.Split(f, " or ") {
			m := userFilterTerm.FindStringSubmatch(strings.TrimSpace(part))
			if m == nil {
				return errGraph(http.StatusBadRequest, "Request_UnsupportedQuery", "Unsupported query: this fake filters users by \"mail eq '…'\" or \"userPrincipalName eq '…'\" joined with \"or\".")
			}
			terms = append(terms, term{m[1], m[2]})
		}
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	t := s.dir.tenant(c.tid)
	if t == nil {
		return errGraph(http.StatusUnauthorized, "InvalidAuthenticationToken", "The token's tenant does not exist.")
	}
	value := []map[string]any{}
	for _, u := range t.Users {
		match := len(terms) == 0
		for _, tm := range terms {
			v := u.UPN
			if tm.field == "mail" {
				v = u.Mail
			}
			match = match || (v != "" && strings.EqualFold(v, tm.value))
		}
		if match {
			value = append(value, userJSON(u))
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"@odata.context": graphBase + "$metadata#users", "value": value})
	return nil
}

func (s *Server) lookupUser(c *graphCaller, id string) (*User, *Tenant, *graphError) {
	t := s.dir.tenant(c.tid)
	if t == nil {
		return nil, nil, errGraph(http.StatusUnauthorized, "InvalidAuthenticationToken", "The token's tenant does not exist.")
	}
	if u := t.userByID(id); u != nil {
		return u, t, nil
	}
	return nil, t, errGraph(http.StatusNotFound, "Request_ResourceNotFound", "Resource '%s' does not exist or one of its queried reference-property objects are not present.", id)
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
	out := userJSON(u)
	out["@odata.context"] = graphBase + "$metadata#users/$entity"
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) memberOf(w http.ResponseWriter, r *http.Request, c *graphCaller) *graphError {
	if !c.canReadUsers() {
		return errInsufficientPrivileges
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	u, t, e := s.lookupUser(c, mux.Vars(r)["id"])
	if e != nil {
		return e
	}
	value := []map[string]any{}
	for _, rid := range u.Roles {
		name := ""
		for n, id := range wellknown.DirectoryRoles {
			if id == rid {
				name = n
			}
		}
		value = append(value, map[string]any{
			"@odata.type":     "#microsoft.graph.directoryRole",
			"id":              uuid.NewSHA1(uuid.MustParse(t.ID), []byte("role:"+rid)).String(),
			"deletedDateTime": nil,
			"displayName":     name,
			"roleTemplateId":  rid,
		})
	}
	writeJSON(w, http.StatusOK, map[string]any{"@odata.context": graphBase + "$metadata#directoryObjects", "value": value})
	return nil
}
