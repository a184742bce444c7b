package fakeaad

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/google/uuid"
	"gopkg.in/yaml.v3"

	"github.com/m365snow/m365snow/internal/fixture"
	"github.com/m365snow/m365snow/internal/wellknown"
)

// Fixture is the aad: section of a world fixture; fixtures/README.md
// documents it for people.
type Fixture struct {
	// SigningKeys are the published keys, "builtin-1".."builtin-3" or PEM
	// bundles. Default: [builtin-1, builtin-2] — the signing key and the
	// next one, as Entra always publishes ahead.
	SigningKeys []string `yaml:"signingKeys,omitempty"`
	// SigningKey is the one of SigningKeys that signs; default the first
	// when SigningKeys is defaulted, the last when it is given.
	SigningKey string `yaml:"signingKey,omitempty"`
	// ConnectorSecret is the client secret of the support connector's own
	// first-party app (default wellknown.ConnectorDefaultSecret).
	ConnectorSecret string          `yaml:"connectorSecret,omitempty"`
	Tenants         []TenantFixture `yaml:"tenants"`
	// Applications registered outside the tenant list name their home
	// tenant (id or domain); worlds that extend another add apps this way.
	Applications []ApplicationFixture `yaml:"applications,omitempty"`
	// Blocked are blocked states in force from the start (blocked.go).
	Blocked []Block `yaml:"blocked,omitempty"`
}

// TenantFixture describes one directory.
type TenantFixture struct {
	ID           string               `yaml:"id"`
	DisplayName  string               `yaml:"displayName"`
	Domains      []string             `yaml:"domains"`
	Users        []UserFixture        `yaml:"users,omitempty"`
	Applications []ApplicationFixture `yaml:"applications,omitempty"`
	// ServicePrincipals lists apps (by appId) that have a principal here
	// besides the tenant's own registrations: multi-tenant apps from other
	// tenants, or registrations made through Graph without one.
	ServicePrincipals []ServicePrincipalFixture `yaml:"servicePrincipals,omitempty"`
	// Consents are admin consents given in this tenant: app roles assigned
	// to a client's principal and delegated scopes granted to it.
	Consents []ConsentFixture `yaml:"consents,omitempty"`
}

// ConsentFixture grants a client (by appId) permissions on a resource (by
// appId): app roles by value, and delegated scopes for every user, or for
// one user when User names them.
type ConsentFixture struct {
	Client   string   `yaml:"client"`
	Resource string   `yaml:"resource"`
	AppRoles []string `yaml:"appRoles,omitempty"`
	Scopes   []string `yaml:"scopes,omitempty"`
	User     string   `yaml:"user,omitempty"`
}

// UserFixture describes a directory user.
type UserFixture struct {
	ID                string   `yaml:"id,omitempty"`
	UserPrincipalName string   `yaml:"userPrincipalName"`
	Mail              string   `yaml:"mail,omitempty"`
	DisplayName       string   `yaml:"displayName,omitempty"`
	GivenName         string   `yaml:"givenName,omitempty"`
	Surname           string   `yaml:"surname,omitempty"`
	Password          string   `yaml:"password"`
	Roles             []string `yaml:"roles,omitempty"` // display names, e.g. Global Administrator
	AccountEnabled    *bool    `yaml:"accountEnabled,omitempty"`
}

// ApplicationFixture describes an app registration in its home tenant.
type ApplicationFixture struct {
	// Tenant is the home tenant of a top-level registration.
	Tenant             string                      `yaml:"tenant,omitempty"`
	AppID              string                      `yaml:"appId"`
	ID                 string                      `yaml:"id,omitempty"`
	DisplayName        string                      `yaml:"displayName"`
	SignInAudience     string                      `yaml:"signInAudience,omitempty"`
	IdentifierURIs     []string                    `yaml:"identifierUris,omitempty"`
	RedirectURIs       []string                    `yaml:"redirectUris,omitempty"`
	AccessTokenVersion int                         `yaml:"accessTokenVersion,omitempty"`
	PublicClient       bool                        `yaml:"publicClient,omitempty"`
	PasswordCreds      []PasswordCredentialFixture `yaml:"passwordCredentials,omitempty"`
	KeyCreds           []KeyCredentialFixture      `yaml:"keyCredentials,omitempty"`
	// GrantedAppRoles are app roles (by value) of resources (by appId)
	// assigned to the app's principal in its home tenant.
	GrantedAppRoles map[string][]string `yaml:"grantedAppRoles,omitempty"`
	// Graph holds any other writable property of Graph's application
	// resource in its JSON form (api, appRoles, keyCredentials, spa, web,
	// optionalClaims, tags, requiredResourceAccess, ...).
	Graph map[string]any `yaml:"graph,omitempty"`
	// ServicePrincipal: the portal creates one with every registration,
	// so the default is true; Graph-made registrations export false.
	ServicePrincipal *bool  `yaml:"servicePrincipal,omitempty"`
	Created          string `yaml:"created,omitempty"`
}

// PasswordCredentialFixture is a client secret.
type PasswordCredentialFixture struct {
	KeyID       string `yaml:"keyId,omitempty"`
	DisplayName string `yaml:"displayName,omitempty"`
	Secret      string `yaml:"secret"`
	Start       string `yaml:"startDateTime,omitempty"` // RFC 3339; default: long ago
	End         string `yaml:"endDateTime,omitempty"`   // RFC 3339; default: far ahead
}

// ServicePrincipalFixture gives an app a principal in a tenant.
type ServicePrincipalFixture struct {
	AppID string `yaml:"appId"`
	ID    string `yaml:"id,omitempty"`
}

// ParseFixture decodes an aad: section.
func ParseFixture(n *yaml.Node) (*Fixture, error) {
	var f Fixture
	if err := fixture.Section(n, &f); err != nil {
		return nil, fmt.Errorf("aad: %w", err)
	}
	return &f, nil
}

var (
	defaultStart = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	defaultEnd   = time.Date(2099, 12, 31, 0, 0, 0, 0, time.UTC)
)

func parseTime(s string, def time.Time) (time.Time, error) {
	if s == "" {
		return def, nil
	}
	return time.Parse(time.RFC3339, s)
}

func normGUID(s, what string) (string, error) {
	u, err := uuid.Parse(s)
	if err != nil {
		return "", fmt.Errorf("%s %q is not a GUID", what, s)
	}
	return u.String(), nil
}

// build turns a fixture into a directory. IDs the fixture leaves out are
// derived from stable names, so loading the same fixture twice gives the
// same world.
func (f *Fixture) build() (*directory, error) {
	d := newDirectory()
	secret := f.ConnectorSecret
	if secret == "" {
		secret = wellknown.ConnectorDefaultSecret
	}
	for _, a := range firstPartyApps(secret) {
		d.apps[strings.ToLower(a.AppID)] = a
	}
	d.keys, d.signer = f.SigningKeys, f.SigningKey
	if len(d.keys) == 0 {
		d.keys = []string{"builtin-1", "builtin-2"}
		if d.signer == "" {
			d.signer = "builtin-1"
		}
	}
	if d.signer == "" {
		d.signer = d.keys[len(d.keys)-1]
	}
	for _, tf := range f.Tenants {
		id, err := normGUID(tf.ID, "tenant id")
		if err != nil {
			return nil, err
		}
		if d.tenants[id] != nil {
			return nil, fmt.Errorf("tenant %s defined twice", id)
		}
		t := &Tenant{ID: id, DisplayName: tf.DisplayName, ServicePrincipals: map[string]*ServicePrincipal{}}
		d.tenants[id] = t
		for _, dom := range tf.Domains {
			dom = strings.ToLower(dom)
			if d.byDomain[dom] != nil {
				return nil, fmt.Errorf("domain %s belongs to two tenants", dom)
			}
			t.Domains = append(t.Domains, dom)
			d.byDomain[dom] = t
		}
		tenantNS := uuid.MustParse(id)
		for _, uf := range tf.Users {
			if uf.UserPrincipalName == "" || uf.Password == "" {
				return nil, fmt.Errorf("tenant %s: users need userPrincipalName and password", id)
			}
			u := &User{UPN: uf.UserPrincipalName, Mail: uf.Mail, DisplayName: uf.DisplayName, GivenName: uf.GivenName,
				Surname: uf.Surname, Password: uf.Password, AccountEnabled: uf.AccountEnabled == nil || *uf.AccountEnabled}
			if u.ObjectID = uf.ID; u.ObjectID == "" {
				u.ObjectID = uuid.NewSHA1(tenantNS, []byte("user:"+strings.ToLower(u.UPN))).String()
			} else if u.ObjectID, err = normGUID(u.ObjectID, "user id"); err != nil {
				return nil, err
			}
			if u.DisplayName == "" {
				u.DisplayName = strings.TrimSpace(u.GivenName + " " + u.Surname)
			}
			for _, r := range uf.Roles {
				rid, ok := wellknown.DirectoryRoles[r]
				if !ok {
					return nil, fmt.Errorf("user %s: unknown directory role %q (known: Global Administrator, Helpdesk Administrator, Service Support Administrator, Application Administrator)", u.UPN, r)
				}
				u.Roles = append(u.Roles, rid)
			}
			if t.user(u.UPN) != nil {
				return nil, fmt.Errorf("user %s defined twice", u.UPN)
			}
			t.Users = append(t.Users, u)
		}
		for _, af := range tf.Applications {
			if af.Tenant != "" {
				return nil, fmt.Errorf("application %s: tenant is only for top-level applications", af.AppID)
			}
			if err := d.register(t, af); err != nil {
				return nil, err
			}
		}
	}
	for _, af := range f.Applications {
		t := d.tenant(af.Tenant)
		if t == nil {
			return nil, fmt.Errorf("application %s: no tenant %q", af.AppID, af.Tenant)
		}
		if err := d.register(t, af); err != nil {
			return nil, err
		}
	}
	// Principals of foreign apps need every registration loaded first.
	for _, tf := range f.Tenants {
		t := d.tenants[strings.ToLower(tf.ID)]
		for _, sf := range tf.ServicePrincipals {
			appID, err := normGUID(sf.AppID, "servicePrincipal appId")
			if err != nil {
				return nil, err
			}
			a := d.app(appID)
			if a == nil {
				return nil, fmt.Errorf("tenant %s: service principal for unknown app %s", t.ID, appID)
			}
			sp := &ServicePrincipal{ObjectID: sf.ID, AppID: appID, DisplayName: a.DisplayName, AccountEnabled: true}
			if sp.ObjectID == "" {
				sp.ObjectID = uuid.NewSHA1(uuid.MustParse(t.ID), []byte("sp:"+appID)).String()
			}
			t.ServicePrincipals[appID] = sp
		}
	}
	for i, b := range f.Blocked {
		if err := b.validate(); err != nil {
			return nil, fmt.Errorf("blocked[%d]: %w", i, err)
		}
	}
	d.blocks = f.Blocked
	// Consents need every principal in place.
	for _, tf := range f.Tenants {
		if err := d.loadConsents(d.tenants[strings.ToLower(tf.ID)], tf.Consents); err != nil {
			return nil, err
		}
	}
	for _, a := range d.apps {
		if a.firstParty || len(a.GrantedAppRoles) == 0 {
			continue
		}
		t := d.tenants[a.HomeTenant]
		for res, roles := range a.GrantedAppRoles {
			if err := d.loadConsents(t, []ConsentFixture{{Client: a.AppID, Resource: res, AppRoles: roles}}); err != nil {
				return nil, err
			}
		}
		// From here on the tenant's assignments are the truth, so that
		// Graph can revoke them.
		a.GrantedAppRoles = nil
	}
	if err := d.validate(); err != nil {
		return nil, err
	}
	return d, nil
}

// loadConsents turns consent fixtures into app role assignments and
// delegated permission grants of t, with ids derived from their content.
func (d *directory) loadConsents(t *Tenant, consents []ConsentFixture) error {
	for _, cf := range consents {
		where := fmt.Sprintf("tenant %s: consent of %s on %s", t.ID, cf.Client, cf.Resource)
		client, resource := d.servicePrincipal(t, cf.Client), d.servicePrincipal(t, cf.Resource)
		if client == nil || resource == nil {
			return fmt.Errorf("%s: both need a service principal in the tenant", where)
		}
		ra := d.app(resource.AppID)
		for _, v := range cf.AppRoles {
			i := slices.IndexFunc(ra.AppRoles, func(r AppRole) bool { return r.Value == v })
			if i < 0 {
				return fmt.Errorf("%s: the resource defines no app role %q", where, v)
			}
			id := uuid.NewSHA1(uuid.MustParse(t.ID), []byte("assignment:"+client.ObjectID+resource.ObjectID+ra.AppRoles[i].ID))
			t.AppRoleAssignments = append(t.AppRoleAssignments, &AppRoleAssignment{
				ID:          base64.RawURLEncoding.EncodeToString(append(guidBytes(client.ObjectID), id[:8]...)),
				PrincipalID: client.ObjectID, ResourceID: resource.ObjectID, AppRoleID: ra.AppRoles[i].ID,
				Created: defaultStart.Format(time.RFC3339),
			})
		}
		if len(cf.Scopes) == 0 {
			continue
		}
		for _, sc := range cf.Scopes {
			if !slices.ContainsFunc(ra.Scopes, func(p PermissionScope) bool { return p.Value == sc }) {
				return fmt.Errorf("%s: the resource defines no scope %q", where, sc)
			}
		}
		g := &PermissionGrant{ClientID: client.ObjectID, ConsentType: "AllPrincipals", ResourceID: resource.ObjectID, Scope: strings.Join(cf.Scopes, " ")}
		if cf.User != "" {
			u := t.user(cf.User)
			if u == nil {
				return fmt.Errorf("%s: no user %s", where, cf.User)
			}
			g.ConsentType, g.PrincipalID = "Principal", u.ObjectID
		}
		g.ID = grantID(g.ClientID, g.ResourceID, g.PrincipalID)
		t.Grants = append(t.Grants, g)
	}
	return nil
}

// exportConsents renders t's consents back into fixture form.
func (d *directory) exportConsents(t *Tenant) []ConsentFixture {
	var out []ConsentFixture
	find := func(client, resource, user string) *ConsentFixture {
		for i := range out {
			if out[i].Client == client && out[i].Resource == resource && out[i].User == user {
				return &out[i]
			}
		}
		out = append(out, ConsentFixture{Client: client, Resource: resource, User: user})
		return &out[len(out)-1]
	}
	byOID := func(oid string) *ServicePrincipal { return d.principalByID(t, oid) }
	for _, a := range t.AppRoleAssignments {
		client, resource := byOID(a.PrincipalID), byOID(a.ResourceID)
		if client == nil || resource == nil {
			continue
		}
		ra := d.app(resource.AppID)
		for _, r := range ra.AppRoles {
			if strings.EqualFold(r.ID, a.AppRoleID) {
				c := find(client.AppID, resource.AppID, "")
				c.AppRoles = append(c.AppRoles, r.Value)
			}
		}
	}
	for _, g := range t.Grants {
		client, resource := byOID(g.ClientID), byOID(g.ResourceID)
		if client == nil || resource == nil {
			continue
		}
		user := ""
		if g.PrincipalID != "" {
			if u := t.userByID(g.PrincipalID); u != nil {
				user = u.UPN
			}
		}
		c := find(client.AppID, resource.AppID, user)
		c.Scopes = append(c.Scopes, strings.Fields(g.Scope)...)
	}
	return out
}

// register adds an app registration to its home tenant t, with its
// service principal unless the fixture says otherwise.
func (d *directory) register(t *Tenant, af ApplicationFixture) error {
	a, err := af.build(t.ID)
	if err != nil {
		return err
	}
	if d.app(a.AppID) != nil {
		return fmt.Errorf("appId %s registered twice", a.AppID)
	}
	if af.Graph != nil {
		doc := docMap(a)
		b, err := json.Marshal(af.Graph)
		if err != nil {
			return fmt.Errorf("app %s graph: %w", a.AppID, err)
		}
		var patch map[string]any
		_ = json.Unmarshal(b, &patch)
		mergeJSON(doc, patch)
		var gd appDoc
		if e := strictInto(doc, &gd, "application"); e != nil {
			return fmt.Errorf("app %s graph: %s", a.AppID, e.message)
		}
		if e := applyDoc(t, nil, a, gd); e != nil {
			return fmt.Errorf("app %s graph: %s", a.AppID, e.message)
		}
	}
	d.apps[strings.ToLower(a.AppID)] = a
	if af.ServicePrincipal == nil || *af.ServicePrincipal {
		t.ServicePrincipals[a.AppID] = &ServicePrincipal{
			ObjectID:    uuid.NewSHA1(uuid.MustParse(t.ID), []byte("sp:"+a.AppID)).String(),
			AppID:       a.AppID,
			DisplayName: a.DisplayName, AccountEnabled: true,
		}
	}
	return nil
}

func (af ApplicationFixture) build(home string) (*Application, error) {
	appID, err := normGUID(af.AppID, "appId")
	if err != nil {
		return nil, err
	}
	a := &Application{AppID: appID, HomeTenant: home, DisplayName: af.DisplayName, SignInAudience: af.SignInAudience,
		IdentifierURIs: af.IdentifierURIs, RedirectURIs: af.RedirectURIs, TokenVersion: af.AccessTokenVersion,
		PublicClient: af.PublicClient, GrantedAppRoles: af.GrantedAppRoles}
	if a.SignInAudience == "" {
		a.SignInAudience = "AzureADMyOrg"
	}
	if a.TokenVersion == 0 {
		a.TokenVersion = 1
	}
	if a.ObjectID = af.ID; a.ObjectID == "" {
		a.ObjectID = uuid.NewSHA1(uuid.MustParse(home), []byte("app:"+appID)).String()
	}
	if a.Created, err = parseTime(af.Created, defaultStart); err != nil {
		return nil, fmt.Errorf("app %s created: %w", appID, err)
	}
	for i, pf := range af.PasswordCreds {
		if pf.Secret == "" {
			return nil, fmt.Errorf("app %s: password credential %d has no secret", appID, i)
		}
		p := &PasswordCredential{KeyID: pf.KeyID, DisplayName: pf.DisplayName, Secret: pf.Secret, Hint: hint(pf.Secret)}
		if p.KeyID == "" {
			p.KeyID = uuid.NewSHA1(uuid.MustParse(appID), []byte(pf.Secret)).String()
		}
		if p.Start, err = parseTime(pf.Start, defaultStart); err != nil {
			return nil, fmt.Errorf("app %s secret %s start: %w", appID, p.KeyID, err)
		}
		if p.End, err = parseTime(pf.End, defaultEnd); err != nil {
			return nil, fmt.Errorf("app %s secret %s end: %w", appID, p.KeyID, err)
		}
		a.Passwords = append(a.Passwords, p)
	}
	for i, kf := range af.KeyCreds {
		k, err := kf.build(appID)
		if err != nil {
			return nil, fmt.Errorf("app %s key credential %d: %w", appID, i, err)
		}
		a.KeyCredentials = append(a.KeyCredentials, k)
	}
	return a, nil
}

// export renders a directory back into the fixture form.
func (d *directory) export(connectorSecret string) *Fixture {
	f := &Fixture{SigningKeys: d.keys, Blocked: d.blocks}
	if connectorSecret != wellknown.ConnectorDefaultSecret {
		f.ConnectorSecret = connectorSecret
	}
	ids := make([]string, 0, len(d.tenants))
	for id := range d.tenants {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		t := d.tenants[id]
		tf := TenantFixture{ID: t.ID, DisplayName: t.DisplayName, Domains: t.Domains}
		for _, u := range t.Users {
			uf := UserFixture{ID: u.ObjectID, UserPrincipalName: u.UPN, Mail: u.Mail, DisplayName: u.DisplayName,
				GivenName: u.GivenName, Surname: u.Surname, Password: u.Password}
			if !u.AccountEnabled {
				f := false
				uf.AccountEnabled = &f
			}
			for _, r := range u.Roles {
				for name, rid := range wellknown.DirectoryRoles {
					if rid == r {
						uf.Roles = append(uf.Roles, name)
					}
				}
			}
			tf.Users = append(tf.Users, uf)
		}
		var apps []*Application
		for _, a := range d.apps {
			if a.HomeTenant == t.ID {
				apps = append(apps, a)
			}
		}
		sort.Slice(apps, func(i, j int) bool {
			return apps[i].Created.Before(apps[j].Created) || (apps[i].Created.Equal(apps[j].Created) && apps[i].AppID < apps[j].AppID)
		})
		for _, a := range apps {
			af := ApplicationFixture{AppID: a.AppID, ID: a.ObjectID, DisplayName: a.DisplayName, SignInAudience: a.SignInAudience,
				IdentifierURIs: a.IdentifierURIs, RedirectURIs: a.RedirectURIs, AccessTokenVersion: a.TokenVersion,
				PublicClient: a.PublicClient, Created: a.Created.Format(time.RFC3339), Graph: graphExtras(a)}
			for _, p := range a.Passwords {
				af.PasswordCreds = append(af.PasswordCreds, PasswordCredentialFixture{KeyID: p.KeyID, DisplayName: p.DisplayName,
					Secret: p.Secret, Start: p.Start.Format(time.RFC3339), End: p.End.Format(time.RFC3339)})
			}
			for _, k := range a.KeyCredentials {
				af.KeyCreds = append(af.KeyCreds, k.fixture())
			}
			sp := t.ServicePrincipals[a.AppID]
			if sp == nil {
				no := false
				af.ServicePrincipal = &no
			}
			tf.Applications = append(tf.Applications, af)
		}
		var foreign []string
		for appID := range t.ServicePrincipals {
			if a := d.app(appID); a != nil && a.HomeTenant != t.ID {
				foreign = append(foreign, appID)
			}
		}
		sort.Strings(foreign)
		for _, appID := range foreign {
			tf.ServicePrincipals = append(tf.ServicePrincipals, ServicePrincipalFixture{AppID: appID, ID: t.ServicePrincipals[appID].ObjectID})
		}
		tf.Consents = d.exportConsents(t)
		f.Tenants = append(f.Tenants, tf)
	}
	return f
}

// graphExtras are the Graph properties of a that the typed fixture fields
// do not carry, in Graph's JSON form; nil when all are at their defaults.
func graphExtras(a *Application) map[string]any {
	doc := docMap(a)
	// Certificates travel in the typed keyCredentials field.
	blank := docMap(&Application{DisplayName: a.DisplayName, SignInAudience: a.SignInAudience, IdentifierURIs: a.IdentifierURIs,
		RedirectURIs: a.RedirectURIs, TokenVersion: a.TokenVersion, PublicClient: a.PublicClient, KeyCredentials: a.KeyCredentials})
	out := map[string]any{}
	for k, v := range doc {
		if string(mustJSON(v)) != string(mustJSON(blank[k])) {
			out[k] = v
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}
