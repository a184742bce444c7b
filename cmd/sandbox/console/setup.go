package console

import (
	"errors"
	"net/http"
	"strings"
)

// Microsoft 365 Support > Setup, as the guide walks it: switch the scope
// to the app, agree to the consent, then the app's steps 1–5 and "Step - 6
// Complete the integration" with the values the Microsoft 365 admin types
// into the admin center, and Next (the handshake). Every screen reads and
// every form writes the app's Setup API
// (/api/x_mioms_m365_assis/v1/setup/...) as the admin user, the same calls
// the features and the printed walk-through make.

const setupAPI = "/api/x_mioms_m365_assis/v1/setup"

// appScope is the app's scope; the application picker lists it by it.
const appScope = "x_mioms_m365_assis"

// SetupChoices are the choices a world's Setup is meant to end with (the
// matching integrated-* world's), offered as each step's defaults.
type SetupChoices struct {
	OutboundProfile           string
	InboundSkip, ExternalOIDC bool
	InboundEntity             string
	UserSkip                  bool
	User                      string
	RepositoryID              string
	SSO, TestEnvironment      bool
	AdminEmail                string
}

// setupStep is one screen of the wizard. Done names the step in the Setup
// API's "steps" answer.
type setupStep struct{ Key, Title, Done string }

// The numbering follows the guide's "Step - 6 Complete the integration":
// the consent comes before step 1.
var setupSteps = []setupStep{
	{"consent", "Consent", "consent"},
	{"outbound", "Step - 1 Outbound OAuth Provider", "outboundProvider"},
	{"inbound", "Step - 2 Inbound OAuth Provider", "inboundProvider"},
	{"user", "Step - 3 Inbound Call Integration User", "integrationUser"},
	{"repository", "Step - 4 Repository ID", "repositoryId"},
	{"settings", "Step - 5 Application Settings", "applicationSettings"},
	{"complete", "Step - 6 Complete the integration", ""},
}

// setupView is GET …/setup/'s answer.
type setupView struct {
	State   string          `json:"state"`
	Steps   map[string]bool `json:"steps"`
	Values  map[string]any  `json:"values"`
	Options struct {
		OutboundProfiles []map[string]string `json:"outboundProfiles"`
		InboundClients   []map[string]string `json:"inboundClients"`
		OIDCProviders    []map[string]string `json:"oidcProviders"`
	} `json:"options"`
}

type setupData struct {
	Step     setupStep
	Steps    []setupStep
	Done     map[string]bool
	View     setupView
	Complete map[string]string // the completion page's values
	Choice   SetupChoices      // what each field shows
	Users    []User
	// NeedsScope: the instance refused Setup because another application
	// is current (the guide's first step).
	NeedsScope bool
	Refusal    string // the instance's words for it
	Curl       string
	Admin      User
	SnowURL    string
}

func (c *console) setupAs() (Party, User, error) {
	snow, ok := c.party("fakesnow")
	admin, hasAdmin := c.admin()
	if !ok || !hasAdmin {
		return Party{}, User{}, errors.New("no ServiceNow instance with an admin user to walk Setup as")
	}
	return snow, admin, nil
}

func stepByKey(key string) (setupStep, bool) {
	for _, s := range setupSteps {
		if s.Key == key {
			return s, true
		}
	}
	return setupStep{}, false
}

func (c *console) setupPage(w http.ResponseWriter, r *http.Request) {
	c.renderSetup(w, r, r.URL.Query().Get("step"), http.StatusOK, nil)
}

// renderSetup shows a step (or the first one not done) with the instance's
// current Setup; failed is the outcome of a form that did not save.
func (c *console) renderSetup(w http.ResponseWriter, r *http.Request, key string, status int, failed error) {
	d := setupData{Steps: setupSteps, Users: c.opts.Users}
	if c.opts.Setup != nil {
		d.Choice = *c.opts.Setup
	}
	snow, admin, err := c.setupAs()
	if err != nil {
		c.renderStatus(w, r, http.StatusOK, "setup", "Microsoft 365 Support > Setup", d, err)
		return
	}
	d.Admin, d.SnowURL = admin, snow.URL
	err = c.callUser(admin, "GET", snow.URL+setupAPI+"/", nil, &resultOf[setupView]{&d.View})
	d.Curl = c.curlAs(admin, "GET", snow.URL+setupAPI+"/", nil)
	var pe *PartyError
	if errors.As(err, &pe) && pe.Status == http.StatusForbidden && strings.Contains(pe.Message, "is the current application") {
		d.NeedsScope, d.Refusal = true, pe.Message
		d.Step = setupStep{Key: "scope", Title: "Switch the scope to Microsoft 365 support integration"}
		c.renderStatus(w, r, status, "setup", "Microsoft 365 Support > Setup", d, failed)
		return
	}
	if err != nil {
		c.renderStatus(w, r, status, "setup", "Microsoft 365 Support > Setup", d, failed, err)
		return
	}
	d.Done = d.View.Steps
	step, ok := stepByKey(key)
	if !ok {
		step = setupSteps[len(setupSteps)-1]
		for _, s := range setupSteps {
			if s.Done != "" && !d.Done[s.Done] {
				step = s
				break
			}
		}
	}
	d.Step = step
	c.currentChoices(&d)
	var errs []error
	if failed != nil {
		errs = append(errs, failed)
	}
	if step.Key == "complete" {
		var v completion
		if err := c.callUser(admin, "GET", snow.URL+setupAPI+"/complete", nil, &resultOf[completion]{&v}); err != nil {
			errs = append(errs, err)
		}
		d.Complete = v.Values
	}
	c.renderStatus(w, r, status, "setup", "Microsoft 365 Support > Setup: "+step.Title, d, errs...)
}

// currentChoices puts the instance's saved values over the defaults.
func (c *console) currentChoices(d *setupData) {
	v := d.View.Values
	str := func(k string) string { s, _ := v[k].(string); return s }
	flag := func(k string) bool { b, _ := v[k].(bool); return b }
	ch := &d.Choice
	if s := str("outboundProfile"); s != "" {
		ch.OutboundProfile = s
	}
	if d.Done["inboundProvider"] {
		ch.InboundSkip, ch.ExternalOIDC, ch.InboundEntity = flag("inboundSkipped"), flag("externalOIDC"), str("inboundEntity")
	}
	if d.Done["integrationUser"] {
		ch.UserSkip, ch.User = flag("integrationUserSkipped"), str("integrationUser")
	}
	if s := str("repositoryId"); s != "" {
		ch.RepositoryID = s
	}
	if d.Done["applicationSettings"] {
		ch.SSO, ch.AdminEmail, ch.TestEnvironment = flag("ssoWithMicrosoft365"), str("adminEmail"), flag("testEnvironment")
	}
}

// completion is GET …/setup/complete's answer.
type completion struct {
	Values map[string]string `json:"values"`
}

// appPicker is the application picker's answer.
type appPicker struct {
	List []struct{ SysID, Scope string } `json:"list"`
}

// resultOf decodes ServiceNow's {"result": …} envelope.
type resultOf[T any] struct {
	Result *T `json:"result"`
}

// setupPost saves one step: the form's fields become the step's JSON body.
func (c *console) setupPost(w http.ResponseWriter, r *http.Request) {
	key := r.PathValue("step")
	snow, admin, err := c.setupAs()
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	on := func(k string) bool { return r.FormValue(k) != "" }
	var method, path, msg string
	var body any
	switch key {
	case "scope":
		// The guide's step 1: the application picker, found by scope.
		var picker appPicker
		if err := c.callUser(admin, "GET", snow.URL+"/api/now/ui/concoursepicker/application", nil, &resultOf[appPicker]{&picker}); err != nil {
			c.renderSetup(w, r, "", statusFor(err), err)
			return
		}
		id := ""
		for _, a := range picker.List {
			if a.Scope == appScope {
				id = a.SysID
			}
		}
		if id == "" {
			c.renderSetup(w, r, "", http.StatusBadGateway, errors.New("the application picker lists no "+appScope))
			return
		}
		if err := c.callUser(admin, "PUT", snow.URL+"/api/now/ui/concoursepicker/application", map[string]string{"app_id": id}, nil); err != nil {
			c.renderSetup(w, r, "", statusFor(err), err)
			return
		}
		done(w, r, "/setup", "The current application is now Microsoft 365 support integration")
		return
	case "consent":
		method, path, msg = "POST", "/consent", "Agreed to the consent"
		body = map[string]bool{"agree": on("agree")}
	case "outbound":
		method, path, msg = "PUT", "/outbound", "Saved the outbound OAuth provider"
		body = map[string]string{"profile": r.FormValue("profile")}
	case "inbound":
		method, path, msg = "PUT", "/inbound", "Saved the inbound OAuth provider"
		if on("skip") {
			body = map[string]any{"skip": true}
		} else {
			body = map[string]any{"entity": r.FormValue("entity"), "externalOIDC": on("externalOIDC")}
		}
	case "user":
		method, path, msg = "PUT", "/integration_user", "Saved the integration user"
		if on("skip") {
			body = map[string]any{"skip": true}
		} else {
			body = map[string]any{"user": r.FormValue("user")}
		}
	case "repository":
		method, path, msg = "PUT", "/repository", "Saved the repository ID"
		body = map[string]string{"repositoryId": r.FormValue("repositoryId")}
	case "settings":
		method, path, msg = "PUT", "/settings", "Saved the application settings"
		body = map[string]any{"ssoWithMicrosoft365": on("sso"), "adminEmail": r.FormValue("adminEmail"), "testEnvironment": on("testEnvironment")}
	case "complete":
		method, path, msg = "POST", "/complete", "Integration completed: the connector answered the handshake"
	default:
		http.Error(w, "no Setup step "+key, http.StatusNotFound)
		return
	}
	if err := c.callUser(admin, method, snow.URL+setupAPI+path, body, nil); err != nil {
		c.renderSetup(w, r, key, statusFor(err), err)
		return
	}
	next := "complete"
	for i, s := range setupSteps {
		if s.Key == key && i+1 < len(setupSteps) {
			next = setupSteps[i+1].Key
		}
	}
	done(w, r, "/setup", msg, "step", next)
}
