package fakeaad

// Graph v1.0 complex types of the application and servicePrincipal
// resources (learn.microsoft.com/graph/api/resources/application). They are
// stored as Graph writes them, so that what a client PATCHes is what it
// reads back; fixture YAML uses the same property names.

// AppRole is an application permission (or a role users can be assigned).
type AppRole struct {
	AllowedMemberTypes []string `json:"allowedMemberTypes" yaml:"allowedMemberTypes"`
	Description        string   `json:"description" yaml:"description,omitempty"`
	DisplayName        string   `json:"displayName" yaml:"displayName"`
	ID                 string   `json:"id" yaml:"id"`
	IsEnabled          bool     `json:"isEnabled" yaml:"isEnabled"`
	Origin             string   `json:"origin,omitempty" yaml:"-"`
	Value              string   `json:"value" yaml:"value"`
}

// PermissionScope is a delegated permission an API exposes.
type PermissionScope struct {
	AdminConsentDescription string `json:"adminConsentDescription" yaml:"adminConsentDescription,omitempty"`
	AdminConsentDisplayName string `json:"adminConsentDisplayName" yaml:"adminConsentDisplayName"`
	ID                      string `json:"id" yaml:"id"`
	IsEnabled               bool   `json:"isEnabled" yaml:"isEnabled"`
	Origin                  string `json:"origin,omitempty" yaml:"-"`
	Type                    string `json:"type" yaml:"type"` // User or Admin
	UserConsentDescription  string `json:"userConsentDescription,omitempty" yaml:"userConsentDescription,omitempty"`
	UserConsentDisplayName  string `json:"userConsentDisplayName,omitempty" yaml:"userConsentDisplayName,omitempty"`
	Value                   string `json:"value" yaml:"value"`
}

// ResourceAccess is one permission an app asks for on a resource.
type ResourceAccess struct {
	ID   string `json:"id" yaml:"id"`
	Type string `json:"type" yaml:"type"` // Scope or Role
}

// RequiredResourceAccess lists the permissions an app asks for on one
// resource (by the resource's appId).
type RequiredResourceAccess struct {
	ResourceAppID  string           `json:"resourceAppId" yaml:"resourceAppId"`
	ResourceAccess []ResourceAccess `json:"resourceAccess" yaml:"resourceAccess"`
}

// OptionalClaim asks for one more claim in a token type.
type OptionalClaim struct {
	AdditionalProperties []string `json:"additionalProperties" yaml:"additionalProperties,omitempty"`
	Essential            bool     `json:"essential" yaml:"essential,omitempty"`
	Name                 string   `json:"name" yaml:"name"`
	Source               *string  `json:"source" yaml:"source,omitempty"`
}

// OptionalClaims is application.optionalClaims.
type OptionalClaims struct {
	AccessToken []OptionalClaim `json:"accessToken" yaml:"accessToken,omitempty"`
	IDToken     []OptionalClaim `json:"idToken" yaml:"idToken,omitempty"`
	Saml2Token  []OptionalClaim `json:"saml2Token" yaml:"saml2Token,omitempty"`
}

// AppRoleAssignment grants an app role of a resource principal to a
// principal (here: a client's service principal).
type AppRoleAssignment struct {
	ID          string
	PrincipalID string // client service principal object id
	ResourceID  string // resource service principal object id
	AppRoleID   string
	Created     string // RFC 3339
}

// PermissionGrant is an oauth2PermissionGrant: delegated permissions a
// client may use on a resource, for every user (AllPrincipals) or one.
type PermissionGrant struct {
	ID          string
	ClientID    string // client service principal object id
	ConsentType string // AllPrincipals or Principal
	PrincipalID string // user object id for Principal grants
	ResourceID  string // resource service principal object id
	Scope       string // space-separated scope values
}
