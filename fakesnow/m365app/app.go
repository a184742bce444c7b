// Package m365app is the Microsoft 365 support integration app
// (x_mioms_m365_assis) as installed on a fakesnow instance: its scope,
// roles, tables and form section, the Setup flow, the incident features
// (recommended solutions, service health, Contact Microsoft Support, Link
// Account, ticket details) and the inbound REST API the connector calls.
//
// Like a real scoped app it reaches platform tables only through
// platform.AppContext, so the cross-scope policy applies to every access,
// and calls out only through the platform's logged outbound client.
package m365app

import (
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/gorilla/mux"

	"github.com/m365snow/m365snow/fakesnow/platform"
	"github.com/m365snow/m365snow/internal/wellknown"
)

// Identifiers of the app. The scope's sys_id is the app's Store listing id
// and the role sys_ids are those of the vendor's own instance, as the
// guide's links show.
const (
	Scope        = wellknown.AppScope
	ScopeSysID   = "6d05c93f1b7784507ddd4227cc4bcb9f"
	RoleInsights = "x_mioms_m365_assis.insights_user"
	RoleAdmin    = "x_mioms_m365_assis.administrator"
	TabCaption   = "Microsoft 365 Support"

	TableSettings = "x_mioms_m365_assis_setting"
	TableSolution = "x_mioms_m365_assis_solution"
	TableCase     = "x_mioms_m365_assis_case"
	TableLinked   = "x_mioms_m365_assis_linked_account"

	roleInsightsSysID = "802b2adfdb4cac507c80230bd3961911"
	roleAdminSysID    = "4b25c9fb1b7784507ddd4227cc4bcb3a"
)

// The messages the app shows, character for character from the guide.
const (
	MsgSetupIncomplete = "Please contact your ServiceNow admin and ask them to complete the setup steps for the app."
	MsgFinalIncomplete = "Please contact your ServiceNow admin and ask them to complete the final set up step for the app."
	msgNotAdmin        = "%s is not a valid Microsoft 365 admin account. You need Microsoft 365 admin privileges to open a service request. In the app, link the admin account."
	MsgAppSupport      = "Please contact app support."
	MsgTicketDetails   = "Unable to save ticket details. Please contact App Support."
)

// MsgNotAdmin is the refusal of a service request whose contact is not a
// Microsoft 365 admin.
func MsgNotAdmin(email string) string { return fmt.Sprintf(msgNotAdmin, email) }

// App is the installed app on one instance.
type App struct {
	inst *platform.Instance

	mu     sync.Mutex
	tokens map[string]cachedToken // outbound tokens by entity and credentials
}

type cachedToken struct {
	token string
	exp   time.Time
}

// InstallOptions tune an installation.
type InstallOptions struct {
	// CrossScopeAccessMissing leaves out the two Application Cross-Scope
	// Access records the guide names (oauth_entity and
	// oauth_entity_profile), as when they fail to be created at install.
	CrossScopeAccessMissing bool
}

// crossScopeReads are the global tables the app reads; the app ships a
// read privilege for each. The first two are the guide's.
var crossScopeReads = []string{"oauth_entity", "oauth_entity_profile", "oidc_provider_configuration", "sys_user", "incident", "sys_ui_section", "sys_ui_view"}

// Install installs the app on inst: scope (enforcing runtime access
// tracking), roles, tables, the Microsoft 365 Support form section on the
// incident's default view, its cross-scope privileges, and its REST APIs.
func Install(inst *platform.Instance, opts InstallOptions) (*App, error) {
	if _, err := inst.CreateScope(Scope, wellknown.AppName, "2.0.0", "Microsoft", "enforcing", ScopeSysID); err != nil {
		return nil, fmt.Errorf("install %s: %w", Scope, err)
	}
	for _, r := range []struct{ id, name, desc string }{
		{roleInsightsSysID, RoleInsights, "Sees Microsoft 365 service health incidents and recommended solutions"},
		{roleAdminSysID, RoleAdmin, "Also opens service requests with Microsoft 365 support"},
	} {
		if _, err := inst.Insert("sys_user_role", map[string]string{"sys_id": r.id, "name": r.name, "description": r.desc, "sys_scope": ScopeSysID}); err != nil {
			return nil, err
		}
	}
	if _, err := inst.Insert("sys_user_role_contains", map[string]string{"role": roleAdminSysID, "contains": roleInsightsSysID}); err != nil {
		return nil, err
	}
	str := func(n, l string) *platform.Field {
		return &platform.Field{Name: n, Label: l, Type: platform.TypeString}
	}
	boolean := func(n, l string) *platform.Field {
		return &platform.Field{Name: n, Label: l, Type: platform.TypeBoolean, Default: "false"}
	}
	ref := func(n, l, t string) *platform.Field {
		return &platform.Field{Name: n, Label: l, Type: platform.TypeReference, Reference: t}
	}
	insights, admins := []string{RoleInsights}, []string{RoleAdmin}
	tables := []*platform.Table{
		{Name: TableSettings, Label: "Microsoft 365 Support Setting", Scope: Scope, Fields: []*platform.Field{
			boolean("consent", "Consent agreed"),
			ref("outbound_profile", "Outbound OAuth profile", "oauth_entity_profile"),
			boolean("inbound_skipped", "Inbound OAuth provider skipped"),
			boolean("external_oidc", "External OIDC Auth Token"),
			ref("inbound_entity", "Inbound OAuth provider", "oauth_entity"),
			boolean("integration_user_skipped", "Integration user skipped"),
			ref("integration_user", "Integration user", "sys_user"),
			str("repository_id", "Repository ID"),
			boolean("sso", "SSO with Microsoft 365"),
			str("admin_email", "Microsoft 365 Admin Email"),
			boolean("test_environment", "Test Environment"),
			boolean("handshake_completed", "Integration completed"),
			{Name: "handshake_on", Label: "Integration completed on", Type: platform.TypeDateTime},
		}},
		{Name: TableSolution, Label: "Microsoft Recommended Solution", Scope: Scope, DisplayField: "title", Fields: []*platform.Field{
			ref("incident", "Incident", "incident"), str("solution_id", "Solution ID"), str("title", "Title"),
			str("summary", "Summary"), str("url", "URL"), str("query", "Searched for"),
		}, ACLRoles: map[platform.Op][]string{platform.OpRead: insights, platform.OpCreate: insights}},
		{Name: TableCase, Label: "Microsoft 365 Support Case", Scope: Scope, DisplayField: "case_number", Fields: []*platform.Field{
			ref("incident", "Incident", "incident"), str("case_number", "Case number"), str("title", "Title"),
			str("status", "Status"), str("contact_email", "Contact email"), str("details", "Ticket details"),
			{Name: "opened_on", Label: "Opened", Type: platform.TypeDateTime},
		}, ACLRoles: map[platform.Op][]string{platform.OpRead: insights, platform.OpWrite: admins}},
		{Name: TableLinked, Label: "Linked Microsoft 365 Account", Scope: Scope, DisplayField: "email", OwnRows: "user", Fields: []*platform.Field{
			ref("user", "User", "sys_user"), str("email", "Microsoft 365 admin email"),
		}, ACLRoles: map[platform.Op][]string{platform.OpRead: admins, platform.OpCreate: admins, platform.OpWrite: admins}},
	}
	for _, t := range tables {
		if err := inst.DefineTable(t); err != nil {
			return nil, err
		}
	}
	if _, err := inst.Insert(TableSettings, map[string]string{}); err != nil {
		return nil, err
	}
	view, err := inst.First("sys_ui_view", "name=default")
	if err != nil {
		return nil, err
	}
	if _, err := inst.Insert("sys_ui_section", map[string]string{"name": "incident", "view": view["sys_id"], "caption": TabCaption,
		"position": "4", "sys_scope": ScopeSysID}); err != nil {
		return nil, err
	}
	for i, table := range crossScopeReads {
		if opts.CrossScopeAccessMissing && i < 2 {
			continue
		}
		if _, err := inst.Insert("sys_scope_privilege", map[string]string{"source_scope": ScopeSysID, "target_scope": platform.GlobalScope,
			"target_name": table, "target_type": "sys_db_object", "operation": "read", "status": "allowed", "sys_scope": ScopeSysID}); err != nil {
			return nil, err
		}
	}
	a := &App{inst: inst, tokens: map[string]cachedToken{}}
	apis := map[string]http.Handler{"setup": a.setupRoutes(), "incidents": a.incidentRoutes(), "link_account": a.linkAccountRoutes()}
	for name, h := range apis {
		if err := inst.HandleScriptedAPI(Scope, name, h, true); err != nil {
			return nil, err
		}
	}
	// The inbound API authenticates its callers itself, so that every
	// refusal lands in the system log under the app's scope.
	if err := inst.HandleScriptedAPI(Scope, "inbound", a.inboundRoutes(), false); err != nil {
		return nil, err
	}
	return a, nil
}

// Endpoint is the app's inbound base URL on the instance, the Setup page's
// "Endpoint".
func (a *App) Endpoint() string { return a.inst.URL() + "/api/" + Scope + "/v1/inbound" }

// context runs code on behalf of the request's caller.
func (a *App) context(r *http.Request) (*platform.AppContext, error) {
	return a.inst.App(Scope, platform.CallerFrom(r.Context()))
}

func newRouter() *mux.Router {
	r := mux.NewRouter()
	r.NotFoundHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		platform.WriteError(w, http.StatusBadRequest, "Requested URI does not represent any resource", "")
	})
	r.MethodNotAllowedHandler = http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		w.Header().Set("Allow", platform.AllowedMethods(r, req))
		platform.WriteError(w, http.StatusMethodNotAllowed, "Method not Supported", req.Method+" is not supported for this resource")
	})
	return r
}
