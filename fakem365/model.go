package fakem365

import (
	"time"
)

// Integration is a tenant's Organization profile → support integration.
type Integration struct {
	InternalSupportTool string    `json:"internalSupportTool" yaml:"internalSupportTool"`
	ApplicationID       string    `json:"applicationId" yaml:"applicationId"`
	UpdatedBy           string    `json:"updatedBy,omitempty" yaml:"updatedBy,omitempty"`
	Updated             time.Time `json:"updatedDateTime" yaml:"updated,omitempty"`
}

// Repository is an Organization profile repository: where a ServiceNow
// instance is and how the connector signs in to it.
type Repository struct {
	ID                 string `yaml:"id"`
	Endpoint           string `yaml:"endpoint"`
	AuthenticationType string `yaml:"authenticationType"` // "Basic Auth" or "AAD Auth"
	ClientID           string `yaml:"clientId,omitempty"`
	ClientSecret       string `yaml:"clientSecret,omitempty"`
	RefreshTokenExpiry int    `yaml:"refreshTokenExpiry,omitempty"` // seconds
	RestUsername       string `yaml:"restUsername,omitempty"`
	RestUserPassword   string `yaml:"restUserPassword,omitempty"`
	// What the instance's final Setup step (the handshake) reported.
	Handshake *Handshake `yaml:"handshake,omitempty"`
	// PendingLinks are cases whose link into the instance failed; they
	// are retried on the next save, handshake or case call.
	PendingLinks []string `yaml:"pendingLinks,omitempty"`

	tokens inboundTokens
}

// Handshake is the instance's report at the end of Setup.
type Handshake struct {
	InstanceURL     string    `json:"instanceUrl" yaml:"instanceUrl"`
	Endpoint        string    `json:"endpoint" yaml:"endpoint"`
	InboundMode     string    `json:"inboundMode" yaml:"inboundMode"` // none, basic or aad
	OutboundAppID   string    `json:"outboundAppId" yaml:"outboundAppId"`
	ClientID        string    `json:"clientId" yaml:"clientId,omitempty"`
	UserName        string    `json:"userName" yaml:"userName,omitempty"`
	AdminEmail      string    `json:"adminEmail" yaml:"adminEmail,omitempty"`
	SSO             bool      `json:"sso" yaml:"sso,omitempty"`
	TestEnvironment bool      `json:"testEnvironment" yaml:"testEnvironment,omitempty"`
	Completed       time.Time `json:"completedDateTime" yaml:"completed,omitempty"`
}

// handshakeRequest is a handshake as the instance sends it: every field of
// Handshake but the connector's own completedDateTime.
type handshakeRequest struct{ handshakeFields }

type handshakeFields struct {
	InstanceURL     string    `json:"instanceUrl"`
	Endpoint        string    `json:"endpoint"`
	InboundMode     string    `json:"inboundMode"`
	OutboundAppID   string    `json:"outboundAppId"`
	ClientID        string    `json:"clientId"`
	UserName        string    `json:"userName"`
	AdminEmail      string    `json:"adminEmail"`
	SSO             bool      `json:"sso"`
	TestEnvironment bool      `json:"testEnvironment"`
	Completed       time.Time `json:"-"`
}

// inboundTokens caches the connector's credentials for one instance.
type inboundTokens struct {
	access, refresh       string
	accessExp, refreshExp time.Time
	aadToken              string
	aadExp                time.Time
}

// Case is a Microsoft 365 service request opened from an incident.
type Case struct {
	Number          string            `json:"caseNumber" yaml:"number"`
	Repository      string            `json:"repositoryId" yaml:"repository"`
	IncidentNumber  string            `json:"incidentNumber" yaml:"incidentNumber"`
	Title           string            `json:"title" yaml:"title"`
	Description     string            `json:"description" yaml:"description,omitempty"`
	ContactEmail    string            `json:"contactEmail" yaml:"contactEmail"`
	TestEnvironment bool              `json:"testEnvironment" yaml:"testEnvironment,omitempty"`
	Status          string            `json:"status" yaml:"status"`
	Details         map[string]string `json:"details" yaml:"details,omitempty"`
	Linked          bool              `json:"linked" yaml:"linked,omitempty"`
	Created         time.Time         `json:"createdDateTime" yaml:"created"`
	Updated         time.Time         `json:"lastModifiedDateTime" yaml:"updated"`
}

// Solution is a recommended solution article.
type Solution struct {
	ID       string   `json:"id" yaml:"id"`
	Title    string   `json:"title" yaml:"title"`
	Summary  string   `json:"summary" yaml:"summary"`
	URL      string   `json:"url" yaml:"url"`
	Keywords []string `json:"-" yaml:"keywords,omitempty"`
}

// HealthIncident is a Microsoft 365 service health incident, shaped after
// Microsoft Graph's serviceHealthIssue.
type HealthIncident struct {
	ID                string `json:"id" yaml:"id"`
	Service           string `json:"service" yaml:"service"`
	Title             string `json:"title" yaml:"title"`
	Classification    string `json:"classification" yaml:"classification"` // incident or advisory
	Status            string `json:"status" yaml:"status"`                 // e.g. serviceDegradation
	ImpactDescription string `json:"impactDescription" yaml:"impactDescription"`
	StartDateTime     string `json:"startDateTime" yaml:"startDateTime"`
	IsResolved        bool   `json:"isResolved" yaml:"isResolved,omitempty"`
}

// tenant is the Microsoft 365 side of one Azure AD tenant.
type tenant struct {
	ID           string
	Domains      []string
	Integration  *Integration
	Repositories map[string]*Repository
	Health       []HealthIncident
}
