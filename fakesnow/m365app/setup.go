package m365app

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/mail"
	"net/url"
	"strings"

	"github.com/m365snow/m365snow/fakesnow/encodedquery"
	"github.com/m365snow/m365snow/fakesnow/platform"
)

// The Setup flow (DESIGN §5) as a REST API under
// /api/x_mioms_m365_assis/v1/setup. Every call needs the admin role and the
// app as the caller's current application, as the guide's first step says.

func (a *App) setupRoutes() http.Handler {
	r := newRouter()
	r.HandleFunc("/", a.setup(a.openSetup)).Methods(http.MethodGet)
	r.HandleFunc("/consent", a.setup(a.consent)).Methods(http.MethodPost)
	r.HandleFunc("/outbound", a.setup(a.outboundStep)).Methods(http.MethodPut)
	r.HandleFunc("/inbound", a.setup(a.inboundStep)).Methods(http.MethodPut)
	r.HandleFunc("/integration_user", a.setup(a.userStep)).Methods(http.MethodPut)
	r.HandleFunc("/repository", a.setup(a.repositoryStep)).Methods(http.MethodPut)
	r.HandleFunc("/settings", a.setup(a.settingsStep)).Methods(http.MethodPut)
	r.HandleFunc("/complete", a.setup(a.completion)).Methods(http.MethodGet)
	r.HandleFunc("/complete", a.setup(a.next)).Methods(http.MethodPost)
	return r
}

// setupError is an error of a Setup step, in ServiceNow's envelope.
type setupError struct {
	status          int
	message, detail string
}

func (e *setupError) Error() string { return e.message + ": " + e.detail }

func invalid(message, format string, args ...any) *setupError {
	return &setupError{http.StatusBadRequest, message, fmt.Sprintf(format, args...)}
}

type setupHandler func(r *http.Request, ctx *platform.AppContext, s platform.Record) (any, error)

// setup checks the caller, opens the app's context and renders the answer
// or the error. Cross-scope refusals come back with ServiceNow's exact text
// as the message, which is what the Setup page shows on top.
func (a *App) setup(h setupHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ctx, err := a.context(r)
		if err != nil {
			platform.WriteError(w, http.StatusInternalServerError, "Operation Failed", err.Error())
			return
		}
		if !ctx.User().HasRole("admin") {
			platform.WriteError(w, http.StatusForbidden, "User Not Authorized", "Microsoft 365 Support > Setup requires the admin role")
			return
		}
		if refusal := ctx.OtherApplicationRefusal(); refusal != nil {
			platform.WriteError(w, http.StatusForbidden, refusal.Message, "Switch the current application to "+"Microsoft 365 support integration"+" (Settings > Developer > Applications) and open Setup again.")
			return
		}
		s, err := a.settings(ctx)
		var out any
		if err == nil {
			out, err = h(r, ctx, s)
		}
		var se *setupError
		var ae *platform.AccessError
		switch {
		case err == nil:
			platform.WriteResult(w, http.StatusOK, out)
		case errors.As(err, &se):
			ctx.Log(platform.LevelWarn, "Setup: "+se.Error())
			platform.WriteError(w, se.status, se.message, se.detail)
		case errors.As(err, &ae):
			platform.WriteError(w, http.StatusForbidden, ae.Message, "")
		default:
			writeFailure(w, r, err)
		}
	}
}

// decodeStep reads a step's JSON body.
func decodeStep(r *http.Request, v any) error {
	if err := platform.CheckJSONContentType(r); err != nil {
		return err
	}
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return err
		}
		return invalid("Invalid request", "the body is not the expected JSON: %v", err)
	}
	return nil
}

// view is the Setup page: state, steps, current values and the choices the
// instance offers. Reading the choices is the cross-scope read of
// oauth_entity the guide's note is about.
func (a *App) view(ctx *platform.AppContext, s platform.Record) (map[string]any, error) {
	entities, err := ctx.Query("oauth_entity", "active=true^ORDERBYname")
	if err != nil {
		return nil, err
	}
	profiles, err := ctx.Query("oauth_entity_profile", "ORDERBYname")
	if err != nil {
		return nil, err
	}
	byID := map[string]platform.Record{}
	options := map[string][]map[string]string{"outboundProfiles": {}, "inboundClients": {}, "oidcProviders": {}}
	for _, e := range entities {
		byID[e["sys_id"]] = e
		item := map[string]string{"sys_id": e["sys_id"], "name": e["name"], "client_id": e["client_id"]}
		switch e["type"] {
		case "client":
			options["inboundClients"] = append(options["inboundClients"], item)
		case "oidc_provider":
			options["oidcProviders"] = append(options["oidcProviders"], item)
		}
	}
	for _, p := range profiles {
		if e := byID[p["oauth_entity"]]; e != nil && e["type"] == "oauth_provider" {
			options["outboundProfiles"] = append(options["outboundProfiles"], map[string]string{"sys_id": p["sys_id"], "name": p["name"],
				"grant_type": p["grant_type"], "oauth_entity": e["name"], "client_id": e["client_id"]})
		}
	}
	done := map[string]bool{}
	for _, st := range steps(s) {
		done[st.Name] = st.Done
	}
	return map[string]any{
		"state":   state(s),
		"steps":   done,
		"values":  a.values(ctx, s),
		"options": options,
	}, nil
}

// values are the Setup's current choices, by name where that helps.
func (a *App) values(ctx *platform.AppContext, s platform.Record) map[string]any {
	name := func(table, id, field string) string {
		if id == "" {
			return ""
		}
		if r, err := ctx.Get(table, id); err == nil {
			return r[field]
		}
		return ""
	}
	return map[string]any{
		"consent":                s["consent"] == "true",
		"outboundProfile":        name("oauth_entity_profile", s["outbound_profile"], "name"),
		"inboundSkipped":         s["inbound_skipped"] == "true",
		"externalOIDC":           s["external_oidc"] == "true",
		"inboundEntity":          name("oauth_entity", s["inbound_entity"], "name"),
		"integrationUserSkipped": s["integration_user_skipped"] == "true",
		"integrationUser":        name("sys_user", s["integration_user"], "user_name"),
		"repositoryId":           s["repository_id"],
		"ssoWithMicrosoft365":    s["sso"] == "true",
		"adminEmail":             s["admin_email"],
		"testEnvironment":        s["test_environment"] == "true",
		"inboundMode":            inboundMode(s),
	}
}

func (a *App) openSetup(_ *http.Request, ctx *platform.AppContext, s platform.Record) (any, error) {
	return a.view(ctx, s)
}

// Each step has a handler that decodes its body and a function that
// validates and saves; fixtures go through the same functions.

func (a *App) consent(r *http.Request, ctx *platform.AppContext, s platform.Record) (any, error) {
	var body struct {
		Agree bool `json:"agree"`
	}
	if err := decodeStep(r, &body); err != nil {
		return nil, err
	}
	return a.stepView(ctx)(a.setConsent(ctx, s, body.Agree))
}

func (a *App) setConsent(ctx *platform.AppContext, s platform.Record, agree bool) (platform.Record, error) {
	if !agree {
		return nil, invalid("Consent required", "select Agree to accept the consent and continue")
	}
	return a.saveSettings(ctx, s, map[string]string{"consent": "true"})
}

// stepView answers a step with the refreshed Setup page.
func (a *App) stepView(ctx *platform.AppContext) func(platform.Record, error) (any, error) {
	return func(s platform.Record, err error) (any, error) {
		if err != nil {
			return nil, err
		}
		return a.view(ctx, s)
	}
}

// lookup finds a record by sys_id or by the given name field.
func lookup(ctx *platform.AppContext, table, field, key string) (platform.Record, error) {
	if platform.ValidSysID(key) {
		if rec, err := ctx.Get(table, key); err == nil {
			return rec, nil
		} else if platform.IsAccessError(err) {
			return nil, err
		}
	}
	rows, err := ctx.Select(table, encodedquery.Equals(field, key))
	if err != nil {
		return nil, err
	}
	if len(rows) == 0 {
		return nil, platform.ErrNotFound
	}
	return rows[0], nil
}

func (a *App) outboundStep(r *http.Request, ctx *platform.AppContext, s platform.Record) (any, error) {
	var body struct {
		Profile string `json:"profile"`
	}
	if err := decodeStep(r, &body); err != nil {
		return nil, err
	}
	return a.stepView(ctx)(a.setOutbound(ctx, s, body.Profile))
}

func (a *App) setOutbound(ctx *platform.AppContext, s platform.Record, profile string) (platform.Record, error) {
	if profile == "" {
		return nil, invalid("Invalid Outbound OAuth Provider", "select the OAuth profile of the outbound OAuth provider")
	}
	prof, err := lookup(ctx, "oauth_entity_profile", "name", profile)
	if err != nil {
		if platform.IsAccessError(err) {
			return nil, err
		}
		return nil, invalid("Invalid Outbound OAuth Provider", "no OAuth entity profile %q", profile)
	}
	ent, err := ctx.Get("oauth_entity", prof["oauth_entity"])
	if err != nil {
		if platform.IsAccessError(err) {
			return nil, err
		}
		return nil, invalid("Invalid Outbound OAuth Provider", "profile %s has no OAuth provider", prof["name"])
	}
	u, uerr := url.Parse(ent["token_url"])
	switch {
	case ent["type"] != "oauth_provider":
		return nil, invalid("Invalid Outbound OAuth Provider", "%s is not a third-party OAuth provider (Connect to a third party OAuth Provider)", ent["name"])
	case ent["active"] != "true":
		return nil, invalid("Invalid Outbound OAuth Provider", "%s is not active", ent["name"])
	case prof["grant_type"] != "client_credentials":
		return nil, invalid("Invalid Outbound OAuth Provider", "profile %s uses grant type %q; the outbound provider needs Client Credentials", prof["name"], prof["grant_type"])
	case uerr != nil || u.Scheme != "https" || u.Host == "":
		return nil, invalid("Invalid Outbound OAuth Provider", "%s's Token URL %q is not an https URL (https://login.microsoftonline.com/{tenant}/oauth2/token)", ent["name"], ent["token_url"])
	case ent["client_id"] == "" || ent["client_secret"] == "":
		return nil, invalid("Invalid Outbound OAuth Provider", "%s needs the Client ID and Client Secret of the Azure AD outbound app", ent["name"])
	}
	return a.saveSettings(ctx, s, map[string]string{"outbound_profile": prof["sys_id"]})
}

// InboundChoice is the inbound OAuth provider step.
type InboundChoice struct {
	Skip         bool   `json:"skip" yaml:"skip,omitempty"`
	ExternalOIDC bool   `json:"externalOIDC" yaml:"externalOIDC,omitempty"`
	Entity       string `json:"entity" yaml:"entity,omitempty"`
}

func (a *App) inboundStep(r *http.Request, ctx *platform.AppContext, s platform.Record) (any, error) {
	var body InboundChoice
	if err := decodeStep(r, &body); err != nil {
		return nil, err
	}
	return a.stepView(ctx)(a.setInbound(ctx, s, body))
}

func (a *App) setInbound(ctx *platform.AppContext, s platform.Record, body InboundChoice) (platform.Record, error) {
	if body.Skip {
		return a.saveSettings(ctx, s, map[string]string{"inbound_skipped": "true", "external_oidc": "false", "inbound_entity": ""})
	}
	if body.Entity == "" {
		return nil, invalid("Invalid Inbound OAuth Provider", "select the inbound OAuth provider, or check Skip current step")
	}
	ent, err := lookup(ctx, "oauth_entity", "name", body.Entity)
	if err != nil {
		if platform.IsAccessError(err) {
			return nil, err
		}
		return nil, invalid("Invalid Inbound OAuth Provider", "no OAuth provider %q", body.Entity)
	}
	if ent["active"] != "true" {
		return nil, invalid("Invalid Inbound OAuth Provider", "%s is not active", ent["name"])
	}
	if body.ExternalOIDC {
		if ent["type"] != "oidc_provider" {
			return nil, invalid("Invalid Inbound OAuth Provider", "with External OIDC Auth Token checked, select an OIDC provider entity (Configure an OIDC provider to verify ID tokens); %s is not one", ent["name"])
		}
		cfg, err := ctx.Get("oidc_provider_configuration", ent["oidc_provider_configuration"])
		if err != nil {
			if platform.IsAccessError(err) {
				return nil, err
			}
			return nil, invalid("Invalid Inbound OAuth Provider", "%s has no OAuth OIDC Provider Configuration", ent["name"])
		}
		if cfg["oidc_url"] == "" || cfg["user_claim"] == "" {
			return nil, invalid("Invalid Inbound OAuth Provider", "OIDC provider configuration %s needs an OIDC Metadata URL and a User Claim", cfg["name"])
		}
	} else if ent["type"] != "client" {
		return nil, invalid("Invalid Inbound OAuth Provider", "with External OIDC Auth Token unchecked, select an OAuth API endpoint for external clients; %s is not one", ent["name"])
	}
	return a.saveSettings(ctx, s, map[string]string{"inbound_skipped": "false", "external_oidc": fmt.Sprint(body.ExternalOIDC), "inbound_entity": ent["sys_id"]})
}

// UserChoice is the inbound call integration user step.
type UserChoice struct {
	Skip bool   `json:"skip" yaml:"skip,omitempty"`
	User string `json:"user" yaml:"user,omitempty"`
}

func (a *App) userStep(r *http.Request, ctx *platform.AppContext, s platform.Record) (any, error) {
	var body UserChoice
	if err := decodeStep(r, &body); err != nil {
		return nil, err
	}
	return a.stepView(ctx)(a.setUser(ctx, s, body))
}

func (a *App) setUser(ctx *platform.AppContext, s platform.Record, body UserChoice) (platform.Record, error) {
	inboundSkipped := s["inbound_skipped"] == "true"
	if body.Skip {
		if !inboundSkipped && s["inbound_entity"] != "" {
			return nil, invalid("Invalid Integration User", "an inbound OAuth provider is set: the connector needs an integration user to call in as")
		}
		return a.saveSettings(ctx, s, map[string]string{"integration_user_skipped": "true", "integration_user": ""})
	}
	if inboundSkipped {
		return nil, invalid("Invalid Integration User", "the inbound OAuth provider step was skipped (Insights only): skip this step too")
	}
	if body.User == "" {
		return nil, invalid("Invalid Integration User", "select the integration user, or check Skip current step")
	}
	// Basic mode picks a user; AAD mode types the Rest User app's client
	// id, which must be the User ID of an existing user. Both resolve here.
	user, err := lookup(ctx, "sys_user", "user_name", body.User)
	if err != nil {
		if platform.IsAccessError(err) {
			return nil, err
		}
		hint := ""
		if s["external_oidc"] == "true" {
			hint = " (with External OIDC Auth Token, type the Client ID of the Rest User app, which must be an existing user's User ID)"
		}
		return nil, invalid("Invalid Integration User", "no user with User ID %q%s", body.User, hint)
	}
	if user["active"] != "true" {
		return nil, invalid("Invalid Integration User", "user %s is not active", user["user_name"])
	}
	if user["web_service_access_only"] != "true" {
		ctx.Log(platform.LevelWarn, fmt.Sprintf("Setup: integration user %s is not Web service access only; the guide recommends it for integration users", user["user_name"]))
	}
	return a.saveSettings(ctx, s, map[string]string{"integration_user_skipped": "false", "integration_user": user["sys_id"]})
}

func (a *App) repositoryStep(r *http.Request, ctx *platform.AppContext, s platform.Record) (any, error) {
	var body struct {
		RepositoryID string `json:"repositoryId"`
	}
	if err := decodeStep(r, &body); err != nil {
		return nil, err
	}
	return a.stepView(ctx)(a.setRepository(ctx, s, body.RepositoryID))
}

func (a *App) setRepository(ctx *platform.AppContext, s platform.Record, repositoryID string) (platform.Record, error) {
	id := strings.TrimSpace(repositoryID)
	if id == "" || strings.ContainsAny(id, "/?# ") {
		return nil, invalid("Invalid Repository ID", "%q: give a repository ID without spaces or / ? #", repositoryID)
	}
	return a.saveSettings(ctx, s, map[string]string{"repository_id": id})
}

// SettingsChoice is the application settings step.
type SettingsChoice struct {
	SSO        bool   `json:"ssoWithMicrosoft365" yaml:"ssoWithMicrosoft365,omitempty"`
	AdminEmail string `json:"adminEmail" yaml:"adminEmail"`
	TestEnv    bool   `json:"testEnvironment" yaml:"testEnvironment,omitempty"`
}

func (a *App) settingsStep(r *http.Request, ctx *platform.AppContext, s platform.Record) (any, error) {
	var body SettingsChoice
	if err := decodeStep(r, &body); err != nil {
		return nil, err
	}
	return a.stepView(ctx)(a.setSettings(ctx, s, body))
}

func (a *App) setSettings(ctx *platform.AppContext, s platform.Record, body SettingsChoice) (platform.Record, error) {
	addr, err := mail.ParseAddress(body.AdminEmail)
	if err != nil || addr.Address != strings.TrimSpace(body.AdminEmail) {
		return nil, invalid("Invalid Application Settings", "Microsoft 365 Admin Email %q is not an email address", body.AdminEmail)
	}
	return a.saveSettings(ctx, s, map[string]string{"sso": fmt.Sprint(body.SSO), "admin_email": addr.Address, "test_environment": fmt.Sprint(body.TestEnv)})
}

// completionValues are the guide's "Step - 6 Complete" page: Outbound App
// ID, Repository ID, Endpoint, Client ID, User Name (blank where skipped).
func (a *App) completionValues(ctx *platform.AppContext, s platform.Record) (map[string]string, error) {
	out := map[string]string{"outboundAppId": "", "repositoryId": s["repository_id"], "endpoint": a.Endpoint(), "clientId": "", "userName": ""}
	if s["outbound_profile"] != "" {
		ent, err := a.outboundEntity(ctx, s)
		if err != nil {
			return nil, err
		}
		out["outboundAppId"] = ent["client_id"]
	}
	if s["inbound_entity"] != "" && s["inbound_skipped"] != "true" {
		ent, err := ctx.Get("oauth_entity", s["inbound_entity"])
		if err != nil {
			return nil, err
		}
		out["clientId"] = ent["client_id"]
	}
	if s["integration_user"] != "" && s["integration_user_skipped"] != "true" {
		u, err := ctx.Get("sys_user", s["integration_user"])
		if err != nil {
			return nil, err
		}
		out["userName"] = u["user_name"]
	}
	return out, nil
}

func (a *App) completion(_ *http.Request, ctx *platform.AppContext, s platform.Record) (any, error) {
	v, err := a.completionValues(ctx, s)
	if err != nil {
		return nil, err
	}
	return map[string]any{"state": state(s), "values": v}, nil
}

// next is the final step: the handshake with the connector.
func (a *App) next(_ *http.Request, ctx *platform.AppContext, s platform.Record) (any, error) {
	for _, st := range steps(s) {
		if !st.Done {
			return nil, &setupError{http.StatusConflict, "Setup incomplete", fmt.Sprintf("step %s is not done: finish steps 1 to 6 before Next", st.Name)}
		}
	}
	v, err := a.completionValues(ctx, s)
	if err != nil {
		return nil, err
	}
	body := map[string]any{"instanceUrl": a.inst.URL(), "endpoint": v["endpoint"], "inboundMode": inboundMode(s),
		"outboundAppId": v["outboundAppId"], "clientId": v["clientId"], "userName": v["userName"], "adminEmail": s["admin_email"],
		"sso": s["sso"] == "true", "testEnvironment": s["test_environment"] == "true"}
	var answer map[string]any
	if f := a.connector(ctx, s, http.MethodPost, "/handshake", body, &answer); f != nil {
		status := http.StatusBadGateway
		if f.code != "" && f.kind != failAppSupport || f.code == "InboundTestFailed" || strings.HasSuffix(f.code, "Mismatch") {
			status = http.StatusConflict
		}
		ctx.Log(platform.LevelError, "Setup: the final step failed: "+f.reason)
		return nil, &setupError{status, "Unable to complete the integration", f.reason}
	}
	s, err = ctx.Update(TableSettings, s["sys_id"], map[string]string{"handshake_completed": "true",
		"handshake_on": ctx.Instance().Clock().Now().UTC().Format(platform.TimeFormat)}, false)
	if err != nil {
		return nil, err
	}
	ctx.Log(platform.LevelInfo, fmt.Sprintf("Setup: integration completed with repository %s (inbound mode %s)", s["repository_id"], inboundMode(s)))
	out, err := a.view(ctx, s)
	if err != nil {
		return nil, err
	}
	out["connector"] = answer
	return out, nil
}
