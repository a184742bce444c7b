package fakem365

import (
	"context"
	"fmt"
	"net/http"
	"net/mail"
	"net/url"
	"sort"
	"strings"
	"sync"

	"github.com/gorilla/mux"
)

func (s *Server) connectorRoutes(r *mux.Router) {
	r.HandleFunc("/handshake", s.connector(s.handshake, false)).Methods(http.MethodPost)
	r.HandleFunc("/solutions/search", s.connector(s.searchSolutions, true)).Methods(http.MethodPost)
	r.HandleFunc("/servicehealth/incidents", s.connector(s.serviceHealth, true)).Methods(http.MethodGet)
	r.HandleFunc("/cases", s.connector(s.createCase, true)).Methods(http.MethodPost)
	r.HandleFunc("/cases/{caseNumber}", s.connector(s.getCase, true)).Methods(http.MethodGet)
	r.HandleFunc("/cases/{caseNumber}", s.connector(s.updateCase, true)).Methods(http.MethodPatch)
}

type connectorHandler func(w http.ResponseWriter, r *http.Request, c *connectorCaller, t *tenant, repo *Repository) *apiError

// connector authorizes a call from an instance. Everything but the
// handshake also needs the handshake done.
func (s *Server) connector(h connectorHandler, needHandshake bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id := mux.Vars(r)["repositoryId"]
		c, t, repo, e := s.authorizeConnector(r, id)
		if e == nil && needHandshake {
			s.mu.Lock()
			done := repo.Handshake != nil
			s.mu.Unlock()
			if !done {
				e = errorf(http.StatusConflict, "HandshakeRequired", "Repository %q has not completed the handshake: finish the app's final Setup step (Next).", id)
			}
		}
		if e == nil {
			e = h(w, r, c, t, repo)
		}
		if e != nil {
			writeError(w, e)
		}
	}
}

// handshake is the app's "Next" on the final Setup page.
func (s *Server) handshake(w http.ResponseWriter, r *http.Request, c *connectorCaller, t *tenant, repo *Repository) *apiError {
	// The request carries the instance's Setup values only: the
	// handshake's completedDateTime is the connector's and is refused as
	// an unknown field (CONTRACT.md, "Errors").
	var req handshakeRequest
	if e := decode(r, &req); e != nil {
		return e
	}
	hs := Handshake(req.handshakeFields)
	switch hs.InboundMode {
	case "none", "basic", "aad":
	default:
		return errorf(http.StatusBadRequest, "BadRequest", "inboundMode %q: none, basic or aad.", hs.InboundMode)
	}
	if u, err := url.Parse(hs.InstanceURL); err != nil || u.Host == "" {
		return errorf(http.StatusBadRequest, "BadRequest", "instanceUrl %q is not an absolute URL.", hs.InstanceURL)
	}
	if !strings.EqualFold(hs.OutboundAppID, c.appID) && s.mutant != MutantHandshakeIgnoresOutboundAppID {
		return errorf(http.StatusBadRequest, "BadRequest", "outboundAppId %q is not the application the token was issued to (%s).", hs.OutboundAppID, c.appID)
	}
	s.mu.Lock()
	saved := *repo
	s.mu.Unlock()
	if !strings.EqualFold(strings.TrimRight(saved.Endpoint, "/"), strings.TrimRight(hs.Endpoint, "/")) {
		return errorf(http.StatusConflict, "EndpointMismatch", "The repository is saved with Endpoint %q but the instance reports %q.", saved.Endpoint, hs.Endpoint)
	}
	if hs.InboundMode != "none" {
		if want := authTypeFor(hs.InboundMode); saved.AuthenticationType != want {
			return errorf(http.StatusConflict, "AuthenticationTypeMismatch", "The instance is set up for %s inbound calls; the repository's Authentication type is %q, not %q.", hs.InboundMode, saved.AuthenticationType, want)
		}
		if !strings.EqualFold(hs.ClientID, saved.ClientID) {
			return errorf(http.StatusConflict, "ClientIdMismatch", "The repository's Client Id %q is not the instance's %q.", saved.ClientID, hs.ClientID)
		}
		if !strings.EqualFold(hs.UserName, saved.RestUsername) {
			return errorf(http.StatusConflict, "RestUsernameMismatch", "The repository's Rest username %q is not the instance's User Name %q.", saved.RestUsername, hs.UserName)
		}
		if err := s.ping(r.Context(), c.tid, repo, hs.InboundMode); err != nil {
			return errorf(http.StatusUnprocessableEntity, "InboundTestFailed", "The connector could not call the instance: %v", err)
		}
	}
	hs.Completed = s.clock.Now().UTC()
	// The checks above ran on a snapshot; a repository saved again while the
	// inbound test ran may no longer match what was checked, so check again
	// in the section that writes.
	s.mu.Lock()
	if !sameSettings(saved, *repo) {
		s.mu.Unlock()
		return errorf(http.StatusConflict, "RepositoryChanged", "Repository %q was saved again during the handshake; run the app's final Setup step (Next) again.", repo.ID)
	}
	repo.Handshake = &hs
	s.mu.Unlock()
	s.retryLinks(r.Context(), c.tid, repo.ID)
	writeJSON(w, http.StatusOK, map[string]any{"status": "connected", "repositoryId": repo.ID, "inboundMode": hs.InboundMode})
	return nil
}

// sameSettings reports whether two snapshots of a repository carry the same
// Setup-page settings (not its handshake, pending links or tokens).
func sameSettings(a, b Repository) bool {
	return a.Endpoint == b.Endpoint && a.AuthenticationType == b.AuthenticationType && a.ClientID == b.ClientID &&
		a.ClientSecret == b.ClientSecret && a.RefreshTokenExpiry == b.RefreshTokenExpiry &&
		a.RestUsername == b.RestUsername && a.RestUserPassword == b.RestUserPassword
}

// ping tests inbound calls with the repository's current credentials.
func (s *Server) ping(ctx context.Context, tid string, repo *Repository, mode string) error {
	s.mu.Lock()
	c := s.credsLocked(tid, repo, mode)
	s.mu.Unlock()
	status, body, err := s.callInstance(ctx, c, repo, http.MethodGet, "/ping", nil)
	if err != nil {
		return err
	}
	if status != http.StatusOK {
		return fmt.Errorf("GET %s/ping answered HTTP %d: %s", c.endpoint, status, clip(string(body), 300))
	}
	return nil
}

func (s *Server) searchSolutions(w http.ResponseWriter, r *http.Request, _ *connectorCaller, _ *tenant, _ *Repository) *apiError {
	var body struct {
		Query          string `json:"query"`
		IncidentNumber string `json:"incidentNumber"`
	}
	if e := decode(r, &body); e != nil {
		return e
	}
	if strings.TrimSpace(body.Query) == "" {
		return errorf(http.StatusBadRequest, "BadRequest", "query is empty: send the incident's short description or the user's search text.")
	}
	s.mu.Lock()
	found := search(s.st.solutions, body.Query)
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"query": body.Query, "incidentNumber": body.IncidentNumber, "solutions": found})
	return nil
}

// search ranks solutions by how many query words they contain in title,
// summary or keywords; ties keep fixture order. At most five come back.
func search(all []Solution, query string) []Solution {
	words := strings.FieldsFunc(strings.ToLower(query), func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9')
	})
	type hit struct {
		s     Solution
		score int
		pos   int
	}
	var hits []hit
	for i, sol := range all {
		text := strings.ToLower(sol.Title + " " + sol.Summary + " " + strings.Join(sol.Keywords, " "))
		score := 0
		for _, w := range words {
			if len(w) > 2 && strings.Contains(text, w) {
				score++
			}
		}
		if score > 0 {
			hits = append(hits, hit{sol, score, i})
		}
	}
	sort.SliceStable(hits, func(a, b int) bool { return hits[a].score > hits[b].score })
	out := []Solution{}
	for i := 0; i < len(hits) && i < 5; i++ {
		out = append(out, hits[i].s)
	}
	return out
}

func (s *Server) serviceHealth(w http.ResponseWriter, _ *http.Request, _ *connectorCaller, t *tenant, _ *Repository) *apiError {
	s.mu.Lock()
	list := append(append([]HealthIncident{}, s.st.health...), t.Health...)
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"incidents": list})
	return nil
}

func (s *Server) createCase(w http.ResponseWriter, r *http.Request, c *connectorCaller, _ *tenant, repo *Repository) *apiError {
	var body struct {
		IncidentNumber  string `json:"incidentNumber"`
		Title           string `json:"title"`
		Description     string `json:"description"`
		ContactEmail    string `json:"contactEmail"`
		TestEnvironment bool   `json:"testEnvironment"`
	}
	if e := decode(r, &body); e != nil {
		return e
	}
	if body.IncidentNumber == "" || body.Title == "" {
		return errorf(http.StatusBadRequest, "BadRequest", "incidentNumber and title are required.")
	}
	if _, err := mail.ParseAddress(body.ContactEmail); err != nil {
		return errorf(http.StatusBadRequest, "BadRequest", "contactEmail %q is not an email address.", body.ContactEmail)
	}
	s.mu.Lock()
	mode := repo.Handshake.InboundMode
	s.mu.Unlock()
	if mode == "none" {
		return errorf(http.StatusConflict, "InboundNotConfigured", "Service requests need inbound calls into the instance; repository %q is set up for Insights only.", repo.ID)
	}
	admin, err := s.isSupportAdmin(r.Context(), c.tid, body.ContactEmail)
	if err != nil {
		return errorf(http.StatusBadGateway, "DirectoryUnavailable", "The connector could not check the contact's roles: %v", err)
	}
	if !admin {
		return errorf(http.StatusForbidden, "ContactNotAdmin", "%s is not a Microsoft 365 admin of tenant %s: service requests need a Global, Helpdesk or Service Support administrator as contact.", body.ContactEmail, c.tid)
	}
	now := s.clock.Now().UTC()
	s.mu.Lock()
	cs := &Case{Number: fmt.Sprintf("70%08d", s.st.nextCase), Repository: repo.ID, IncidentNumber: body.IncidentNumber, Title: body.Title,
		Description: body.Description, ContactEmail: body.ContactEmail, TestEnvironment: body.TestEnvironment, Status: "Open",
		Details: map[string]string{}, Created: now, Updated: now}
	s.st.nextCase++
	s.st.cases[cs.Number] = cs
	s.st.tenantOf[cs.Number] = c.tid
	repo.PendingLinks = append(repo.PendingLinks, cs.Number)
	s.mu.Unlock()
	// Link the case into the instance; a failure leaves it pending.
	s.retryLinks(r.Context(), c.tid, repo.ID)
	s.mu.Lock()
	out := *cs
	s.mu.Unlock()
	if s.mutant == MutantNoCaseNumber {
		out.Number = ""
	}
	writeJSON(w, http.StatusCreated, out)
	return nil
}

func (s *Server) findCase(r *http.Request, c *connectorCaller, repo *Repository) (*Case, *apiError) {
	n := mux.Vars(r)["caseNumber"]
	cs := s.st.cases[n]
	if cs == nil || s.st.tenantOf[n] != c.tid || cs.Repository != repo.ID {
		return nil, errorf(http.StatusNotFound, "CaseNotFound", "Case %s does not exist in repository %q.", n, repo.ID)
	}
	return cs, nil
}

func (s *Server) getCase(w http.ResponseWriter, r *http.Request, c *connectorCaller, _ *tenant, repo *Repository) *apiError {
	s.mu.Lock()
	defer s.mu.Unlock()
	cs, e := s.findCase(r, c, repo)
	if e != nil {
		return e
	}
	writeJSON(w, http.StatusOK, cs)
	return nil
}

// updateCase saves ticket details from the incident form.
func (s *Server) updateCase(w http.ResponseWriter, r *http.Request, c *connectorCaller, _ *tenant, repo *Repository) *apiError {
	var body struct {
		Details map[string]string `json:"details"`
		Status  string            `json:"status"`
	}
	if e := decode(r, &body); e != nil {
		return e
	}
	if len(body.Details) == 0 && body.Status == "" {
		return errorf(http.StatusBadRequest, "BadRequest", "Nothing to save: send details or status.")
	}
	s.mu.Lock()
	cs, e := s.findCase(r, c, repo)
	if e == nil {
		for k, v := range body.Details {
			cs.Details[k] = v
		}
		if body.Status != "" {
			cs.Status = body.Status
		}
		cs.Updated = s.clock.Now().UTC()
	}
	var out Case
	if e == nil {
		out = *cs
	}
	s.mu.Unlock()
	if e != nil {
		return e
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// retryLinks links pending cases into the instance: PUT
// {Endpoint}/cases/{caseNumber}. Links that fail stay pending. Retries of
// one repository run one at a time, and only the cases actually linked
// leave the pending list, so a case added meanwhile is never dropped.
func (s *Server) retryLinks(ctx context.Context, tid, repoID string) {
	lk := s.linkLock(tid + "/" + repoID)
	lk.Lock()
	defer lk.Unlock()
	s.mu.Lock()
	repo := s.repoLocked(tid, repoID)
	if repo == nil || repo.Handshake == nil || repo.Handshake.InboundMode == "none" || len(repo.PendingLinks) == 0 {
		s.mu.Unlock()
		return
	}
	c := s.credsLocked(tid, repo, repo.Handshake.InboundMode)
	pending := append([]string(nil), repo.PendingLinks...)
	s.mu.Unlock()
	linked := map[string]bool{}
	for _, n := range pending {
		s.mu.Lock()
		cs := s.st.cases[n]
		var body map[string]any
		if cs != nil {
			body = map[string]any{"caseNumber": cs.Number, "incidentNumber": cs.IncidentNumber, "title": cs.Title,
				"status": cs.Status, "contactEmail": cs.ContactEmail, "createdDateTime": cs.Created}
		}
		s.mu.Unlock()
		if cs == nil {
			linked[n] = true // nothing left to link
			continue
		}
		status, resp, err := s.callInstance(ctx, c, repo, http.MethodPut, "/cases/"+url.PathEscape(n), body)
		if (err != nil || status/100 != 2) && s.mutant == MutantLosesPendingLinks {
			linked[n] = true
			continue
		}
		if err != nil || status/100 != 2 {
			reason := fmt.Sprintf("HTTP %d %s", status, clip(string(resp), 200))
			if err != nil {
				reason = err.Error()
			}
			s.log.Info("case link pending", "case", n, "repository", repoID, "reason", reason)
			continue
		}
		linked[n] = true
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for n := range linked {
		if cs := s.st.cases[n]; cs != nil {
			cs.Linked = true
		}
	}
	if repo := s.repoLocked(tid, repoID); repo != nil {
		var still []string
		for _, n := range repo.PendingLinks {
			if !linked[n] {
				still = append(still, n)
			}
		}
		repo.PendingLinks = still
	}
}

func (s *Server) repoLocked(tid, repoID string) *Repository {
	if t := s.st.tenants[tid]; t != nil {
		return t.Repositories[repoID]
	}
	return nil
}

// linkLock returns the mutex that serialises case linking for a repository.
func (s *Server) linkLock(key string) *sync.Mutex {
	s.mu.Lock()
	defer s.mu.Unlock()
	lk := s.linkLocks[key]
	if lk == nil {
		lk = &sync.Mutex{}
		s.linkLocks[key] = lk
	}
	return lk
}
