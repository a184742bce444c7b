package fakeaad

import (
	"bytes"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"
	"github.com/gorilla/mux"
)

// The application resource of Graph v1.0
// (microsoft-graph-docs-contrib api-reference/v1.0/resources/application.md).

var applicationSet = &odataSet{
	name: "applications", resource: "Application", typ: "microsoft.graph.application",
	filter: map[string]filterProp{
		"id": {}, "appId": {}, "displayName": {startsWith: true}, "signInAudience": {},
		"publisherDomain": {startsWith: true}, "identifierUris": {collection: true},
		"tags": {collection: true}, "web/redirectUris": {collection: true},
		"spa/redirectUris": {collection: true}, "publicClient/redirectUris": {collection: true},
	},
	orderBy: map[string]bool{"displayName": true, "createdDateTime": true},
}

// signInAudiences are the values Graph accepts; this fake issues tokens
// for work accounts only, so the personal-account audiences are refused.
var signInAudiences = []string{"AzureADMyOrg", "AzureADMultipleOrgs"}

// appDoc is the writable part of an application as JSON. A PATCH is merged
// into the current document and the result decoded strictly, so one path
// serves create and update (OData PATCH: complex values merge, collections
// are replaced).
type appDoc struct {
	DisplayName            *string                  `json:"displayName"`
	Description            *string                  `json:"description"`
	SignInAudience         *string                  `json:"signInAudience"`
	IdentifierURIs         []string                 `json:"identifierUris"`
	IsFallbackPublicClient *bool                    `json:"isFallbackPublicClient"`
	Tags                   []string                 `json:"tags"`
	API                    apiDoc                   `json:"api"`
	AppRoles               []AppRole                `json:"appRoles"`
	KeyCredentials         []keyDoc                 `json:"keyCredentials"`
	RequiredResourceAccess []RequiredResourceAccess `json:"requiredResourceAccess"`
	Web                    webDoc                   `json:"web"`
	Spa                    redirectsDoc             `json:"spa"`
	PublicClient           redirectsDoc             `json:"publicClient"`
	OptionalClaims         *OptionalClaims          `json:"optionalClaims"`
	// Read-only properties clients echo back (a GET-modify-PATCH) are
	// accepted and ignored.
	ID                  json.RawMessage `json:"id,omitempty"`
	AppID               json.RawMessage `json:"appId,omitempty"`
	CreatedDateTime     json.RawMessage `json:"createdDateTime,omitempty"`
	DeletedDateTime     json.RawMessage `json:"deletedDateTime,omitempty"`
	PublisherDomain     json.RawMessage `json:"publisherDomain,omitempty"`
	PasswordCredentials json.RawMessage `json:"passwordCredentials,omitempty"`
}

type apiDoc struct {
	RequestedAccessTokenVersion *int              `json:"requestedAccessTokenVersion"`
	OAuth2PermissionScopes      []PermissionScope `json:"oauth2PermissionScopes"`
	KnownClientApplications     []string          `json:"knownClientApplications"`
	AcceptMappedClaims          *bool             `json:"acceptMappedClaims"`
	PreAuthorizedApplications   []json.RawMessage `json:"preAuthorizedApplications"`
}

type webDoc struct {
	HomePageURL           *string         `json:"homePageUrl"`
	LogoutURL             *string         `json:"logoutUrl"`
	RedirectURIs          []string        `json:"redirectUris"`
	ImplicitGrantSettings implicitDoc     `json:"implicitGrantSettings"`
	RedirectURISettings   json.RawMessage `json:"redirectUriSettings,omitempty"`
}

type implicitDoc struct {
	EnableAccessTokenIssuance bool `json:"enableAccessTokenIssuance"`
	EnableIDTokenIssuance     bool `json:"enableIdTokenIssuance"`
}

type redirectsDoc struct {
	RedirectURIs []string `json:"redirectUris"`
}

// keyDoc is a keyCredential on the wire; key is the base64 DER
// certificate, written but never read back (Graph returns null).
type keyDoc struct {
	CustomKeyIdentifier *string `json:"customKeyIdentifier"`
	DisplayName         *string `json:"displayName"`
	EndDateTime         *string `json:"endDateTime"`
	Key                 *string `json:"key"`
	KeyID               *string `json:"keyId"`
	StartDateTime       *string `json:"startDateTime"`
	Type                string  `json:"type"`
	Usage               string  `json:"usage"`
}

func orEmpty[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func ptr[T any](v T) *T { return &v }

// docOf renders a's writable properties, keys included, for merging.
func docOf(a *Application) appDoc {
	d := appDoc{
		DisplayName: ptr(a.DisplayName), SignInAudience: ptr(a.SignInAudience),
		IdentifierURIs: orEmpty(a.IdentifierURIs), IsFallbackPublicClient: ptr(a.PublicClient),
		Tags: orEmpty(a.Tags), AppRoles: orEmpty(a.AppRoles),
		RequiredResourceAccess: orEmpty(a.RequiredResourceAccess), OptionalClaims: a.OptionalClaims,
		API: apiDoc{OAuth2PermissionScopes: orEmpty(a.Scopes), KnownClientApplications: []string{}, PreAuthorizedApplications: []json.RawMessage{}},
		Web: webDoc{RedirectURIs: orEmpty(a.RedirectURIs),
			ImplicitGrantSettings: implicitDoc{EnableAccessTokenIssuance: a.ImplicitAccessTokens, EnableIDTokenIssuance: a.ImplicitIDTokens}},
		Spa:          redirectsDoc{orEmpty(a.SPARedirectURIs)},
		PublicClient: redirectsDoc{orEmpty(a.PublicRedirectURIs)},
	}
	if a.Description != "" {
		d.Description = ptr(a.Description)
	}
	if a.TokenVersion == 2 {
		d.API.RequestedAccessTokenVersion = ptr(2)
	}
	if a.LogoutURL != "" {
		d.Web.LogoutURL = ptr(a.LogoutURL)
	}
	d.KeyCredentials = []keyDoc{}
	for _, k := range a.KeyCredentials {
		d.KeyCredentials = append(d.KeyCredentials, k.doc(true))
	}
	return d
}

func (k *KeyCredential) doc(withKey bool) keyDoc {
	// Certificates only: type and usage are the ones newKeyCredential accepts.
	d := keyDoc{CustomKeyIdentifier: ptr(strings.ToUpper(hex.EncodeToString(k.sha1))), KeyID: ptr(k.KeyID), Type: "AsymmetricX509Cert", Usage: "Verify",
		StartDateTime: ptr(k.Start.UTC().Format(time.RFC3339)), EndDateTime: ptr(k.End.UTC().Format(time.RFC3339))}
	if k.DisplayName != "" {
		d.DisplayName = ptr(k.DisplayName)
	}
	if withKey {
		d.Key = ptr(base64.StdEncoding.EncodeToString(k.Cert.Raw))
	}
	return d
}

// mergeJSON applies an OData PATCH: objects merge key by key, anything
// else (collections included) replaces.
func mergeJSON(dst, patch map[string]any) {
	for k, v := range patch {
		if pm, ok := v.(map[string]any); ok {
			if dm, ok := dst[k].(map[string]any); ok {
				mergeJSON(dm, pm)
				continue
			}
		}
		dst[k] = v
	}
}

// stripODataType removes "@odata.type" annotations, which Graph SDKs send
// with every object they serialise.
func stripODataType(v any) {
	switch x := v.(type) {
	case map[string]any:
		delete(x, "@odata.type")
		for _, e := range x {
			stripODataType(e)
		}
	case []any:
		for _, e := range x {
			stripODataType(e)
		}
	}
}

// readBody reads a JSON object body for merging.
func readBody(w http.ResponseWriter, r *http.Request) (map[string]any, *graphError) {
	var body map[string]any
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxFormBody))
	if err := dec.Decode(&body); err != nil || body == nil {
		return nil, errGraph(http.StatusBadRequest, "BadRequest", "Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format.")
	}
	stripODataType(body)
	return body, nil
}

// decodeInto reads a request's JSON body into v strictly: readBody, then
// strictInto with typ naming the resource in Graph's error.
func decodeInto(w http.ResponseWriter, r *http.Request, v any, typ string) *graphError {
	doc, e := readBody(w, r)
	if e != nil {
		return e
	}
	return strictInto(doc, v, typ)
}

// strictInto decodes a merged document into v, naming an unknown property
// the way Graph does.
func strictInto(doc map[string]any, v any, typ string) *graphError {
	b, _ := json.Marshal(doc)
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		if field, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
			return errGraph(http.StatusBadRequest, "Request_BadRequest", "Property '%s' does not exist on type 'microsoft.graph.%s'.", strings.Trim(field, `"`), typ)
		}
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return errGraph(http.StatusBadRequest, "BadRequest", "Cannot convert the literal to the expected type for property '%s'.", te.Field)
		}
		return errGraph(http.StatusBadRequest, "BadRequest", "Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format.")
	}
	return nil
}

// applyDoc validates d and writes it into a (a copy the caller commits).
func applyDoc(t *Tenant, old, a *Application, d appDoc) *graphError {
	if d.DisplayName == nil || strings.TrimSpace(*d.DisplayName) == "" {
		return errGraph(http.StatusBadRequest, "Request_BadRequest", "Property 'displayName' is required.")
	}
	a.DisplayName = *d.DisplayName
	a.Description = ""
	if d.Description != nil {
		a.Description = *d.Description
	}
	if d.SignInAudience == nil || !slices.Contains(signInAudiences, *d.SignInAudience) {
		v := "null"
		if d.SignInAudience != nil {
			v = *d.SignInAudience
		}
		return errGraph(http.StatusBadRequest, "Request_BadRequest", "Invalid value specified for property 'signInAudience' of resource 'Application'. '%s' is not supported by this fake: use AzureADMyOrg or AzureADMultipleOrgs.", v)
	}
	a.SignInAudience = *d.SignInAudience
	for _, u := range d.IdentifierURIs {
		if e := validIdentifierURI(t, u); e != nil {
			return e
		}
	}
	a.IdentifierURIs = slices.Clone(d.IdentifierURIs)
	a.PublicClient = d.IsFallbackPublicClient != nil && *d.IsFallbackPublicClient
	a.Tags = slices.Clone(d.Tags)
	switch v := d.API.RequestedAccessTokenVersion; {
	case v == nil || *v == 1:
		a.TokenVersion = 1
	case *v == 2:
		a.TokenVersion = 2
	default:
		return errGraph(http.StatusBadRequest, "Request_BadRequest", "Invalid value specified for property 'requestedAccessTokenVersion' of resource 'ApiApplication'.")
	}
	if e := validPermissions(old, d.API.OAuth2PermissionScopes, d.AppRoles); e != nil {
		return e
	}
	a.Scopes = slices.Clone(d.API.OAuth2PermissionScopes)
	for i := range a.Scopes {
		a.Scopes[i].Origin = "Application"
	}
	a.AppRoles = slices.Clone(d.AppRoles)
	for i := range a.AppRoles {
		a.AppRoles[i].Origin = "Application"
	}
	for _, rra := range d.RequiredResourceAccess {
		if _, err := uuid.Parse(rra.ResourceAppID); err != nil {
			return errGraph(http.StatusBadRequest, "Request_BadRequest", "Invalid value specified for property 'resourceAppId' of resource 'RequiredResourceAccess'.")
		}
		for _, ra := range rra.ResourceAccess {
			if _, err := uuid.Parse(ra.ID); err != nil || (ra.Type != "Scope" && ra.Type != "Role") {
				return errGraph(http.StatusBadRequest, "Request_BadRequest", "Invalid value specified for property 'resourceAccess' of resource 'RequiredResourceAccess'.")
			}
		}
	}
	a.RequiredResourceAccess = slices.Clone(d.RequiredResourceAccess)
	for _, u := range slices.Concat(d.Web.RedirectURIs, d.Spa.RedirectURIs, d.PublicClient.RedirectURIs) {
		if p, err := url.Parse(u); err != nil || p.Scheme == "" || p.Host == "" {
			return errGraph(http.StatusBadRequest, "Request_BadRequest", "Invalid value specified for property 'redirectUris': '%s' is not an absolute URI.", u)
		}
	}
	a.RedirectURIs = slices.Clone(d.Web.RedirectURIs)
	a.SPARedirectURIs = slices.Clone(d.Spa.RedirectURIs)
	a.PublicRedirectURIs = slices.Clone(d.PublicClient.RedirectURIs)
	a.LogoutURL = ""
	if d.Web.LogoutURL != nil {
		a.LogoutURL = *d.Web.LogoutURL
	}
	a.ImplicitIDTokens = d.Web.ImplicitGrantSettings.EnableIDTokenIssuance
	a.ImplicitAccessTokens = d.Web.ImplicitGrantSettings.EnableAccessTokenIssuance
	a.OptionalClaims = d.OptionalClaims
	keys, e := keysFrom(old, d.KeyCredentials)
	if e != nil {
		return e
	}
	a.KeyCredentials = keys
	return nil
}

// validIdentifierURI applies Entra's rule that http(s) App ID URIs use a
// verified domain of the tenant (api:// and urn: are free).
func validIdentifierURI(t *Tenant, u string) *graphError {
	p, err := url.Parse(u)
	if err != nil || p.Scheme == "" {
		return errGraph(http.StatusBadRequest, "Request_BadRequest", "Invalid value specified for property 'identifierUris' of resource 'Application'.")
	}
	if p.Scheme != "http" && p.Scheme != "https" {
		return nil
	}
	host := strings.ToLower(p.Hostname())
	for _, d := range t.Domains {
		if host == d || strings.HasSuffix(host, "."+d) {
			return nil
		}
	}
	return errGraph(http.StatusBadRequest, "HostNameNotOnVerifiedDomain", "Values of identifierUris property must use a verified domain of the organization or its subdomain: '%s'", u)
}

// validPermissions checks scopes and roles, and Entra's rule that an
// enabled permission is disabled before it is removed or changed.
func validPermissions(old *Application, scopes []PermissionScope, roles []AppRole) *graphError {
	seen := map[string]bool{}
	for _, sc := range scopes {
		if _, err := uuid.Parse(sc.ID); err != nil || sc.Value == "" || strings.ContainsAny(sc.Value, " \t") || (sc.Type != "User" && sc.Type != "Admin") {
			return errGraph(http.StatusBadRequest, "Request_BadRequest", "Invalid value specified for property 'oauth2PermissionScopes' of resource 'ApiApplication'.")
		}
		if seen[strings.ToLower(sc.Value)] {
			return errGraph(http.StatusBadRequest, "Request_BadRequest", "The value '%s' of property 'value' is used by more than one permission.", sc.Value)
		}
		seen[strings.ToLower(sc.Value)] = true
	}
	for _, ro := range roles {
		if _, err := uuid.Parse(ro.ID); err != nil || ro.Value == "" || strings.ContainsAny(ro.Value, " \t") || len(ro.AllowedMemberTypes) == 0 {
			return errGraph(http.StatusBadRequest, "Request_BadRequest", "Invalid value specified for property 'appRoles' of resource 'Application'.")
		}
		for _, mt := range ro.AllowedMemberTypes {
			if mt != "User" && mt != "Application" {
				return errGraph(http.StatusBadRequest, "Request_BadRequest", "Invalid value specified for property 'allowedMemberTypes' of resource 'AppRole'.")
			}
		}
	}
	if old == nil {
		return nil
	}
	changed := errGraph(http.StatusBadRequest, "CannotDeleteOrUpdateEnabledEntitlement", "Permission (scope or role) cannot be deleted or updated unless disabled first.")
	for _, o := range old.Scopes {
		i := slices.IndexFunc(scopes, func(n PermissionScope) bool { return strings.EqualFold(n.ID, o.ID) })
		if o.IsEnabled && (i < 0 || scopes[i].Value != o.Value) {
			return changed
		}
	}
	for _, o := range old.AppRoles {
		i := slices.IndexFunc(roles, func(n AppRole) bool { return strings.EqualFold(n.ID, o.ID) })
		if o.IsEnabled && (i < 0 || roles[i].Value != o.Value) {
			return changed
		}
	}
	return nil
}

// keysFrom turns keyCredentials into certificates. An entry without key
// must name an existing credential by keyId (a client that echoes what it
// read back).
func keysFrom(old *Application, docs []keyDoc) ([]*KeyCredential, *graphError) {
	out := make([]*KeyCredential, 0, len(docs))
	for _, d := range docs {
		if d.Key == nil {
			if old != nil && d.KeyID != nil {
				if i := slices.IndexFunc(old.KeyCredentials, func(k *KeyCredential) bool { return strings.EqualFold(k.KeyID, *d.KeyID) }); i >= 0 {
					out = append(out, old.KeyCredentials[i])
					continue
				}
			}
			return nil, errGraph(http.StatusBadRequest, "Request_BadRequest", "Property 'key' is required for a new key credential.")
		}
		k, e := keyCredentialFrom(d)
		if e != nil {
			return nil, e
		}
		out = append(out, k)
	}
	return out, nil
}

func keyCredentialFrom(d keyDoc) (*KeyCredential, *graphError) {
	if d.Type != "AsymmetricX509Cert" || d.Usage != "Verify" {
		return nil, errGraph(http.StatusBadRequest, "Request_BadRequest", "Invalid value specified for property 'type' or 'usage' of resource 'KeyCredential': this fake takes AsymmetricX509Cert with usage Verify.")
	}
	der, err := base64.StdEncoding.DecodeString(*d.Key)
	if err != nil {
		return nil, errGraph(http.StatusBadRequest, "Request_BadRequest", "Invalid value specified for property 'key' of resource 'KeyCredential'.")
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, errGraph(http.StatusBadRequest, "Request_BadRequest", "Invalid certificate: Key value is invalid certificate")
	}
	k := newKeyCredential(cert)
	k.KeyID = uuid.NewString()
	if d.KeyID != nil {
		if _, err := uuid.Parse(*d.KeyID); err == nil {
			k.KeyID = strings.ToLower(*d.KeyID)
		}
	}
	if d.DisplayName != nil {
		k.DisplayName = *d.DisplayName
	} else {
		k.DisplayName = cert.Subject.String()
	}
	return k, nil
}

func keyJSON(k *KeyCredential) map[string]any {
	d := k.doc(false)
	b, _ := json.Marshal(d)
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	return m
}

func (s *Server) applicationJSON(a *Application, t *Tenant) map[string]any {
	creds := make([]map[string]any, 0, len(a.Passwords))
	for _, p := range a.Passwords {
		creds = append(creds, passwordJSON(p, false))
	}
	keys := make([]map[string]any, 0, len(a.KeyCredentials))
	for _, k := range a.KeyCredentials {
		keys = append(keys, keyJSON(k))
	}
	publisher := ""
	if len(t.Domains) > 0 {
		publisher = t.Domains[0]
	}
	var tv any
	if a.TokenVersion == 2 {
		tv = 2
	}
	orNil := func(s string) any {
		if s == "" {
			return nil
		}
		return s
	}
	scopes := orEmpty(a.Scopes)
	roles := orEmpty(a.AppRoles)
	return map[string]any{
		"id":                         a.ObjectID,
		"deletedDateTime":            nil,
		"appId":                      a.AppID,
		"applicationTemplateId":      nil,
		"createdDateTime":            a.Created.UTC().Format(time.RFC3339),
		"description":                orNil(a.Description),
		"displayName":                a.DisplayName,
		"groupMembershipClaims":      nil,
		"identifierUris":             orEmpty(a.IdentifierURIs),
		"isFallbackPublicClient":     a.PublicClient,
		"notes":                      nil,
		"publisherDomain":            publisher,
		"signInAudience":             a.SignInAudience,
		"tags":                       orEmpty(a.Tags),
		"tokenEncryptionKeyId":       nil,
		"defaultRedirectUri":         nil,
		"optionalClaims":             a.OptionalClaims,
		"addIns":                     []any{},
		"api":                        map[string]any{"acceptMappedClaims": nil, "knownClientApplications": []string{}, "requestedAccessTokenVersion": tv, "oauth2PermissionScopes": scopes, "preAuthorizedApplications": []any{}},
		"appRoles":                   roles,
		"info":                       map[string]any{"logoUrl": nil, "marketingUrl": nil, "privacyStatementUrl": nil, "supportUrl": nil, "termsOfServiceUrl": nil},
		"keyCredentials":             keys,
		"parentalControlSettings":    map[string]any{"countriesBlockedForMinors": []string{}, "legalAgeGroupRule": "Allow"},
		"passwordCredentials":        creds,
		"publicClient":               map[string]any{"redirectUris": orEmpty(a.PublicRedirectURIs)},
		"requiredResourceAccess":     orEmpty(a.RequiredResourceAccess),
		"verifiedPublisher":          map[string]any{"displayName": nil, "verifiedPublisherId": nil, "addedDateTime": nil},
		"web":                        map[string]any{"homePageUrl": nil, "logoutUrl": orNil(a.LogoutURL), "redirectUris": orEmpty(a.RedirectURIs), "implicitGrantSettings": map[string]any{"enableAccessTokenIssuance": a.ImplicitAccessTokens, "enableIdTokenIssuance": a.ImplicitIDTokens}, "redirectUriSettings": []any{}},
		"spa":                        map[string]any{"redirectUris": orEmpty(a.SPARedirectURIs)},
		"serviceManagementReference": nil,
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
	return nil, t, errNotFound(id)
}

func errNotFound(id string) *graphError {
	return errGraph(http.StatusNotFound, "Request_ResourceNotFound", "Resource '%s' does not exist or one of its queried reference-property objects are not present.", id)
}

// uniqueIdentifierURIs refuses an App ID URI another application uses.
func (d *directory) uniqueIdentifierURIs(a *Application) *graphError {
	for _, o := range d.apps {
		if o == a || strings.EqualFold(o.AppID, a.AppID) {
			continue
		}
		for _, u := range a.IdentifierURIs {
			if slices.ContainsFunc(o.IdentifierURIs, func(x string) bool { return strings.EqualFold(strings.TrimRight(x, "/"), strings.TrimRight(u, "/")) }) {
				return errGraph(http.StatusBadRequest, "Request_BadRequest", "Another object with the same value for property identifierUris already exists.")
			}
		}
	}
	return nil
}

func (s *Server) createApplication(w http.ResponseWriter, r *http.Request, c *graphCaller) *graphError {
	if !c.isAppAdmin() {
		return errInsufficientPrivileges
	}
	body, e := readBody(w, r)
	if e != nil {
		return e
	}
	a := &Application{ObjectID: uuid.NewString(), AppID: uuid.NewString(), SignInAudience: "AzureADMyOrg", TokenVersion: 1,
		Created: s.clock.Now().UTC().Truncate(time.Second)}
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.dir.tenant(c.tid)
	if t == nil {
		return errGraph(http.StatusUnauthorized, "InvalidAuthenticationToken", "The token's tenant does not exist.")
	}
	doc := docMap(a)
	doc["displayName"] = nil
	mergeJSON(doc, body)
	var d appDoc
	if e := strictInto(doc, &d, "application"); e != nil {
		return e
	}
	if e := applyDoc(t, nil, a, d); e != nil {
		return e
	}
	if e := s.dir.uniqueIdentifierURIs(a); e != nil {
		return e
	}
	a.HomeTenant = t.ID
	s.dir.apps[strings.ToLower(a.AppID)] = a
	return writeEntity(w, r, applicationSet, s.applicationJSON(a, t), http.StatusCreated)
}

func docMap(a *Application) map[string]any {
	b, _ := json.Marshal(docOf(a))
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	return m
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
	var apps []*Application
	for _, a := range s.dir.apps {
		if a.HomeTenant == t.ID {
			apps = append(apps, a)
		}
	}
	slices.SortFunc(apps, func(x, y *Application) int {
		if c := x.Created.Compare(y.Created); c != 0 {
			return c
		}
		return strings.Compare(x.AppID, y.AppID)
	})
	value := make([]map[string]any, 0, len(apps))
	for _, a := range apps {
		value = append(value, s.applicationJSON(a, t))
	}
	return writeCollection(w, r, applicationSet, value, s.applicationJSON(&Application{}, t))
}

func (s *Server) countApplications(w http.ResponseWriter, r *http.Request, c *graphCaller) *graphError {
	if !c.isAppAdmin() {
		return errInsufficientPrivileges
	}
	s.mu.RLock()
	n := 0
	for _, a := range s.dir.apps {
		if a.HomeTenant == c.tid {
			n++
		}
	}
	s.mu.RUnlock()
	return writeCount(w, r, n)
}

// writeCount answers a /$count segment: text/plain with the ConsistencyLevel
// header, Graph's documented error without it.
func writeCount(w http.ResponseWriter, r *http.Request, n int) *graphError {
	if !strings.EqualFold(r.Header.Get("ConsistencyLevel"), "eventual") {
		return errGraph(http.StatusBadRequest, "Request_BadRequest", "$count is not currently supported.")
	}
	w.Header().Set("Content-Type", "text/plain")
	w.WriteHeader(http.StatusOK)
	_, _ = fmt.Fprint(w, n)
	return nil
}

func (s *Server) getApplication(w http.ResponseWriter, r *http.Request, c *graphCaller) *graphError {
	s.mu.RLock()
	defer s.mu.RUnlock()
	a, t, e := s.findApplication(c, r)
	if e != nil {
		return e
	}
	if !c.isAppAdmin() && !c.isApp(a.AppID) {
		return errInsufficientPrivileges
	}
	return writeEntity(w, r, applicationSet, s.applicationJSON(a, t), http.StatusOK)
}

func (s *Server) patchApplication(w http.ResponseWriter, r *http.Request, c *graphCaller) *graphError {
	if !c.isAppAdmin() {
		return errInsufficientPrivileges
	}
	body, e := readBody(w, r)
	if e != nil {
		return e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	a, t, e := s.findApplication(c, r)
	if e != nil {
		return e
	}
	doc := docMap(a)
	mergeJSON(doc, body)
	var d appDoc
	if e := strictInto(doc, &d, "application"); e != nil {
		return e
	}
	cp := *a
	if e := applyDoc(t, a, &cp, d); e != nil {
		return e
	}
	if e := s.dir.uniqueIdentifierURIs(&cp); e != nil {
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
	// The registration takes its principals, and their consents, with it.
	for _, t := range s.dir.tenants {
		if sp := t.ServicePrincipals[a.AppID]; sp != nil {
			t.dropPrincipal(sp.ObjectID)
		}
		delete(t.ServicePrincipals, a.AppID)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// addKey rolls a certificate: the caller proves it holds the private key of
// a current certificate with a JWT (concepts/application-rollkey-prooftoken.md:
// aud 00000002-0000-0000-c000-000000000000, iss the application's object id,
// lifetime at most 10 minutes).
func (s *Server) addKey(w http.ResponseWriter, r *http.Request, c *graphCaller) *graphError {
	var body struct {
		KeyCredential      *keyDoc         `json:"keyCredential"`
		PasswordCredential json.RawMessage `json:"passwordCredential"`
		Proof              string          `json:"proof"`
	}
	if e := decodeInto(w, r, &body, "application"); e != nil {
		return e
	}
	if body.KeyCredential == nil || body.KeyCredential.Key == nil {
		return errGraph(http.StatusBadRequest, "Request_BadRequest", "The keyCredential parameter with type, usage and key is required.")
	}
	k, e := keyCredentialFrom(*body.KeyCredential)
	if e != nil {
		return e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	a, _, e := s.findApplication(c, r)
	if e != nil {
		return e
	}
	if !c.isAppAdmin() && !c.isApp(a.AppID) {
		return errInsufficientPrivileges
	}
	if e := s.checkProof(a, body.Proof); e != nil {
		return e
	}
	a.KeyCredentials = append(slices.Clone(a.KeyCredentials), k)
	out := keyJSON(k)
	out["@odata.context"] = graphBase + "$metadata#microsoft.graph.keyCredential"
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) removeKey(w http.ResponseWriter, r *http.Request, c *graphCaller) *graphError {
	var body struct {
		KeyID string `json:"keyId"`
		Proof string `json:"proof"`
	}
	if e := decodeInto(w, r, &body, "application"); e != nil {
		return e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	a, _, e := s.findApplication(c, r)
	if e != nil {
		return e
	}
	if !c.isAppAdmin() && !c.isApp(a.AppID) {
		return errInsufficientPrivileges
	}
	if e := s.checkProof(a, body.Proof); e != nil {
		return e
	}
	i := slices.IndexFunc(a.KeyCredentials, func(k *KeyCredential) bool { return strings.EqualFold(k.KeyID, body.KeyID) })
	if i < 0 {
		return errGraph(http.StatusBadRequest, "Request_BadRequest", "No key credential found with keyId '%s'.", body.KeyID)
	}
	a.KeyCredentials = slices.Delete(slices.Clone(a.KeyCredentials), i, i+1)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// errProof is the answer to a missing or invalid proof of possession; the
// wording is this fake's (docs/fidelity-graph.md).
func errProof(why string) *graphError {
	return errGraph(http.StatusBadRequest, "Request_BadRequest", "Proof of possession validation failed: %s.", why)
}

func (s *Server) checkProof(a *Application, proof string) *graphError {
	if proof == "" {
		return errProof("the proof parameter is required")
	}
	now := s.clock.Now()
	var valid []*x509.Certificate
	for _, k := range a.KeyCredentials {
		if cert := k.Cert; !now.Before(cert.NotBefore) && now.Before(cert.NotAfter) {
			valid = append(valid, cert)
		}
	}
	if len(valid) == 0 {
		return errProof("the application has no valid certificate to prove possession of")
	}
	var claims jwt.RegisteredClaims
	var lastErr error
	for _, cert := range valid {
		_, err := jwt.ParseWithClaims(proof, &claims, func(*jwt.Token) (any, error) { return cert.PublicKey, nil },
			jwt.WithValidMethods([]string{"RS256", "PS256"}), jwt.WithTimeFunc(s.clock.Now),
			jwt.WithAudience("00000002-0000-0000-c000-000000000000"), jwt.WithIssuer(a.ObjectID), jwt.WithExpirationRequired())
		if err == nil {
			lastErr = nil
			break
		}
		lastErr = err
	}
	if lastErr != nil {
		return errProof(lastErr.Error())
	}
	if claims.NotBefore == nil || claims.ExpiresAt.Sub(claims.NotBefore.Time) > 10*time.Minute {
		return errProof("the token must carry nbf and live at most 10 minutes")
	}
	return nil
}
