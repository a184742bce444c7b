package fakesnow

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/google/uuid"
	"gopkg.in/yaml.v3"

	"github.com/m365snow/m365snow/fakesnow/m365app"
	"github.com/m365snow/m365snow/fakesnow/platform"
	"github.com/m365snow/m365snow/internal/fixture"
)

// Fixture is the snow: section of a world fixture; fixtures/README.md
// documents it for people. The named lists are conveniences for writing
// worlds by hand; Records holds rows verbatim and is what exports produce.
type Fixture struct {
	// Instance names the instance: https://<instance>.service-now.com.
	Instance   string            `yaml:"instance"`
	Properties map[string]string `yaml:"properties,omitempty"`
	Roles      []RoleFixture     `yaml:"roles,omitempty"`
	Users      []UserFixture     `yaml:"users,omitempty"`
	// Tables overrides tables' application-access settings.
	Tables                     map[string]TableAccessFixture `yaml:"tables,omitempty"`
	OIDCProviderConfigurations []OIDCConfigFixture           `yaml:"oidcProviderConfigurations,omitempty"`
	OAuthEntities              []OAuthEntityFixture          `yaml:"oauthEntities,omitempty"`
	Incidents                  []IncidentFixture             `yaml:"incidents,omitempty"`
	// Records are rows by table, loaded as they are (sys_ids and system
	// fields kept). A table listed here is replaced entirely.
	Records map[string][]map[string]string `yaml:"records,omitempty"`
	// App installs the Microsoft 365 support integration app
	// (x_mioms_m365_assis), optionally with Setup walked.
	App *m365app.Fixture `yaml:"app,omitempty"`
	// OAuthCredentials are issued OAuth tokens and UI sessions, and UsedJTIs
	// the OIDC token ids already seen: exports carry them (ServiceNow keeps
	// tokens in oauth_credential), so clients stay signed in across a save
	// and restore and a replayed token stays refused.
	OAuthCredentials []platform.Credential `yaml:"oauthCredentials,omitempty"`
	UsedJTIs         []string              `yaml:"usedJtis,omitempty"`
}

// RoleFixture adds a role.
type RoleFixture struct {
	Name        string   `yaml:"name"`
	Description string   `yaml:"description,omitempty"`
	Contains    []string `yaml:"contains,omitempty"`
}

// UserFixture adds a sys_user.
type UserFixture struct {
	SysID                string   `yaml:"sys_id,omitempty"`
	UserName             string   `yaml:"user_name"`
	Password             string   `yaml:"password,omitempty"`
	FirstName            string   `yaml:"first_name,omitempty"`
	LastName             string   `yaml:"last_name,omitempty"`
	Email                string   `yaml:"email,omitempty"`
	Roles                []string `yaml:"roles,omitempty"`
	Active               *bool    `yaml:"active,omitempty"`
	LockedOut            bool     `yaml:"locked_out,omitempty"`
	WebServiceAccessOnly bool     `yaml:"web_service_access_only,omitempty"`
	// CurrentApp is the scope name the user's application picker shows.
	CurrentApp string `yaml:"current_app,omitempty"`
}

// TableAccessFixture overrides sys_db_object application-access fields.
type TableAccessFixture struct {
	Access       string `yaml:"access,omitempty"` // public | package_private
	ReadAccess   *bool  `yaml:"read_access,omitempty"`
	CreateAccess *bool  `yaml:"create_access,omitempty"`
	UpdateAccess *bool  `yaml:"update_access,omitempty"`
	DeleteAccess *bool  `yaml:"delete_access,omitempty"`
	WSAccess     *bool  `yaml:"ws_access,omitempty"`
}

// OIDCConfigFixture adds an oidc_provider_configuration.
type OIDCConfigFixture struct {
	SysID                 string `yaml:"sys_id,omitempty"`
	Name                  string `yaml:"name"`
	OIDCURL               string `yaml:"oidc_url"`
	UserClaim             string `yaml:"user_claim"`
	UserField             string `yaml:"user_field,omitempty"`
	EnableJTIVerification bool   `yaml:"enable_jti_verification,omitempty"`
	CacheLifeSpan         int    `yaml:"oidc_config_cache_life_span,omitempty"`
}

// OAuthEntityFixture adds an oauth_entity. OAuth providers and OIDC
// providers get their default profile, as the platform's wizards create.
type OAuthEntityFixture struct {
	SysID                string `yaml:"sys_id,omitempty"`
	Name                 string `yaml:"name"`
	Type                 string `yaml:"type"` // client, oauth_provider or oidc_provider
	ClientID             string `yaml:"client_id,omitempty"`
	ClientSecret         string `yaml:"client_secret,omitempty"`
	TokenURL             string `yaml:"token_url,omitempty"`
	DefaultGrantType     string `yaml:"default_grant_type,omitempty"`
	RedirectURL          string `yaml:"redirect_url,omitempty"`
	AccessTokenLifespan  int    `yaml:"access_token_lifespan,omitempty"`
	RefreshTokenLifespan int    `yaml:"refresh_token_lifespan,omitempty"`
	User                 string `yaml:"user,omitempty"` // user_name of the OAuth Application User
	OIDCProvider         string `yaml:"oidc_provider_configuration,omitempty"`
	ClockSkew            int    `yaml:"clock_skew,omitempty"`
	Active               *bool  `yaml:"active,omitempty"`
	Scope                string `yaml:"scope,omitempty"` // application; default global
}

// IncidentFixture adds an incident.
type IncidentFixture struct {
	Number           string `yaml:"number,omitempty"`
	ShortDescription string `yaml:"short_description"`
	Description      string `yaml:"description,omitempty"`
	Caller           string `yaml:"caller,omitempty"` // user_name
	State            string `yaml:"state,omitempty"`
	Priority         string `yaml:"priority,omitempty"`
	Category         string `yaml:"category,omitempty"`
}

// ParseFixture decodes a snow: section.
func ParseFixture(n *yaml.Node) (*Fixture, error) {
	var f Fixture
	if err := fixture.Section(n, &f); err != nil {
		return nil, fmt.Errorf("snow: %w", err)
	}
	return &f, nil
}

// InstanceURL is the public URL a fixture's instance name implies.
func (f *Fixture) InstanceURL() string {
	name := f.Instance
	if name == "" {
		name = "dev00000"
	}
	return "https://" + name + ".service-now.com"
}

func boolString(b *bool, def bool) string {
	if b == nil {
		return strconv.FormatBool(def)
	}
	return strconv.FormatBool(*b)
}

// load writes the fixture's contents into a fresh instance.
func (f *Fixture) load(inst *platform.Instance) error {
	names := make([]string, 0, len(f.Properties))
	for k := range f.Properties {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		if err := inst.SetProperty(k, f.Properties[k]); err != nil {
			return err
		}
	}
	for _, r := range f.Roles {
		if err := inst.AddRole(r.Name, r.Description, "", r.Contains...); err != nil {
			return fmt.Errorf("role %s: %w", r.Name, err)
		}
	}
	for _, u := range f.Users {
		if err := loadUser(inst, u); err != nil {
			return err
		}
	}
	for table, a := range f.Tables {
		obj, err := inst.First("sys_db_object", "name="+table)
		if err != nil {
			return fmt.Errorf("tables.%s: no such table", table)
		}
		set := map[string]string{}
		if a.Access != "" {
			if a.Access != "public" && a.Access != "package_private" {
				return fmt.Errorf("tables.%s.access %q: public or package_private", table, a.Access)
			}
			set["access"] = a.Access
		}
		for k, v := range map[string]*bool{"read_access": a.ReadAccess, "create_access": a.CreateAccess, "update_access": a.UpdateAccess, "delete_access": a.DeleteAccess, "ws_access": a.WSAccess} {
			if v != nil {
				set[k] = strconv.FormatBool(*v)
			}
		}
		if _, err := inst.Update("sys_db_object", obj["sys_id"], set); err != nil {
			return err
		}
	}
	for _, c := range f.OIDCProviderConfigurations {
		vals := map[string]string{"sys_id": c.SysID, "name": c.Name, "oidc_url": c.OIDCURL, "user_claim": c.UserClaim,
			"enable_jti_verification": strconv.FormatBool(c.EnableJTIVerification)}
		if c.UserField != "" {
			vals["user_field"] = c.UserField
		}
		if c.CacheLifeSpan > 0 {
			vals["oidc_config_cache_life_span"] = strconv.Itoa(c.CacheLifeSpan)
		}
		if _, err := inst.Insert("oidc_provider_configuration", vals); err != nil {
			return fmt.Errorf("oidc provider configuration %s: %w", c.Name, err)
		}
	}
	for _, e := range f.OAuthEntities {
		if err := loadEntity(inst, e); err != nil {
			return err
		}
	}
	for _, in := range f.Incidents {
		vals := map[string]string{"number": in.Number, "short_description": in.ShortDescription, "description": in.Description,
			"state": in.State, "priority": in.Priority, "category": in.Category}
		for k, v := range vals {
			if v == "" && (k == "state" || k == "priority") {
				delete(vals, k)
			}
		}
		if in.Caller != "" {
			u, err := inst.First("sys_user", "user_name="+in.Caller)
			if err != nil {
				return fmt.Errorf("incident %q: no caller %s", in.ShortDescription, in.Caller)
			}
			vals["caller_id"], vals["opened_by"] = u["sys_id"], u["sys_id"]
		}
		vals["opened_at"] = inst.Clock().Now().UTC().Format(platform.TimeFormat)
		if _, err := inst.Insert("incident", vals); err != nil {
			return fmt.Errorf("incident %q: %w", in.ShortDescription, err)
		}
	}
	return nil
}

func loadUser(inst *platform.Instance, u UserFixture) error {
	if u.UserName == "" {
		return fmt.Errorf("a user needs a user_name")
	}
	rec, err := inst.Insert("sys_user", map[string]string{
		"sys_id": u.SysID, "user_name": u.UserName, "user_password": u.Password, "first_name": u.FirstName,
		"last_name": u.LastName, "email": u.Email, "active": boolString(u.Active, true),
		"locked_out": strconv.FormatBool(u.LockedOut), "web_service_access_only": strconv.FormatBool(u.WebServiceAccessOnly),
	})
	if err != nil {
		return fmt.Errorf("user %s: %w", u.UserName, err)
	}
	for _, role := range u.Roles {
		if err := inst.GrantRole(rec["sys_id"], role); err != nil {
			return fmt.Errorf("user %s: %w", u.UserName, err)
		}
	}
	if u.CurrentApp != "" {
		scope, err := inst.First("sys_scope", "scope="+u.CurrentApp)
		if err != nil {
			return fmt.Errorf("user %s: no application %s", u.UserName, u.CurrentApp)
		}
		if err := inst.SetCurrentApp(rec["sys_id"], scope["sys_id"]); err != nil {
			return err
		}
	}
	return nil
}

func loadEntity(inst *platform.Instance, e OAuthEntityFixture) error {
	switch e.Type {
	case "client", "oauth_provider", "oidc_provider":
	default:
		return fmt.Errorf("oauth entity %s: type %q (client, oauth_provider or oidc_provider)", e.Name, e.Type)
	}
	vals := map[string]string{"sys_id": e.SysID, "name": e.Name, "type": e.Type, "client_id": e.ClientID, "client_secret": e.ClientSecret,
		"token_url": e.TokenURL, "default_grant_type": e.DefaultGrantType, "redirect_url": e.RedirectURL, "active": boolString(e.Active, true)}
	if e.AccessTokenLifespan > 0 {
		vals["access_token_lifespan"] = strconv.Itoa(e.AccessTokenLifespan)
	}
	if e.RefreshTokenLifespan > 0 {
		vals["refresh_token_lifespan"] = strconv.Itoa(e.RefreshTokenLifespan)
	}
	if e.ClockSkew > 0 {
		vals["clock_skew"] = strconv.Itoa(e.ClockSkew)
	}
	if e.User != "" {
		u, err := inst.First("sys_user", "user_name="+e.User)
		if err != nil {
			return fmt.Errorf("oauth entity %s: no user %s", e.Name, e.User)
		}
		vals["user"] = u["sys_id"]
	}
	if e.OIDCProvider != "" {
		c, err := inst.First("oidc_provider_configuration", "name="+e.OIDCProvider)
		if err != nil {
			return fmt.Errorf("oauth entity %s: no OIDC provider configuration %s", e.Name, e.OIDCProvider)
		}
		vals["oidc_provider_configuration"] = c["sys_id"]
	}
	if e.Scope != "" && e.Scope != platform.GlobalScope {
		s, err := inst.First("sys_scope", "scope="+e.Scope)
		if err != nil {
			return fmt.Errorf("oauth entity %s: no application %s", e.Name, e.Scope)
		}
		vals["sys_scope"] = s["sys_id"]
	}
	if e.Type == "client" && vals["client_id"] == "" {
		vals["client_id"] = strings.ReplaceAll(uuid.NewString(), "-", "")
	}
	rec, err := inst.Insert("oauth_entity", vals)
	if err != nil {
		return fmt.Errorf("oauth entity %s: %w", e.Name, err)
	}
	if e.Type != "client" {
		if _, err := inst.Insert("oauth_entity_profile", map[string]string{"name": e.Name + " default_profile",
			"oauth_entity": rec["sys_id"], "grant_type": e.DefaultGrantType, "default": "true", "sys_scope": rec["sys_scope"]}); err != nil {
			return err
		}
	}
	return nil
}
