package fakeaad

import (
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/m365snow/m365snow/internal/wellknown"
)

// userToken finishes a grant that signs a user in: password, refresh
// token, authorization code, device code and on-behalf-of. It runs under
// the Server's read lock.
func (s *Server) userToken(req *tokenRequest, d *directory, t *Tenant, tenantName string, app *Application, grant string, in *mintInput) (*mintInput, *stsError) {
	now := s.clock.Now()
	var si signIn
	var u *User
	switch grant {
	case "password":
		// Resource errors come before user errors, as they always did
		// for this grant.
		if _, _, e := s.requestedResource(req, ""); e != nil {
			return nil, e
		}
		username, password := req.form.Get("username"), req.form.Get("password")
		switch {
		case username == "":
			return nil, errMissingParam("username")
		case password == "":
			return nil, errMissingParam("password")
		}
		if u = t.user(username); u == nil {
			return nil, errUserNotFound(username, t.ID)
		}
		if !u.AccountEnabled || d.blocked("userDisabled", app.AppID, u.UPN) != nil {
			return nil, errUserDisabled()
		}
		if subtle.ConstantTimeCompare([]byte(u.Password), []byte(password)) != 1 {
			return nil, errBadPassword()
		}
		si = signIn{tid: t.ID, clientID: app.AppID, userOID: u.ObjectID, v2: req.v2, authTime: now, amr: []string{"pwd"}}
	case "refresh_token":
		g, ok := s.flows.lookupRefresh(req.form.Get("refresh_token"))
		switch {
		case !ok:
			return nil, errMalformedGrant()
		case !strings.EqualFold(g.clientID, app.AppID) || g.tid != t.ID:
			return nil, errGrantClientMismatch()
		case now.After(g.issued.Add(refreshTokenLifetime)):
			return nil, errRefreshExpired(g.issued, now.Sub(g.issued))
		}
		si = g.signIn
		if u = t.userByID(si.userOID); u == nil {
			return nil, errUserNotFound(si.userOID, t.ID)
		}
		if !stampsEqual(si.pwStamp, passwordStamp(u.Password)) {
			// A password change sets the user's TokensValidFrom; the
			// fake knows only that it happened after the grant.
			return nil, errRefreshRevoked(g.issued, now)
		}
	case "authorization_code":
		var e *stsError
		if si, e = s.flows.redeemCode(req.form.Get("code"), app.AppID, req.form.Get("redirect_uri"), req.form.Get("code_verifier"), now); e != nil {
			return nil, e
		}
		if si.tid != t.ID {
			return nil, errGrantClientMismatch()
		}
		if u = t.userByID(si.userOID); u == nil {
			return nil, errUserNotFound(si.userOID, t.ID)
		}
	case deviceCodeGrant:
		var e *stsError
		if si, e = s.flows.pollDevice(req.form.Get("device_code"), app.AppID, now); e != nil {
			return nil, e
		}
		if si.tid != t.ID {
			return nil, errGrantClientMismatch()
		}
		if u = t.userByID(si.userOID); u == nil {
			return nil, errUserNotFound(si.userOID, t.ID)
		}
	case jwtBearerGrant:
		var e *stsError
		if u, e = s.onBehalfOf(d, t, app, req.form.Get("assertion"), now); e != nil {
			return nil, e
		}
		si = signIn{tid: t.ID, clientID: app.AppID, userOID: u.ObjectID, v2: req.v2, authTime: now, amr: []string{"pwd"}}
	}
	si.pwStamp = passwordStamp(u.Password)

	resource, scp, e := s.requestedResource(req, si.scope)
	if e != nil {
		return nil, e
	}
	res := d.resource(t, resource)
	if res == nil {
		return nil, errResourceNotFound(resource, tenantName)
	}
	if e := d.userBlock(app, u, res.AppID, grant == "password"); e != nil {
		return nil, e
	}
	if e := s.checkConsent(d, t, app, u, res); e != nil {
		return nil, e
	}
	in.setResource(res, resource)
	in.scp = scp
	cp := *u
	cp.Roles = slices.Clone(u.Roles)
	in.user = &cp
	// Delegated permissions: scp from the tenant's grants (graph_consent.go).
	if e := d.applyConsent(t, app, d.servicePrincipal(t, app.AppID), res, in, req.form); e != nil {
		return nil, e
	}
	in.amr = si.amr
	// What the client asked for this time decides the extras; a refresh
	// without scope keeps what the grant was for.
	requested := req.form.Get("scope")
	if !req.v2 && requested == "" {
		requested = si.scope
	}
	if req.v2 {
		if requested == "" {
			requested = si.scope
		}
		si.scope = requested
	} else {
		si.scope = resource
	}
	scopes := strings.Fields(requested)
	in.idToken = slices.Contains(scopes, "openid") || (!req.v2 && si.nonce != "")
	// v1 has no offline_access scope: every user grant gets a refresh
	// token there, as ADAL relied on.
	in.refresh = !req.v2 || slices.Contains(scopes, "offline_access")
	in.clientInfo = req.form.Get("client_info") == "1"
	in.oidcEcho = oidcEcho(scopes)
	in.fullScopeNames = slices.ContainsFunc(scopes, func(sc string) bool { return strings.Contains(sc, "/") })
	in.nonce = si.nonce
	in.authTime = si.authTime
	in.grant = si
	return in, nil
}

// checkConsent is where delegated consent is decided. The fake's default:
// an app has consent unless a consentMissing block names it, and then only
// users who consented on the sign-in page do. The Graph consent model
// (oauth2PermissionGrants) can take over here.
func (s *Server) checkConsent(d *directory, t *Tenant, app *Application, u *User, res *Application) *stsError {
	if d.blocked("consentMissing", app.AppID, u.UPN) == nil || s.flows.consented(t.ID, app.AppID, u.ObjectID) {
		return nil
	}
	return errConsentRequired(app.AppID, app.DisplayName)
}

// oidcEcho lists the OpenID scopes a v2 response's scope repeats.
func oidcEcho(scopes []string) []string {
	var out []string
	for _, sc := range []string{"profile", "openid", "email"} {
		if slices.Contains(scopes, sc) {
			out = append(out, sc)
		}
	}
	return out
}

// onBehalfOf verifies the user's access token a middle-tier API presents:
// signed by this fake, for this tenant, addressed to the API (its appId or
// an App ID URI), in time, and a user's token (it has scp).
func (s *Server) onBehalfOf(d *directory, t *Tenant, app *Application, assertion string, now time.Time) (*User, *stsError) {
	claims := jwt.MapClaims{}
	_, err := jwt.ParseWithClaims(assertion, claims, func(tok *jwt.Token) (any, error) {
		kid, _ := tok.Header["kid"].(string)
		if k := s.keys.verifier(kid, now); k != nil {
			return &k.Private.PublicKey, nil
		}
		return nil, jwt.ErrTokenUnverifiable
	}, jwt.WithValidMethods([]string{"RS256"}), jwt.WithTimeFunc(func() time.Time { return now }), jwt.WithExpirationRequired())
	switch {
	case err != nil && strings.Contains(err.Error(), "expired"):
		return nil, errUserAssertion("The assertion has expired.")
	case err != nil:
		return nil, errUserAssertion("The assertion's signature does not verify with a published key.")
	}
	tid, _ := claims["tid"].(string)
	if !strings.EqualFold(tid, t.ID) {
		return nil, errUserAssertion("The assertion was issued for another tenant.")
	}
	aud, _ := claims["aud"].(string)
	if !strings.EqualFold(aud, app.AppID) && !slices.ContainsFunc(app.IdentifierURIs, func(u string) bool {
		return strings.EqualFold(strings.TrimRight(u, "/"), strings.TrimRight(aud, "/"))
	}) {
		return nil, errUserAssertion("The assertion's audience is not the application requesting the token.")
	}
	if scp, _ := claims["scp"].(string); scp == "" {
		return nil, errUserAssertion("The assertion is an application token; on-behalf-of needs a user's token.")
	}
	oid, _ := claims["oid"].(string)
	u := t.userByID(oid)
	if u == nil {
		return nil, errUserNotFound(oid, t.ID)
	}
	return u, nil
}

// unverifiedClaim reads a string claim without verifying the token; used
// only to route a request before the token is checked.
func unverifiedClaim(tok, name string) string {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return ""
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return ""
	}
	var m map[string]any
	if json.Unmarshal(b, &m) != nil {
		return ""
	}
	v, _ := m[name].(string)
	return v
}

// idClaims is an ID token's payload (id-token-claims-reference.md), v1
// and v2 fields together; the order is the one real tokens print.
type idClaims struct {
	Aud               string   `json:"aud"`
	Iss               string   `json:"iss"`
	Iat               int64    `json:"iat"`
	Nbf               int64    `json:"nbf"`
	Exp               int64    `json:"exp"`
	Aio               string   `json:"aio,omitempty"`
	Amr               []string `json:"amr,omitempty"`
	AuthTime          int64    `json:"auth_time,omitempty"`
	Email             string   `json:"email,omitempty"`
	FamilyName        string   `json:"family_name,omitempty"`
	GivenName         string   `json:"given_name,omitempty"`
	IPAddr            string   `json:"ipaddr,omitempty"`
	Name              string   `json:"name,omitempty"`
	Nonce             string   `json:"nonce,omitempty"`
	OID               string   `json:"oid"`
	PreferredUsername string   `json:"preferred_username,omitempty"`
	RH                string   `json:"rh"`
	Sid               string   `json:"sid,omitempty"`
	Sub               string   `json:"sub"`
	TID               string   `json:"tid"`
	UniqueName        string   `json:"unique_name,omitempty"`
	UPN               string   `json:"upn,omitempty"`
	UTI               string   `json:"uti"`
	Ver               string   `json:"ver"`
}

// pairwiseSub is the user's subject as one app sees it: stable per user and
// app, different across apps (subject_types_supported: pairwise).
func pairwiseSub(oid, appID string) string {
	return base64.RawURLEncoding.EncodeToString(sha256Sum([]byte(oid + "|" + strings.ToLower(appID))))
}

// idToken mints the ID token for a user grant: v2 form on the v2
// endpoint, v1 form (sts.windows.net issuer, upn, unique_name) on v1.
func (s *Server) idToken(in *mintInput, now time.Time) (string, error) {
	u := in.user
	iat := now.Add(-backdate).Unix()
	c := idClaims{
		Aud: in.clientAppID, Iat: iat, Nbf: iat, Exp: now.Add(tokenLifetime).Unix(),
		Name: u.DisplayName, Nonce: in.nonce, OID: u.ObjectID, RH: "0." + randomB64(42) + ".",
		Sub: pairwiseSub(u.ObjectID, in.clientAppID), TID: in.tid, UTI: randomB64(16), Sid: in.grant.sessionID,
	}
	if u.Mail != "" {
		c.Email = u.Mail
	}
	if in.v2Endpoint {
		c.Iss = s.publicURL + "/" + in.tid + "/v2.0"
		c.Ver = "2.0"
		c.Aio = randomB64(36)
		c.PreferredUsername = u.UPN
	} else {
		c.Iss = "https://" + wellknown.STSHost + "/" + in.tid + "/"
		c.Ver = "1.0"
		c.Amr = in.amr
		c.GivenName, c.FamilyName = u.GivenName, u.Surname
		c.IPAddr = in.ipaddr
		c.UniqueName, c.UPN = u.UPN, u.UPN
	}
	if !in.authTime.IsZero() && in.grant.sessionID != "" {
		c.AuthTime = in.authTime.Unix()
	}
	return s.signJSON(c, !in.v2Endpoint)
}

// clientInfo is MSAL's account key: base64url of {"uid","utid"} without
// padding (MSAL Go tokens.go ClientInfo decodes RawURLEncoding).
func clientInfo(oid, tid string) string {
	b, _ := json.Marshal(map[string]string{"uid": oid, "utid": tid})
	return base64.RawURLEncoding.EncodeToString(b)
}

// verifyOwnToken checks a token this fake issued: a published key, RS256,
// not expired by the fake's clock. The caller holds the Server's lock.
func (s *Server) verifyOwnToken(tok string) (jwt.MapClaims, error) {
	claims := jwt.MapClaims{}
	_, err := jwt.ParseWithClaims(tok, claims, func(t *jwt.Token) (any, error) {
		kid, _ := t.Header["kid"].(string)
		if k := s.keys.verifier(kid, s.clock.Now()); k != nil {
			return &k.Private.PublicKey, nil
		}
		return nil, jwt.ErrTokenUnverifiable
	}, jwt.WithValidMethods([]string{"RS256"}), jwt.WithTimeFunc(s.clock.Now), jwt.WithExpirationRequired())
	return claims, err
}

func itoa(n int) string { return strconv.Itoa(n) }

// ResetUserPassword sets a user's password, as an administrator's reset
// does: refresh tokens and SSO sessions from before stop working
// (AADSTS50173), because they were issued against the old password.
func (s *Server) ResetUserPassword(upn, password string) error {
	if password == "" {
		return fmt.Errorf("a password must not be empty")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, t := range s.dir.tenants {
		if u := t.user(upn); u != nil {
			u.Password = password
			return nil
		}
	}
	return fmt.Errorf("no user %q", upn)
}
