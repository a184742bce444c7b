package platform

import (
	"context"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/m365snow/m365snow/internal/oidckeys"
)

// Multi-Provider SSO with an OpenID Connect identity provider, the way the
// guide's "SSO with Microsoft 365" instance is set up: an External OIDC
// Provider (oauth_entity of type oidc_provider, default grant type
// Authorization Code) whose OIDC provider configuration names the IdP's
// metadata URL, the claim that identifies the user (User Claim, default
// email here) and the sys_user field it matches (User Field).
//
// A browser opens /login_with_sso.do?glide_sso_id=<entity sys_id>
// (ServiceNow's documented SSO link), is sent to the IdP's authorization
// endpoint with a state and a nonce, and comes back with a code by
// form_post to the entity's Redirect URL (default <instance>/navpage.do).
// The instance redeems the code at the token endpoint with the entity's
// client id and secret, verifies the ID token as it verifies OIDC bearer
// tokens (signature, issuer, audience, lifetime with the entity's clock
// skew), checks the nonce, maps the claim to a user and starts an
// interactive session exactly as /login.do does. docs/sso.md records the
// decisions the ServiceNow documentation leaves open.

// ssoLifetime is how long an SSO round trip may take.
const ssoLifetime = 10 * time.Minute

type ssoRequest struct {
	entity, nonce, redirect string
	expires                 time.Time
}

// ssoState holds SSO round trips in flight; its zero value is ready.
type ssoState struct {
	mu      sync.Mutex
	pending map[string]ssoRequest // by state
}

func (s *ssoState) put(state string, r ssoRequest) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.pending == nil {
		s.pending = map[string]ssoRequest{}
	}
	s.pending[state] = r
}

// take returns and forgets a round trip: a state is good once.
func (s *ssoState) take(state string, now time.Time) (ssoRequest, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.pending[state]
	delete(s.pending, state)
	for k, v := range s.pending {
		if now.After(v.expires) {
			delete(s.pending, k)
		}
	}
	return r, ok && !now.After(r.expires)
}

// idpEndpoints are what SSO needs from the IdP's discovery document.
type idpEndpoints struct {
	AuthorizationEndpoint string `json:"authorization_endpoint"`
	TokenEndpoint         string `json:"token_endpoint"`
}

// ssoEntity is an identity provider's records, copied out of the store.
type ssoEntity struct {
	rec, config Record
}

func (i *Instance) ssoEntity(id string) (*ssoEntity, error) {
	i.mu.RLock()
	defer i.mu.RUnlock()
	e := i.tables["oauth_entity"].rows[id]
	switch {
	case e == nil || e["type"] != "oidc_provider":
		return nil, fmt.Errorf("no OIDC identity provider with sys_id %s", id)
	case e["active"] != "true":
		return nil, fmt.Errorf("the identity provider %s is not active", e["name"])
	case e["default_grant_type"] != "authorization_code":
		return nil, fmt.Errorf("the identity provider %s does not use the Authorization Code grant", e["name"])
	}
	cfg := i.tables["oidc_provider_configuration"].rows[e["oidc_provider_configuration"]]
	if cfg == nil || cfg["oidc_url"] == "" {
		return nil, fmt.Errorf("the identity provider %s has no OIDC provider configuration with a metadata URL", e["name"])
	}
	return &ssoEntity{e.Clone(), cfg.Clone()}, nil
}

func (i *Instance) idpEndpoints(ctx context.Context, metadataURL string) (idpEndpoints, error) {
	var ep idpEndpoints
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, metadataURL, nil)
	if err != nil {
		return ep, err
	}
	resp, err := i.Outbound(GlobalScope, "system").Do(req)
	if err != nil {
		return ep, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return ep, fmt.Errorf("metadata %s answered %d", metadataURL, resp.StatusCode)
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&ep); err != nil || ep.AuthorizationEndpoint == "" || ep.TokenEndpoint == "" {
		return ep, fmt.Errorf("metadata %s names no authorization and token endpoints", metadataURL)
	}
	return ep, nil
}

// ssoFail logs the cause and shows the login page with ServiceNow's
// external-login failure message.
func (i *Instance) ssoFail(w http.ResponseWriter, cause string) {
	i.Log(LevelError, "SSO", "Multi-Provider SSO login failed: "+cause, "")
	w.Header().Set("Content-Type", "text/html;charset=UTF-8")
	w.Header().Set("X-Is-Logged-In", "false")
	w.WriteHeader(http.StatusUnauthorized)
	fmt.Fprintf(w, "<html><body><div class=\"outputmsg_error\">%s</div><form method=\"post\" action=\"/login.do\"></form></body></html>\n",
		html.EscapeString("Login failed with the external identity provider. Contact your system administrator. ("+cause+")"))
}

// loginWithSSO starts the round trip.
func (i *Instance) loginWithSSO(w http.ResponseWriter, r *http.Request) {
	e, err := i.ssoEntity(r.URL.Query().Get("glide_sso_id"))
	if err != nil {
		i.ssoFail(w, err.Error())
		return
	}
	ep, err := i.idpEndpoints(r.Context(), e.config["oidc_url"])
	if err != nil {
		i.ssoFail(w, err.Error())
		return
	}
	redirect := e.rec["redirect_url"]
	if redirect == "" {
		redirect = i.url + "/navpage.do"
	}
	state, nonce := newOpaqueToken(), newOpaqueToken()
	i.sso.put(state, ssoRequest{entity: e.rec["sys_id"], nonce: nonce, redirect: redirect, expires: i.clock.Now().Add(ssoLifetime)})
	u, err := url.Parse(ep.AuthorizationEndpoint)
	if err != nil {
		i.ssoFail(w, "bad authorization endpoint: "+err.Error())
		return
	}
	q := u.Query()
	for k, v := range map[string]string{"client_id": e.rec["client_id"], "response_type": "code", "response_mode": "form_post",
		"redirect_uri": redirect, "scope": "openid profile email", "state": state, "nonce": nonce} {
		q.Set(k, v)
	}
	u.RawQuery = q.Encode()
	w.Header().Set("Location", u.String())
	w.WriteHeader(http.StatusFound)
}

// ssoCallback receives the IdP's form_post at the Redirect URL.
func (i *Instance) ssoCallback(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 1<<20)
	if err := r.ParseForm(); err != nil {
		i.ssoFail(w, "unreadable callback")
		return
	}
	req, ok := i.sso.take(r.PostForm.Get("state"), i.clock.Now())
	if !ok {
		i.ssoFail(w, "unknown or expired SSO state")
		return
	}
	if e := r.PostForm.Get("error"); e != "" {
		i.ssoFail(w, e+": "+r.PostForm.Get("error_description"))
		return
	}
	e, err := i.ssoEntity(req.entity)
	if err != nil {
		i.ssoFail(w, err.Error())
		return
	}
	raw, err := i.redeemSSOCode(r.Context(), e, r.PostForm.Get("code"), req.redirect)
	if err != nil {
		i.ssoFail(w, err.Error())
		return
	}
	skew := time.Duration(atoiDefault(e.rec["clock_skew"], 300)) * time.Second
	ttl := time.Duration(atoiDefault(e.config["oidc_config_cache_life_span"], 24)) * time.Hour
	claims, err := i.oidc.Verify(r.Context(), raw, oidckeys.Expect{MetadataURL: e.config["oidc_url"], Audiences: []string{e.rec["client_id"]}, Skew: skew, CacheTTL: ttl})
	if err != nil {
		i.ssoFail(w, "ID token: "+err.Error())
		return
	}
	if n, _ := claims["nonce"].(string); n != req.nonce {
		i.ssoFail(w, "ID token: the nonce does not match the request")
		return
	}
	claimName := e.config["user_claim"]
	if claimName == "" {
		claimName = "email"
	}
	value, ok := oidckeys.Claim(claims, claimName)
	if !ok || value == "" {
		i.ssoFail(w, fmt.Sprintf("the ID token has no %s claim", claimName))
		return
	}
	field := userField(e.config["user_field"])
	i.mu.RLock()
	var user Record
	users := i.tables["sys_user"]
	for _, id := range users.order {
		if strings.EqualFold(users.rows[id][field], value) {
			user = users.rows[id].Clone()
			break
		}
	}
	i.mu.RUnlock()
	if user == nil {
		i.ssoFail(w, fmt.Sprintf("no user with %s = %s", field, value))
		return
	}
	c, fail := i.callerFor(user["sys_id"], "session")
	if fail != nil {
		i.ssoFail(w, fail.message)
		return
	}
	if user["web_service_access_only"] == "true" {
		i.ssoFail(w, fmt.Sprintf("the user %s is Web service access only", c.UserName))
		return
	}
	// The session is the one /login.do gives (login.go).
	sid := newSessionID()
	i.mu.Lock()
	i.sessions[sid] = uiSession{user: c.SysID, token: newUserToken()}
	_, _ = i.updateLocked("sys_user", c.SysID, map[string]string{"last_login_time": i.now()}, c.UserName)
	i.mu.Unlock()
	i.Log(LevelInfo, "SSO", fmt.Sprintf("User %s logged in through identity provider %s", c.UserName, e.rec["name"]), c.UserName)
	i.sessionCookies(w, r, sid)
	w.Header().Set("Location", "/navpage.do")
	w.WriteHeader(http.StatusFound)
}

// redeemSSOCode trades the code for tokens and returns the ID token.
func (i *Instance) redeemSSOCode(ctx context.Context, e *ssoEntity, code, redirect string) (string, error) {
	if code == "" {
		return "", fmt.Errorf("the callback carries no code")
	}
	ep, err := i.idpEndpoints(ctx, e.config["oidc_url"])
	if err != nil {
		return "", err
	}
	form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirect},
		"client_id": {e.rec["client_id"]}, "client_secret": {e.rec["client_secret"]}, "scope": {"openid profile email"}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, ep.TokenEndpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := i.Outbound(GlobalScope, "system").Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var body struct {
		IDToken          string `json:"id_token"`
		Error            string `json:"error"`
		ErrorDescription string `json:"error_description"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&body); err != nil {
		return "", fmt.Errorf("token endpoint answered %d without JSON", resp.StatusCode)
	}
	if resp.StatusCode != http.StatusOK || body.IDToken == "" {
		return "", fmt.Errorf("token endpoint answered %d: %s %s", resp.StatusCode, body.Error, body.ErrorDescription)
	}
	return body.IDToken, nil
}
