package main

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/m365snow/m365snow/fakeaad"
	"github.com/m365snow/m365snow/fakem365"
	"github.com/m365snow/m365snow/fakesnow"
	"github.com/m365snow/m365snow/fakesnow/m365app"
	"github.com/m365snow/m365snow/internal/adminapi"
	"github.com/m365snow/m365snow/internal/wellknown"
	"github.com/m365snow/m365snow/world"
)

// The guide's messages the troubleshooting rows show (DESIGN.md, the
// guide's Troubleshooting table), as the app has them.
const (
	msgSetupSteps  = m365app.MsgSetupIncomplete
	msgFinalStep   = m365app.MsgFinalIncomplete
	msgAppSupport  = m365app.MsgAppSupport
	msgTicket      = m365app.MsgTicketDetails
	msgNotAdmin    = "is not a valid Microsoft 365 admin account" // "<email> is not …"
	msgCrossScope  = "has been refused due to the table's cross-scope access policy"
	noSolutions    = `"solutions":[]`
	supportTab     = "Microsoft 365 Support"
	searchText     = "teams meetings drop"
	incidentNumber = "INC0010001"
	m365Admin      = "admin@contoso.onmicrosoft.com"
)

// troubleshootingWalk is a troubleshooting world's walk-through after the
// admin's session: the symptom where the guide's reader meets it, the
// diagnostics the guide names, the fix the guide names as calls, and the
// same symptom call again, now without the symptom. Every call says what
// its answer shows (Shows) or no longer shows (Lacks); the tests check it.
//
// A fix restores what the shipped world had before its cause was induced,
// read from that world (name), not from the running one's fixture: a world
// saved from it holds the cause itself.
func troubleshootingWalk(w *world.World, name string) ([]call, error) {
	f, err := world.Load(name)
	if err != nil {
		return nil, err
	}
	t := trouble{w: w, app: w.SnowURL + "/api/x_mioms_m365_assis/v1"}
	if t.snow, err = fakesnow.ParseFixture(&f.Snow); err != nil {
		return nil, err
	}
	if t.m365, err = fakem365.ParseFixture(&f.M365); err != nil {
		return nil, err
	}
	if t.aad, err = fakeaad.ParseFixture(&f.AAD); err != nil {
		return nil, err
	}
	if t.snow.App == nil || t.snow.App.Setup == nil {
		return nil, fmt.Errorf("%s has no Setup to restore", name)
	}
	row := strings.TrimPrefix(name, "troubleshooting-")
	var steps []call
	add := func(c ...call) { steps = append(steps, c...) }
	switch row {
	case "1":
		abel, err := t.user("abel.tuter")
		if err != nil {
			return nil, err
		}
		uid, rid := t.sysID("sys_user", "user_name=abel.tuter"), t.sysID("sys_user_role", "name="+m365app.RoleInsights)
		if uid == "" || rid == "" {
			return nil, fmt.Errorf("the world has no abel.tuter or no role %s", m365app.RoleInsights)
		}
		form := call{Note: "The symptom: abel.tuter opens " + incidentNumber + "; the form has no Microsoft 365 Support tab", Method: "GET", Basic: abel,
			URL: t.app + "/incidents/" + incidentNumber + "/form", Want: 200, Lacks: supportTab}
		add(form, t.syslog(""),
			call{Note: "Fix: give abel.tuter the app's " + m365app.RoleInsights + " role", Method: "POST", Session: true, Want: 201,
				URL: w.SnowURL + "/api/now/table/sys_user_has_role", JSON: map[string]string{"user": uid, "role": rid}},
			again(form, "", supportTab))
	case "2", "4", "6":
		symptom := t.symptomCall(row, "", msgSetupSteps)
		st := t.snow.App.Setup
		if st.Settings == nil {
			return nil, fmt.Errorf("the world's Setup has no settings to enter again")
		}
		s := st.Settings
		add(symptom, t.syslog(""), t.pick(true),
			call{Note: "Fix: Setup step 6 again, with the Microsoft 365 Admin Email", Method: "PUT", Session: true, Want: 200,
				URL: t.app + "/setup/settings", JSON: map[string]any{"ssoWithMicrosoft365": s.SSO, "adminEmail": s.AdminEmail, "testEnvironment": s.TestEnv}},
			again(symptom, msgSetupSteps, ""))
	case "3", "5", "7":
		symptom := t.symptomCall(row, "", msgFinalStep)
		portal, err := t.readdRepository()
		if err != nil {
			return nil, err
		}
		add(symptom, t.syslog(""))
		add(portal...)
		add(t.pick(true),
			call{Note: "Fix: Setup's final step again — Next makes the handshake with the repository", Method: "POST", Session: true, Want: 200,
				URL: t.app + "/setup/complete"},
			again(symptom, msgFinalStep, ""))
	case "8":
		beth, err := t.user("beth.anglin")
		if err != nil {
			return nil, err
		}
		symptom := call{Note: "The symptom: beth.anglin selects Contact Microsoft Support on " + incidentNumber, Method: "POST", Basic: beth, Want: 200,
			URL: t.app + "/incidents/" + incidentNumber + "/cases", Shows: msgNotAdmin}
		fix := t.link(beth)
		fix.Note = "Fix: " + fix.Note
		add(symptom, t.syslog(""), fix, again(symptom, msgNotAdmin, ""))
	case "9", "11", "13":
		right := t.outboundSecret()
		if right == "" {
			return nil, fmt.Errorf("the world has no outbound OAuth provider's secret")
		}
		var symptom call
		if row == "13" {
			beth, err := t.user("beth.anglin")
			if err != nil {
				return nil, err
			}
			add(t.link(beth))
			symptom = call{Note: "The symptom: beth.anglin selects Contact Microsoft Support; nothing happens — no case, no message", Method: "POST",
				Basic: beth, Want: 200, URL: t.app + "/incidents/" + incidentNumber + "/cases", Shows: `"messages":[]`, Lacks: "caseNumber"}
		} else {
			symptom = t.symptomCall(row, noSolutions, "")
		}
		id := t.sysID("oauth_entity", "name="+t.outboundEntity())
		add(symptom, t.syslog(""), t.outboundLog("AADSTS7000215"), t.pick(false),
			call{Note: "Fix: the outbound OAuth provider's Client Secret, as Azure AD has it", Method: "PATCH", Session: true, Want: 200,
				URL: w.SnowURL + "/api/now/table/oauth_entity/" + id, JSON: map[string]string{"client_secret": right}})
		if row == "13" {
			add(again(symptom, "", "caseNumber"))
		} else {
			add(again(symptom, noSolutions, ""))
		}
	case "10", "12":
		symptom := t.symptomCall(row, "", msgAppSupport)
		add(symptom, t.syslog("HTTP 500"), t.clearFaults(), again(symptom, msgAppSupport, ""))
	case "14":
		david, err := t.user("david.miller")
		if err != nil {
			return nil, err
		}
		solutions := call{Note: "david.miller opens " + incidentNumber + ": recommended solutions show", Method: "POST", Basic: david, Want: 200,
			URL: t.app + "/incidents/" + incidentNumber + "/solutions", Shows: "Mail is not syncing on mobile devices"}
		form := call{Note: "The symptom: reopened, the incident lists no saved solutions", Method: "GET", Basic: david, Want: 200,
			URL: t.app + "/incidents/" + incidentNumber + "/form", Lacks: "Mail is not syncing on mobile devices"}
		add(solutions, form, t.syslog("Could not save recommended solutions for "+incidentNumber), t.pick(true),
			call{Note: "Fix: in the app's scope, activate the create ACL of " + m365app.TableSolution, Method: "PATCH", Session: true, Want: 200,
				URL:  w.SnowURL + "/api/now/table/sys_security_acl/" + t.sysID("sys_security_acl", "name="+m365app.TableSolution+"^operation=create"),
				JSON: map[string]string{"active": "true"}},
			solutions, again(form, "", "Mail is not syncing on mobile devices"))
	case "15":
		beth, err := t.user("beth.anglin")
		if err != nil {
			return nil, err
		}
		cases := call{Note: "beth.anglin selects Contact Microsoft Support: a case opens", Method: "POST", Basic: beth, Want: 200,
			URL: t.app + "/incidents/" + incidentNumber + "/cases", Shows: "caseNumber"}
		form := call{Note: "The symptom: reopened, the incident lists no case", Method: "GET", Basic: beth, Want: 200,
			URL: t.app + "/incidents/" + incidentNumber + "/form", Lacks: "caseNumber"}
		portal, err := t.readdRepository()
		if err != nil {
			return nil, err
		}
		// The refusal is the platform's token flow, not the app's: System
		// Logs > All, unfiltered.
		all := t.syslog("Wrong password for user m365.integration")
		all.Note = "Diagnostic: System Logs > All, newest first: the connector's token request as the integration user is refused"
		all.URL = w.SnowURL + "/api/now/table/syslog?sysparm_fields=sys_created_on,level,source,message&sysparm_limit=10&sysparm_query=" + url.QueryEscape("ORDERBYDESCsys_created_on")
		add(t.link(beth), cases, form, all)
		add(portal...)
		add(cases, again(form, "", "caseNumber"))
	case "16":
		beth, err := t.user("beth.anglin")
		if err != nil {
			return nil, err
		}
		details := call{Note: "The symptom: beth.anglin changes the case's severity", Method: "PATCH", Basic: beth, Want: 200,
			URL: t.app + "/incidents/" + incidentNumber + "/cases/$CASE", JSON: map[string]any{"details": map[string]string{"Severity": "B"}}, Shows: msgTicket}
		add(t.link(beth),
			call{Note: "beth.anglin selects Contact Microsoft Support: a case opens (its number in $CASE)", Method: "POST", Basic: beth, Want: 200,
				URL: t.app + "/incidents/" + incidentNumber + "/cases", Capture: "CASE", Field: "caseNumber"},
			details, t.syslog(""), t.clearFaults(), again(details, msgTicket, ""))
	case "cross-scope":
		setup := call{Note: "The symptom: in the app's scope, Setup does not open", Method: "GET", Session: true, Want: 403,
			URL: t.app + "/setup/", Shows: msgCrossScope}
		opened := again(setup, msgCrossScope, "")
		opened.Want = 200
		add(t.pick(true), setup, t.syslog(""), t.pick(false),
			call{Note: "Fix: in Global, oauth_entity's Application Access lets all application scopes read it", Method: "PATCH", Session: true, Want: 200,
				URL:  w.SnowURL + "/api/now/table/sys_db_object/" + t.sysID("sys_db_object", "name=oauth_entity"),
				JSON: map[string]string{"read_access": "true"}},
			t.pick(true), opened)
	default:
		return nil, fmt.Errorf("no walk-through for %s: the guide's Troubleshooting table has rows 1 to 16 and the cross-scope note", name)
	}
	return steps, nil
}

// again is a symptom's call repeated after the fix: lacks is gone, shows
// (when set) is there.
func again(c call, lacks, shows string) call {
	c.Note = "After the fix: " + strings.TrimPrefix(c.Note, "The symptom: ")
	c.Shows, c.Lacks = shows, lacks
	return c
}

// trouble builds the calls of one troubleshooting world.
type trouble struct {
	w   *world.World
	app string // the app's REST base
	// The shipped world's parts, before its cause was induced.
	snow *fakesnow.Fixture
	m365 *fakem365.Fixture
	aad  *fakeaad.Fixture
}

// user is "name:password" of a ServiceNow user, as the instance has it.
func (t trouble) user(name string) (string, error) {
	u, ok := snowUser(t.w, name)
	if !ok {
		return "", fmt.Errorf("the world has no ServiceNow user %s with a password", name)
	}
	return u.UserName + ":" + u.Password, nil
}

// sysID reads a record's sys_id from the running instance.
func (t trouble) sysID(table, query string) string {
	rec, err := t.w.Snow.Instance().First(table, query)
	if err != nil || rec == nil {
		return ""
	}
	return rec["sys_id"]
}

// symptomCall is where rows 2–7 and 9–12 meet their symptom: the
// Microsoft 365 Support tab (rows 2, 3, 9, 10), its search box (4, 5, 11,
// 12) or Contact Microsoft Support (6, 7).
func (t trouble) symptomCall(row, shows, showsMsg string) call {
	if showsMsg != "" {
		shows = showsMsg
	}
	switch row {
	case "4", "5", "11", "12":
		david, _ := t.user("david.miller")
		return call{Note: "The symptom: david.miller searches the Microsoft 365 Support tab for \"" + searchText + "\"", Method: "POST", Basic: david, Want: 200,
			URL: t.app + "/incidents/" + incidentNumber + "/solutions", JSON: map[string]string{"searchText": searchText}, Shows: shows}
	case "6", "7":
		beth, _ := t.user("beth.anglin")
		return call{Note: "The symptom: beth.anglin selects Contact Microsoft Support on " + incidentNumber, Method: "POST", Basic: beth, Want: 200,
			URL: t.app + "/incidents/" + incidentNumber + "/cases", Shows: shows}
	}
	david, _ := t.user("david.miller")
	return call{Note: "The symptom: david.miller opens the Microsoft 365 Support tab on " + incidentNumber, Method: "POST", Basic: david, Want: 200,
		URL: t.app + "/incidents/" + incidentNumber + "/solutions", Shows: shows}
}

// syslog is the guide's first diagnostic: System Logs filtered on the
// app's scope, newest first.
func (t trouble) syslog(shows string) call {
	return call{Note: "Diagnostic: System Logs filtered on the app's scope (" + wellknown.AppScope + "), newest first", Method: "GET", Session: true, Want: 200,
		URL: t.w.SnowURL + "/api/now/table/syslog?sysparm_fields=sys_created_on,level,source,message&sysparm_limit=10&sysparm_query=" +
			url.QueryEscape("source="+wellknown.AppScope+"^ORDERBYDESCsys_created_on"), Shows: shows}
}

// outboundLog is the guide's other diagnostic: System Logs > Outbound
// HTTP Requests filtered on the hosts the app calls.
func (t trouble) outboundLog(shows string) call {
	return call{Note: "Diagnostic: the outbound HTTP log filtered on " + wellknown.LoginHost + " and " + wellknown.ConnectorHost, Method: "GET", Session: true, Want: 200,
		URL: t.w.SnowURL + "/api/now/table/sys_outbound_http_log?sysparm_fields=sys_created_on,url,http_status,error_message,response_body&sysparm_query=" +
			url.QueryEscape("hostnameLIKE"+wellknown.LoginHost+"^ORhostnameLIKE"+wellknown.ConnectorHost), Shows: shows}
}

// pick switches the admin's current application: the app's scope, or Global.
func (t trouble) pick(app bool) call {
	id, name := "global", "Global"
	if app {
		id, name = m365app.ScopeSysID, "the app's scope (Microsoft 365 support integration)"
	}
	return call{Note: "As admin, switch the current application to " + name, Method: "PUT", Session: true, Want: 200,
		URL: t.w.SnowURL + "/api/now/ui/concoursepicker/application", JSON: map[string]string{"app_id": id}}
}

// link is Link Account: the end user names the Microsoft 365 admin
// account support cases are opened as.
func (t trouble) link(user string) call {
	name, _, _ := strings.Cut(user, ":")
	return call{Note: "Link Account: " + name + " links " + m365Admin, Method: "PUT", Basic: user, Want: 200,
		URL: t.app + "/link_account/", JSON: map[string]string{"email": m365Admin}}
}

// clearFaults is the fix of the connector's own outage: the connector
// healthy again, through fakem365's control plane.
func (t trouble) clearFaults() call {
	return call{Note: "Fix: the support connector healthy again (the sandbox's control plane clears its faults)", Method: "DELETE",
		URL: t.w.M365URL + "/__admin/faults", Bearer: adminapi.TokenEnv, Want: 204}
}

// readdRepository is the Microsoft 365 admin saving the instance's
// repository in the admin center with the values Setup's completion page
// shows — the Rest user's password as the instance has it now.
func (t trouble) readdRepository() ([]call, error) {
	// Saved again (201) where the admin deleted it, updated (200) where
	// it is still there.
	st := t.snow.App.Setup
	var tenantID string
	var repo *fakem365.Repository
	for _, tn := range t.m365.Tenants {
		for _, r := range tn.Repositories {
			if r.ID == st.RepositoryID && repo == nil {
				tenantID, repo = tn.ID, r
			}
		}
	}
	if repo == nil {
		return nil, fmt.Errorf("the world saves no repository %s", st.RepositoryID)
	}
	upn, password, ok := portalAdmin(t.aad, tenantID)
	if !ok {
		return nil, fmt.Errorf("tenant %s has no administrator who may use the admin center", tenantID)
	}
	fixed := *repo
	if u, ok := snowUser(t.w, repo.RestUsername); ok {
		fixed.RestUserPassword = u.Password
	}
	calls := portalRepository(t.w, tenantID, upn, password, &fixed, "Fix: ")
	if m, err := t.w.M365.ExportState(); err == nil && strings.Contains(string(m), "id: "+repo.ID+"\n") {
		calls[1].Want = 200
	}
	return calls, nil
}

// portalRepository signs the Microsoft 365 admin in for the admin center
// and saves repo there.
func portalRepository(w *world.World, tenantID, upn, password string, repo *fakem365.Repository, prefix string) []call {
	note := func(s string) string {
		if prefix == "" {
			return s
		}
		return prefix + strings.ToLower(s[:1]) + s[1:]
	}
	return []call{
		{Note: note("The Microsoft 365 admin signs in (" + upn + ") for the admin center"), Method: "POST", URL: w.AADURL + "/" + tenantID + "/oauth2/token",
			Capture: "ADMIN_TOKEN", Want: 200,
			Form: []field{{"grant_type", "password"}, {"client_id", wellknown.AzureCLIAppID}, {"username", upn}, {"password", password}, {"resource", wellknown.AdminPortalResource}}},
		{Note: note("Admin center: the repository with the completion page's values"), Method: "PUT", Bearer: "ADMIN_TOKEN", Want: 201,
			URL: w.M365URL + "/api/tenants/" + tenantID + "/supportIntegration/repositories/" + url.PathEscape(repo.ID),
			JSON: map[string]any{"endpoint": repo.Endpoint, "authenticationType": repo.AuthenticationType, "clientId": repo.ClientID,
				"clientSecret": repo.ClientSecret, "refreshTokenExpiry": repo.RefreshTokenExpiry,
				"restUsername": repo.RestUsername, "restUserPassword": repo.RestUserPassword}},
	}
}

// outboundEntity is the name of the outbound OAuth provider Setup chose.
func (t trouble) outboundEntity() string {
	return strings.TrimSuffix(t.snow.App.Setup.OutboundProfile, " default_profile")
}

// outboundSecret is that provider's client secret as the world first had
// it: the one Azure AD holds for the outbound app.
func (t trouble) outboundSecret() string {
	for _, e := range t.snow.OAuthEntities {
		if e.Name == t.outboundEntity() {
			return e.ClientSecret
		}
	}
	return ""
}
