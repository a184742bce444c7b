package fakeaad

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"strings"
	"sync"
	"time"
)

// Lifetimes of the grants, as Entra documents its defaults: refresh tokens
// live 90 days of inactivity (refresh-tokens.md), authorization codes about
// ten minutes (v2-oauth2-auth-code-flow.md), device codes 15 minutes
// (expires_in 900 in v2-oauth2-device-code.md), SSO sessions until the
// browser closes or 24 hours, whichever the fake's clock reaches first.
const (
	refreshTokenLifetime = 90 * 24 * time.Hour
	authCodeLifetime     = 10 * time.Minute
	deviceCodeLifetime   = 15 * time.Minute
	deviceCodeInterval   = 5 * time.Second
	sessionLifetime      = 24 * time.Hour
)

// signIn is a completed user authentication that a grant redeems: who
// signed in, to which app, for what, and how.
type signIn struct {
	tid       string
	clientID  string
	userOID   string
	scope     string // the scope (v2) or resource (v1) parameter as requested
	v2        bool
	nonce     string
	authTime  time.Time
	amr       []string
	pwStamp   string // a hash of the password at sign-in; a change revokes
	sessionID string
}

// refreshGrant is what a refresh token stands for.
type refreshGrant struct {
	signIn
	issued time.Time
}

// authCode is an authorization code waiting to be redeemed.
type authCode struct {
	signIn
	redirectURI   string
	challenge     string
	method        string
	issued        time.Time
	redeemed      bool
	responseTypes []string
}

// deviceAuth is a device code flow in progress.
type deviceAuth struct {
	clientID string
	tid      string // the tenant segment's tenant, "" for /organizations
	scope    string
	v2       bool
	userCode string
	issued   time.Time
	lastPoll time.Time
	approved *signIn
	declined bool
	redeemed bool
}

// session is a browser's single sign-on session (the ESTSAUTH cookie).
type session struct {
	id           string
	tid, userOID string
	authTime     time.Time
	amr          []string
	pwStamp      string
}

// flowState holds every grant in flight. It has its own lock so that the
// sign-in page and the token endpoint do not contend with directory reads;
// when both are needed the Server's lock is taken first.
type flowState struct {
	mu        sync.Mutex
	refresh   map[string]*refreshGrant
	codes     map[string]*authCode
	devices   map[string]*deviceAuth // by device_code
	userCodes map[string]string      // user_code -> device_code
	sessions  map[string]*session
	consents  map[string]bool // tid|appId|userOID, granted on the sign-in page
	jtis      map[string]time.Time
}

func newFlowState() *flowState {
	return &flowState{refresh: map[string]*refreshGrant{}, codes: map[string]*authCode{}, devices: map[string]*deviceAuth{},
		userCodes: map[string]string{}, sessions: map[string]*session{}, consents: map[string]bool{}, jtis: map[string]time.Time{}}
}

// clear forgets everything in flight, as a Reset or a state import does.
func (f *flowState) clear() {
	fresh := newFlowState()
	f.mu.Lock()
	defer f.mu.Unlock()
	f.refresh, f.codes, f.devices, f.userCodes = fresh.refresh, fresh.codes, fresh.devices, fresh.userCodes
	f.sessions, f.consents, f.jtis = fresh.sessions, fresh.consents, fresh.jtis
}

// passwordStamp identifies a password without keeping it in a grant.
func passwordStamp(pw string) string {
	sum := sha256.Sum256([]byte(pw))
	return base64.RawURLEncoding.EncodeToString(sum[:8])
}

func stampsEqual(a, b string) bool { return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1 }

// issueRefresh records a new refresh token for in.
func (f *flowState) issueRefresh(si signIn, now time.Time) string {
	tok := "1.A" + randomB64(180)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.refresh[tok] = &refreshGrant{signIn: si, issued: now}
	return tok
}

// lookupRefresh finds a refresh token. Entra does not revoke a refresh
// token when it is used (refresh-tokens.md: the old one stays valid until it
// expires); the client gets a new one with every redemption.
func (f *flowState) lookupRefresh(tok string) (refreshGrant, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	g, ok := f.refresh[tok]
	if !ok {
		return refreshGrant{}, false
	}
	return *g, true
}

// peekTenant returns the tenant a grant was issued in, for grants redeemed
// on /common or /organizations.
func (f *flowState) peekTenant(grant string, form map[string][]string) string {
	get := func(k string) string {
		if v := form[k]; len(v) > 0 {
			return v[0]
		}
		return ""
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	switch grant {
	case "refresh_token":
		if g := f.refresh[get("refresh_token")]; g != nil {
			return g.tid
		}
	case "authorization_code":
		if c := f.codes[get("code")]; c != nil {
			return c.tid
		}
	case deviceCodeGrant:
		if d := f.devices[get("device_code")]; d != nil && d.approved != nil {
			return d.approved.tid
		}
	}
	return ""
}

// issueCode records an authorization code.
func (f *flowState) issueCode(c *authCode) string {
	code := "1.A" + randomB64(150)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.codes[code] = c
	return code
}

// redeemCode checks a code against the token request and marks it used,
// in one lock section so that two concurrent redemptions cannot both win.
func (f *flowState) redeemCode(code, clientID, redirectURI, verifier string, now time.Time) (signIn, *stsError) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c := f.codes[code]
	switch {
	case c == nil:
		return signIn{}, errMalformedGrant()
	case !strings.EqualFold(c.clientID, clientID):
		return signIn{}, errGrantClientMismatch()
	case c.redeemed:
		return signIn{}, errCodeRedeemed()
	case now.After(c.issued.Add(authCodeLifetime)):
		return signIn{}, errCodeExpired()
	case c.redirectURI != redirectURI:
		return signIn{}, errReplyAddressMismatch(redirectURI, c.redirectURI)
	}
	if c.challenge != "" {
		want := verifier
		if c.method == "S256" {
			sum := sha256.Sum256([]byte(verifier))
			want = base64.RawURLEncoding.EncodeToString(sum[:])
		}
		if verifier == "" || subtle.ConstantTimeCompare([]byte(want), []byte(c.challenge)) != 1 {
			return signIn{}, errCodeVerifier()
		}
	}
	c.redeemed = true
	return c.signIn, nil
}

// useJTI records a client assertion id until it expires; false means it
// was seen before.
func (f *flowState) useJTI(key string, until, now time.Time) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	for k, t := range f.jtis {
		if now.After(t) {
			delete(f.jtis, k)
		}
	}
	if _, seen := f.jtis[key]; seen {
		return false
	}
	f.jtis[key] = until
	return true
}

func consentKey(tid, appID, userOID string) string {
	return strings.ToLower(tid + "|" + appID + "|" + userOID)
}

func (f *flowState) consented(tid, appID, userOID string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.consents[consentKey(tid, appID, userOID)]
}

func (f *flowState) grantConsent(tid, appID, userOID string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.consents[consentKey(tid, appID, userOID)] = true
}
