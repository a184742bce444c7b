package platform

import (
	"fmt"
	"sort"
	"time"
)

// Credential is an issued OAuth token or a UI session as a state export
// carries it. ServiceNow keeps OAuth tokens in a table (oauth_credential),
// so a save and restore of an instance must not sign every client out: a
// connector's refresh token has to outlive it.
type Credential struct {
	Token string `yaml:"token"`
	// Kind is access or refresh (OAuth) or session (a JSESSIONID).
	Kind string `yaml:"kind"`
	// User is the sys_user sys_id the credential acts as.
	User string `yaml:"user"`
	// Entity is the oauth_entity sys_id a token was issued to.
	Entity string `yaml:"entity,omitempty"`
	// Expires is when a token stops working (sessions do not expire here).
	Expires time.Time `yaml:"expires,omitempty"`
	// Refresh is the refresh token an access token came with.
	Refresh string `yaml:"refresh,omitempty"`
	// UserToken is a session's g_ck, the X-UserToken its REST calls send
	// (session.go).
	UserToken string `yaml:"user_token,omitempty"`
}

// Credentials are the instance's tokens and sessions, and the OIDC token
// ids (jti) it has seen, in the order exports write them.
type Credentials struct {
	Tokens   []Credential
	UsedJTIs []string
}

// SnapshotWithCredentials is Snapshot plus the credentials, read under one
// lock so that the two agree.
func (i *Instance) SnapshotWithCredentials() (map[string][]Record, Credentials) {
	i.mu.RLock()
	defer i.mu.RUnlock()
	out := map[string][]Record{}
	for name, td := range i.tables {
		rows := make([]Record, 0, len(td.order))
		for _, id := range td.order {
			rows = append(rows, td.rows[id].Clone())
		}
		out[name] = rows
	}
	var c Credentials
	for tok, t := range i.tokens {
		c.Tokens = append(c.Tokens, Credential{Token: tok, Kind: t.kind, User: t.user, Entity: t.entity, Expires: t.expires.UTC(), Refresh: t.refresh})
	}
	for sid, s := range i.sessions {
		c.Tokens = append(c.Tokens, Credential{Token: sid, Kind: "session", User: s.user, UserToken: s.token})
	}
	sort.Slice(c.Tokens, func(a, b int) bool {
		if c.Tokens[a].Kind != c.Tokens[b].Kind {
			return c.Tokens[a].Kind < c.Tokens[b].Kind
		}
		return c.Tokens[a].Token < c.Tokens[b].Token
	})
	for jti := range i.jtis {
		c.UsedJTIs = append(c.UsedJTIs, jti)
	}
	sort.Strings(c.UsedJTIs)
	return out, c
}

// RestoreCredentials replaces the instance's tokens, sessions and seen
// token ids (Restore forgets them). Every credential must name an existing
// user, and a token an existing OAuth client.
func (i *Instance) RestoreCredentials(c Credentials) error {
	i.mu.Lock()
	defer i.mu.Unlock()
	tokens, sessions, jtis := map[string]*oauthToken{}, map[string]uiSession{}, map[string]struct{}{}
	for _, cr := range c.Tokens {
		if cr.Token == "" {
			return fmt.Errorf("credential of user %s: empty token", cr.User)
		}
		if _, dup := tokens[cr.Token]; dup {
			return fmt.Errorf("credential %s… appears twice", clipToken(cr.Token))
		}
		if _, dup := sessions[cr.Token]; dup {
			return fmt.Errorf("credential %s… appears twice", clipToken(cr.Token))
		}
		if _, ok := i.tables["sys_user"].rows[cr.User]; !ok {
			return fmt.Errorf("credential %s…: no sys_user %q", clipToken(cr.Token), cr.User)
		}
		switch cr.Kind {
		case "session":
			tok := cr.UserToken
			if tok == "" {
				tok = newUserToken() // an export from before sessions had tokens
			}
			sessions[cr.Token] = uiSession{user: cr.User, token: tok}
		case "access", "refresh":
			if _, ok := i.tables["oauth_entity"].rows[cr.Entity]; !ok {
				return fmt.Errorf("credential %s…: no oauth_entity %q", clipToken(cr.Token), cr.Entity)
			}
			if cr.Expires.IsZero() {
				return fmt.Errorf("credential %s…: an OAuth token needs expires", clipToken(cr.Token))
			}
			tokens[cr.Token] = &oauthToken{kind: cr.Kind, user: cr.User, entity: cr.Entity, expires: cr.Expires.UTC(), refresh: cr.Refresh}
		default:
			return fmt.Errorf("credential %s…: kind %q is not access, refresh or session", clipToken(cr.Token), cr.Kind)
		}
	}
	for _, j := range c.UsedJTIs {
		jtis[j] = struct{}{}
	}
	i.tokens, i.sessions, i.jtis = tokens, sessions, jtis
	i.secVersion++
	return nil
}

func clipToken(t string) string {
	if len(t) > 6 {
		return t[:6]
	}
	return t
}
