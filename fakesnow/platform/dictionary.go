package platform

import (
	"fmt"
	"strings"
)

// FieldType is a dictionary field type.
type FieldType string

// The field types the fake distinguishes.
const (
	TypeString    FieldType = "string"
	TypeBoolean   FieldType = "boolean"
	TypeInteger   FieldType = "integer"
	TypeReference FieldType = "reference"
	TypeDateTime  FieldType = "glide_date_time"
	// TypePassword is one-way (sys_user.user_password): written, never read.
	TypePassword FieldType = "password"
	// TypePassword2 is two-way encrypted (client secrets): the Table API
	// shows it masked; platform code reads the clear value.
	TypePassword2 FieldType = "password2"
	TypeGUID      FieldType = "GUID"
)

// Choice is one value of a choice list.
type Choice struct{ Value, Label string }

// Field is a column of a table.
type Field struct {
	Name      string
	Label     string
	Type      FieldType
	Reference string // target table of a reference
	Choices   []Choice
	Default   string
	Mandatory bool
	system    bool // sys_* fields: set by the platform only
}

func (f *Field) displayOf(value string) string {
	for _, c := range f.Choices {
		if c.Value == value {
			return c.Label
		}
	}
	return value
}

// TableAccess is a table's application-access settings (sys_db_object).
type TableAccess struct {
	// Access is "public" (all application scopes) or "package_private"
	// (this application scope only).
	Access                               string
	Read, Create, Update, Delete, WebAPI bool
}

// DefaultAccess is what a new table gets: readable from every scope, no
// cross-scope writes, web services allowed.
var DefaultAccess = TableAccess{Access: "public", Read: true, WebAPI: true}

// Op is a record operation, as ACLs and cross-scope policies name them.
type Op string

// The operations.
const (
	OpRead   Op = "read"
	OpCreate Op = "create"
	OpWrite  Op = "write"
	OpDelete Op = "delete"
)

// Table is a table definition.
type Table struct {
	Name         string
	Label        string
	Scope        string // owning scope name: "global" or an app's namespace
	Fields       []*Field
	NumberPrefix string // "INC" gives INC0010001, INC0010002, ...
	DisplayField string
	// ApplicationFile marks metadata tables whose records belong to an
	// application scope (sys_scope), like oauth_entity or sys_properties.
	ApplicationFile bool
	Access          TableAccess
	// ACLRoles are the roles of the table's default record ACLs per
	// operation; an operation without roles is admin-only. The ACLs become
	// sys_security_acl records that admins may change.
	ACLRoles map[Op][]string
	// OwnRows restricts non-admin callers to rows whose field of this name
	// references them (sys_user_preference.user).
	OwnRows string

	byName map[string]*Field
}

// Field returns the named field.
func (t *Table) Field(name string) (*Field, bool) {
	f, ok := t.byName[name]
	return f, ok
}

// sysFields are on every table.
func sysFields(appFile bool) []*Field {
	fs := []*Field{
		{Name: "sys_id", Label: "Sys ID", Type: TypeGUID, system: true},
		{Name: "sys_created_on", Label: "Created", Type: TypeDateTime, system: true},
		{Name: "sys_created_by", Label: "Created by", Type: TypeString, system: true},
		{Name: "sys_updated_on", Label: "Updated", Type: TypeDateTime, system: true},
		{Name: "sys_updated_by", Label: "Updated by", Type: TypeString, system: true},
		{Name: "sys_mod_count", Label: "Updates", Type: TypeInteger, system: true},
	}
	if appFile {
		fs = append(fs, &Field{Name: "sys_scope", Label: "Application", Type: TypeReference, Reference: "sys_scope", system: true})
	}
	return fs
}

// complete indexes a definition and adds system fields.
func (t *Table) complete() error {
	if t.Name == "" || strings.ToLower(t.Name) != t.Name {
		return fmt.Errorf("table name %q must be lower case", t.Name)
	}
	t.Fields = append(sysFields(t.ApplicationFile), t.Fields...)
	t.byName = map[string]*Field{}
	for _, f := range t.Fields {
		if f.Label == "" {
			f.Label = f.Name
		}
		if f.Type == "" {
			f.Type = TypeString
		}
		if _, dup := t.byName[f.Name]; dup {
			return fmt.Errorf("table %s: field %s defined twice", t.Name, f.Name)
		}
		if f.Type == TypeReference && f.Reference == "" {
			return fmt.Errorf("table %s: reference %s names no table", t.Name, f.Name)
		}
		t.byName[f.Name] = f
	}
	if t.NumberPrefix != "" {
		if _, ok := t.byName["number"]; !ok {
			f := &Field{Name: "number", Label: "Number", Type: TypeString}
			t.Fields = append(t.Fields, f)
			t.byName["number"] = f
		}
	}
	if t.Access.Access == "" {
		t.Access = DefaultAccess
	}
	return nil
}

// displayField is the field whose value names a record.
func (t *Table) displayField() string {
	if t.DisplayField != "" {
		return t.DisplayField
	}
	for _, n := range []string{"number", "name", "u_number", "u_name"} {
		if _, ok := t.byName[n]; ok {
			return n
		}
	}
	return "sys_id"
}

func str(name, label string) *Field { return &Field{Name: name, Label: label, Type: TypeString} }
func boolean(name, label, def string) *Field {
	return &Field{Name: name, Label: label, Type: TypeBoolean, Default: def}
}
func integer(name, label, def string) *Field {
	return &Field{Name: name, Label: label, Type: TypeInteger, Default: def}
}
func ref(name, label, table string) *Field {
	return &Field{Name: name, Label: label, Type: TypeReference, Reference: table}
}

var (
	internal  = []string{"snc_internal"}
	userAdmin = []string{"user_admin"}
)

// platformTables are the platform tables the integration touches. ACL role
// sets are this project's model of a base instance; admins may change them
// through the sys_security_acl tables.
func platformTables() []*Table {
	return []*Table{
		{Name: "sys_user", Label: "User", DisplayField: "name", Fields: []*Field{
			str("user_name", "User ID"), str("first_name", "First name"), str("last_name", "Last name"),
			str("name", "Name"), str("email", "Email"), str("title", "Title"),
			boolean("active", "Active", "true"), boolean("locked_out", "Locked out", "false"),
			boolean("web_service_access_only", "Web service access only", "false"),
			boolean("internal_integration_user", "Internal Integration User", "false"),
			boolean("password_needs_reset", "Password needs reset", "false"),
			{Name: "user_password", Label: "Password", Type: TypePassword},
			integer("failed_attempts", "Failed login attempts", "0"),
			{Name: "last_login_time", Label: "Last login time", Type: TypeDateTime},
			// Empty: the system's (userdates.go).
			str("time_zone", "Time zone"), str("date_format", "Date format"), str("time_format", "Time format"),
		}, ACLRoles: map[Op][]string{OpRead: internal, OpCreate: userAdmin, OpWrite: userAdmin, OpDelete: userAdmin}},
		{Name: "sys_user_role", Label: "Role", ApplicationFile: true, Fields: []*Field{
			str("name", "Name"), str("description", "Description"), str("suffix", "Suffix"),
			boolean("elevated_privilege", "Elevated privilege", "false"),
		}, ACLRoles: map[Op][]string{OpRead: internal, OpCreate: userAdmin, OpWrite: userAdmin, OpDelete: userAdmin}},
		{Name: "sys_user_role_contains", Label: "Contained Role", Fields: []*Field{
			ref("role", "Role", "sys_user_role"), ref("contains", "Contains", "sys_user_role"),
		}, ACLRoles: map[Op][]string{OpRead: internal, OpCreate: userAdmin, OpWrite: userAdmin, OpDelete: userAdmin}},
		{Name: "sys_user_has_role", Label: "User Role", Fields: []*Field{
			ref("user", "User", "sys_user"), ref("role", "Role", "sys_user_role"),
			boolean("inherited", "Inherited", "false"), {Name: "state", Label: "State", Default: "active"},
		}, ACLRoles: map[Op][]string{OpRead: internal, OpCreate: userAdmin, OpWrite: userAdmin, OpDelete: userAdmin}},
		{Name: "sys_user_preference", Label: "User Preference", OwnRows: "user", Fields: []*Field{
			ref("user", "User", "sys_user"), str("name", "Name"), str("value", "Value"),
			str("type", "Type"), str("description", "Description"),
		}, ACLRoles: map[Op][]string{OpRead: internal, OpCreate: internal, OpWrite: internal, OpDelete: internal}},
		{Name: "sys_scope", Label: "Application", Fields: []*Field{
			str("scope", "Scope"), str("name", "Name"), str("version", "Version"), str("vendor", "Vendor"),
			boolean("active", "Active", "true"),
			{Name: "runtime_access_tracking", Label: "Runtime Access Tracking", Default: "none",
				Choices: []Choice{{"none", "None"}, {"tracking", "Tracking"}, {"enforcing", "Enforcing"}}},
		}, ACLRoles: map[Op][]string{OpRead: internal}},
		{Name: "sys_app", Label: "Custom Application", Fields: []*Field{
			str("scope", "Scope"), str("name", "Name"), str("version", "Version"), str("vendor", "Vendor"),
			boolean("active", "Active", "true"),
		}},
		{Name: "sys_db_object", Label: "Table", ApplicationFile: true, DisplayField: "label", Fields: []*Field{
			str("name", "Name"), str("label", "Label"), ref("super_class", "Extends table", "sys_db_object"),
			boolean("is_extendable", "Extensible", "false"),
			{Name: "access", Label: "Accessible from", Default: "public",
				Choices: []Choice{{"public", "All application scopes"}, {"package_private", "This application scope only"}}},
			boolean("read_access", "Can read", "true"), boolean("create_access", "Can create", "false"),
			boolean("update_access", "Can update", "false"), boolean("delete_access", "Can delete", "false"),
			boolean("ws_access", "Allow access to this table via web services", "true"),
			{Name: "caller_access", Label: "Caller Access", Default: "none"},
		}},
		{Name: "sys_scope_privilege", Label: "Application Cross-Scope Access", ApplicationFile: true, DisplayField: "target_name", Fields: []*Field{
			ref("source_scope", "Source Scope", "sys_scope"), ref("target_scope", "Target Scope", "sys_scope"),
			str("target_name", "Target Name"),
			{Name: "target_type", Label: "Target Type", Default: "sys_db_object"},
			{Name: "operation", Label: "Operation", Choices: []Choice{{"read", "Read"}, {"write", "Write"}, {"create", "Create"}, {"delete", "Delete"}, {"execute", "Execute API"}}},
			{Name: "status", Label: "Status", Default: "requested", Choices: []Choice{{"requested", "Requested"}, {"allowed", "Allowed"}, {"denied", "Denied"}}},
		}},
		{Name: "sys_properties", Label: "System Property", ApplicationFile: true, Fields: []*Field{
			str("name", "Name"), str("value", "Value"), {Name: "type", Label: "Type", Default: "string"}, str("description", "Description"),
		}},
		{Name: "sys_security_acl", Label: "Access Control", ApplicationFile: true, Fields: []*Field{
			str("name", "Name"),
			{Name: "operation", Label: "Operation", Choices: []Choice{{"read", "read"}, {"write", "write"}, {"create", "create"}, {"delete", "delete"}}},
			{Name: "type", Label: "Type", Default: "record"},
			boolean("active", "Active", "true"), boolean("admin_overrides", "Admin overrides", "true"),
			str("description", "Description"),
		}},
		{Name: "sys_security_acl_role", Label: "Access Role", Fields: []*Field{
			ref("sys_security_acl", "Access control", "sys_security_acl"), ref("sys_user_role", "Role", "sys_user_role"),
		}},
		{Name: "oauth_entity", Label: "Application Registry", ApplicationFile: true, Fields: []*Field{
			str("name", "Name"), str("client_id", "Client ID"), {Name: "client_secret", Label: "Client Secret", Type: TypePassword2},
			{Name: "type", Label: "Type", Choices: []Choice{{"client", "OAuth Client"}, {"oauth_provider", "OAuth Provider"}, {"oidc_provider", "External OIDC Provider"}}},
			boolean("active", "Active", "true"), {Name: "access", Label: "Accessible from", Default: "public"},
			integer("access_token_lifespan", "Access Token Lifespan", "1800"),
			integer("refresh_token_lifespan", "Refresh Token Lifespan", "8640000"),
			str("redirect_url", "Redirect URL"), str("logo_url", "Logo URL"), str("comments", "Comments"),
			{Name: "default_grant_type", Label: "Default Grant type", Choices: []Choice{{"authorization_code", "Authorization Code"}, {"password", "Resource Owner Password Credentials"}, {"client_credentials", "Client Credentials"}}},
			str("auth_url", "Authorization URL"), str("token_url", "Token URL"), str("token_revocation_url", "Token Revocation URL"),
			{Name: "send_client_credentials_as", Label: "Send Credentials", Default: "request_body_parameter"},
			ref("user", "OAuth Application User", "sys_user"),
			{Name: "client_type", Label: "Client Type", Default: "integration_as_a_user"},
			{Name: "token_format", Label: "Token Format", Default: "opaque"},
			ref("oidc_provider_configuration", "OAuth OIDC Provider Configuration", "oidc_provider_configuration"),
			integer("clock_skew", "Clock Skew", "300"),
			boolean("enforce_token_restriction", "Enforce Token Restrictions", "false"),
		}, ACLRoles: map[Op][]string{OpRead: {"oauth_admin"}, OpCreate: {"oauth_admin"}, OpWrite: {"oauth_admin"}, OpDelete: {"oauth_admin"}}},
		{Name: "oauth_entity_profile", Label: "OAuth Entity Profile", ApplicationFile: true, Fields: []*Field{
			str("name", "Name"), ref("oauth_entity", "OAuth provider", "oauth_entity"),
			{Name: "grant_type", Label: "Grant type", Choices: []Choice{{"authorization_code", "Authorization Code"}, {"password", "Resource Owner Password Credentials"}, {"client_credentials", "Client Credentials"}}},
			boolean("default", "Is default", "false"),
		}, ACLRoles: map[Op][]string{OpRead: {"oauth_admin"}, OpCreate: {"oauth_admin"}, OpWrite: {"oauth_admin"}, OpDelete: {"oauth_admin"}}},
		{Name: "oidc_provider_configuration", Label: "OIDC Provider Configuration", ApplicationFile: true, Fields: []*Field{
			str("name", "OIDC Provider"), str("oidc_url", "OIDC Metadata URL"),
			integer("oidc_config_cache_life_span", "OIDC Configuration Cache Lifespan", "24"),
			str("user_claim", "User Claim"), {Name: "user_field", Label: "User Field", Default: "user_name"},
			boolean("enable_jti_verification", "Enable JTI claim verification", "false"),
		}, ACLRoles: map[Op][]string{OpRead: {"oauth_admin"}, OpCreate: {"oauth_admin"}, OpWrite: {"oauth_admin"}, OpDelete: {"oauth_admin"}}},
		{Name: "syslog", Label: "System Log", DisplayField: "message", Fields: []*Field{
			{Name: "level", Label: "Level", Type: TypeInteger, Choices: []Choice{{"-1", "Debug"}, {"0", "Information"}, {"1", "Warning"}, {"2", "Error"}}},
			str("message", "Message"), str("source", "Source"),
		}},
		{Name: "sys_outbound_http_log", Label: "Outbound HTTP Request", DisplayField: "url", Fields: []*Field{
			str("url", "URL"), str("hostname", "Hostname"), str("path", "Path"), str("http_method", "HTTP method"),
			integer("http_status", "Response status", ""), str("error_message", "Error"),
			integer("response_time", "Total response time (ms)", "0"),
			str("request_headers", "Request headers"), str("request_body", "Request body"),
			str("response_headers", "Response headers"), str("response_body", "Response body"),
			str("source_scope", "Scope"),
		}},
		{Name: "sys_ui_view", Label: "UI View", DisplayField: "title", Fields: []*Field{
			str("name", "Name"), str("title", "Title"),
		}, ACLRoles: map[Op][]string{OpRead: internal}},
		{Name: "sys_ui_section", Label: "Form Section", ApplicationFile: true, DisplayField: "caption", Fields: []*Field{
			str("name", "Table"), ref("view", "View", "sys_ui_view"), str("caption", "Caption"), integer("position", "Position", "0"),
		}, ACLRoles: map[Op][]string{OpRead: internal}},
		incidentTable(), journalTable(),
	}
}

// baseRoles exist on every instance; contained roles follow.
var baseRoles = []struct {
	name, description string
	contains          []string
}{
	{"admin", "System administrator; passes every ACL", nil},
	{"itil", "Fulfiller: works on tasks such as incidents", nil},
	{"incident_manager", "Manages incidents", []string{"itil"}},
	{"user_admin", "Manages users, groups and roles", nil},
	{"oauth_admin", "Manages OAuth application registries", nil},
	{"snc_internal", "Internal user (implicit for every signed-in user here)", nil},
	{"snc_basic_auth_api_access", "Basic authentication allowed while the basic authentication restriction is enforced", nil},
}
