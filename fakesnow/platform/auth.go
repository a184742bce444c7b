package platform

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/m365snow/m365snow/internal/oidckeys"
)

// Caller is the authenticated user of a request.
type Caller struct {
	SysID    string
	UserName string
	Email    string
	// Via says how the user authenticated: basic, oauth, oidc, session,
	// or system for platform work.
	Via string
	// Entity is the oauth_entity sys_id behind a bearer token: the OAuth
	// client that issued it (oauth) or the OIDC provider that validated it
	// (oidc). Empty otherwise.
	Entity string
	roles  map[string]bool
}

// HasRole reports whether the caller holds role, directly or through
// containment. Admins hold every role.
func (c *Caller) HasRole(role string) bool { return c.roles["admin"] || c.roles[role] }

// HasExactRole ignores the admin override.
func (c *Caller) HasExactRole(role string) bool { return c.roles[role] }

// Interactive reports whether the caller signed in through the UI.
func (c *Caller) Interactive() bool { return c.Via == "session" }

type callerKey struct{}

func withCaller(ctx context.Context, c *Caller) context.Context {
	return context.WithValue(ctx, callerKey{}, c)
}

// CallerFrom returns the caller a scripted REST API request runs as.
func CallerFrom(ctx context.Context) *Caller {
	c, _ := ctx.Value(callerKey{}).(*Caller)
	return c
}

// authFailure is why a request is not authenticated; it goes to the system
// log, never to the client, which sees ServiceNow's generic 401.
type authFailure struct {
	source, message, user string
}

func (f *authFailure) Error() string { return f.message }

// authenticated wraps a handler that needs a signed-in caller.
func (i *Instance) authenticated(h func(http.ResponseWriter, *http.Request, *Caller)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		c, fail := i.Authenticate(r)
		if fail != nil {
			i.writeUnauthenticated(w)
			return
		}
		i.loggedIn(w, r)
		h(w, r, c)
	}
}

// loggedIn sets the headers and cookies of an authenticated API answer
// (reference/servicenow.md §1.1, from real Table API answers).
func (i *Instance) loggedIn(w http.ResponseWriter, r *http.Request) {
	if batchCallerFrom(r.Context()) != nil {
		return
	}
	w.Header().Set("X-Is-Logged-In", "true")
	i.sessionCookies(w, r, "")
}

// Authenticate identifies the caller of r in the order the reference's
// guidance gives: Basic credentials, then a Bearer token (ServiceNow OAuth
// token, else an external OIDC JWT), then the session cookie. Every failure
// is written to the system log with the check that failed.
func (i *Instance) Authenticate(r *http.Request) (*Caller, error) {
	c, fail := i.authenticate(r)
	if fail != nil {
		i.Log(LevelWarn, fail.source, fail.message, fail.user)
		return nil, fail
	}
	return c, nil
}

func (i *Instance) authenticate(r *http.Request) (*Caller, *authFailure) {
	h := r.Header.Get("Authorization")
	if c := batchCallerFrom(r.Context()); c != nil && h == "" {
		return c, nil // a Batch API item runs as the batch's caller
	}
	switch {
	case strings.HasPrefix(h, "Basic "):
		user, pass, ok := r.BasicAuth()
		if !ok {
			return nil, &authFailure{"Authentication", "Basic authentication header is malformed", ""}
		}
		if i.Property(PropBasicAuthAllowed) == "false" {
			return nil, &authFailure{"Authentication", fmt.Sprintf("Basic authentication refused for user %s: inbound basic authentication is disallowed (%s=false)", user, PropBasicAuthAllowed), ""}
		}
		c, fail := i.checkPassword(user, pass, "basic")
		if fail == nil {
			fail = i.basicRestriction(c)
		}
		if fail != nil {
			return nil, fail
		}
		return c, nil
	case strings.HasPrefix(h, "Bearer "):
		tok := strings.TrimSpace(strings.TrimPrefix(h, "Bearer "))
		i.mu.RLock()
		t, ok := i.tokens[tok]
		var client Record
		if ok {
			client = i.tables["oauth_entity"].rows[t.entity]
		}
		clientActive := client != nil && client["active"] == "true"
		i.mu.RUnlock()
		if ok {
			if t.kind != "access" || !i.clock.Now().Before(t.expires) {
				return nil, &authFailure{"OAuth", "OAuth access token is expired or is not an access token", ""}
			}
			if !clientActive {
				// A token is only as good as the client it was issued to:
				// deactivating (or deleting) the client ends its tokens.
				return nil, &authFailure{"OAuth", "OAuth access token belongs to an OAuth client that is inactive or no longer exists", ""}
			}
			c, fail := i.callerFor(t.user, "oauth")
			if c != nil {
				c.Entity = t.entity
			}
			return c, fail
		}
		if strings.Count(tok, ".") == 2 {
			return i.authenticateOIDC(r.Context(), tok)
		}
		return nil, &authFailure{"OAuth", "Bearer token is neither a valid OAuth access token of this instance nor a JWT", ""}
	case h != "":
		return nil, &authFailure{"Authentication", "Unsupported Authorization scheme", ""}
	}
	if ck, err := r.Cookie("JSESSIONID"); err == nil {
		return i.sessionCaller(r, ck.Value)
	}
	return nil, &authFailure{"Authentication", "No credentials provided", ""}
}

// checkPassword verifies a user name and password, and the account's state.
func (i *Instance) checkPassword(userName, password, via string) (*Caller, *authFailure) {
	i.mu.RLock()
	u := i.userByNameLocked(userName)
	var rec Record
	if u != nil {
		rec = u.Clone()
	}
	i.mu.RUnlock()
	switch {
	case rec == nil:
		return nil, &authFailure{"Authentication", fmt.Sprintf("User %s not found", userName), ""}
	case rec["active"] != "true":
		return nil, &authFailure{"Authentication", fmt.Sprintf("User %s is inactive", userName), ""}
	case rec["locked_out"] == "true":
		return nil, &authFailure{"Authentication", fmt.Sprintf("User %s is locked out", userName), ""}
	case rec["user_password"] == "" || subtle.ConstantTimeCompare([]byte(rec["user_password"]), []byte(password)) != 1:
		return nil, &authFailure{"Authentication", fmt.Sprintf("Wrong password for user %s", userName), ""}
	}
	return i.callerFor(rec["sys_id"], via)
}

// userByNameLocked finds a user by user_name, case-insensitively, as
// ServiceNow's login does.
func (i *Instance) userByNameLocked(name string) Record {
	td := i.tables["sys_user"]
	for _, id := range td.order {
		if strings.EqualFold(td.rows[id]["user_name"], name) {
			return td.rows[id]
		}
	}
	return nil
}

// callerFor builds a Caller for an active, unlocked user.
func (i *Instance) callerFor(userSysID, via string) (*Caller, *authFailure) {
	i.mu.RLock()
	defer i.mu.RUnlock()
	u := i.tables["sys_user"].rows[userSysID]
	if u == nil {
		return nil, &authFailure{"Authentication", "The session's or token's user no longer exists", ""}
	}
	if u["active"] != "true" || u["locked_out"] == "true" {
		return nil, &authFailure{"Authentication", fmt.Sprintf("User %s is inactive or locked out", u["user_name"]), ""}
	}
	return &Caller{SysID: userSysID, UserName: u["user_name"], Email: u["email"], Via: via, roles: i.rolesLocked(userSysID)}, nil
}

// System is the platform acting on its own behalf (fixtures, installs):
// an administrator that no request can impersonate.
func (i *Instance) System() *Caller {
	return &Caller{UserName: "system", Via: "system", roles: map[string]bool{"admin": true, "snc_internal": true}}
}

// Caller returns a caller for a user name, as platform code does when it
// runs on someone's behalf (tests and the control plane).
func (i *Instance) Caller(userName string) (*Caller, error) {
	i.mu.RLock()
	u := i.userByNameLocked(userName)
	i.mu.RUnlock()
	if u == nil {
		return nil, fmt.Errorf("no user %s", userName)
	}
	c, fail := i.callerFor(u["sys_id"], "system")
	if fail != nil {
		return nil, fmt.Errorf("%s", fail.message)
	}
	return c, nil
}

// rolesLocked returns a user's effective roles: direct grants, their
// contained roles, and snc_internal for everyone signed in.
func (i *Instance) rolesLocked(userSysID string) map[string]bool {
	i.cacheMu.Lock()
	m, ok := i.roleMemo[userSysID]
	i.cacheMu.Unlock()
	if ok && m.version == i.secVersion {
		return m.roles
	}
	roleName := func(id string) string { return i.tables["sys_user_role"].rows[id]["name"] }
	contains := map[string][]string{}
	rc := i.tables["sys_user_role_contains"]
	for _, id := range rc.order {
		r := rc.rows[id]
		contains[r["role"]] = append(contains[r["role"]], r["contains"])
	}
	roles := map[string]bool{"snc_internal": true}
	var stack []string
	hr := i.tables["sys_user_has_role"]
	for _, id := range hr.order {
		if r := hr.rows[id]; r["user"] == userSysID && r["state"] != "inactive" {
			stack = append(stack, r["role"])
		}
	}
	seen := map[string]bool{}
	for len(stack) > 0 {
		id := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if seen[id] {
			continue
		}
		seen[id] = true
		if n := roleName(id); n != "" {
			roles[n] = true
		}
		stack = append(stack, contains[id]...)
	}
	i.cacheMu.Lock()
	i.roleMemo[userSysID] = roleMemo{version: i.secVersion, roles: roles}
	i.cacheMu.Unlock()
	return roles
}

// aclAllows evaluates the record ACLs of table for op: admin always
// passes; otherwise an active ACL must exist and, if it names roles, the
// caller must hold one. No ACL means admin only.
func (i *Instance) aclAllowsLocked(c *Caller, table string, op Op) bool {
	if c.roles["admin"] {
		return true
	}
	m := i.aclMemoLocked(table, op)
	return m.exists && m.allows(c)
}

// allows reports whether c passes the ACLs of m (which exist).
func (m aclMemo) allows(c *Caller) bool {
	if c.roles["admin"] || m.roles == nil {
		return true
	}
	for r := range m.roles {
		if c.roles[r] {
			return true
		}
	}
	return false
}

// aclMemoLocked gathers the active ACLs named name (a table, or
// "table.field" for a field ACL) for op: whether any exists and the roles
// that pass them (nil: every signed-in user).
func (i *Instance) aclMemoLocked(name string, op Op) aclMemo {
	key := name + "/" + string(op)
	i.cacheMu.Lock()
	m, ok := i.aclMemo[key]
	i.cacheMu.Unlock()
	if ok && m.version == i.secVersion {
		return m
	}
	m = aclMemo{version: i.secVersion, roles: map[string]bool{}}
	acls, links := i.tables["sys_security_acl"], i.tables["sys_security_acl_role"]
	anyRoleless := false
	for _, id := range acls.order {
		a := acls.rows[id]
		if a["name"] != name || a["operation"] != string(op) || a["active"] != "true" {
			continue
		}
		m.exists = true
		n := 0
		for _, lid := range links.order {
			l := links.rows[lid]
			if l["sys_security_acl"] == id {
				n++
				m.roles[i.tables["sys_user_role"].rows[l["sys_user_role"]]["name"]] = true
			}
		}
		if n == 0 {
			anyRoleless = true
		}
	}
	if anyRoleless {
		m.roles = nil // an ACL without roles admits every signed-in user
	}
	i.cacheMu.Lock()
	i.aclMemo[key] = m
	i.cacheMu.Unlock()
	return m
}

// canSeeRowLocked applies a table's own-rows restriction.
func (i *Instance) canSeeRowLocked(c *Caller, def *Table, rec Record) bool {
	return def.OwnRows == "" || c.roles["admin"] || rec[def.OwnRows] == c.SysID
}

// authenticateOIDC validates an external JWT the way an OIDC provider entity
// does (DESIGN §4, reference/servicenow.md §4.3).
func (i *Instance) authenticateOIDC(ctx context.Context, raw string) (*Caller, *authFailure) {
	const source = "OIDC"
	failf := func(format string, args ...any) *authFailure {
		return &authFailure{source, "OIDC token verification failed: " + fmt.Sprintf(format, args...), ""}
	}
	unverified, err := oidckeys.Unverified(raw)
	if err != nil {
		return nil, failf("%v", err)
	}
	auds, _ := unverified.GetAudience()
	iss, _ := unverified["iss"].(string)

	type entity struct {
		rec, config Record
	}
	var found []entity
	i.mu.RLock()
	ents := i.tables["oauth_entity"]
	for _, id := range ents.order {
		e := ents.rows[id]
		if e["type"] != "oidc_provider" || e["active"] != "true" {
			continue
		}
		for _, a := range auds {
			if a == e["client_id"] {
				found = append(found, entity{e.Clone(), i.tables["oidc_provider_configuration"].rows[e["oidc_provider_configuration"]].Clone()})
			}
		}
	}
	i.mu.RUnlock()
	if len(found) == 0 {
		return nil, &authFailure{source, fmt.Sprintf("Cannot find oauth_oidc_entity for issuer %s with client_ids %s", iss, strings.Join(auds, ",")), ""}
	}
	var last *authFailure
	for _, e := range found {
		cfg := e.config
		if cfg["oidc_url"] == "" {
			last = failf("%s: metadata: entity %s has no OIDC provider configuration with a metadata URL", oidckeys.CheckMetadata, e.rec["name"])
			continue
		}
		skew := time.Duration(atoiDefault(e.rec["clock_skew"], 300)) * time.Second
		ttl := time.Duration(atoiDefault(cfg["oidc_config_cache_life_span"], 24)) * time.Hour
		claims, err := i.oidc.Verify(ctx, raw, oidckeys.Expect{MetadataURL: cfg["oidc_url"], Audiences: []string{e.rec["client_id"]}, Skew: skew, CacheTTL: ttl})
		if err != nil {
			last = failf("%v (entity %s)", err, e.rec["name"])
			continue
		}
		if cfg["enable_jti_verification"] == "true" {
			jti, _ := claims["jti"].(string)
			if jti == "" {
				last = failf("JTI claim verification failed: the token has no jti claim (entity %s)", e.rec["name"])
				continue
			}
			i.mu.Lock()
			_, seen := i.jtis[jti]
			i.jtis[jti] = struct{}{}
			i.mu.Unlock()
			if seen {
				last = failf("JTI claim verification failed, duplicated JTI found (entity %s)", e.rec["name"])
				continue
			}
		}
		claimName := cfg["user_claim"]
		value, ok := oidckeys.Claim(claims, claimName)
		if !ok || value == "" {
			last = failf("user claim %q is missing from the token (entity %s)", claimName, e.rec["name"])
			continue
		}
		field := userField(cfg["user_field"])
		i.mu.RLock()
		var user Record
		users := i.tables["sys_user"]
		for _, id := range users.order {
			if strings.EqualFold(users.rows[id][field], value) {
				user = users.rows[id]
				break
			}
		}
		i.mu.RUnlock()
		if user == nil {
			last = failf("no user with %s = %s (claim %s, entity %s)", field, value, claimName, e.rec["name"])
			continue
		}
		c, fail := i.callerFor(user["sys_id"], "oidc")
		if c != nil {
			c.Entity = e.rec["sys_id"]
		}
		return c, fail
	}
	return nil, last
}

// userField maps the provider configuration's User Field, which admins may
// fill with a label such as the guide's "User ID", to a column.
func userField(v string) string {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "", "user id", "user_name":
		return "user_name"
	case "email":
		return "email"
	case "sys id", "sys_id":
		return "sys_id"
	}
	return v
}

func atoiDefault(s string, def int) int {
	var n int
	if _, err := fmt.Sscanf(s, "%d", &n); err != nil || n <= 0 {
		return def
	}
	return n
}

// newOpaqueToken makes an 86-character base64url token, the length of
// ServiceNow's documented examples.
func newOpaqueToken() string {
	b := make([]byte, 64)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
