package fakeaad

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"
	"github.com/gorilla/mux"

	"github.com/m365snow/m365snow/internal/wellknown"
)

const (
	connectorAppID = wellknown.ConnectorAppID
	// defaultUserRole is the "User" role template every member's wids
	// carries next to its admin roles.
	defaultUserRole = "b79fbf4d-3ef9-4689-8143-76b194e85509"
	// tokenLifetime and backdate reproduce Entra's timing: iat and nbf 300 s
	// in the past, exp one hour ahead, expires_in 3599 (reference/aad.md
	// §3.4).
	tokenLifetime = time.Hour
	backdate      = 5 * time.Minute
	maxFormBody   = 1 << 20
)

// oidcScopes are added by MSAL and friends and never name a resource.
var oidcScopes = []string{"openid", "profile", "offline_access", "email"}

// token serves POST /{tenant}/oauth2/token (v1) and /oauth2/v2.0/token.
func (s *Server) token(v2 bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			s.writeSTSError(w, r, errMethod(r.Method))
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, maxFormBody)
		if err := r.ParseForm(); err != nil {
			s.writeSTSError(w, r, errMissingParam("grant_type"))
			return
		}
		req := tokenRequest{v2: v2, tenantSeg: mux.Vars(r)["tenant"], form: r.PostForm}
		req.clientID, req.secret, req.secretGiven = clientCredentials(r)
		in, e := s.authorize(&req)
		if e != nil {
			if req.retryAfter > 0 {
				w.Header().Set("Retry-After", strconv.Itoa(req.retryAfter))
			}
			s.writeSTSError(w, r, e)
			return
		}
		if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
			in.ipaddr = host
		}
		s.writeToken(w, in)
	}
}

// clientCredentials reads client_secret_basic first, then client_secret_post.
// golang.org/x/oauth2 query-escapes both halves of the Basic credentials.
func clientCredentials(r *http.Request) (id, secret string, given bool) {
	if u, p, ok := r.BasicAuth(); ok {
		uid, err1 := url.QueryUnescape(u)
		pw, err2 := url.QueryUnescape(p)
		if err1 == nil && err2 == nil {
			return uid, pw, true
		}
		return u, p, true
	}
	_, given = r.PostForm["client_secret"]
	return r.PostForm.Get("client_id"), r.PostForm.Get("client_secret"), given && r.PostForm.Get("client_secret") != ""
}

type tokenRequest struct {
	retryAfter  int // seconds, set when a throttled block answers
	v2          bool
	tenantSeg   string
	form        url.Values
	clientID    string
	secret      string
	secretGiven bool
}

// mintInput is everything a token needs, copied out of the directory so
// that signing happens without the lock.
type mintInput struct {
	v2Endpoint   bool
	tokenVersion int
	tid          string
	aud          string
	resourceEcho string
	clientAppID  string
	clientOID    string
	appidacr     string
	roles        []string
	scp          string
	user         *User // a copy
	ipaddr       string
	idtyp        string // the idtyp optional claim, when the resource asks for it

	// User grants only (usertoken.go).
	amr        []string
	idToken    bool     // openid was asked for
	refresh    bool     // offline_access was asked for (always on v1)
	clientInfo bool     // client_info=1
	oidcEcho   []string // OpenID scopes repeated in the v2 scope field
	nonce      string
	authTime   time.Time
	grant      signIn // what a refresh token issued now stands for
	// fullScopeNames: the client wrote Graph scopes as full URIs.
	fullScopeNames bool
}

const (
	deviceCodeGrant = "urn:ietf:params:oauth:grant-type:device_code"
	jwtBearerGrant  = "urn:ietf:params:oauth:grant-type:jwt-bearer"
)

// supportedGrants are the grant types the token endpoints take.
var supportedGrants = []string{"client_credentials", "password", "refresh_token", "authorization_code", deviceCodeGrant, jwtBearerGrant}

// grantAliases are short grant names clients send for the URN forms: MSAL
// Go posts grant_type=device_code (apps/internal/oauth/ops/internal/grant),
// MSAL Python the URN; Entra takes both.
var grantAliases = map[string]string{"device_code": deviceCodeGrant}

// grantParams are the parameters each grant must carry besides client_id.
var grantParams = map[string][]string{
	"refresh_token":      {"refresh_token"},
	"authorization_code": {"code"},
	deviceCodeGrant:      {"device_code"},
	jwtBearerGrant:       {"assertion", "requested_token_use"},
}

// authorize validates a token request in the order Entra is believed to
// (reference/aad.md §7) and returns what to mint or the first error.
func (s *Server) authorize(req *tokenRequest) (*mintInput, *stsError) {
	grant := req.form.Get("grant_type")
	if long, ok := grantAliases[grant]; ok {
		grant = long
		req.form.Set("grant_type", long)
	}
	seg := strings.ToLower(req.tenantSeg)
	generic := seg == "common" || seg == "organizations" || seg == "consumers"
	switch {
	case grant == "":
		return nil, errMissingParam("grant_type")
	case !slices.Contains(supportedGrants, grant):
		return nil, errUnsupportedGrant(grant)
	case grant == "client_credentials" && generic:
		return nil, errNoTenantInfo()
	case grant == "password" && req.v2 && (seg == "common" || seg == "consumers"):
		// ROPC needs a home realm; Entra refuses it where the user's
		// tenant is not implied (MSAL4J #382, MSAL.NET #1572). The v1
		// endpoint still finds the tenant from the user name.
		return nil, errGrantOnCommon()
	case req.clientID == "":
		return nil, errMissingParam("client_id")
	}
	for _, p := range grantParams[grant] {
		if req.form.Get(p) == "" {
			return nil, errMissingParam(p)
		}
	}
	if grant == jwtBearerGrant && req.form.Get("requested_token_use") != "on_behalf_of" {
		return nil, errOBOTokenUse(req.form.Get("requested_token_use"))
	}
	// A grant redeemed on /common or /organizations carries its tenant.
	grantTenant := ""
	if generic && grant != "password" {
		grantTenant = s.flows.peekTenant(grant, req.form)
		if grant == jwtBearerGrant {
			grantTenant = unverifiedClaim(req.form.Get("assertion"), "tid")
		}
	}

	s.mu.RLock()
	defer s.mu.RUnlock()
	d := s.dir
	var t *Tenant
	switch {
	case generic && grant == "password":
		// A password grant on /organizations finds the tenant from the
		// user's domain, as Entra's home-realm discovery does.
		_, dom, _ := strings.Cut(req.form.Get("username"), "@")
		if t = d.tenant(dom); t == nil {
			return nil, errUserNotFound(req.form.Get("username"), seg)
		}
	case generic:
		if t = d.tenant(grantTenant); t == nil {
			if grant == jwtBearerGrant {
				return nil, errUserAssertion("The assertion names no tenant of this directory.")
			}
			return nil, errMalformedGrant()
		}
	default:
		if t = d.tenant(seg); t == nil {
			if _, err := uuid.Parse(seg); err != nil && !strings.Contains(seg, ".") {
				return nil, errTenantMalformed(req.tenantSeg)
			}
			return nil, errTenantNotFound(req.tenantSeg)
		}
	}
	tenantName := t.DisplayName
	if tenantName == "" {
		tenantName = t.ID
	}

	app := d.app(req.clientID)
	if app == nil {
		return nil, errAppNotFound(req.clientID, tenantName)
	}
	sp := d.servicePrincipal(t, app.AppID)
	if sp == nil {
		if app.HomeTenant != t.ID {
			return nil, errAppNotFound(req.clientID, tenantName)
		}
		return nil, errMissingServicePrincipal(app.AppID, t.ID)
	}
	if !sp.AccountEnabled || d.blocked("servicePrincipalDisabled", app.AppID, "") != nil {
		return nil, errAppDisabled(app.AppID, app.DisplayName)
	}
	if b := d.blocked("throttled", app.AppID, req.form.Get("username")); b != nil {
		req.retryAfter = b.RetryAfter
		if req.retryAfter == 0 {
			req.retryAfter = 60
		}
		return nil, errThrottled()
	}

	in := &mintInput{v2Endpoint: req.v2, tid: t.ID, clientAppID: app.AppID, clientOID: sp.ObjectID}
	var e *stsError
	if in.appidacr, e = s.authenticateClient(req, app, t, grant); e != nil {
		return nil, e
	}

	if grant == "client_credentials" {
		return s.appToken(req, d, t, tenantName, app, in)
	}
	return s.userToken(req, d, t, tenantName, app, grant, in)
}

// authenticateClient checks the client's credential and returns the
// appidacr it earns: "0" public, "1" secret, "2" certificate.
func (s *Server) authenticateClient(req *tokenRequest, app *Application, t *Tenant, grant string) (string, *stsError) {
	assertion := req.form.Get("client_assertion")
	if app.PublicClient {
		if req.secretGiven || assertion != "" {
			return "", errPublicClientSecret()
		}
		if grant == "client_credentials" || grant == jwtBearerGrant {
			return "", errNoSecret()
		}
		return "0", nil
	}
	if assertion != "" && !req.secretGiven {
		if at := req.form.Get("client_assertion_type"); at != clientAssertionType {
			if at == "" {
				return "", errMissingParam("client_assertion_type")
			}
			return "", errAssertionType(at)
		}
		if e := s.checkClientAssertion(app, assertion, s.tokenEndpoints(req.tenantSeg, t)); e != nil {
			return "", e
		}
		return "2", nil
	}
	if !req.secretGiven {
		return "", errNoSecret()
	}
	if e := s.checkSecret(app, req.secret); e != nil {
		return "", e
	}
	return "1", nil
}

// tokenEndpoints are the URLs a client assertion may name as audience:
// both token endpoints under the tenant's id, its domains and the segment
// the request used.
func (s *Server) tokenEndpoints(seg string, t *Tenant) []string {
	var out []string
	for _, name := range append([]string{t.ID, seg}, t.Domains...) {
		out = append(out, s.publicURL+"/"+name+"/oauth2/v2.0/token", s.publicURL+"/"+name+"/oauth2/token")
	}
	return out
}

// appToken finishes a client credentials request.
func (s *Server) appToken(req *tokenRequest, d *directory, t *Tenant, tenantName string, app *Application, in *mintInput) (*mintInput, *stsError) {
	resource, _, e := s.requestedResource(req, "")
	if e != nil {
		return nil, e
	}
	res := d.resource(t, resource)
	if res == nil {
		return nil, errResourceNotFound(resource, tenantName)
	}
	in.setResource(res, resource)
	// The roles claim: what the tenant assigned the client's principal on
	// the resource (graph_consent.go).
	if e := d.applyConsent(t, app, d.servicePrincipal(t, app.AppID), res, in, req.form); e != nil {
		return nil, e
	}
	return in, nil
}

// requestedResource reads the resource and delegated permissions of a
// request: scope on v2, resource on v1. fallback is the scope or resource
// of the sign-in a grant redeems, used when the request names none.
func (s *Server) requestedResource(req *tokenRequest, fallback string) (resource, scp string, e *stsError) {
	cc := req.form.Get("grant_type") == "client_credentials"
	if req.v2 {
		if req.form.Has("resource") {
			return "", "", errResourceParamOnV2()
		}
		scope := req.form.Get("scope")
		if scope == "" {
			scope = fallback
		}
		if scope == "" {
			return "", "", errMissingParam("scope")
		}
		return parseV2Scope(scope, cc)
	}
	if resource = req.form.Get("resource"); resource == "" {
		resource = fallback
	}
	if resource == "" {
		return "", "", errMissingParam("resource")
	}
	return resource, "user_impersonation", nil
}

func (in *mintInput) setResource(res *Application, requested string) {
	in.tokenVersion = res.TokenVersion
	in.resourceEcho = requested
	in.aud = strings.TrimSuffix(requested, "/.default")
	if in.tokenVersion == 2 {
		in.aud = res.AppID
	}
}

// checkSecret accepts a secret that matches a credential inside its
// validity window. A matching but expired secret is AADSTS7000222, anything
// else AADSTS7000215.
func (s *Server) checkSecret(app *Application, secret string) *stsError {
	now := s.clock.Now()
	for _, p := range app.Passwords {
		if subtle.ConstantTimeCompare([]byte(p.Secret), []byte(secret)) != 1 {
			continue
		}
		if now.After(p.End) {
			return errExpiredSecret(app.AppID)
		}
		if now.Before(p.Start) {
			return errBadSecret(app.AppID)
		}
		return nil
	}
	return errBadSecret(app.AppID)
}

// parseV2Scope finds the single resource of a v2 scope parameter. Client
// credentials need exactly one "<resource>/.default"; the password grant
// takes "<resource>/<permission>" too and defaults to Microsoft Graph.
func parseV2Scope(scope string, clientCredentials bool) (resource, scp string, e *stsError) {
	var named []string
	for _, sc := range strings.Fields(scope) {
		if !slices.Contains(oidcScopes, sc) {
			named = append(named, sc)
		}
	}
	if len(named) == 0 {
		if clientCredentials {
			return "", "", errScopeNotDefault(scope)
		}
		return wellknown.GraphResource, "User.Read", nil
	}
	var perms []string
	for _, sc := range named {
		res, perm := sc, ".default"
		if i := strings.LastIndex(sc, "/"); i > 0 && !strings.HasSuffix(sc, "/") {
			res, perm = sc[:i], sc[i+1:]
		} else if !strings.Contains(sc, "/") {
			res, perm = wellknown.GraphResource, sc
		}
		if clientCredentials && perm != ".default" {
			return "", "", errScopeNotDefault(sc)
		}
		if resource != "" && !strings.EqualFold(resource, res) {
			return "", "", errMultipleResources()
		}
		resource = res
		if perm != ".default" {
			perms = append(perms, perm)
		}
	}
	scp = strings.Join(perms, " ")
	if scp == "" {
		scp = "user_impersonation"
	}
	return resource, scp, nil
}

// resource finds the application a token is requested for: by appId or App
// ID URI, among first-party apps and apps with a principal in t.
func (d *directory) resource(t *Tenant, res string) *Application {
	want := strings.TrimRight(strings.ToLower(res), "/")
	for _, a := range d.apps {
		if !a.firstParty && t.ServicePrincipals[a.AppID] == nil {
			continue
		}
		if strings.EqualFold(a.AppID, want) {
			return a
		}
		for _, u := range a.IdentifierURIs {
			if strings.TrimRight(strings.ToLower(u), "/") == want {
				return a
			}
		}
	}
	return nil
}

// accessClaims lists the claims in the order real tokens print them.
type accessClaims struct {
	Aud               string   `json:"aud"`
	Iss               string   `json:"iss"`
	Iat               int64    `json:"iat"`
	Nbf               int64    `json:"nbf"`
	Exp               int64    `json:"exp"`
	Acr               string   `json:"acr,omitempty"`
	Aio               string   `json:"aio"`
	Amr               []string `json:"amr,omitempty"`
	AppID             string   `json:"appid,omitempty"`
	AppIDAcr          string   `json:"appidacr,omitempty"`
	Azp               string   `json:"azp,omitempty"`
	AzpAcr            string   `json:"azpacr,omitempty"`
	FamilyName        string   `json:"family_name,omitempty"`
	GivenName         string   `json:"given_name,omitempty"`
	IDP               string   `json:"idp,omitempty"`
	IPAddr            string   `json:"ipaddr,omitempty"`
	Name              string   `json:"name,omitempty"`
	OID               string   `json:"oid"`
	PreferredUsername string   `json:"preferred_username,omitempty"`
	RH                string   `json:"rh"`
	Roles             []string `json:"roles,omitempty"`
	Scp               string   `json:"scp,omitempty"`
	Sub               string   `json:"sub"`
	TID               string   `json:"tid"`
	UniqueName        string   `json:"unique_name,omitempty"`
	UPN               string   `json:"upn,omitempty"`
	UTI               string   `json:"uti"`
	Ver               string   `json:"ver"`
	Wids              []string `json:"wids,omitempty"`
	Idtyp             string   `json:"idtyp,omitempty"`
}

func randomB64(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// claims builds the payload for in at now (reference/aad.md §3.3).
func (s *Server) claims(in *mintInput, now time.Time) accessClaims {
	iat := now.Add(-backdate).Unix()
	c := accessClaims{
		Aud: in.aud, Iat: iat, Nbf: iat, Exp: now.Add(tokenLifetime).Unix(), Idtyp: in.idtyp,
		Aio: randomB64(36), TID: in.tid, UTI: randomB64(16),
		RH: "0." + randomB64(42) + ".",
	}
	if in.tokenVersion == 2 {
		c.Iss = s.publicURL + "/" + in.tid + "/v2.0"
		c.Ver = "2.0"
		c.Azp, c.AzpAcr = in.clientAppID, in.appidacr
	} else {
		c.Iss = "https://" + wellknown.STSHost + "/" + in.tid + "/"
		c.Ver = "1.0"
		c.AppID, c.AppIDAcr = in.clientAppID, in.appidacr
	}
	if u := in.user; u != nil {
		c.OID = u.ObjectID
		c.Sub = pairwiseSub(u.ObjectID, in.clientAppID)
		c.Name, c.Scp = u.DisplayName, in.scp
		c.Wids = append(slices.Clone(u.Roles), defaultUserRole)
		if in.tokenVersion == 2 {
			c.PreferredUsername = u.UPN
		} else {
			c.Acr, c.Amr, c.IPAddr = "1", []string{"pwd"}, in.ipaddr
			if len(in.amr) > 0 {
				c.Amr = in.amr
			}
			c.GivenName, c.FamilyName = u.GivenName, u.Surname
			c.UniqueName, c.UPN = u.UPN, u.UPN
		}
		return c
	}
	c.OID, c.Sub, c.Roles = in.clientOID, in.clientOID, in.roles
	if in.tokenVersion == 1 {
		c.IDP = c.Iss
	}
	return c
}

// sign encodes and signs access-token claims with the active key.
func (s *Server) sign(c accessClaims) (string, error) { return s.signJSON(c, c.Ver == "1.0") }

// signJSON encodes and signs a payload with the active key. v1 tokens
// carry x5t in the header as well as kid.
func (s *Server) signJSON(payload any, v1 bool) (string, error) {
	s.mu.RLock()
	k := s.keys.active(s.clock.Now())
	s.mu.RUnlock()
	header := map[string]string{"typ": "JWT", "alg": "RS256", "kid": k.KID}
	if v1 {
		header["x5t"] = k.KID
	}
	hb, err := json.Marshal(header)
	if err != nil {
		return "", err
	}
	cb, err := json.Marshal(payload)
	if err != nil {
		return "", err
	}
	signing := base64.RawURLEncoding.EncodeToString(hb) + "." + base64.RawURLEncoding.EncodeToString(cb)
	sig, err := jwt.SigningMethodRS256.Sign(signing, k.Private)
	if err != nil {
		return "", err
	}
	return signing + "." + base64.RawURLEncoding.EncodeToString(sig), nil
}

func sha256Sum(b []byte) []byte {
	sum := sha256.Sum256(b)
	return sum[:]
}

// v1Response keeps Entra's key order and its habit of writing numbers as
// strings on the v1 endpoint.
type v1Response struct {
	TokenType    string `json:"token_type"`
	Scope        string `json:"scope,omitempty"`
	ExpiresIn    string `json:"expires_in"`
	ExtExpiresIn string `json:"ext_expires_in"`
	ExpiresOn    string `json:"expires_on"`
	NotBefore    string `json:"not_before"`
	Resource     string `json:"resource"`
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token,omitempty"`
	IDToken      string `json:"id_token,omitempty"`
}

type v2Response struct {
	TokenType    string `json:"token_type"`
	Scope        string `json:"scope,omitempty"`
	ExpiresIn    int    `json:"expires_in"`
	ExtExpiresIn int    `json:"ext_expires_in"`
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token,omitempty"`
	IDToken      string `json:"id_token,omitempty"`
	ClientInfo   string `json:"client_info,omitempty"`
}

func (s *Server) writeToken(w http.ResponseWriter, in *mintInput) {
	now := s.clock.Now()
	c := s.claims(in, now)
	tok, err := s.sign(c)
	if err != nil {
		http.Error(w, "signing failed: "+err.Error(), http.StatusInternalServerError)
		return
	}
	var idt, rt, ci string
	if in.user != nil {
		if in.idToken {
			if idt, err = s.idToken(in, now); err != nil {
				http.Error(w, "signing failed: "+err.Error(), http.StatusInternalServerError)
				return
			}
		}
		if in.refresh {
			rt = s.flows.issueRefresh(in.grant, now)
		}
		if in.clientInfo {
			ci = clientInfo(in.user.ObjectID, in.tid)
		}
	}
	expiresIn := int(tokenLifetime.Seconds()) - 1
	var body any
	if in.v2Endpoint {
		resp := v2Response{TokenType: "Bearer", ExpiresIn: expiresIn, ExtExpiresIn: expiresIn, AccessToken: tok,
			RefreshToken: rt, IDToken: idt, ClientInfo: ci}
		if in.user != nil {
			resp.Scope = strings.TrimSpace(v2ScopeEcho(in.resourceEcho, in.scp, in.fullScopeNames) + " " + strings.Join(in.oidcEcho, " "))
		}
		body = resp
	} else {
		resp := v1Response{TokenType: "Bearer", ExpiresIn: strconv.Itoa(expiresIn), ExtExpiresIn: strconv.Itoa(expiresIn),
			ExpiresOn: strconv.FormatInt(c.Exp, 10), NotBefore: strconv.FormatInt(c.Nbf, 10),
			Resource: in.resourceEcho, AccessToken: tok, RefreshToken: rt, IDToken: idt}
		if in.user != nil {
			resp.Scope = in.scp
		}
		body = resp
	}
	noStore(w.Header(), uuid.NewString())
	w.WriteHeader(http.StatusOK)
	_ = json.NewEncoder(w).Encode(body)
}

// v2ScopeEcho writes granted permissions the way the v2 endpoint does:
// Graph's by short name unless the client named them in full, other
// resources' as full scope URIs. MSAL compares the echo with what it asked
// for and fails on "declined scopes" otherwise.
func v2ScopeEcho(resource, scp string, full bool) string {
	perms := strings.Fields(scp)
	if full || !strings.EqualFold(strings.TrimRight(resource, "/"), wellknown.GraphResource) {
		for i, p := range perms {
			perms[i] = strings.TrimRight(resource, "/") + "/" + p
		}
	}
	return strings.Join(perms, " ")
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
