package console

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
)

// The incident form's Microsoft 365 Support tab: the app's recommended
// solutions for an incident, asked for as the admin user through the
// app's scripted REST API (POST /api/x_mioms_m365_assis/v1/incidents/
// {number}/solutions), as the tab's button does.

type incidentData struct {
	Number, SearchText string
	Asked              bool
	Curl               string
	Messages           []struct{ Type, Text string }
	Query              string
	Solutions          []struct{ ID, Title, Summary, URL string }
}

// incidentNumber is what the console passes on into a URL path.
var incidentNumber = regexp.MustCompile(`^[A-Za-z]{2,8}[0-9]{1,12}$`)

const solutionsPath = "/api/x_mioms_m365_assis/v1/incidents/%s/solutions"

func (c *console) incidentPage(w http.ResponseWriter, r *http.Request) {
	number := r.FormValue("number")
	if number == "" {
		number = "INC0010001"
	}
	d := incidentData{Number: number, SearchText: r.FormValue("searchText")}
	if r.Method != http.MethodPost {
		c.render(w, r, "incident", "Incident "+number+": Microsoft 365 Support", d)
		return
	}
	if !incidentNumber.MatchString(number) {
		c.renderStatus(w, r, http.StatusBadRequest, "incident", "Incident: Microsoft 365 Support", d, fmt.Errorf("incident number %q: want a number such as INC0010001", number))
		return
	}
	snow, ok := c.party("fakesnow")
	admin, hasAdmin := c.admin()
	if !ok || !hasAdmin {
		c.render(w, r, "incident", "Incident "+number+": Microsoft 365 Support", d, errors.New("no ServiceNow instance with an admin user to ask as"))
		return
	}
	u := snow.URL + fmt.Sprintf(solutionsPath, url.PathEscape(number))
	d.Asked = true
	var body any
	d.Curl = fmt.Sprintf("curl -s -u '%s:%s' -X POST %s", admin.Name, admin.Password, u)
	if d.SearchText != "" {
		body = map[string]string{"searchText": d.SearchText}
		d.Curl += ` -H 'Content-Type: application/json' -d '{"searchText": "…"}'`
	}
	var res struct {
		Result struct {
			Messages  []struct{ Type, Text string }              `json:"messages"`
			Query     string                                     `json:"query"`
			Solutions []struct{ ID, Title, Summary, URL string } `json:"solutions"`
		} `json:"result"`
	}
	err := c.callBasic("POST", u, body, &res, admin)
	d.Messages, d.Query, d.Solutions = res.Result.Messages, res.Result.Query, res.Result.Solutions
	c.render(w, r, "incident", "Incident "+number+": Microsoft 365 Support", d, err)
}

func (c *console) callBasic(method, u string, body, out any, as User) error {
	return c.call(method, u, body, out, as.Name, as.Password)
}
