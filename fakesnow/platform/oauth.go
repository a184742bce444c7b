package platform

import (
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"time"
)

type oauthToken struct {
	kind    string // access or refresh
	user    string // sys_user sys_id
	entity  string // oauth_entity sys_id
	expires time.Time
	refresh string // the refresh token an access token came with
}

// writeTokenError is ServiceNow's answer to every failed token request
// (reference/servicenow.md §4.2): the reason goes to the system log only.
func (i *Instance) writeTokenError(w http.ResponseWriter, reason string) {
	i.Log(LevelError, "OAuth", "Exception on token flow - "+reason, "")
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	noCache(w.Header())
	w.WriteHeader(http.StatusUnauthorized)
	_, _ = w.Write([]byte(`{"error_description":"access_denied","error":"server_error"}`))
}

// oauthToken serves POST /oauth_token.do.
func (i *Instance) oauthToken(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		i.writeTokenError(w, "invalid_request: the token endpoint accepts POST only")
		return
	}
	if ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); ct != "application/x-www-form-urlencoded" {
		i.writeTokenError(w, "invalid_request: unspecified error (the body must be application/x-www-form-urlencoded)")
		return
	}
	if err := r.ParseForm(); err != nil {
		i.writeTokenError(w, "invalid_request: "+err.Error())
		return
	}
	f := r.PostForm
	clientID, secret := f.Get("client_id"), f.Get("client_secret")
	if u, p, ok := r.BasicAuth(); ok && clientID == "" {
		clientID, secret = u, p
	}
	grant := f.Get("grant_type")

	i.mu.RLock()
	var entity Record
	ents := i.tables["oauth_entity"]
	for _, id := range ents.order {
		e := ents.rows[id]
		if e["client_id"] == clientID && e["type"] == "client" {
			entity = e.Clone()
			break
		}
	}
	i.mu.RUnlock()
	switch {
	case clientID == "":
		i.writeTokenError(w, "invalid_client: client_id is missing")
		return
	case entity == nil:
		i.writeTokenError(w, fmt.Sprintf("invalid_client: no OAuth client with client_id %s", clientID))
		return
	case entity["active"] != "true":
		i.writeTokenError(w, fmt.Sprintf("invalid_client: OAuth client %s is inactive", entity["name"]))
		return
	case subtle.ConstantTimeCompare([]byte(entity["client_secret"]), []byte(secret)) != 1 || secret == "":
		i.writeTokenError(w, fmt.Sprintf("invalid_client: wrong client secret for OAuth client %s", entity["name"]))
		return
	}
	accessLife := time.Duration(atoiDefault(entity["access_token_lifespan"], 1800)) * time.Second
	refreshLife := time.Duration(atoiDefault(entity["refresh_token_lifespan"], 8640000)) * time.Second
	now := i.clock.Now()

	var user string
	withRefresh := true
	switch grant {
	case "password":
		if i.Property(PropBasicAuthAllowed) == "false" {
			i.writeTokenError(w, fmt.Sprintf("invalid_grant: the password grant is refused because inbound basic authentication is disallowed (%s=false)", PropBasicAuthAllowed))
			return
		}
		c, fail := i.checkPassword(f.Get("username"), f.Get("password"), "oauth")
		if fail != nil {
			i.writeTokenError(w, "invalid_grant: "+fail.message)
			return
		}
		user = c.SysID
	case "refresh_token":
		i.mu.RLock()
		t, ok := i.tokens[f.Get("refresh_token")]
		i.mu.RUnlock()
		switch {
		case !ok || t.kind != "refresh":
			i.writeTokenError(w, "invalid_grant: unknown refresh token")
			return
		case t.entity != entity["sys_id"]:
			i.writeTokenError(w, "invalid_grant: the refresh token belongs to another OAuth client")
			return
		case !now.Before(t.expires):
			i.writeTokenError(w, "invalid_grant: the refresh token is expired")
			return
		}
		if _, fail := i.callerFor(t.user, "oauth"); fail != nil {
			i.writeTokenError(w, "invalid_grant: "+fail.message)
			return
		}
		user = t.user
		if !i.issueAccess(w, entity["sys_id"], user, f.Get("refresh_token"), now, accessLife) {
			i.writeTokenError(w, "invalid_grant: unknown refresh token")
			return
		}
		return
	case "client_credentials":
		if i.Property(PropClientCredentials) != "true" {
			i.writeTokenError(w, fmt.Sprintf("unsupported_grant_type: client_credentials is disabled (%s is not true)", PropClientCredentials))
			return
		}
		if entity["user"] == "" {
			i.writeTokenError(w, fmt.Sprintf("invalid_client: OAuth client %s has no OAuth Application User", entity["name"]))
			return
		}
		if _, fail := i.callerFor(entity["user"], "oauth"); fail != nil {
			i.writeTokenError(w, "invalid_grant: "+fail.message)
			return
		}
		user, withRefresh = entity["user"], false
	case "":
		i.writeTokenError(w, "invalid_request: grant_type is missing")
		return
	default:
		i.writeTokenError(w, fmt.Sprintf("unsupported_grant_type: %s", grant))
		return
	}

	// Repeated requests inside a token's lifetime get the current token.
	i.mu.Lock()
	var access, refresh string
	var expires time.Time
	for tok, t := range i.tokens {
		if t.kind == "access" && t.user == user && t.entity == entity["sys_id"] && now.Before(t.expires) && (t.refresh != "") == withRefresh {
			access, refresh, expires = tok, t.refresh, t.expires
			break
		}
	}
	if access == "" {
		if withRefresh {
			refresh = newOpaqueToken()
			i.tokens[refresh] = &oauthToken{kind: "refresh", user: user, entity: entity["sys_id"], expires: now.Add(refreshLife)}
		}
		access, expires = newOpaqueToken(), now.Add(accessLife)
		i.tokens[access] = &oauthToken{kind: "access", user: user, entity: entity["sys_id"], expires: expires, refresh: refresh}
	}
	i.mu.Unlock()
	writeTokenBody(w, access, refresh, expires.Sub(now))
}

// issueAccess answers a refresh grant: a new access token, the same refresh
// token. The refresh token is looked up again under the write lock: it may
// have been revoked (a password reset) since the grant was checked, and a
// revoked token must not mint access (read-modify-write audit, issue 11).
// It reports false, having written nothing, when the token is gone.
func (i *Instance) issueAccess(w http.ResponseWriter, entity, user, refresh string, now time.Time, life time.Duration) bool {
	access := newOpaqueToken()
	i.mu.Lock()
	if t, ok := i.tokens[refresh]; !ok || t.kind != "refresh" || t.user != user {
		i.mu.Unlock()
		return false
	}
	i.tokens[access] = &oauthToken{kind: "access", user: user, entity: entity, expires: now.Add(life), refresh: refresh}
	i.mu.Unlock()
	writeTokenBody(w, access, refresh, life)
	return true
}

func writeTokenBody(w http.ResponseWriter, access, refresh string, life time.Duration) {
	body := struct {
		AccessToken  string `json:"access_token"`
		RefreshToken string `json:"refresh_token,omitempty"`
		Scope        string `json:"scope"`
		TokenType    string `json:"token_type"`
		ExpiresIn    int    `json:"expires_in"`
	}{access, refresh, "useraccount", "Bearer", int(life.Seconds()) - 1}
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	noCache(w.Header())
	_ = json.NewEncoder(w).Encode(body)
}

// RevokeTokens drops every token of a user (a changed password does).
func (i *Instance) revokeTokensLocked(user string) {
	for tok, t := range i.tokens {
		if t.user == user {
			delete(i.tokens, tok)
		}
	}
	for sid, s := range i.sessions {
		if s.user == user {
			delete(i.sessions, sid)
		}
	}
}
