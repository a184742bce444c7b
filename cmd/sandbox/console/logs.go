package console

import (
	"errors"
	"net/http"
	"net/url"
)

// System Logs > All, filtered on the source as the guide says: the app's
// entries carry its scope, x_mioms_m365_assis. The guide prints the filter
// as x_mioms_m365_assit (one letter off); the page offers both, so that
// the typo visibly finds nothing. Read through the Table API as admin.

type logsData struct {
	Source string
	Rows   []map[string]string
	Curl   string
}

// logFilters are the guide's filter (misspelt) and the scope's real name.
var logFilters = []string{"x_mioms_m365_assis", "x_mioms_m365_assit"}

func (c *console) logs(w http.ResponseWriter, r *http.Request) {
	d := logsData{Source: r.URL.Query().Get("source")}
	if d.Source == "" {
		d.Source = logFilters[0]
	}
	snow, ok := c.party("fakesnow")
	admin, hasAdmin := c.admin()
	if !ok || !hasAdmin {
		c.render(w, r, "logs", "System Logs", d, errors.New("no ServiceNow instance with an admin user to read as"))
		return
	}
	u := snow.URL + "/api/now/table/syslog?" + url.Values{
		"sysparm_query":  {"sourceLIKE" + d.Source + "^ORDERBYDESCsys_created_on"},
		"sysparm_fields": {"sys_created_on,level,source,message,sys_created_by"},
		"sysparm_limit":  {"100"},
	}.Encode()
	var res struct {
		Result []map[string]string `json:"result"`
	}
	err := c.callUser(admin, "GET", u, nil, &res)
	d.Curl = c.curlAs(admin, "GET", u, nil)
	d.Rows = res.Result
	c.render(w, r, "logs", "System Logs", struct {
		logsData
		Filters []string
	}{d, logFilters}, err)
}

// System Logs > Outbound HTTP Requests, filtered on the host names the
// guide names for rows 9, 11 and 13: login.microsoftonline.com (the app's
// token) and connector.rave.microsoft.com (the connector).

var outboundHosts = []string{"login.microsoftonline.com", "connector.rave.microsoft.com"}

type outboundData struct {
	Host  string
	Hosts []string
	Rows  []map[string]string
	Curl  string
}

func (c *console) outbound(w http.ResponseWriter, r *http.Request) {
	d := outboundData{Host: r.URL.Query().Get("host"), Hosts: outboundHosts}
	snow, ok := c.party("fakesnow")
	admin, hasAdmin := c.admin()
	if !ok || !hasAdmin {
		c.render(w, r, "outbound", "Outbound HTTP log", d, errors.New("no ServiceNow instance with an admin user to read as"))
		return
	}
	q := "hostnameLIKE" + outboundHosts[0] + "^ORhostnameLIKE" + outboundHosts[1]
	if d.Host != "" {
		q = "hostnameLIKE" + d.Host
	}
	u := snow.URL + "/api/now/table/sys_outbound_http_log?" + url.Values{
		"sysparm_query":  {q + "^ORDERBYDESCsys_created_on"},
		"sysparm_fields": {"sys_created_on,http_method,url,http_status,error_message,response_body,source_scope"},
		"sysparm_limit":  {"100"},
	}.Encode()
	var res struct {
		Result []map[string]string `json:"result"`
	}
	err := c.callUser(admin, "GET", u, nil, &res)
	d.Curl = c.curlAs(admin, "GET", u, nil)
	d.Rows = res.Result
	c.render(w, r, "outbound", "Outbound HTTP log", d, err)
}
