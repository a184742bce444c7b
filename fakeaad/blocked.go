package fakeaad

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
)

// Block is a blocked state of the directory: something an administrator or
// Entra's own protection did that stops a sign-in with a specific AADSTS
// code. Worlds set them in the fixture (aad.blocked) or through the control
// plane (/__admin/blocks), which is how inducements reach them.
type Block struct {
	// State is one of the blockStates keys.
	State string `yaml:"state" json:"state"`
	// User narrows the block to one user principal name; empty is everyone.
	User string `yaml:"user,omitempty" json:"user,omitempty"`
	// App narrows it to one client appId; empty is every app.
	App string `yaml:"app,omitempty" json:"app,omitempty"`
	// RetryAfter is the throttled state's Retry-After in seconds
	// (default 60).
	RetryAfter int `yaml:"retryAfter,omitempty" json:"retryAfter,omitempty"`
}

// blockStates lists the states with what they need and what they stop.
var blockStates = map[string]struct {
	needsApp, needsUser bool
	what                string
}{
	"servicePrincipalDisabled": {needsApp: true, what: "every token for the app (AADSTS7000112)"},
	"userDisabled":             {needsUser: true, what: "every sign-in of the user (AADSTS50057)"},
	"mfaRequired":              {what: "password-grant sign-ins, which cannot do MFA (AADSTS50076)"},
	"conditionalAccessBlocked": {what: "every user sign-in matched (AADSTS53003)"},
	"passwordExpired":          {needsUser: true, what: "password sign-ins of the user (AADSTS50055)"},
	"consentMissing":           {needsApp: true, what: "user tokens for the app until the user consents on the sign-in page (AADSTS65001)"},
	"throttled":                {what: "every token request matched, 429 with Retry-After (AADSTS50196)"},
}

func (b Block) validate() error {
	spec, ok := blockStates[b.State]
	if !ok {
		names := make([]string, 0, len(blockStates))
		for n := range blockStates {
			names = append(names, n)
		}
		slices.Sort(names)
		return fmt.Errorf("blocked state %q is not one of %s", b.State, strings.Join(names, ", "))
	}
	if spec.needsApp && b.App == "" {
		return fmt.Errorf("blocked state %s needs app (an appId)", b.State)
	}
	if spec.needsUser && b.User == "" {
		return fmt.Errorf("blocked state %s needs user (a user principal name)", b.State)
	}
	if b.RetryAfter < 0 {
		return fmt.Errorf("blocked state %s: retryAfter must not be negative", b.State)
	}
	return nil
}

// blocked returns the first block of state that matches appID and upn
// (either may be empty when the request has none, e.g. no user yet).
func (d *directory) blocked(state, appID, upn string) *Block {
	for i := range d.blocks {
		b := &d.blocks[i]
		if b.State != state {
			continue
		}
		if b.App != "" && !strings.EqualFold(b.App, appID) {
			continue
		}
		if b.User != "" && !strings.EqualFold(b.User, upn) {
			continue
		}
		return b
	}
	return nil
}

// userBlock is the first block that stops user u signing in to app, in the
// order Entra evaluates them: account state, password state, then policy.
// Interactive sign-ins satisfy MFA on the page, so mfaRequired stops only
// non-interactive password grants (interactive == false).
func (d *directory) userBlock(app *Application, u *User, resource string, passwordGrant bool) *stsError {
	if !u.AccountEnabled || d.blocked("userDisabled", app.AppID, u.UPN) != nil {
		return errUserDisabled()
	}
	if passwordGrant && d.blocked("passwordExpired", app.AppID, u.UPN) != nil {
		return errPasswordExpired()
	}
	if d.blocked("conditionalAccessBlocked", app.AppID, u.UPN) != nil {
		return errCABlocked()
	}
	if passwordGrant && d.blocked("mfaRequired", app.AppID, u.UPN) != nil {
		return errMFARequired(resource)
	}
	return nil
}

// Blocks lists the blocked states in force.
func (s *Server) Blocks() []Block {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return slices.Clone(s.dir.blocks)
}

// AddBlock puts a blocked state in force.
func (s *Server) AddBlock(b Block) error {
	if err := b.validate(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.dir.blocks = append(slices.Clone(s.dir.blocks), b)
	return nil
}

// ClearBlocks lifts every blocked state of state (all states when empty).
func (s *Server) ClearBlocks(state string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.dir.blocks = slices.DeleteFunc(slices.Clone(s.dir.blocks), func(b Block) bool { return state == "" || b.State == state })
}

// Control plane: GET lists, POST adds one, DELETE (?state=) lifts.
func (s *Server) adminBlocks(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodPost:
		var b Block
		dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxFormBody))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&b); err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "body must be a block {state, user, app, retryAfter}: " + err.Error()})
			return
		}
		if err := s.AddBlock(b); err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
			return
		}
	case http.MethodDelete:
		s.ClearBlocks(r.URL.Query().Get("state"))
	}
	writeJSON(w, http.StatusOK, map[string]any{"blocked": s.Blocks()})
}
