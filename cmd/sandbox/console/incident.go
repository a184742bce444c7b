package console

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
)

// The incident form and its Microsoft 365 Support tab, as a chosen
// ServiceNow user sees them: the form's tabs in a view
// (GET …/incidents/{number}/form), and the tab's actions — recommended
// solutions and the search box, service health incidents, Contact
// Microsoft Support, ticket details — plus Microsoft 365 Support > Link
// Account. Each is the app's scripted REST API call as that user (basic
// authentication with the password the world gave them), the call the
// tab's buttons make.

const incidentsAPI = "/api/x_mioms_m365_assis/v1/incidents/"
const linkAccountAPI = "/api/x_mioms_m365_assis/v1/link_account/"

type message struct{ Type, Text string }

type incidentData struct {
	Number, SearchText, As, View string
	Users                        []User
	Views                        []string
	// Form is the form as As sees it; FormErr why it could not be read.
	Form    *incidentForm
	FormErr string
	// Action is the action just taken, with its call and answer.
	Action   string
	Asked    bool
	Nothing  bool // an answer with no message and no result
	Curl     string
	Messages []message
	Query    string
	// Solutions, Health, Case and Linked are the answers of the actions.
	Solutions []struct{ ID, Title, Summary, URL string }
	Health    []map[string]any
	Case      map[string]any
	Linked    *struct{ User, Email string }
	// Title, Description, CaseNumber, Detail and Value refill the forms.
	Title, Description, CaseNumber, Detail, Value, Email string
}

// incidentForm is GET …/form's answer.
type incidentForm struct {
	Incident struct {
		Number           string `json:"number"`
		ShortDescription string `json:"short_description"`
	} `json:"incident"`
	View    string   `json:"view"`
	Tabs    []string `json:"tabs"`
	Support *struct {
		State     string              `json:"state"`
		Actions   []string            `json:"actions"`
		Solutions []map[string]string `json:"solutions"`
		Cases     []map[string]string `json:"cases"`
	} `json:"microsoft365Support"`
}

// Can says whether the tab offers an action to this user.
func (f *incidentForm) Can(action string) bool {
	if f == nil || f.Support == nil {
		return false
	}
	for _, a := range f.Support.Actions {
		if a == action {
			return true
		}
	}
	return false
}

// incidentNumber is what the console passes on into a URL path.
var incidentNumber = regexp.MustCompile(`^[A-Za-z]{2,8}[0-9]{1,12}$`)

// caseNumber is a support case number as it goes into a URL path; the
// app checks its form.
var caseNumber = regexp.MustCompile(`^[A-Za-z0-9-]{1,40}$`)

// formViews are the incident form's views the guide's row 1 names.
var formViews = []string{"default", "ess", "mobile"}

func (c *console) user(name string) (User, bool) {
	for _, u := range c.opts.Users {
		if u.Name == name {
			return u, true
		}
	}
	return User{}, false
}

func (c *console) incidentPage(w http.ResponseWriter, r *http.Request) {
	d := incidentData{Number: r.FormValue("number"), SearchText: r.FormValue("searchText"), As: r.FormValue("as"), View: r.FormValue("view"),
		Users: c.opts.Users, Views: formViews, Action: r.FormValue("action"), Title: r.FormValue("title"), Description: r.FormValue("description"),
		CaseNumber: r.FormValue("case"), Detail: r.FormValue("detail"), Value: r.FormValue("value"), Email: r.FormValue("email")}
	if d.Number == "" {
		d.Number = "INC0010001"
	}
	if d.View == "" {
		d.View = "default"
	}
	if d.Detail == "" {
		d.Detail = "Severity"
	}
	if d.As == "" {
		if admin, ok := c.admin(); ok {
			d.As = admin.Name
		}
	}
	if r.Method == http.MethodPost && d.Action == "" {
		d.Action = "solutions"
	}
	title := "Incident " + d.Number + ": Microsoft 365 Support"
	if !incidentNumber.MatchString(d.Number) {
		c.renderStatus(w, r, http.StatusBadRequest, "incident", "Incident: Microsoft 365 Support", d, fmt.Errorf("incident number %q: want a number such as INC0010001", d.Number))
		return
	}
	snow, ok := c.party("fakesnow")
	as, known := c.user(d.As)
	if !ok || !known {
		c.renderStatus(w, r, http.StatusBadRequest, "incident", title, d, fmt.Errorf("no ServiceNow user %q with a password to act as", d.As))
		return
	}
	var actErr error
	status := http.StatusOK
	if r.Method == http.MethodPost {
		actErr = c.incidentAction(&d, snow, as)
		if actErr != nil {
			status = statusFor(actErr)
		}
	}
	// The form after the action, as the user would see it reopened.
	form := &incidentForm{}
	u := snow.URL + incidentsAPI + url.PathEscape(d.Number) + "/form?" + url.Values{"sysparm_view": {d.View}}.Encode()
	if err := c.callUser(as, "GET", u, nil, &resultOf[incidentForm]{form}); err != nil {
		d.FormErr = err.Error()
	} else {
		d.Form = form
	}
	c.renderStatus(w, r, status, "incident", title, d, actErr)
}

// incidentAction makes the chosen action's call as the user.
func (c *console) incidentAction(d *incidentData, snow Party, as User) error {
	base := snow.URL + incidentsAPI + url.PathEscape(d.Number)
	var method, u string
	var body any
	switch d.Action {
	case "solutions":
		method, u = "POST", base+"/solutions"
		if d.SearchText != "" {
			body = map[string]string{"searchText": d.SearchText}
		}
	case "servicehealth":
		method, u = "GET", base+"/servicehealth"
	case "contact":
		method, u = "POST", base+"/cases"
		if d.Title != "" || d.Description != "" {
			body = map[string]string{"title": d.Title, "description": d.Description}
		}
	case "details":
		if !caseNumber.MatchString(d.CaseNumber) {
			return &PartyError{Status: http.StatusBadRequest, Message: fmt.Sprintf("case number %q: want one such as the tab lists", d.CaseNumber)}
		}
		method, u = "PATCH", base+"/cases/"+url.PathEscape(d.CaseNumber)
		body = map[string]any{"details": map[string]string{d.Detail: d.Value}}
	case "link":
		method, u = "PUT", snow.URL+linkAccountAPI
		body = map[string]string{"email": d.Email}
	case "linked":
		method, u = "GET", snow.URL+linkAccountAPI
	default:
		return &PartyError{Status: http.StatusBadRequest, Message: fmt.Sprintf("no action %q", d.Action)}
	}
	d.Asked = true
	defer func() { d.Curl = c.curlAs(as, method, u, body) }()
	if d.Action == "link" || d.Action == "linked" {
		var res resultOf[struct{ User, Email string }]
		res.Result = &struct{ User, Email string }{}
		err := c.callUser(as, method, u, body, &res)
		if err == nil {
			d.Linked = res.Result
		}
		return err
	}
	var res struct {
		Result struct {
			Messages  []message                                  `json:"messages"`
			Query     string                                     `json:"query"`
			Solutions []struct{ ID, Title, Summary, URL string } `json:"solutions"`
			Incidents []map[string]any                           `json:"incidents"`
			Case      map[string]any                             `json:"case"`
		} `json:"result"`
	}
	err := c.callUser(as, method, u, body, &res)
	d.Messages, d.Query, d.Solutions = res.Result.Messages, res.Result.Query, res.Result.Solutions
	d.Health, d.Case = res.Result.Incidents, res.Result.Case
	// The guide's "nothing shows up" (rows 9, 11) and "nothing happened"
	// (row 13): an answer with no message and no result.
	d.Nothing = err == nil && len(d.Messages) == 0 &&
		(d.Action == "solutions" && len(d.Solutions) == 0 || d.Action == "contact" && d.Case == nil)
	if err == nil && d.Action == "contact" && d.Case != nil {
		if n, ok := d.Case["caseNumber"].(string); ok {
			d.CaseNumber = n
		}
	}
	return err
}

// mustJSON is v as the JSON a curl command sends.
func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
