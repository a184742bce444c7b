package fakeaad

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/gorilla/mux"

	"github.com/m365snow/m365snow/internal/oidckeys"
	"github.com/m365snow/m365snow/internal/wellknown"
)

// The Graph surface is what the guide's prerequisites need when automated
// ("create an application, get its Client ID, create an App Secret"), the
// service principals, grants and role reads around them, and the user reads
// the support connector makes to check admin roles. docs/fidelity-graph.md lists
// the sources of its wire details.
const graphBase = "https://" + wellknown.GraphHost + "/v1.0/"

type graphError struct {
	status  int
	code    string
	message string
}

func (e *graphError) Error() string { return e.code + ": " + e.message }

func errGraph(status int, code, format string, args ...any) *graphError {
	return &graphError{status, code, fmt.Sprintf(format, args...)}
}

var errInsufficientPrivileges = errGraph(http.StatusForbidden, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.")

// agsDiagnostic is the x-ms-ags-diagnostic header Graph sends with every
// response (the values name the serving data centre).
const agsDiagnostic = `{"ServerInfo":{"DataCenter":"West Europe","Slice":"E","Ring":"5","ScaleUnit":"000","RoleInstance":"AM2PEPF0000C5A1"}}`

// graphTransport sets the headers every Graph response carries: a fresh
// request-id, the caller's client-request-id echoed (or the request-id when
// it sent none), and x-ms-ags-diagnostic. It returns both ids.
func graphTransport(w http.ResponseWriter, r *http.Request) (req, client string) {
	h := w.Header()
	if req = h.Get("request-id"); req != "" {
		return req, h.Get("client-request-id")
	}
	req = uuid.NewString()
	if client = r.Header.Get("client-request-id"); client == "" {
		client = req
	}
	h.Set("request-id", req)
	h.Set("client-request-id", client)
	h.Set("x-ms-ags-diagnostic", agsDiagnostic)
	h.Set("Strict-Transport-Security", "max-age=31536000")
	h.Set("Cache-Control", "no-cache")
	h.Set("OData-Version", "4.0")
	return req, client
}

// graphErrorBody is Graph's error envelope.
func graphErrorBody(e *graphError, date time.Time, req, client string) map[string]any {
	return map[string]any{"error": map[string]any{
		"code":    e.code,
		"message": e.message,
		"innerError": map[string]string{
			"date":              date.UTC().Format("2006-01-02T15:04:05"),
			"request-id":        req,
			"client-request-id": client,
		},
	}}
}

func (s *Server) writeGraphError(w http.ResponseWriter, r *http.Request, e *graphError) {
	req, client := graphTransport(w, r)
	writeJSON(w, e.status, graphErrorBody(e, s.clock.Now(), req, client))
}

// graphCaller is who a Graph token says is calling.
type graphCaller struct {
	tid   string
	appID string   // the client application (appid or azp)
	user  string   // object id; empty for app-only tokens
	wids  []string // directory roles of a user caller
	roles []string // app permissions of an app-only caller
	scp   []string // delegated permissions of a user caller
}

func (c *graphCaller) isAppAdmin() bool {
	if c.user != "" {
		return slices.ContainsFunc(c.wids, func(r string) bool {
			return r == wellknown.RoleGlobalAdministrator || r == wellknown.RoleApplicationAdministrator
		})
	}
	return slices.Contains(c.roles, "Application.ReadWrite.All") || slices.Contains(c.roles, "Directory.ReadWrite.All")
}

// isApp reports an app-only caller that is the application appID itself
// (an app may roll its own keys without any permission).
func (c *graphCaller) isApp(appID string) bool {
	return c.user == "" && strings.EqualFold(c.appID, appID)
}

func (c *graphCaller) canReadDirectory() bool {
	if c.user != "" {
		return true // members may read the directory
	}
	return slices.ContainsFunc(c.roles, func(r string) bool {
		return r == "User.Read.All" || r == "Directory.Read.All" || r == "Directory.ReadWrite.All" ||
			r == "Application.Read.All" || r == "Application.ReadWrite.All"
	})
}

func (c *graphCaller) canReadUsers() bool {
	if c.user != "" {
		return true
	}
	return slices.ContainsFunc(c.roles, func(r string) bool {
		return r == "User.Read.All" || r == "Directory.Read.All" || r == "Directory.ReadWrite.All"
	})
}

// canGrant reports a caller that may write app role assignments and
// delegated permission grants (admin consent).
func (c *graphCaller) canGrant() bool {
	if c.user != "" {
		return slices.ContainsFunc(c.wids, func(r string) bool {
			return r == wellknown.RoleGlobalAdministrator || r == wellknown.RoleApplicationAdministrator
		})
	}
	return slices.ContainsFunc(c.roles, func(r string) bool {
		return r == "AppRoleAssignment.ReadWrite.All" || r == "DelegatedPermissionGrant.ReadWrite.All" || r == "Directory.ReadWrite.All" || r == "Application.ReadWrite.All"
	})
}

// graphAuth verifies a bearer token this server issued for Microsoft Graph.
func (s *Server) graphAuth(r *http.Request) (*graphCaller, *graphError) {
	raw, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || strings.TrimSpace(raw) == "" {
		return nil, errGraph(http.StatusUnauthorized, "InvalidAuthenticationToken", "Access token is empty.")
	}
	raw = strings.TrimSpace(raw)
	unverified, err := oidckeys.Unverified(raw)
	if err != nil {
		return nil, errGraph(http.StatusUnauthorized, "InvalidAuthenticationToken", "Access token validation failure. Invalid signature or malformed token.")
	}
	// Graph validates with the same rules as every other party here
	// (internal/oidckeys): the issuer is the token's own tenant's v1 STS,
	// the audience Graph's resource URI or app id, lifetime with 5 minutes
	// of skew on exp and nbf alike.
	tid, _ := unverified["tid"].(string)
	keyFor := func(kid string) (*rsa.PublicKey, error) {
		s.mu.RLock()
		k := s.keys.byKID[kid]
		s.mu.RUnlock()
		if k == nil {
			return nil, errors.New("unknown signing key")
		}
		return &k.Private.PublicKey, nil
	}
	claims, err := oidckeys.VerifyWith(raw, keyFor, oidckeys.Want{
		Issuer:    "https://" + wellknown.STSHost + "/" + tid + "/",
		Audiences: []string{wellknown.GraphResource, wellknown.GraphResource + "/", wellknown.GraphAppID},
		Skew:      oidckeys.DefaultSkew,
	}, s.clock.Now())
	if err != nil {
		var check oidckeys.Check
		if f := (*oidckeys.Failure)(nil); errors.As(err, &f) {
			check = f.Check
		}
		msg := "Access token validation failure. Invalid signature or malformed token."
		switch check {
		case oidckeys.CheckIssuer:
			msg = "Access token validation failure. Invalid issuer."
		case oidckeys.CheckAudience:
			msg = "Access token validation failure. Invalid audience."
		case oidckeys.CheckExpiry:
			msg = "Lifetime validation failed, the token is expired."
		case oidckeys.CheckNotBefore:
			msg = "Lifetime validation failed, the token is not yet valid."
		}
		return nil, errGraph(http.StatusUnauthorized, "InvalidAuthenticationToken", "%s", msg)
	}
	c := &graphCaller{tid: tid}
	c.appID, _ = claims["appid"].(string)
	if c.appID == "" {
		c.appID, _ = claims["azp"].(string)
	}
	if _, isUser := claims["upn"]; isUser {
		c.user, _ = claims["oid"].(string)
		c.wids = stringList(claims["wids"])
		scp, _ := claims["scp"].(string)
		c.scp = strings.Fields(scp)
	} else {
		c.roles = stringList(claims["roles"])
	}
	return c, nil
}

func stringList(v any) []string {
	list, _ := v.([]any)
	out := make([]string, 0, len(list))
	for _, x := range list {
		if s, ok := x.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

type graphHandler func(w http.ResponseWriter, r *http.Request, c *graphCaller) *graphError

func (s *Server) graph(h graphHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		graphTransport(w, r)
		c, e := s.graphAuth(r)
		if e == nil {
			e = h(w, r, c)
		}
		if e != nil {
			s.writeGraphError(w, r, e)
		}
	}
}

func (s *Server) graphRoutes(r *mux.Router) {
	r.HandleFunc("/applications", s.graph(s.createApplication)).Methods(http.MethodPost)
	r.HandleFunc("/applications", s.graph(s.listApplications)).Methods(http.MethodGet)
	r.HandleFunc("/applications/$count", s.graph(s.countApplications)).Methods(http.MethodGet)
	// An application is addressed by object id or by alternate key:
	// /applications/{id} and /applications(appId='{appId}').
	for _, app := range []string{"/applications/{id}", "/applications(appId='{appId}')"} {
		r.HandleFunc(app, s.graph(s.getApplication)).Methods(http.MethodGet)
		r.HandleFunc(app, s.graph(s.patchApplication)).Methods(http.MethodPatch)
		r.HandleFunc(app, s.graph(s.deleteApplication)).Methods(http.MethodDelete)
		r.HandleFunc(app+"/addPassword", s.graph(s.addPassword)).Methods(http.MethodPost)
		r.HandleFunc(app+"/removePassword", s.graph(s.removePassword)).Methods(http.MethodPost)
		r.HandleFunc(app+"/addKey", s.graph(s.addKey)).Methods(http.MethodPost)
		r.HandleFunc(app+"/removeKey", s.graph(s.removeKey)).Methods(http.MethodPost)
	}
	s.principalRoutes(r)
	s.userRoutes(r)
	r.NotFoundHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.writeGraphError(w, r, errGraph(http.StatusBadRequest, "BadRequest",
			"Resource not found for the segment '%s'.", strings.TrimPrefix(r.URL.Path, "/v1.0/")))
	})
	r.MethodNotAllowedHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.writeGraphError(w, r, errGraph(http.StatusMethodNotAllowed, "Request_BadRequest",
			"Specified HTTP method is not allowed for the request uri."))
	})
}

// newSecretText makes a 40-character secret shaped like Entra's
// ("abc8Q~…"): three characters, a version marker, then 34 more.
func newSecretText() string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-~"
	pick := func(n int) string {
		b := make([]byte, n)
		for i := range b {
			k, _ := rand.Int(rand.Reader, big.NewInt(int64(len(alphabet))))
			b[i] = alphabet[k.Int64()]
		}
		return string(b)
	}
	return pick(3) + "8Q~" + pick(34)
}

func (s *Server) addPassword(w http.ResponseWriter, r *http.Request, c *graphCaller) *graphError {
	if !c.isAppAdmin() {
		return errInsufficientPrivileges
	}
	// Graph generates the secret; the keyId, hint and secretText a client
	// may send are ignored, as Graph does.
	var body struct {
		PasswordCredential *struct {
			DisplayName         string          `json:"displayName"`
			StartDateTime       string          `json:"startDateTime"`
			EndDateTime         string          `json:"endDateTime"`
			CustomKeyIdentifier json.RawMessage `json:"customKeyIdentifier"`
			Hint                json.RawMessage `json:"hint"`
			KeyID               json.RawMessage `json:"keyId"`
			SecretText          json.RawMessage `json:"secretText"`
		} `json:"passwordCredential"`
	}
	if e := decodeInto(w, r, &body, "passwordCredential"); e != nil {
		return e
	}
	now := s.clock.Now().UTC().Truncate(time.Second)
	p := &PasswordCredential{KeyID: uuid.NewString(), Secret: newSecretText(), Start: now, End: now.AddDate(2, 0, 0)}
	p.Hint = hint(p.Secret)
	if pc := body.PasswordCredential; pc != nil {
		p.DisplayName = pc.DisplayName
		var err error
		if pc.StartDateTime != "" {
			if p.Start, err = time.Parse(time.RFC3339, pc.StartDateTime); err != nil {
				return errGraph(http.StatusBadRequest, "Request_BadRequest", "Invalid value specified for property 'startDateTime' of resource 'PasswordCredential'.")
			}
		}
		if pc.EndDateTime != "" {
			if p.End, err = time.Parse(time.RFC3339, pc.EndDateTime); err != nil {
				return errGraph(http.StatusBadRequest, "Request_BadRequest", "Invalid value specified for property 'endDateTime' of resource 'PasswordCredential'.")
			}
		}
		if !p.End.After(p.Start) {
			return errGraph(http.StatusBadRequest, "Request_BadRequest", "Key credential end date is invalid.")
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	a, _, e := s.findApplication(c, r)
	if e != nil {
		return e
	}
	a.Passwords = append(slices.Clone(a.Passwords), p)
	out := passwordJSON(p, true)
	out["@odata.context"] = graphBase + "$metadata#microsoft.graph.passwordCredential"
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) removePassword(w http.ResponseWriter, r *http.Request, c *graphCaller) *graphError {
	if !c.isAppAdmin() {
		return errInsufficientPrivileges
	}
	var body struct {
		KeyID string `json:"keyId"`
	}
	if e := decodeInto(w, r, &body, "application"); e != nil {
		return e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	a, _, e := s.findApplication(c, r)
	if e != nil {
		return e
	}
	i := slices.IndexFunc(a.Passwords, func(p *PasswordCredential) bool { return strings.EqualFold(p.KeyID, body.KeyID) })
	if i < 0 {
		return errGraph(http.StatusBadRequest, "Request_BadRequest", "No password credential found with keyId '%s'.", body.KeyID)
	}
	a.Passwords = slices.Delete(slices.Clone(a.Passwords), i, i+1)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func passwordJSON(p *PasswordCredential, withSecret bool) map[string]any {
	var secret any
	if withSecret {
		secret = p.Secret
	}
	return map[string]any{
		"customKeyIdentifier": nil,
		"displayName":         p.DisplayName,
		"endDateTime":         p.End.UTC().Format(time.RFC3339),
		"hint":                p.Hint,
		"keyId":               p.KeyID,
		"secretText":          secret,
		"startDateTime":       p.Start.UTC().Format(time.RFC3339),
	}
}
