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
}

// authorize validates a token request in the order Entra is believed to
// (reference/aad.md §7) and returns what to mint or the first error.
func (s *Server) authorize(req *tokenRequest) (*mintInput, *stsError) {
	grant := req.form.Get("grant_type")
	seg := strings.ToLower(req.tenantSeg)
	generic := seg == "common" || seg == "organizations" || seg == "consumers"
	switch {
	case grant == "":
		return nil, errMissingParam("grant_type")
	case grant != "client_credentials" && grant != "password":
		return nil, errUnsupportedGrant(grant)
	case grant == "client_credentials" && generic:
		return nil, errNoTenantInfo()
	case req.clientID == "":
		return nil, errMissingParam("client_id")
	}

	s.mu.RLock()
	defer s.mu.RUnlock()
	d := s.dir
	var t *Tenant
	if generic {
		// A password grant on /organizations finds the tenant from the
		// user's domain, as Entra's home-realm discovery does.
		_, dom, _ := strings.Cut(req.form.Get("username"), "@")
		if t = d.tenant(dom); t == nil {
			return nil, errUserNotFound(req.form.Get("username"), seg)
		}
	} else if t = d.tenant(seg); t == nil {
		if _, err := uuid.Parse(seg); err != nil && !strings.Contains(seg, ".") {
			return nil, errTenantMalformed(req.tenantSeg)
		}
		return nil, errTenantNotFound(req.tenantSeg)
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
	if e := checkEnabled(app, sp); e != nil {
		return nil, e
	}

	in := &mintInput{v2Endpoint: req.v2, tid: t.ID, clientAppID: app.AppID, clientOID: sp.ObjectID, appidacr: "0"}
	if app.PublicClient {
		if req.secretGiven {
			return nil, errPublicClientSecret()
		}
		if grant == "client_credentials" {
			return nil, errNoSecret()
		}
	} else {
		if !req.secretGiven {
			return nil, errNoSecret()
		}
		if e := s.checkSecret(app, req.secret); e != nil {
			return nil, e
		}
		in.appidacr = "1"
	}

	var resource, scp string
	if req.v2 {
		if req.form.Has("resource") {
			return nil, errResourceParamOnV2()
		}
		scope := req.form.Get("scope")
		if scope == "" {
			return nil, errMissingParam("scope")
		}
		var e *stsError
		if resource, scp, e = parseV2Scope(scope, grant == "client_credentials"); e != nil {
			return nil, e
		}
	} else {
		if resource = req.form.Get("resource"); resource == "" {
			return nil, errMissingParam("resource")
		}
		scp = "user_impersonation"
	}
	res := d.resource(t, resource)
	if res == nil {
		return nil, errResourceNotFound(resource, tenantName)
	}
	in.tokenVersion = res.TokenVersion
	in.resourceEcho = resource
	in.aud = strings.TrimSuffix(resource, "/.default")
	if in.tokenVersion == 2 {
		in.aud = res.AppID
	}

	if grant == "password" {
		username, password := req.form.Get("username"), req.form.Get("password")
		switch {
		case username == "":
			return nil, errMissingParam("username")
		case password == "":
			return nil, errMissingParam("password")
		}
		u := t.user(username)
		if u == nil {
			return nil, errUserNotFound(username, t.ID)
		}
		if !u.AccountEnabled {
			return nil, errUserDisabled()
		}
		if subtle.ConstantTimeCompare([]byte(u.Password), []byte(password)) != 1 {
			return nil, errBadPassword()
		}
		cp := *u
		cp.Roles = slices.Clone(u.Roles)
		in.user = &cp
		in.scp = scp
	}
	if e := d.applyConsent(t, app, sp, res, in, req.form); e != nil {
		return nil, e
	}
	return in, nil
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
		sum := sha256.Sum256([]byte(u.ObjectID + "|" + in.clientAppID))
		c.Sub = base64.RawURLEncoding.EncodeToString(sum[:])
		c.Name, c.Scp = u.DisplayName, in.scp
		c.Wids = append(slices.Clone(u.Roles), defaultUserRole)
		if in.tokenVersion == 2 {
			c.PreferredUsername = u.UPN
		} else {
			c.Acr, c.Amr, c.IPAddr = "1", []string{"pwd"}, in.ipaddr
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

// sign encodes and signs claims with the active key. v1 tokens carry x5t in
// the header as well as kid.
func (s *Server) sign(c accessClaims) (string, error) {
	s.mu.RLock()
	k := s.keys.active()
	s.mu.RUnlock()
	header := map[string]string{"typ": "JWT", "alg": "RS256", "kid": k.KID}
	if c.Ver == "1.0" {
		header["x5t"] = k.KID
	}
	hb, err := json.Marshal(header)
	if err != nil {
		return "", err
	}
	cb, err := json.Marshal(c)
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
}

type v2Response struct {
	TokenType    string `json:"token_type"`
	Scope        string `json:"scope,omitempty"`
	ExpiresIn    int    `json:"expires_in"`
	ExtExpiresIn int    `json:"ext_expires_in"`
	AccessToken  string `json:"access_token"`
}

func (s *Server) writeToken(w http.ResponseWriter, in *mintInput) {
	c := s.claims(in, s.clock.Now())
	tok, err := s.sign(c)
	if err != nil {
		http.Error(w, "signing failed: "+err.Error(), http.StatusInternalServerError)
		return
	}
	expiresIn := int(tokenLifetime.Seconds()) - 1
	var body any
	if in.v2Endpoint {
		resp := v2Response{TokenType: "Bearer", ExpiresIn: expiresIn, ExtExpiresIn: expiresIn, AccessToken: tok}
		if in.user != nil {
			resp.Scope = v2ScopeEcho(in.resourceEcho, in.scp)
		}
		body = resp
	} else {
		resp := v1Response{TokenType: "Bearer", ExpiresIn: strconv.Itoa(expiresIn), ExtExpiresIn: strconv.Itoa(expiresIn),
			ExpiresOn: strconv.FormatInt(c.Exp, 10), NotBefore: strconv.FormatInt(c.Nbf, 10),
			Resource: in.resourceEcho, AccessToken: tok}
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
// Graph's by short name, other resources' as full scope URIs.
func v2ScopeEcho(resource, scp string) string {
	perms := strings.Fields(scp)
	if !strings.EqualFold(strings.TrimRight(resource, "/"), wellknown.GraphResource) {
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
