package m365app

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"time"

	"github.com/gorilla/mux"

	"github.com/m365snow/m365snow/fakesnow/encodedquery"
	"github.com/m365snow/m365snow/fakesnow/platform"
)

// The inbound API (DESIGN §11) under /api/x_mioms_m365_assis/v1/inbound,
// called by the connector. It accepts only the mode Setup configured:
// Basic (the integration user's ServiceNow OAuth token from the selected
// inbound client, or their basic credentials where the instance allows
// them) or AAD (an external OIDC token validated by the selected OIDC
// entity, mapped to the integration user). Insights only accepts nothing.

func (a *App) inboundRoutes() http.Handler {
	r := newRouter()
	r.HandleFunc("/ping", a.inbound(a.ping)).Methods(http.MethodGet)
	r.HandleFunc("/cases/{caseNumber}", a.inbound(a.linkCase)).Methods(http.MethodPut)
	return r
}

type inboundHandler func(w http.ResponseWriter, r *http.Request, ctx *platform.AppContext, s platform.Record)

// inbound authenticates and authorizes a connector call, logging every
// refusal under the app's scope for the guide's System Logs filter.
func (a *App) inbound(h inboundHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		call := r.Method + " " + "/api/" + Scope + "/v1/inbound" + r.URL.Path
		refuse := func(status int, reason string) {
			a.inst.Log(platform.LevelError, Scope, fmt.Sprintf("Inbound call %s refused: %s", call, reason), "")
			if status == http.StatusUnauthorized {
				a.inst.WriteUnauthenticated(w)
				return
			}
			platform.WriteError(w, status, "User Not Authorized", reason)
		}
		caller, err := a.inst.Authenticate(r)
		if err != nil {
			refuse(http.StatusUnauthorized, "not authenticated: "+err.Error())
			return
		}
		ctx, err := a.inst.App(Scope, caller)
		if err != nil {
			writeFailure(w, r, err)
			return
		}
		s, err := a.settings(ctx)
		if err != nil {
			writeFailure(w, r, err)
			return
		}
		switch mode := inboundMode(s); {
		case mode == "none" || s["inbound_entity"] == "":
			refuse(http.StatusForbidden, "inbound calls are not configured: the app is set up for Insights only")
			return
		case mode == "aad" && caller.Via != "oidc":
			refuse(http.StatusUnauthorized, fmt.Sprintf("the app expects an Azure AD token (External OIDC Auth Token), but %s authenticated by %s", caller.UserName, caller.Via))
			return
		case mode == "basic" && caller.Via != "oauth" && caller.Via != "basic":
			refuse(http.StatusUnauthorized, fmt.Sprintf("the app expects ServiceNow OAuth or basic credentials, but %s authenticated by %s", caller.UserName, caller.Via))
			return
		case caller.Via != "basic" && caller.Entity != s["inbound_entity"]:
			refuse(http.StatusUnauthorized, fmt.Sprintf("the token of %s was not issued through the inbound OAuth provider selected in Setup", caller.UserName))
			return
		case s["integration_user"] == "" || caller.SysID != s["integration_user"]:
			refuse(http.StatusForbidden, fmt.Sprintf("%s is not the integration user selected in Setup", caller.UserName))
			return
		}
		ctx.Log(platform.LevelInfo, fmt.Sprintf("Inbound call %s accepted for %s (%s)", call, caller.UserName, caller.Via))
		h(w, r, ctx, s)
	}
}

// caseNumberPattern is what the app takes for a support case number:
// Microsoft's are decimal digits (fakem365 issues "70" and eight digits);
// letters and dashes are allowed for other connectors' formats. Nothing
// else — no "^", no spaces — reaches a query or a URL (issue 11, defect 4).
var caseNumberPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9-]{0,39}$`)

// ValidCaseNumber reports whether n can be a support case number.
func ValidCaseNumber(n string) bool { return caseNumberPattern.MatchString(n) }

func (a *App) ping(w http.ResponseWriter, _ *http.Request, ctx *platform.AppContext, s platform.Record) {
	platform.WriteResult(w, http.StatusOK, map[string]string{"status": "ok", "user": ctx.User().UserName,
		"inboundMode": inboundMode(s), "instance": a.inst.URL(), "repositoryId": s["repository_id"]})
}

// linkCase stores a case opened from an incident, or its new status: the
// app shows it again when the incident is reopened (row 15).
func (a *App) linkCase(w http.ResponseWriter, r *http.Request, ctx *platform.AppContext, _ platform.Record) {
	n := mux.Vars(r)["caseNumber"]
	var body struct {
		CaseNumber      string `json:"caseNumber"`
		IncidentNumber  string `json:"incidentNumber"`
		Title           string `json:"title"`
		Status          string `json:"status"`
		ContactEmail    string `json:"contactEmail"`
		CreatedDateTime string `json:"createdDateTime"`
	}
	if err := platform.CheckJSONContentType(r); err != nil {
		platform.WriteBodyError(w, r, err)
		return
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			platform.WriteBodyError(w, r, err)
			return
		}
		platform.WriteError(w, http.StatusBadRequest, "Exception while reading request", "The payload is not valid JSON.")
		return
	}
	if !ValidCaseNumber(n) {
		ctx.Log(platform.LevelError, fmt.Sprintf("Inbound call PUT cases/%q refused: not a case number", n))
		platform.WriteError(w, http.StatusBadRequest, "Invalid case", fmt.Sprintf("%q is not a Microsoft 365 support case number", n))
		return
	}
	if body.CaseNumber != "" && body.CaseNumber != n {
		platform.WriteError(w, http.StatusBadRequest, "Invalid case", fmt.Sprintf("caseNumber %q does not match the path's %q", body.CaseNumber, n))
		return
	}
	var opened string
	if body.CreatedDateTime != "" {
		t, err := time.Parse(time.RFC3339, body.CreatedDateTime)
		if err != nil {
			ctx.Log(platform.LevelError, fmt.Sprintf("Inbound call PUT cases/%s refused: createdDateTime %q is not an ISO 8601 date-time", n, body.CreatedDateTime))
			platform.WriteError(w, http.StatusBadRequest, "Invalid case", fmt.Sprintf("createdDateTime %q is not an ISO 8601 date-time (RFC 3339)", body.CreatedDateTime))
			return
		}
		opened = t.UTC().Format(platform.TimeFormat)
	}
	incs, err := ctx.Select("incident", encodedquery.Equals("number", body.IncidentNumber))
	if err != nil {
		writeFailure(w, r, err)
		return
	}
	if len(incs) == 0 || body.IncidentNumber == "" {
		ctx.Log(platform.LevelError, fmt.Sprintf("Inbound call PUT cases/%s refused: no incident %q", n, body.IncidentNumber))
		platform.WriteError(w, http.StatusNotFound, "No Record found", fmt.Sprintf("no incident %q", body.IncidentNumber))
		return
	}
	inc := incs[0]
	values := map[string]string{"incident": inc["sys_id"], "case_number": n, "title": body.Title, "status": body.Status, "contact_email": body.ContactEmail}
	if opened != "" {
		values["opened_on"] = opened
	}
	// Find and write in one lock section: two calls for a new case must
	// not link it twice.
	if _, err := ctx.Upsert(TableCase, encodedquery.Equals("case_number", n), values, false); err != nil {
		ctx.Log(platform.LevelError, fmt.Sprintf("Could not store case %s on %s: %v", n, inc["number"], err))
		writeFailure(w, r, err)
		return
	}
	ctx.Log(platform.LevelInfo, fmt.Sprintf("Case %s linked to %s", n, inc["number"]))
	platform.WriteResult(w, http.StatusOK, map[string]any{"caseNumber": n, "incident": inc["number"], "linked": true})
}
