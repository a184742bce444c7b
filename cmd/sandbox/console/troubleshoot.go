package console

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// Troubleshooting: the guide's table (Problems, Diagnostics) beside the
// shipped troubleshooting worlds that induce each row's cause. Inducing
// asks the sandbox (POST /__admin/troubleshooting/{world} on the console's
// own address), which applies the world's induce: list with the code that
// applies it when such a world starts, through the parties' own APIs. The
// symptom button opens the screen where the guide says it shows, as the
// user the world's notes name.

// guideRow is one row of the guide's troubleshooting table.
type guideRow struct {
	Problem, Diagnostics string
	// As, Action and SearchText open the symptom on the incident page;
	// no Action opens the form (the row's symptom is on it, or needs
	// steps first). Setup opens Setup instead.
	As, Action, SearchText string
	Setup                  bool
	// Outbound: the diagnostic is the outbound HTTP log, not System Logs.
	Outbound bool
}

const (
	diagForm      = "Check the error message on top of the form and “System Logs” -> “All” with filter x_mioms_m365_assit"
	diagOut       = "Check “System Logs” – “Outbound HTTP logs” with filter login.microsoftonline.com and connector.rave.microsoft.com"
	msgSetupSteps = "Please contact your ServiceNow admin and ask them to complete the setup steps for the app."
	msgFinalStep  = "Please contact your ServiceNow admin and ask them to complete the final set up step for the app."
	search        = "teams meetings drop"
)

// guideRows is the guide's table ("Troubleshooting"), keyed by row.
var guideRows = map[string]guideRow{
	"1":  {Problem: `Can't see "Microsoft 365 Support" tab`, Diagnostics: "Verify the current view and “System Logs” -> “All” with filter x_mioms_m365_assit", As: "abel.tuter"},
	"2":  {Problem: `Click the button for Microsoft recommended solutions but get error "` + msgSetupSteps + `"`, Diagnostics: diagForm, As: "david.miller", Action: "solutions"},
	"3":  {Problem: `Click the button for Microsoft recommended solutions but get error "` + msgFinalStep + `"`, Diagnostics: diagForm, As: "david.miller", Action: "solutions"},
	"4":  {Problem: `Type problem in search box and click the button for Microsoft recommended solutions but get error "` + msgSetupSteps + `"`, Diagnostics: diagForm, As: "david.miller", Action: "solutions", SearchText: search},
	"5":  {Problem: `Type problem in search box and click the button for Microsoft recommended solutions but get error "` + msgFinalStep + `"`, Diagnostics: diagForm, As: "david.miller", Action: "solutions", SearchText: search},
	"6":  {Problem: `Click the button "Contact Microsoft Support", but get the error "` + msgSetupSteps + `"`, Diagnostics: diagForm, As: "beth.anglin", Action: "contact"},
	"7":  {Problem: `Click the button "Contact Microsoft Support", but get the error "` + msgFinalStep + `"`, Diagnostics: diagForm, As: "beth.anglin", Action: "contact"},
	"8":  {Problem: `Click the button "Contact Microsoft Support” but get the error "{EmailAddress} is not a valid Microsoft 365 admin account. You need Microsoft 365 admin privileges to open a service request. In the app, link the admin account."`, Diagnostics: diagForm, As: "beth.anglin", Action: "contact"},
	"9":  {Problem: "Click the button for Microsoft recommended solutions but nothing shows up", Diagnostics: diagOut, As: "david.miller", Action: "solutions", Outbound: true},
	"10": {Problem: `Click the button for Microsoft recommended solutions but get error "Please contact app support."`, Diagnostics: diagForm, As: "david.miller", Action: "solutions"},
	"11": {Problem: "Type problem in search box and click the button for Microsoft recommended solutions but nothing shows up", Diagnostics: diagOut, As: "david.miller", Action: "solutions", SearchText: search, Outbound: true},
	"12": {Problem: `Type problem in search box and click the button for Microsoft recommended solutions but get error "Please contact app support."`, Diagnostics: diagForm, As: "david.miller", Action: "solutions", SearchText: search},
	"13": {Problem: `User click the button "Contact Microsoft Support", but nothing happened`, Diagnostics: diagOut, As: "beth.anglin", Action: "contact", Outbound: true},
	"14": {Problem: "Can’t see Microsoft recommended solution after reopening the incident", Diagnostics: "Check “System Logs” -> “All” with filter x_mioms_m365_assit", As: "david.miller", Action: "solutions"},
	"15": {Problem: "Can’t see Microsoft cases when reopening the incident that was transferred to Microsoft Support", Diagnostics: "Check “System Logs” -> “All” with filter x_mioms_m365_assit", As: "beth.anglin"},
	"16": {Problem: `Can't save ticket details, get error "Unable to save ticket details. Please contact App Support."`, Diagnostics: "Check the error message on top of form", As: "beth.anglin"},
	"cross-scope": {Problem: `Setup: "Read operation against 'oauth_entity' from scope 'x_mioms_m365_assis' has been refused due to the table's cross-scope access policy"`,
		Diagnostics: "The guide's note: make sure All application scopes > Can read is checked for the table oauth_entity", Setup: true},
}

// troubleshootingRow is a row as the sandbox lists it.
type troubleshootingRow struct {
	World       string   `json:"world"`
	Description string   `json:"description"`
	Notes       []string `json:"notes"`
	Induce      []string `json:"induce"`
	StartsFrom  string   `json:"startsFrom"`
}

type rowView struct {
	troubleshootingRow
	Row   string
	Guide guideRow
}

// sandboxURL is the sandbox's own address: the console is served on it.
func sandboxURL(r *http.Request) string {
	if r.TLS != nil {
		return "https://" + r.Host
	}
	return "http://" + r.Host
}

func (c *console) troubleshooting(w http.ResponseWriter, r *http.Request) {
	c.renderTroubleshooting(w, r, http.StatusOK, nil)
}

// renderTroubleshooting shows the rows; failed is an inducement that did
// not apply (a row whose cause needs records this world lacks).
func (c *console) renderTroubleshooting(w http.ResponseWriter, r *http.Request, status int, failed error) {
	var res struct {
		Rows []troubleshootingRow `json:"rows"`
	}
	err := c.call("GET", sandboxURL(r)+"/__admin/troubleshooting", nil, &res)
	var rows []rowView
	for _, tr := range res.Rows {
		row := strings.TrimPrefix(tr.World, "troubleshooting-")
		rows = append(rows, rowView{troubleshootingRow: tr, Row: row, Guide: guideRows[row]})
	}
	c.renderStatus(w, r, status, "troubleshooting", "Troubleshooting", struct {
		Rows    []rowView
		Induced string // the row just induced
	}{rows, r.URL.Query().Get("row")}, failed, err)
}

func (c *console) induce(w http.ResponseWriter, r *http.Request) {
	name := r.FormValue("world")
	if !strings.HasPrefix(name, "troubleshooting-") || strings.ContainsAny(name, "/?#") {
		http.Error(w, fmt.Sprintf("world %q: choose a troubleshooting row", name), http.StatusBadRequest)
		return
	}
	if err := c.call("POST", sandboxURL(r)+"/__admin/troubleshooting/"+url.PathEscape(name), nil, nil); err != nil {
		c.renderTroubleshooting(w, r, statusFor(err), fmt.Errorf("inducing %s: %w", name, err))
		return
	}
	row := strings.TrimPrefix(name, "troubleshooting-")
	done(w, r, "/troubleshooting#r"+row, "Induced the cause of row "+row+" ("+name+"): open the symptom below", "row", row)
}
