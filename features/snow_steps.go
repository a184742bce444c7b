package features

import (
	"context"
	"fmt"
	"net/url"
	"strings"

	"github.com/cucumber/godog"
)

// ServiceNow admin steps: the guide's "[The person who is a ServiceNow
// admin]" prerequisites and configuration, through the Table API of a UI
// session.

func snowSteps(s *godog.ScenarioContext) {
	s.Step(`^the ServiceNow admin switches the current application to "([^"]+)"$`, switchApp)
	s.Step(`^the instance (does not allow|allows) Basic Authentication for inbound web-service calls$`, basicAuthAllowed)
	s.Step(`^the ServiceNow admin connects to a third party OAuth provider "([^"]+)":$`, createOutboundProvider)
	s.Step(`^the ServiceNow admin creates an OAuth API endpoint for external clients "([^"]+)" with client secret "([^"]+)"$`, createInboundClient)
	s.Step(`^the ServiceNow admin creates the OIDC provider configuration "([^"]+)":$`, createOIDCConfig)
	s.Step(`^the ServiceNow admin configures an OIDC provider to verify ID tokens "([^"]+)":$`, createOIDCEntity)
	s.Step(`^the ServiceNow admin creates the integration user "([^"]+)"(?: with password "([^"]+)")?, Web service access only(?:, with the role "([^"]+)")?$`, createIntegrationUser)
	s.Step(`^the ServiceNow admin gives "([^"]+)" the role "([^"]+)"$`, grantRole)
	s.Step(`^System Logs > All filtered on "([^"]+)" (shows|does not show) "([^"]*)"$`, systemLogShows)
	s.Step(`^System Logs > All filtered on "([^"]+)" finds nothing$`, systemLogEmpty)
}

// systemLog lists the messages the admin finds in System Logs > All with
// the guide's filter: the source contains the text.
func (sc *scenario) systemLog(filter string) ([]string, error) {
	r, err := sc.snow("admin", "GET", "/api/now/table/syslog?sysparm_fields=message&sysparm_query="+url.QueryEscape("sourceLIKE"+filter), nil)
	if err != nil {
		return nil, err
	}
	if err := expect(r, 200, "reading the system log"); err != nil {
		return nil, err
	}
	var out []string
	for _, row := range r.ResultList() {
		out = append(out, fmt.Sprint(row.(map[string]any)["message"]))
	}
	return out, nil
}

func systemLogShows(ctx context.Context, filter, which, text string) error {
	sc := from(ctx)
	text, err := sc.expand(text)
	if err != nil {
		return err
	}
	msgs, err := sc.systemLog(filter)
	if err != nil {
		return err
	}
	found := false
	for _, m := range msgs {
		if strings.Contains(m, text) {
			found = true
		}
	}
	if found != (which == "shows") {
		want := "a message containing"
		if which != "shows" {
			want = "no message containing"
		}
		has := fmt.Sprintf("%d messages: %q", len(msgs), msgs)
		if len(msgs) == 0 {
			has = "no messages"
		}
		return fmt.Errorf("System Logs > All filtered on %q: want %s %q, found %s", filter, want, text, has)
	}
	return nil
}

func systemLogEmpty(ctx context.Context, filter string) error {
	msgs, err := from(ctx).systemLog(filter)
	if err != nil {
		return err
	}
	if len(msgs) != 0 {
		return fmt.Errorf("System Logs > All filtered on %q finds %d entries: %q", filter, len(msgs), msgs)
	}
	return nil
}

func switchApp(ctx context.Context, name string) error {
	sc := from(ctx)
	r, err := sc.snow("admin", "GET", "/api/now/table/sys_scope?sysparm_query="+url.QueryEscape("name="+name), nil)
	if err != nil {
		return err
	}
	list := r.ResultList()
	if len(list) != 1 {
		return fmt.Errorf("no application named %q: %s", name, r)
	}
	r, err = sc.snow("admin", "PUT", "/api/now/ui/concoursepicker/application", map[string]string{"app_id": list[0].(map[string]any)["sys_id"].(string)})
	if err != nil {
		return err
	}
	return expect(r, 200, "switching the current application")
}

func basicAuthAllowed(ctx context.Context, which string) error {
	sc := from(ctx)
	value := "true"
	if which == "does not allow" {
		value = "false"
	}
	r, err := sc.snow("admin", "GET", "/api/now/table/sys_properties?sysparm_query=name%3Dm365snow.inbound.basic_auth.allowed", nil)
	if err != nil {
		return err
	}
	if list := r.ResultList(); len(list) > 0 {
		r, err = sc.snow("admin", "PATCH", "/api/now/table/sys_properties/"+list[0].(map[string]any)["sys_id"].(string), map[string]string{"value": value})
	} else {
		r, err = sc.snow("admin", "POST", "/api/now/table/sys_properties", map[string]string{"name": "m365snow.inbound.basic_auth.allowed", "value": value, "type": "boolean"})
	}
	if err != nil {
		return err
	}
	if r.Status/100 != 2 {
		return fmt.Errorf("setting the basic-auth property: %s", r)
	}
	return nil
}

// createEntity creates an oauth_entity and, for providers, its default
// profile, as the Application Registry's wizards do.
func (sc *scenario) createEntity(values map[string]string) (map[string]any, error) {
	path := "/api/now/table/oauth_entity"
	if _, byName := values["oidc_provider_configuration"]; byName {
		// The form's reference field takes the configuration's name: on
		// the Table API that is display-value input.
		path += "?sysparm_input_display_value=true"
	}
	r, err := sc.snow("admin", "POST", path, values)
	if err != nil {
		return nil, err
	}
	if err := expect(r, 201, "creating OAuth entity "+values["name"]); err != nil {
		return nil, err
	}
	ent := r.Result()
	if values["type"] != "client" {
		r, err = sc.snow("admin", "POST", "/api/now/table/oauth_entity_profile", map[string]string{"name": values["name"] + " default_profile",
			"oauth_entity": ent["sys_id"].(string), "grant_type": values["default_grant_type"], "default": "true"})
		if err != nil {
			return nil, err
		}
		if err := expect(r, 201, "creating the default profile"); err != nil {
			return nil, err
		}
	}
	return ent, nil
}

var grantTypes = map[string]string{"Client Credentials": "client_credentials", "Authorization Code": "authorization_code", "Resource Owner Password Credentials": "password"}

func createOutboundProvider(ctx context.Context, name string, t *godog.Table) error {
	sc := from(ctx)
	v, _, err := sc.rows(t)
	if err != nil {
		return err
	}
	grant, ok := grantTypes[v["Default Grant type"]]
	if !ok {
		return fmt.Errorf("Default Grant type %q (Client Credentials, Authorization Code, Resource Owner Password Credentials)", v["Default Grant type"])
	}
	_, err = sc.createEntity(map[string]string{"name": name, "type": "oauth_provider", "client_id": v["Client ID"], "client_secret": v["Client Secret"],
		"default_grant_type": grant, "token_url": v["Token URL"], "redirect_url": v["Redirect URL"]})
	return err
}

func createInboundClient(ctx context.Context, name, secret string) error {
	sc := from(ctx)
	ent, err := sc.createEntity(map[string]string{"name": name, "type": "client", "client_secret": secret})
	if err != nil {
		return err
	}
	sc.set(name+": Client ID", ent["client_id"].(string))
	sc.set(name+": Client Secret", secret)
	return nil
}

func createOIDCConfig(ctx context.Context, name string, t *godog.Table) error {
	sc := from(ctx)
	v, _, err := sc.rows(t)
	if err != nil {
		return err
	}
	r, err := sc.snow("admin", "POST", "/api/now/table/oidc_provider_configuration", map[string]string{"name": name,
		"oidc_url": v["OIDC Metadata URL"], "user_claim": v["UserClaim"], "user_field": v["User Field"]})
	if err != nil {
		return err
	}
	return expect(r, 201, "creating the OIDC provider configuration")
}

func createOIDCEntity(ctx context.Context, name string, t *godog.Table) error {
	sc := from(ctx)
	v, _, err := sc.rows(t)
	if err != nil {
		return err
	}
	_, err = sc.createEntity(map[string]string{"name": name, "type": "oidc_provider", "client_id": v["Client ID"], "client_secret": v["Client Secret"],
		"oidc_provider_configuration": v["OAuth OIDC Provider Configuration"], "redirect_url": v["Redirect URL"], "default_grant_type": "client_credentials"})
	return err
}

func createIntegrationUser(ctx context.Context, userName, password, role string) error {
	sc := from(ctx)
	userName, err := sc.expand(userName)
	if err != nil {
		return err
	}
	r, err := sc.snow("admin", "POST", "/api/now/table/sys_user", map[string]string{"user_name": userName, "first_name": "M365",
		"last_name": "Integration", "user_password": password, "web_service_access_only": "true"})
	if err != nil {
		return err
	}
	if err := expect(r, 201, "creating the integration user"); err != nil {
		return err
	}
	if password != "" {
		sc.mu.Lock()
		sc.passwords[userName] = password
		sc.mu.Unlock()
	}
	if role != "" {
		return grantRole(ctx, userName, role)
	}
	return nil
}

func grantRole(ctx context.Context, userName, role string) error {
	sc := from(ctx)
	userName, err := sc.expand(userName)
	if err != nil {
		return err
	}
	id, err := sc.userID(userName)
	if err != nil {
		return err
	}
	r, err := sc.snow("admin", "POST", "/api/now/table/sys_user_has_role?sysparm_input_display_value=true", map[string]string{"user": id, "role": role})
	if err != nil {
		return err
	}
	if err := expect(r, 201, "granting "+role); err != nil {
		return err
	}
	// The role is given by name as display input; check it resolved.
	rec := r.Result()
	if ref, _ := rec["role"].(map[string]any); ref == nil || strings.TrimSpace(fmt.Sprint(ref["value"])) == role {
		return fmt.Errorf("role %q did not resolve to a role record: %s", role, r)
	}
	return nil
}

// userID finds a user's sys_id by user_name.
func (sc *scenario) userID(userName string) (string, error) {
	r, err := sc.snow("admin", "GET", "/api/now/table/sys_user?sysparm_fields=sys_id&sysparm_query="+url.QueryEscape("user_name="+userName), nil)
	if err != nil {
		return "", err
	}
	list := r.ResultList()
	if len(list) != 1 {
		return "", fmt.Errorf("no user %q: %s", userName, r)
	}
	return list[0].(map[string]any)["sys_id"].(string), nil
}
