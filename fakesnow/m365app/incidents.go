package m365app

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/mail"
	"sort"
	"strings"

	"github.com/gorilla/mux"

	"github.com/m365snow/m365snow/fakesnow/encodedquery"
	"github.com/m365snow/m365snow/fakesnow/platform"
)

// The incident features (DESIGN §6) under
// /api/x_mioms_m365_assis/v1/incidents/{number or sys_id}: the form with its
// Microsoft 365 Support tab, and the tab's actions. Action answers carry the
// messages the form shows on top; "nothing shows up" is an answer with no
// message and no result.

func (a *App) incidentRoutes() http.Handler {
	r := newRouter()
	r.HandleFunc("/{incident}/form", a.form).Methods(http.MethodGet)
	r.HandleFunc("/{incident}/solutions", a.action(RoleInsights, a.solutions)).Methods(http.MethodPost)
	r.HandleFunc("/{incident}/servicehealth", a.action(RoleInsights, a.serviceHealth)).Methods(http.MethodGet)
	r.HandleFunc("/{incident}/cases", a.action(RoleAdmin, a.contactSupport)).Methods(http.MethodPost)
	r.HandleFunc("/{incident}/cases/{caseNumber}", a.action(RoleAdmin, a.ticketDetails)).Methods(http.MethodPatch)
	return r
}

// message is one line on top of the form.
type message struct {
	Type string `json:"type"` // error or info
	Text string `json:"text"`
}

// outcome is an action's answer.
type outcome struct {
	Incident string         `json:"incident"`
	Messages []message      `json:"messages"`
	Data     map[string]any `json:"-"`
}

func (o outcome) MarshalJSON() ([]byte, error) {
	m := map[string]any{"incident": o.Incident, "messages": o.Messages}
	if o.Messages == nil {
		m["messages"] = []message{}
	}
	for k, v := range o.Data {
		m[k] = v
	}
	return json.Marshal(m)
}

// writeFailure renders errors that are not the app's own.
func writeFailure(w http.ResponseWriter, r *http.Request, err error) {
	var tooLarge *http.MaxBytesError
	var ae *platform.AccessError
	var ve *platform.ValueError
	switch {
	case errors.As(err, &tooLarge), errors.Is(err, platform.ErrUnsupportedMedia):
		platform.WriteBodyError(w, r, err)
	case errors.As(err, &ve):
		// A value a field cannot hold is the caller's mistake: 400, never
		// a 5xx (issue 11, defect 9).
		platform.WriteError(w, http.StatusBadRequest, "Operation Failed", ve.Error())
	case errors.As(err, &ae):
		platform.WriteError(w, http.StatusForbidden, ae.Message, "")
	case errors.Is(err, platform.ErrNotFound):
		platform.WriteError(w, http.StatusNotFound, "No Record found", "Record doesn't exist or ACL restricts the record retrieval")
	default:
		platform.WriteError(w, http.StatusInternalServerError, "Operation Failed", err.Error())
	}
}

// incident finds the incident by number or sys_id, if the user may read it.
func (a *App) incident(ctx *platform.AppContext, key string) (platform.Record, error) {
	if !ctx.CanAccess("incident", platform.OpRead) {
		return nil, platform.ErrNotFound
	}
	if platform.ValidSysID(key) {
		return ctx.Get("incident", key)
	}
	rows, err := ctx.Select("incident", encodedquery.Equals("number", key))
	if err != nil {
		return nil, err
	}
	if len(rows) == 0 {
		return nil, platform.ErrNotFound
	}
	return rows[0], nil
}

func hasAppRole(c *platform.Caller) bool { return c.HasRole(RoleInsights) || c.HasRole(RoleAdmin) }

// form is the incident form in a view: its tabs, and the Microsoft 365
// Support tab's content for users who see it. When the tab is hidden, the
// reason goes to the system log (troubleshooting row 1).
func (a *App) form(w http.ResponseWriter, r *http.Request) {
	ctx, err := a.context(r)
	if err != nil {
		writeFailure(w, r, err)
		return
	}
	inc, err := a.incident(ctx, mux.Vars(r)["incident"])
	if err != nil {
		writeFailure(w, r, err)
		return
	}
	viewName := r.URL.Query().Get("sysparm_view")
	if viewName == "" {
		viewName = "default"
	}
	views, err := ctx.Select("sys_ui_view", encodedquery.Equals("name", viewName))
	if err != nil {
		writeFailure(w, r, err)
		return
	}
	if len(views) == 0 {
		platform.WriteError(w, http.StatusBadRequest, "Invalid view", fmt.Sprintf("there is no form view %q", viewName))
		return
	}
	sections, err := ctx.Select("sys_ui_section", encodedquery.Equals("name", "incident").And("view", "=", views[0]["sys_id"]).OrderBy("position", false))
	if err != nil {
		writeFailure(w, r, err)
		return
	}
	user := ctx.User()
	tabs := []string{}
	inView, visible := false, false
	for _, sec := range sections {
		if sec["caption"] == TabCaption {
			inView = true
			if !hasAppRole(user) {
				continue
			}
			visible = true
		}
		tabs = append(tabs, sec["caption"])
	}
	switch {
	case !inView:
		ctx.Log(platform.LevelInfo, fmt.Sprintf("The %s tab is not part of the incident form view '%s' (%s opened %s); switch to a view that carries it, such as 'default'.", TabCaption, viewName, user.UserName, inc["number"]))
	case !visible:
		ctx.Log(platform.LevelInfo, fmt.Sprintf("The %s tab is hidden from %s on %s: the user has neither %s nor %s.", TabCaption, user.UserName, inc["number"], RoleInsights, RoleAdmin))
	}
	out := map[string]any{
		"incident": map[string]string{"sys_id": inc["sys_id"], "number": inc["number"], "short_description": inc["short_description"]},
		"view":     viewName, "tabs": tabs, "messages": []message{},
	}
	if visible {
		support, err := a.tab(ctx, inc)
		if err != nil {
			writeFailure(w, r, err)
			return
		}
		out["microsoft365Support"] = support
	}
	platform.WriteResult(w, http.StatusOK, out)
}

// tab is the Microsoft 365 Support tab: what the user may do and what was
// saved for this incident before.
func (a *App) tab(ctx *platform.AppContext, inc platform.Record) (map[string]any, error) {
	s, err := a.settings(ctx)
	if err != nil {
		return nil, err
	}
	user := ctx.User()
	actions := []string{"recommended_solutions", "search_solutions", "service_health_incidents"}
	if user.HasRole(RoleAdmin) {
		if inboundMode(s) != "none" {
			actions = append(actions, "contact_microsoft_support")
		}
		actions = append(actions, "link_account")
	}
	solutions, err := savedOn(ctx, TableSolution, inc, map[string]string{"id": "solution_id", "title": "title", "summary": "summary", "url": "url"})
	if err != nil {
		return nil, err
	}
	cases, err := savedOn(ctx, TableCase, inc, map[string]string{"caseNumber": "case_number", "title": "title", "status": "status", "contactEmail": "contact_email"})
	if err != nil {
		return nil, err
	}
	return map[string]any{"state": state(s), "actions": actions, "solutions": solutions, "cases": cases}, nil
}

// savedOn lists what the app keeps on an incident in one of its tables,
// each row as the tab shows it (JSON name → field). A user who may not
// read the table sees none.
func savedOn(ctx *platform.AppContext, table string, inc platform.Record, fields map[string]string) ([]map[string]string, error) {
	out := []map[string]string{}
	if !ctx.CanAccess(table, platform.OpRead) {
		return out, nil
	}
	rows, err := ctx.Select(table, encodedquery.Equals("incident", inc["sys_id"]))
	if err != nil {
		return nil, err
	}
	for _, row := range rows {
		item := make(map[string]string, len(fields))
		for name, field := range fields {
			item[name] = row[field]
		}
		out = append(out, item)
	}
	return out, nil
}

type actionHandler func(r *http.Request, ctx *platform.AppContext, s, inc platform.Record) (outcome, error)

// action checks the role, finds the incident and applies the setup-state
// check every action shares.
func (a *App) action(role string, h actionHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ctx, err := a.context(r)
		if err != nil {
			writeFailure(w, r, err)
			return
		}
		if !ctx.User().HasRole(role) {
			platform.WriteError(w, http.StatusForbidden, "User Not Authorized", "this action needs the role "+role)
			return
		}
		inc, err := a.incident(ctx, mux.Vars(r)["incident"])
		if err != nil {
			writeFailure(w, r, err)
			return
		}
		s, err := a.settings(ctx)
		if err != nil {
			writeFailure(w, r, err)
			return
		}
		out := outcome{Incident: inc["number"]}
		if msg := stateMessage(state(s)); msg != "" {
			hint := "a Setup step has no value: walk Setup again"
			if state(s) == StateFinalIncomplete {
				hint = "the connector does not know the current settings: select Next on Setup's last page once the Microsoft 365 admin has saved the repository"
			}
			ctx.Log(platform.LevelWarn, fmt.Sprintf("%s /api/%s/v1/incidents%s by %s refused: setup state is %s (%s)",
				r.Method, Scope, r.URL.Path, ctx.User().UserName, state(s), hint))
			out.Messages = []message{{"error", msg}}
			platform.WriteResult(w, http.StatusOK, out)
			return
		}
		out, err = h(r, ctx, s, inc)
		if err != nil {
			var se *setupError
			if errors.As(err, &se) {
				platform.WriteError(w, se.status, se.message, se.detail)
				return
			}
			writeFailure(w, r, err)
			return
		}
		out.Incident = inc["number"]
		platform.WriteResult(w, http.StatusOK, out)
	}
}

// failed turns a connector failure into what the form shows, and logs it.
// Silent failures log only that nothing came back: the cause is in the
// outbound HTTP log, as the guide's troubleshooting says.
func (a *App) failed(ctx *platform.AppContext, s platform.Record, what string, inc platform.Record, f *failure, out *outcome) {
	switch f.kind {
	case failSilent:
		ctx.Log(platform.LevelWarn, fmt.Sprintf("%s for %s returned nothing; see System Logs > Outbound HTTP Requests for %s and %s.", what, inc["number"], "login.microsoftonline.com", "connector.rave.microsoft.com"))
	case failFinalStep:
		ctx.Log(platform.LevelError, fmt.Sprintf("%s for %s: %s; the integration must be completed again (final Setup step).", what, inc["number"], f.reason))
		if _, err := ctx.Update(TableSettings, s["sys_id"], map[string]string{"handshake_completed": "false"}, false); err != nil {
			ctx.Log(platform.LevelError, "could not record that the final Setup step must be done again: "+err.Error())
		}
		out.Messages = []message{{"error", MsgFinalIncomplete}}
	default:
		ctx.Log(platform.LevelError, fmt.Sprintf("%s for %s failed: %s", what, inc["number"], f.reason))
		out.Messages = []message{{"error", MsgAppSupport}}
	}
}

type solution struct {
	ID      string `json:"id"`
	Title   string `json:"title"`
	Summary string `json:"summary"`
	URL     string `json:"url"`
}

// solutions gets recommended solutions for the incident's short
// description, or for the text the user typed in the search box, and
// saves them on the incident.
func (a *App) solutions(r *http.Request, ctx *platform.AppContext, s, inc platform.Record) (outcome, error) {
	var body struct {
		SearchText string `json:"searchText"`
	}
	if r.ContentLength != 0 {
		if err := decodeStep(r, &body); err != nil {
			return outcome{}, err
		}
	}
	query := strings.TrimSpace(body.SearchText)
	what := "Search for recommended solutions"
	if query == "" {
		query, what = strings.TrimSpace(inc["short_description"]), "Recommended solutions"
	}
	out := outcome{Data: map[string]any{"query": query, "solutions": []solution{}}}
	if query == "" {
		out.Messages = []message{{"info", "Type a problem in the search box: this incident has no short description."}}
		return out, nil
	}
	var answer struct {
		Solutions []solution `json:"solutions"`
	}
	if f := a.connector(ctx, s, http.MethodPost, "/solutions/search", map[string]string{"query": query, "incidentNumber": inc["number"]}, &answer); f != nil {
		a.failed(ctx, s, what, inc, f, &out)
		return out, nil
	}
	if answer.Solutions == nil {
		a.failed(ctx, s, what, inc, &failure{kind: failAppSupport, reason: "the connector's answer has no solutions list"}, &out)
		return out, nil
	}
	out.Data["solutions"] = answer.Solutions
	a.saveSolutions(ctx, inc, query, answer.Solutions)
	return out, nil
}

// saveSolutions keeps the solutions on the incident, as the user (its
// ACLs apply), each once: the check for a saved copy and the insert are
// one lock section, so concurrent clicks cannot both insert (issue 11,
// defect 8). A refused write is logged, not hidden (row 14).
func (a *App) saveSolutions(ctx *platform.AppContext, inc platform.Record, query string, sols []solution) {
	for _, sol := range sols {
		saved := encodedquery.Equals("incident", inc["sys_id"]).And("solution_id", "=", sol.ID)
		if _, _, err := ctx.InsertUnless(TableSolution, saved, map[string]string{"incident": inc["sys_id"], "solution_id": sol.ID, "title": sol.Title,
			"summary": sol.Summary, "url": sol.URL, "query": query}, true); err != nil {
			ctx.Log(platform.LevelError, fmt.Sprintf("Could not save recommended solutions for %s: %v. They are shown now but will not be there when the incident is reopened.", inc["number"], err))
			return
		}
	}
}

func (a *App) serviceHealth(_ *http.Request, ctx *platform.AppContext, s, inc platform.Record) (outcome, error) {
	out := outcome{Data: map[string]any{"incidents": []any{}}}
	var answer struct {
		Incidents []map[string]any `json:"incidents"`
	}
	if f := a.connector(ctx, s, http.MethodGet, "/servicehealth/incidents", nil, &answer); f != nil {
		a.failed(ctx, s, "Service health incidents", inc, f, &out)
		return out, nil
	}
	if answer.Incidents != nil {
		out.Data["incidents"] = answer.Incidents
	}
	return out, nil
}

// contactSupport is "Contact Microsoft Support": a service request with
// the user's linked admin account, or their own email, as contact.
func (a *App) contactSupport(r *http.Request, ctx *platform.AppContext, s, inc platform.Record) (outcome, error) {
	if inboundMode(s) == "none" {
		return outcome{}, &setupError{http.StatusConflict, "Contact Microsoft Support is not available",
			"the app is set up for Insights only (no inbound connection), which offers service health incidents and recommended solutions but no service requests"}
	}
	var body struct {
		Title       string `json:"title"`
		Description string `json:"description"`
	}
	if r.ContentLength != 0 {
		if err := decodeStep(r, &body); err != nil {
			return outcome{}, err
		}
	}
	email, err := a.contactEmail(ctx)
	if err != nil {
		return outcome{}, err
	}
	if email == "" {
		return outcome{}, invalid("No email address", "set an email address on your user record, or link your Microsoft 365 admin account (Microsoft 365 Support > Link Account)")
	}
	title, desc := body.Title, body.Description
	if title == "" {
		title = inc["short_description"]
	}
	if desc == "" {
		desc = inc["description"]
	}
	out := outcome{Data: map[string]any{}}
	var c map[string]any
	if f := a.connector(ctx, s, http.MethodPost, "/cases", map[string]any{"incidentNumber": inc["number"], "title": title,
		"description": desc, "contactEmail": email, "testEnvironment": s["test_environment"] == "true"}, &c); f != nil {
		if f.kind == failNotAdmin {
			ctx.Log(platform.LevelError, fmt.Sprintf("Contact Microsoft Support for %s: %s", inc["number"], f.reason))
			out.Messages = []message{{"error", MsgNotAdmin(email)}}
			return out, nil
		}
		a.failed(ctx, s, "Contact Microsoft Support", inc, f, &out)
		return out, nil
	}
	if n, _ := c["caseNumber"].(string); n == "" {
		a.failed(ctx, s, "Contact Microsoft Support", inc, &failure{kind: failAppSupport, reason: "the connector's answer has no caseNumber"}, &out)
		return out, nil
	}
	ctx.Log(platform.LevelInfo, fmt.Sprintf("Service request %v opened for %s with contact %s", c["caseNumber"], inc["number"], email))
	out.Data["case"] = c
	return out, nil
}

// contactEmail is the user's linked Microsoft 365 admin account, else their
// own email.
func (a *App) contactEmail(ctx *platform.AppContext) (string, error) {
	rows, err := ctx.Select(TableLinked, encodedquery.Equals("user", ctx.User().SysID))
	if err != nil {
		return "", err
	}
	if len(rows) > 0 && rows[0]["email"] != "" {
		return rows[0]["email"], nil
	}
	return ctx.User().Email, nil
}

// ticketDetails saves ticket details on a case through the connector.
func (a *App) ticketDetails(r *http.Request, ctx *platform.AppContext, s, inc platform.Record) (outcome, error) {
	var body struct {
		Details map[string]string `json:"details"`
	}
	if err := decodeStep(r, &body); err != nil {
		return outcome{}, err
	}
	if len(body.Details) == 0 {
		return outcome{}, invalid("No ticket details", "send details to save")
	}
	n := mux.Vars(r)["caseNumber"]
	if !ValidCaseNumber(n) {
		return outcome{}, invalid("Invalid case", "%q is not a Microsoft 365 support case number", n)
	}
	out := outcome{Data: map[string]any{}}
	var c map[string]any
	if f := a.connector(ctx, s, http.MethodPatch, "/cases/"+n, map[string]any{"details": body.Details}, &c); f != nil {
		ctx.Log(platform.LevelError, fmt.Sprintf("Saving ticket details of case %s (%s) failed: %s", n, inc["number"], f.reason))
		out.Messages = []message{{"error", MsgTicketDetails}}
		return out, nil
	}
	if rows, err := ctx.Select(TableCase, encodedquery.Equals("case_number", n).And("incident", "=", inc["sys_id"])); err == nil && len(rows) > 0 {
		keys := make([]string, 0, len(body.Details))
		for k := range body.Details {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var parts []string
		for _, k := range keys {
			parts = append(parts, k+": "+body.Details[k])
		}
		if _, err := ctx.Update(TableCase, rows[0]["sys_id"], map[string]string{"details": strings.Join(parts, "\n")}, false); err != nil {
			ctx.Log(platform.LevelError, fmt.Sprintf("Could not keep ticket details of case %s on %s: %v", n, inc["number"], err))
		}
	}
	out.Data["case"] = c
	return out, nil
}

// Link Account: /api/x_mioms_m365_assis/v1/link_account.

func (a *App) linkAccountRoutes() http.Handler {
	r := newRouter()
	r.HandleFunc("/", a.linkAccount).Methods(http.MethodGet, http.MethodPut)
	return r
}

func (a *App) linkAccount(w http.ResponseWriter, r *http.Request) {
	ctx, err := a.context(r)
	if err != nil {
		writeFailure(w, r, err)
		return
	}
	user := ctx.User()
	if !user.HasRole(RoleAdmin) {
		platform.WriteError(w, http.StatusForbidden, "User Not Authorized", "Link Account needs the role "+RoleAdmin)
		return
	}
	rows, err := ctx.Select(TableLinked, encodedquery.Equals("user", user.SysID))
	if err != nil {
		writeFailure(w, r, err)
		return
	}
	if r.Method == http.MethodPut {
		var body struct {
			Email string `json:"email"`
		}
		if err := decodeStep(r, &body); err != nil {
			var se *setupError
			if errors.As(err, &se) {
				platform.WriteError(w, se.status, se.message, se.detail)
				return
			}
			writeFailure(w, r, err)
			return
		}
		addr, perr := mail.ParseAddress(body.Email)
		if perr != nil || addr.Address != strings.TrimSpace(body.Email) {
			platform.WriteError(w, http.StatusBadRequest, "Invalid email", fmt.Sprintf("%q is not an email address", body.Email))
			return
		}
		// One lock section: concurrent saves leave one linked account.
		if _, err := ctx.Upsert(TableLinked, encodedquery.Equals("user", user.SysID), map[string]string{"user": user.SysID, "email": addr.Address}, true); err != nil {
			writeFailure(w, r, err)
			return
		}
		ctx.Log(platform.LevelInfo, fmt.Sprintf("%s linked the Microsoft 365 admin account %s", user.UserName, addr.Address))
		platform.WriteResult(w, http.StatusOK, map[string]string{"user": user.UserName, "email": addr.Address})
		return
	}
	email := ""
	if len(rows) > 0 {
		email = rows[0]["email"]
	}
	platform.WriteResult(w, http.StatusOK, map[string]string{"user": user.UserName, "email": email})
}
