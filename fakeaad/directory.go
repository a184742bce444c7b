package fakeaad

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/m365snow/m365snow/internal/wellknown"
)

// Tenant is an Azure AD directory.
type Tenant struct {
	ID          string // GUID, lower case
	DisplayName string
	Domains     []string // e.g. contoso.onmicrosoft.com; resolvable like the ID
	Users       []*User
	// ServicePrincipals are keyed by appId. Every tenant also holds the
	// first-party principals implicitly.
	ServicePrincipals map[string]*ServicePrincipal
	// AppRoleAssignments and Grants are the tenant's consents: app roles
	// granted to client principals and delegated permission grants.
	AppRoleAssignments []*AppRoleAssignment
	Grants             []*PermissionGrant
}

// Application is an app registration; it lives in its home tenant.
type Application struct {
	ObjectID       string
	AppID          string
	HomeTenant     string
	DisplayName    string
	SignInAudience string // AzureADMyOrg (single tenant) or AzureADMultipleOrgs
	IdentifierURIs []string
	RedirectURIs   []string
	// TokenVersion is the access-token version the app accepts as a
	// resource (api.requestedAccessTokenVersion; unset means 1).
	TokenVersion int
	PublicClient bool
	Passwords    []*PasswordCredential
	// KeyCredentials are certificates the app signs client assertions
	// with (assertion.go).
	KeyCredentials []*KeyCredential
	// GrantedAppRoles are application permissions an admin consented to,
	// keyed by the resource's appId; they land in the roles claim.
	GrantedAppRoles map[string][]string
	Created         time.Time
	firstParty      bool

	// The rest of Graph's application resource (graph_model.go).
	Description            string
	Tags                   []string
	AppRoles               []AppRole
	Scopes                 []PermissionScope // api.oauth2PermissionScopes
	RequiredResourceAccess []RequiredResourceAccess
	ImplicitIDTokens       bool
	ImplicitAccessTokens   bool
	LogoutURL              string
	SPARedirectURIs        []string
	PublicRedirectURIs     []string
	OptionalClaims         *OptionalClaims
}

// PasswordCredential is a client secret.
type PasswordCredential struct {
	KeyID       string
	DisplayName string
	Hint        string // first three characters, as Graph reports it
	Secret      string
	Start, End  time.Time
}

// ServicePrincipal is an application's presence in a tenant.
type ServicePrincipal struct {
	ObjectID       string
	AppID          string
	DisplayName    string
	AccountEnabled bool
	Tags           []string
}

// User is a directory user who can sign in with a password.
type User struct {
	ObjectID       string
	UPN            string
	Mail           string
	DisplayName    string
	GivenName      string
	Surname        string
	Password       string
	Roles          []string // directory role template IDs
	AccountEnabled bool
}

// HasRole reports whether the user holds one of the role template IDs.
func (u *User) HasRole(ids ...string) bool {
	return slices.ContainsFunc(u.Roles, func(r string) bool { return slices.Contains(ids, r) })
}

// directory is the whole state of one fakeaad. The Server guards it with its
// mutex; nothing outside the Server holds a pointer into it.
type directory struct {
	tenants  map[string]*Tenant      // by lower-case GUID
	byDomain map[string]*Tenant      // by lower-case domain
	apps     map[string]*Application // by lower-case appId, home registrations and first party
	keys     []string                // published signing keys
	signer   string                  // the one of keys that signs
	blocks   []Block                 // blocked states in force (blocked.go)
}

func newDirectory() *directory {
	return &directory{tenants: map[string]*Tenant{}, byDomain: map[string]*Tenant{}, apps: map[string]*Application{}}
}

// tenant resolves a path segment given as GUID or domain name.
func (d *directory) tenant(seg string) *Tenant {
	seg = strings.ToLower(seg)
	if t := d.tenants[seg]; t != nil {
		return t
	}
	return d.byDomain[seg]
}

func (d *directory) app(appID string) *Application { return d.apps[strings.ToLower(appID)] }

// servicePrincipal returns the app's principal in t, first-party ones
// included.
func (d *directory) servicePrincipal(t *Tenant, appID string) *ServicePrincipal {
	if sp := t.ServicePrincipals[strings.ToLower(appID)]; sp != nil {
		return sp
	}
	if a := d.app(appID); a != nil && a.firstParty {
		// First-party principals have a stable object id per tenant,
		// derived rather than stored so that every tenant has them.
		return &ServicePrincipal{
			ObjectID:       uuid.NewSHA1(uuid.MustParse(t.ID), []byte(a.AppID)).String(),
			AppID:          a.AppID,
			DisplayName:    a.DisplayName,
			AccountEnabled: true,
		}
	}
	return nil
}

func (t *Tenant) user(upn string) *User {
	for _, u := range t.Users {
		if strings.EqualFold(u.UPN, upn) {
			return u
		}
	}
	return nil
}

func (t *Tenant) userByID(id string) *User {
	for _, u := range t.Users {
		if strings.EqualFold(u.ObjectID, id) || strings.EqualFold(u.UPN, id) {
			return u
		}
	}
	return nil
}

// firstPartyApps returns the Microsoft applications every tenant trusts. The
// connector's secret is configurable because fakem365 must know it to read
// the directory.
func firstPartyApps(connectorSecret string) []*Application {
	fp := func(appID, name string, uris ...string) *Application {
		return &Application{AppID: appID, ObjectID: uuid.NewSHA1(uuid.NameSpaceOID, []byte(appID)).String(),
			DisplayName: name, SignInAudience: "AzureADMultipleOrgs", IdentifierURIs: uris, TokenVersion: 1, firstParty: true}
	}
	graph := fp(wellknown.GraphAppID, "Microsoft Graph", wellknown.GraphResource)
	graph.AppRoles, graph.Scopes = graphPermissions()
	cli := fp(wellknown.AzureCLIAppID, "Microsoft Azure CLI")
	cli.PublicClient = true
	portal := fp(wellknown.AdminPortalAppID, "Microsoft Office 365 Portal", wellknown.AdminPortalResource)
	conn := fp(wellknown.ConnectorAppID, wellknown.ConnectorName, wellknown.ConnectorResource)
	conn.Passwords = []*PasswordCredential{{
		KeyID: uuid.NewSHA1(uuid.NameSpaceOID, []byte("connector-secret")).String(), DisplayName: "directory reader",
		Hint: hint(connectorSecret), Secret: connectorSecret,
		Start: time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC), End: time.Date(2099, 1, 1, 0, 0, 0, 0, time.UTC),
	}}
	conn.GrantedAppRoles = map[string][]string{wellknown.GraphAppID: {"Directory.Read.All"}}
	return []*Application{graph, cli, portal, conn}
}

func hint(secret string) string {
	if len(secret) < 3 {
		return secret
	}
	return secret[:3]
}

// validate checks cross-references that the fixture format cannot express.
func (d *directory) validate() error {
	for _, a := range d.apps {
		if a.firstParty {
			continue
		}
		if a.SignInAudience != "AzureADMyOrg" && a.SignInAudience != "AzureADMultipleOrgs" {
			return fmt.Errorf("app %s: signInAudience %q (AzureADMyOrg or AzureADMultipleOrgs)", a.AppID, a.SignInAudience)
		}
		if a.TokenVersion != 1 && a.TokenVersion != 2 {
			return fmt.Errorf("app %s: accessTokenVersion %d (1 or 2)", a.AppID, a.TokenVersion)
		}
	}
	for _, t := range d.tenants {
		for appID := range t.ServicePrincipals {
			a := d.app(appID)
			if a == nil {
				return fmt.Errorf("tenant %s: service principal for unknown app %s", t.ID, appID)
			}
			if a.HomeTenant != t.ID && a.SignInAudience == "AzureADMyOrg" {
				return fmt.Errorf("tenant %s: app %s is single-tenant in %s and cannot have a principal here", t.ID, appID, a.HomeTenant)
			}
		}
	}
	if len(d.tenants) == 0 {
		return errors.New("a directory needs at least one tenant")
	}
	return nil
}
