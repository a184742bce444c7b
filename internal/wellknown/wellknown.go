// Package wellknown holds the fixed identifiers of the world the fakes model:
// real host names, Microsoft first-party application IDs, directory role
// template IDs, and the few values this project had to invent for parts of
// the integration that are not public (marked "modelled").
package wellknown

// Real host names. The fakes keep them in every URL and log.
const (
	LoginHost     = "login.microsoftonline.com"
	STSHost       = "sts.windows.net"
	GraphHost     = "graph.microsoft.com"
	AdminHost     = "admin.microsoft.com"
	ConnectorHost = "connector.rave.microsoft.com"
)

// Microsoft first-party applications present in every tenant.
const (
	// GraphAppID and GraphResource are Microsoft Graph's real identifiers.
	GraphAppID    = "00000003-0000-0000-c000-000000000000"
	GraphResource = "https://graph.microsoft.com"
	// AzureCLIAppID is the public client admins use for password-grant
	// tokens in the README's curl walk-through (Azure CLI's real client id).
	AzureCLIAppID = "04b07795-8ddb-461a-bbee-02f9e1bf7b46"
	// AdminPortalAppID is the real "Microsoft Office 365 Portal" app id;
	// AdminPortalResource, the audience the fake admin portal accepts, is
	// modelled.
	AdminPortalAppID    = "00000006-0000-0ff1-ce00-000000000000"
	AdminPortalResource = "https://admin.microsoft.com"
	// The support connector's application is private; its id, resource and
	// the credential the fake connector uses to read the directory are
	// modelled (documented in fakem365/CONTRACT.md).
	ConnectorAppID    = "2e8b5f3c-7d41-4c0a-9b6e-3651c0de5a1e"
	ConnectorResource = "https://connector.rave.microsoft.com"
	ConnectorName     = "Microsoft 365 support connector"
	// ConnectorDefaultSecret is the connector's own client secret unless
	// a fixture sets another.
	ConnectorDefaultSecret = "m365snow-connector-directory-reader"
)

// Directory role template IDs (Get-AzureADDirectoryRoleTemplate; the same
// values appear in user tokens' wids claim).
const (
	RoleGlobalAdministrator         = "62e90394-69f5-4237-9190-012177145e10"
	RoleHelpdeskAdministrator       = "729827e3-9c14-49f7-bb1b-9608f156bbb8"
	RoleServiceSupportAdministrator = "f023fd81-a637-4b56-95fd-791ac0226033"
	RoleApplicationAdministrator    = "9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3"
)

// DirectoryRoles maps role display names to template IDs.
var DirectoryRoles = map[string]string{
	"Global Administrator":          RoleGlobalAdministrator,
	"Helpdesk Administrator":        RoleHelpdeskAdministrator,
	"Service Support Administrator": RoleServiceSupportAdministrator,
	"Application Administrator":     RoleApplicationAdministrator,
}

// SupportAdminRoles are the roles that may manage the support integration in
// the admin portal and open Microsoft 365 service requests.
var SupportAdminRoles = []string{RoleGlobalAdministrator, RoleHelpdeskAdministrator, RoleServiceSupportAdministrator}

// App is the scoped application under test.
const (
	AppScope = "x_mioms_m365_assis"
	AppName  = "Microsoft 365 support integration"
)
