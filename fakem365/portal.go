package fakem365

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"

	"github.com/gorilla/mux"
)

func (s *Server) portalRoutes(r *mux.Router) {
	r.HandleFunc("", s.admin(s.getIntegration)).Methods(http.MethodGet)
	r.HandleFunc("", s.admin(s.putIntegration)).Methods(http.MethodPut)
	r.HandleFunc("/repositories", s.admin(s.listRepositories)).Methods(http.MethodGet)
	r.HandleFunc("/repositories/{repositoryId}", s.admin(s.getRepository)).Methods(http.MethodGet)
	r.HandleFunc("/repositories/{repositoryId}", s.admin(s.putRepository)).Methods(http.MethodPut)
	r.HandleFunc("/repositories/{repositoryId}", s.admin(s.deleteRepository)).Methods(http.MethodDelete)
}

type adminHandler func(w http.ResponseWriter, r *http.Request, tid string, a *adminCaller) *apiError

// admin authorizes an admin-portal call for the tenant in the path.
func (s *Server) admin(h adminHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		tid, e := s.resolveTenant(r.Context(), mux.Vars(r)["tenant"])
		if e == nil {
			var a *adminCaller
			if a, e = s.authorizeAdmin(r, tid); e == nil {
				e = h(w, r, tid, a)
			}
		}
		if e != nil {
			writeError(w, e)
		}
	}
}

// decode reads a JSON body strictly.
func decode(r *http.Request, v any) *apiError {
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return errorf(http.StatusRequestEntityTooLarge, "RequestTooLarge", "The body exceeds %d bytes.", tooLarge.Limit)
		}
		return errorf(http.StatusBadRequest, "BadRequest", "The body is not the expected JSON: %v", err)
	}
	return nil
}

func (s *Server) repositoryJSON(r *Repository) map[string]any {
	out := map[string]any{
		"id": r.ID, "connectorUrl": s.public + "/api/v1/repositories/" + url.PathEscape(r.ID), "endpoint": r.Endpoint, "authenticationType": r.AuthenticationType, "clientId": r.ClientID,
		"clientSecretSet": r.ClientSecret != "", "refreshTokenExpiry": r.RefreshTokenExpiry, "restUsername": r.RestUsername,
		"restUserPasswordSet": r.RestUserPassword != "", "pendingCaseLinks": len(r.PendingLinks), "handshake": r.Handshake,
	}
	return out
}

func (s *Server) getIntegration(w http.ResponseWriter, _ *http.Request, tid string, _ *adminCaller) *apiError {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.tenantLocked(tid)
	out := map[string]any{"tenantId": tid, "internalSupportTool": nil, "applicationId": nil, "repositories": s.repositoriesLocked(t)}
	if in := t.Integration; in != nil {
		out["internalSupportTool"], out["applicationId"], out["updatedBy"], out["updatedDateTime"] = in.InternalSupportTool, in.ApplicationID, in.UpdatedBy, in.Updated
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) repositoriesLocked(t *tenant) []map[string]any {
	ids := make([]string, 0, len(t.Repositories))
	for id := range t.Repositories {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	out := []map[string]any{}
	for _, id := range ids {
		out = append(out, s.repositoryJSON(t.Repositories[id]))
	}
	return out
}

// putIntegration saves the Basic information tab: internal support tool
// ServiceNow and the Application ID (the Setup flow's Outbound App ID).
func (s *Server) putIntegration(w http.ResponseWriter, r *http.Request, tid string, a *adminCaller) *apiError {
	var body struct {
		InternalSupportTool string `json:"internalSupportTool"`
		ApplicationID       string `json:"applicationId"`
	}
	if e := decode(r, &body); e != nil {
		return e
	}
	in := &Integration{InternalSupportTool: body.InternalSupportTool, ApplicationID: body.ApplicationID, UpdatedBy: a.upn, Updated: s.clock.Now().UTC()}
	if err := validIntegration(in); err != nil {
		return errorf(http.StatusBadRequest, "BadRequest", "%v", err)
	}
	s.mu.Lock()
	s.tenantLocked(tid).Integration = in
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"tenantId": tid, "internalSupportTool": in.InternalSupportTool,
		"applicationId": in.ApplicationID, "updatedBy": in.UpdatedBy, "updatedDateTime": in.Updated})
	return nil
}

func (s *Server) listRepositories(w http.ResponseWriter, _ *http.Request, tid string, _ *adminCaller) *apiError {
	s.mu.Lock()
	defer s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"value": s.repositoriesLocked(s.tenantLocked(tid))})
	return nil
}

func (s *Server) getRepository(w http.ResponseWriter, r *http.Request, tid string, _ *adminCaller) *apiError {
	id := mux.Vars(r)["repositoryId"]
	s.mu.Lock()
	defer s.mu.Unlock()
	repo := s.tenantLocked(tid).Repositories[id]
	if repo == nil {
		return errorf(http.StatusNotFound, "RepositoryNotFound", "Repository %q is not saved in this tenant's Organization profile.", id)
	}
	writeJSON(w, http.StatusOK, s.repositoryJSON(repo))
	return nil
}

func (s *Server) deleteRepository(w http.ResponseWriter, r *http.Request, tid string, _ *adminCaller) *apiError {
	id := mux.Vars(r)["repositoryId"]
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.tenantLocked(tid)
	if t.Repositories[id] == nil {
		return errorf(http.StatusNotFound, "RepositoryNotFound", "Repository %q is not saved in this tenant's Organization profile.", id)
	}
	delete(t.Repositories, id)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (r *Repository) validate() error {
	if r.ID == "" || strings.ContainsAny(r.ID, "/?#") {
		return fmt.Errorf("repository id %q is empty or contains / ? #", r.ID)
	}
	u, err := url.Parse(r.Endpoint)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return fmt.Errorf("endpoint %q is not an absolute http(s) URL (it is the Setup page's Endpoint)", r.Endpoint)
	}
	if r.AuthenticationType != "Basic Auth" && r.AuthenticationType != "AAD Auth" {
		return fmt.Errorf("authenticationType %q: \"Basic Auth\" or \"AAD Auth\"", r.AuthenticationType)
	}
	if r.RefreshTokenExpiry < 0 {
		return fmt.Errorf("refreshTokenExpiry %d must not be negative", r.RefreshTokenExpiry)
	}
	return nil
}

// putRepository saves a repository. When the instance already told the
// connector (in the handshake) that it expects inbound calls, the save
// first tests them with the new settings and refuses what does not work.
func (s *Server) putRepository(w http.ResponseWriter, r *http.Request, tid string, _ *adminCaller) *apiError {
	id := mux.Vars(r)["repositoryId"]
	var body struct {
		Endpoint           string  `json:"endpoint"`
		AuthenticationType string  `json:"authenticationType"`
		ClientID           string  `json:"clientId"`
		ClientSecret       *string `json:"clientSecret"`
		RefreshTokenExpiry int     `json:"refreshTokenExpiry"`
		RestUsername       string  `json:"restUsername"`
		RestUserPassword   *string `json:"restUserPassword"`
	}
	if e := decode(r, &body); e != nil {
		return e
	}
	s.mu.Lock()
	t := s.tenantLocked(tid)
	old := t.Repositories[id]
	next := &Repository{ID: id, Endpoint: body.Endpoint, AuthenticationType: body.AuthenticationType, ClientID: body.ClientID,
		RefreshTokenExpiry: body.RefreshTokenExpiry, RestUsername: body.RestUsername}
	if old != nil {
		next.ClientSecret, next.RestUserPassword, next.Handshake, next.PendingLinks = old.ClientSecret, old.RestUserPassword, old.Handshake, old.PendingLinks
	}
	if body.ClientSecret != nil {
		next.ClientSecret = *body.ClientSecret
	}
	if body.RestUserPassword != nil {
		next.RestUserPassword = *body.RestUserPassword
	}
	s.mu.Unlock()
	if err := next.validate(); err != nil {
		return errorf(http.StatusBadRequest, "BadRequest", "%v", err)
	}
	if next.Handshake != nil && next.Handshake.InboundMode != "none" && s.mutant != MutantNoInboundTestOnSave {
		mode := next.Handshake.InboundMode
		if want := authTypeFor(mode); next.AuthenticationType != want {
			return errorf(http.StatusUnprocessableEntity, "InboundTestFailed",
				"The instance expects %s inbound calls; authenticationType %q cannot make them (use %q).", mode, next.AuthenticationType, want)
		}
		if err := s.ping(r.Context(), tid, next, mode); err != nil {
			return errorf(http.StatusUnprocessableEntity, "InboundTestFailed", "The connector could not call the instance with these settings: %v", err)
		}
	}
	// Write the settings into the repository as it is now, not as it was
	// before the inbound test: a case opened (PendingLinks) or a handshake
	// completed meanwhile must survive the save. Updating in place also keeps
	// the *Repository that concurrent connector calls already hold current.
	s.mu.Lock()
	status := http.StatusOK
	if cur := t.Repositories[id]; cur != nil {
		cur.Endpoint, cur.AuthenticationType, cur.ClientID = next.Endpoint, next.AuthenticationType, next.ClientID
		cur.ClientSecret, cur.RefreshTokenExpiry = next.ClientSecret, next.RefreshTokenExpiry
		cur.RestUsername, cur.RestUserPassword = next.RestUsername, next.RestUserPassword
		// Tokens cached for the old settings die with them; those the
		// inbound test just obtained with the new ones are kept.
		cur.tokens = next.tokens
		next = cur
	} else {
		status = http.StatusCreated
		t.Repositories[id] = next
	}
	s.mu.Unlock()
	s.retryLinks(r.Context(), tid, id)
	s.mu.Lock()
	out := s.repositoryJSON(next)
	s.mu.Unlock()
	writeJSON(w, status, out)
	return nil
}

func authTypeFor(mode string) string {
	if mode == "aad" {
		return "AAD Auth"
	}
	return "Basic Auth"
}
