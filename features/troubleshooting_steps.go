package features

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/cucumber/godog"

	"github.com/m365snow/m365snow/fakesnow/m365app"
)

// Troubleshooting steps: the causes of the guide's Troubleshooting rows,
// induced through the parties' own APIs (or, for outages inside the
// connector, its fault injection), the diagnostics the guide names, and the
// fixes. Each step that an admin would do from a particular application
// scope switches to it first, as a person would before editing.

func troubleshootingSteps(s *godog.ScenarioContext) {
	s.Step(`^the ServiceNow admin changes the (Client ID|Client Secret|Token URL) of the OAuth (?:provider|entity) "([^"]+)" to "([^"]*)"$`, changeEntity)
	s.Step(`^the ServiceNow admin clears "([^"]+)" on the app's settings record$`, clearSetting)
	s.Step(`^the ServiceNow admin enters the (?:repository ID "([^"]+)"|application settings with the admin email "([^"]+)") again in Setup$`, reenterSetup)
	s.Step(`^the ServiceNow admin (deactivates|activates) the (read|create|write|delete) access control of "([^"]+)"$`, toggleACL)
	s.Step(`^the ServiceNow admin changes the password of "([^"]+)" to "([^"]+)"$`, changePassword)
	s.Step(`^the ServiceNow admin (unchecks|checks) All application scopes > Can read on the table "([^"]+)"$`, tableReadAccess)
	s.Step(`^the ServiceNow admin creates the Application Cross-Scope Access record for reading "([^"]+)"$`, createScopePrivilege)
	s.Step(`^the App Secret of the Azure AD application "([^"]+)" expires$`, secretExpires)
	s.Step(`^the Azure AD admin "([^"]+)" creates a new App Secret for "([^"]+)" and the ServiceNow admin enters it into "([^"]+)"$`, renewSecret)
	s.Step(`^the Microsoft 365 admin "([^"]+)" deletes the repository "([^"]+)"$`, deleteRepository)
	s.Step(`^the Microsoft 365 admin "([^"]+)" adds the repository "([^"]+)" again with its original settings$`, readdRepository)
	s.Step(`^the support connector answers (searches for solutions|ticket detail updates) with (HTTP \d{3}|malformed JSON)$`, connectorFault)
	s.Step(`^the support connector cannot be reached$`, func(ctx context.Context) error {
		return from(ctx).m365Fault(map[string]any{"path": "/api/v1/**", "drop": true})
	})
	s.Step(`^the support connector is (?:healthy|reachable) again$`, connectorHealthy)
	s.Step(`^System Logs > Outbound HTTP Requests filtered on "([^"]+)" (?:shows|show) (HTTP \d{3}|no answer)(?: with "([^"]*)")?$`, outboundLogShows)
}

// asAdminIn switches the ServiceNow admin's current application.
func (sc *scenario) asAdminIn(scope string) error {
	id := "global"
	if scope != "Global" {
		id = m365app.ScopeSysID
	}
	r, err := sc.snow("admin", "PUT", "/api/now/ui/concoursepicker/application", map[string]string{"app_id": id})
	if err != nil {
		return err
	}
	return expect(r, 200, "switching the current application to "+scope)
}

// patchWhere updates, through the Table API, the one record a query selects.
func (sc *scenario) patchWhere(table, query string, values map[string]string) error {
	r, err := sc.snow("admin", "GET", "/api/now/table/"+table+"?sysparm_fields=sys_id&sysparm_query="+url.QueryEscape(query), nil)
	if err != nil {
		return err
	}
	if err := expect(r, 200, "reading "+table); err != nil {
		return err
	}
	list := r.ResultList()
	if len(list) != 1 {
		return fmt.Errorf("%s where %s: want one record, found %d", table, query, len(list))
	}
	id := list[0].(map[string]any)["sys_id"].(string)
	r, err = sc.snow("admin", "PATCH", "/api/now/table/"+table+"/"+id, values)
	if err != nil {
		return err
	}
	return expect(r, 200, "updating "+table)
}

var entityFields = map[string]string{"Client ID": "client_id", "Client Secret": "client_secret", "Token URL": "token_url"}

func changeEntity(ctx context.Context, label, name, value string) error {
	sc := from(ctx)
	value, err := sc.expand(value)
	if err != nil {
		return err
	}
	if err := sc.asAdminIn("Global"); err != nil {
		return err
	}
	return sc.patchWhere("oauth_entity", "name="+name, map[string]string{entityFields[label]: value})
}

var settingFields = map[string]string{"Microsoft 365 Admin Email": "admin_email", "Repository ID": "repository_id"}

// clearSetting edits the app's settings record in its list, outside Setup.
func clearSetting(ctx context.Context, label string) error {
	sc := from(ctx)
	field, ok := settingFields[label]
	if !ok {
		return fmt.Errorf("the settings record has no %q here (%s)", label, shown(settingFields))
	}
	if err := sc.asAdminIn("Microsoft 365 support integration"); err != nil {
		return err
	}
	return sc.patchWhere(m365app.TableSettings, "", map[string]string{field: ""})
}

func reenterSetup(ctx context.Context, repository, email string) error {
	sc := from(ctx)
	if err := sc.asAdminIn("Microsoft 365 support integration"); err != nil {
		return err
	}
	if repository != "" {
		return sc.setup("PUT", "/repository", map[string]string{"repositoryId": repository})
	}
	// The other values as the shipped integrated worlds have them.
	return sc.setup("PUT", "/settings", map[string]any{"adminEmail": email, "testEnvironment": true})
}

func toggleACL(ctx context.Context, what, op, table string) error {
	sc := from(ctx)
	if err := sc.asAdminIn("Microsoft 365 support integration"); err != nil {
		return err
	}
	return sc.patchWhere("sys_security_acl", "name="+table+"^operation="+op, map[string]string{"active": fmt.Sprint(what == "activates")})
}

func changePassword(ctx context.Context, user, password string) error {
	sc := from(ctx)
	if err := sc.asAdminIn("Global"); err != nil {
		return err
	}
	if err := sc.patchWhere("sys_user", "user_name="+user, map[string]string{"user_password": password}); err != nil {
		return err
	}
	sc.mu.Lock()
	sc.passwords[user] = password
	sc.mu.Unlock()
	return nil
}

func tableReadAccess(ctx context.Context, what, table string) error {
	sc := from(ctx)
	if err := sc.asAdminIn("Global"); err != nil {
		return err
	}
	return sc.patchWhere("sys_db_object", "name="+table, map[string]string{"read_access": fmt.Sprint(what == "checks")})
}

func createScopePrivilege(ctx context.Context, table string) error {
	sc := from(ctx)
	r, err := sc.snow("admin", "POST", "/api/now/table/sys_scope_privilege", map[string]string{"source_scope": m365app.ScopeSysID,
		"target_scope": "global", "target_name": table, "target_type": "sys_db_object", "operation": "read", "status": "allowed"})
	if err != nil {
		return err
	}
	return expect(r, 201, "creating the Application Cross-Scope Access record for "+table)
}

// application finds an app registration of Contoso by display name, as its
// Global Administrator sees it in Graph.
func (sc *scenario) application(name string) (map[string]any, error) {
	r, err := sc.graph("admin@contoso.onmicrosoft.com", "GET", "/applications", nil)
	if err != nil {
		return nil, err
	}
	if err := expect(r, 200, "listing applications"); err != nil {
		return nil, err
	}
	list, _ := r.JSON["value"].([]any)
	for _, a := range list {
		if app := a.(map[string]any); app["displayName"] == name {
			return app, nil
		}
	}
	return nil, fmt.Errorf("no application %q in Contoso's directory", name)
}

// secretExpires moves the world's clock past the end of the app's newest
// secret: the way secrets really stop working.
func secretExpires(ctx context.Context, name string) error {
	sc := from(ctx)
	app, err := sc.application(name)
	if err != nil {
		return err
	}
	creds, _ := app["passwordCredentials"].([]any)
	var last time.Time
	for _, c := range creds {
		end, err := time.Parse(time.RFC3339, fmt.Sprint(c.(map[string]any)["endDateTime"]))
		if err != nil {
			return fmt.Errorf("secret end %s: %w", shown(c), err)
		}
		if end.After(last) {
			last = end
		}
	}
	if last.IsZero() {
		return fmt.Errorf("%s has no secret", name)
	}
	if sc.external {
		return sc.expireSecretInVendorMode(name)
	}
	if d := last.Sub(sc.w.Clock.Now()); d > 0 {
		sc.w.Clock.Advance(d + time.Minute)
	}
	return nil
}

func renewSecret(ctx context.Context, admin, name, entity string) error {
	sc := from(ctx)
	app, err := sc.application(name)
	if err != nil {
		return err
	}
	r, err := sc.graph(admin, "POST", "/applications/"+fmt.Sprint(app["id"])+"/addPassword", map[string]any{"passwordCredential": map[string]string{"displayName": "servicenow renewed"}})
	if err != nil {
		return err
	}
	if err := expect(r, 200, "creating the App Secret"); err != nil {
		return err
	}
	return changeEntity(ctx, "Client Secret", entity, r.JSON["secretText"].(string))
}

func deleteRepository(ctx context.Context, admin, id string) error {
	sc := from(ctx)
	r, err := sc.portal(admin, "DELETE", "/repositories/"+url.PathEscape(id), nil)
	if err != nil {
		return err
	}
	return expect(r, 204, "deleting repository "+id)
}

// readdRepository saves the repository with the values the admin first
// entered (the world's), secrets included.
func readdRepository(ctx context.Context, admin, id string) error {
	sc := from(ctx)
	tenant := admin[strings.Index(admin, "@")+1:]
	for _, t := range sc.w.M365Fixture.Tenants {
		for _, d := range t.Domains {
			if !strings.EqualFold(d, tenant) {
				continue
			}
			for _, repo := range t.Repositories {
				if repo.ID != id {
					continue
				}
				r, err := sc.portal(admin, "PUT", "/repositories/"+url.PathEscape(id), map[string]any{"endpoint": repo.Endpoint,
					"authenticationType": repo.AuthenticationType, "clientId": repo.ClientID, "clientSecret": repo.ClientSecret,
					"refreshTokenExpiry": repo.RefreshTokenExpiry, "restUsername": repo.RestUsername, "restUserPassword": repo.RestUserPassword})
				if err != nil {
					return err
				}
				return expect(r, 201, "adding repository "+id+" again")
			}
		}
	}
	return fmt.Errorf("the world has no repository %s of %s", id, tenant)
}

// m365Fault injects a fault into the reference connector through its
// control plane.
func (sc *scenario) m365Fault(f map[string]any) error {
	return sc.connectorFaults("POST", f, 201, "injecting a fault into the connector")
}

// connectorFaults calls the reference connector's /__admin/faults.
func (sc *scenario) connectorFaults(method string, body any, status int, what string) error {
	if sc.w.M365 == nil {
		// An external connector: the fault is injected at the world's
		// gateway in front of it, where the app sees the same answer.
		if method == "DELETE" {
			return sc.gatewayFault(nil)
		}
		f, _ := body.(map[string]any)
		return sc.gatewayFault(f)
	}
	r, err := sc.w.Do(method, sc.w.M365URL+"/__admin/faults", nil, body)
	if err != nil {
		return err
	}
	return expect(r, status, what)
}

var faultPaths = map[string][2]string{
	"searches for solutions": {"POST", "/api/v1/repositories/*/solutions/search"},
	"ticket detail updates":  {"PATCH", "/api/v1/repositories/*/cases/*"},
}

func connectorFault(ctx context.Context, what, answer string) error {
	mp := faultPaths[what]
	f := map[string]any{"method": mp[0], "path": mp[1]}
	if answer == "malformed JSON" {
		f["malformed"] = true
	} else {
		var status int
		fmt.Sscanf(answer, "HTTP %d", &status)
		f["status"] = status
	}
	return from(ctx).m365Fault(f)
}

func connectorHealthy(ctx context.Context) error {
	return from(ctx).connectorFaults("DELETE", nil, 204, "clearing the connector's faults")
}

// outboundLogShows reads System Logs > Outbound HTTP Requests as the guide
// says, filtered by host: the newest row must show the status (or no answer
// at all) and the text.
func outboundLogShows(ctx context.Context, host, status, text string) error {
	sc := from(ctx)
	r, err := sc.snow("admin", "GET", "/api/now/table/sys_outbound_http_log?sysparm_fields=url,http_status,error_message,response_body&sysparm_query="+
		url.QueryEscape("hostnameLIKE"+host), nil)
	if err != nil {
		return err
	}
	if err := expect(r, 200, "reading the outbound HTTP log"); err != nil {
		return err
	}
	list := r.ResultList()
	if len(list) == 0 {
		return fmt.Errorf("no outbound request to %s was logged", host)
	}
	// Rows come in the order they were written; the clock may not have
	// moved between them, so creation times cannot order them.
	row := list[len(list)-1].(map[string]any)
	got := fmt.Sprint(row["http_status"])
	switch {
	case status == "no answer" && got != "" && got != "0":
		return fmt.Errorf("the newest request to %s was answered (HTTP %s): %s", host, got, shown(row))
	case status == "no answer" && fmt.Sprint(row["error_message"]) == "":
		return fmt.Errorf("the newest request to %s has neither an answer nor an error: %s", host, shown(row))
	case status != "no answer" && "HTTP "+got != status:
		return fmt.Errorf("the newest request to %s: want %s, got %s", host, status, shown(row))
	}
	if text != "" && !strings.Contains(fmt.Sprint(row["response_body"])+fmt.Sprint(row["error_message"]), text) {
		return fmt.Errorf("the newest request to %s does not show %q: %s", host, text, shown(row))
	}
	return nil
}
