package m365app

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/gorilla/mux"

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
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			platform.WriteBodyError(w, r, err)
			return
		}
		platform.WriteError(w, http.StatusBadRequest, "Exception while reading request", "The payload is not valid JSON.")
		return
	}
	if body.CaseNumber != "" && body.CaseNumber != n {
		platform.WriteError(w, http.StatusBadRequest, "Invalid case", fmt.Sprintf("caseNumber %q does not match the path's %q", body.CaseNumber, n))
		return
	}
	incs, err := ctx.Query("incident", "number="+strings.ReplaceAll(body.IncidentNumber, "^", "^^"))
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
	if body.CreatedDateTime != "" {
		values["opened_on"] = body.CreatedDateTime
	}
	existing, err := ctx.Query(TableCase, "case_number="+n)
	if err != nil {
		writeFailure(w, r, err)
		return
	}
	if len(existing) > 0 {
		_, err = ctx.Update(TableCase, existing[0]["sys_id"], values, false)
	} else {
		_, err = ctx.Insert(TableCase, values, false)
	}
	if err != nil {
		ctx.Log(platform.LevelError, fmt.Sprintf("Could not store case %s on %s: %v", n, inc["number"], err))
		writeFailure(w, r, err)
		return
	}
	ctx.Log(platform.LevelInfo, fmt.Sprintf("Case %s linked to %s", n, inc["number"]))
	platform.WriteResult(w, http.StatusOK, map[string]any{"caseNumber": n, "incident": inc["number"], "linked": true})
}
