package platform

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"

	"github.com/gorilla/mux"

	"github.com/m365snow/m365snow/internal/clock"
	"github.com/m365snow/m365snow/internal/oidckeys"
)

// Options configure an Instance.
type Options struct {
	// URL is the instance's public base URL, e.g.
	// "https://dev12345.service-now.com"; links and Location headers use it.
	URL string
	// LinkURL, when set, is the base URL of the links the instance hands
	// out (Link, Location, reference and download links) instead of URL:
	// the address a client outside the fakes' host mapping reaches the
	// instance at (the sandbox's listen URL).
	LinkURL string
	// Clock dates records and ages tokens; nil means the wall clock.
	Clock clock.Clock
	// Transport carries outbound calls (OIDC discovery, apps' REST calls);
	// give it a host-mapping transport. Nil refuses every call.
	Transport http.RoundTripper
	// Logger receives one debug line per request; nil discards.
	Logger *slog.Logger
	// MaxBodyBytes caps request bodies (default 10485760, ServiceNow's REST
	// payload limit).
	MaxBodyBytes int64
}

// Instance is a fake ServiceNow instance. It is safe for concurrent use.
type Instance struct {
	url       string
	linkURL   string // guarded by mu (SetLinkURL)
	clock     clock.Clock
	log       *slog.Logger
	transport http.RoundTripper
	maxBody   int64
	oidc      *oidckeys.Source
	router    *mux.Router

	mu         sync.RWMutex
	tables     map[string]*tableData
	tokens     map[string]*oauthToken
	sessions   map[string]uiSession   // JSESSIONID → session (session.go)
	jtis       map[string]struct{}    // seen JWT ids (JTI verification)
	apis       map[string]scriptedAPI // "namespace/api" → scripted REST API
	sso        ssoState               // Multi-Provider SSO round trips (sso.go)
	secVersion int
	// coreVersion counts writes to every table but the logs (see
	// touchLocked); with a table's own version it dates cached reads.
	coreVersion int

	cacheMu  sync.Mutex
	roleMemo map[string]roleMemo // user sys_id → effective roles
	aclMemo  map[string]aclMemo  // table/op → roles that pass
	reads    readCache
	// buffers recycles the buffers answers are assembled in: a list answer
	// is several kilobytes, and net/http copies it out before Write returns.
	buffers sync.Pool
}

type roleMemo struct {
	version int
	roles   map[string]bool
}

type aclMemo struct {
	version int
	exists  bool
	roles   map[string]bool
}

// GlobalScope is the sys_id and name of the Global application scope.
const GlobalScope = "global"

// New builds an instance with the platform tables, base roles and ACLs.
func New(opts Options) (*Instance, error) {
	u, err := url.Parse(opts.URL)
	if opts.URL == "" || err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return nil, fmt.Errorf("platform: URL %q must be an absolute http(s) URL", opts.URL)
	}
	i := &Instance{
		url:       strings.TrimRight(opts.URL, "/"),
		linkURL:   strings.TrimRight(opts.LinkURL, "/"),
		clock:     clock.OrReal(opts.Clock),
		log:       opts.Logger,
		transport: opts.Transport,
		maxBody:   opts.MaxBodyBytes,
		tables:    map[string]*tableData{},
		tokens:    map[string]*oauthToken{},
		sessions:  map[string]uiSession{},
		jtis:      map[string]struct{}{},
		apis:      map[string]scriptedAPI{},
		roleMemo:  map[string]roleMemo{},
		aclMemo:   map[string]aclMemo{},
	}
	if i.log == nil {
		i.log = slog.New(slog.DiscardHandler)
	}
	if i.linkURL == "" {
		i.linkURL = i.url
	}
	if i.maxBody <= 0 {
		i.maxBody = 10485760
	}
	if i.transport == nil {
		i.transport = refuseAll{}
	}
	i.oidc = oidckeys.NewSource(i.Outbound(GlobalScope, "system"), i.clock)
	if err := i.bootstrap(); err != nil {
		return nil, err
	}
	i.router = i.routes()
	return i, nil
}

type refuseAll struct{}

func (refuseAll) RoundTrip(r *http.Request) (*http.Response, error) {
	return nil, fmt.Errorf("outbound call to %s refused: the instance has no outbound transport", r.URL.Host)
}

// URL is the instance's public base URL.
func (i *Instance) URL() string { return i.url }

// SetLinkURL changes the base URL of the links the instance hands out
// (Options.LinkURL); "" goes back to URL.
func (i *Instance) SetLinkURL(u string) {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.linkURL = strings.TrimRight(u, "/")
	if i.linkURL == "" {
		i.linkURL = i.url
	}
	i.coreVersion++ // cached renders hold the old links
}

// Clock is the instance's clock.
func (i *Instance) Clock() clock.Clock { return i.clock }

// ServeHTTP implements http.Handler.
func (i *Instance) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if refuseOversizeTarget(w, r) {
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, i.maxBody)
	methodOverride(r)
	i.router.ServeHTTP(w, r)
}

// bootstrap creates what every instance has before any fixture loads.
func (i *Instance) bootstrap() error {
	i.mu.Lock()
	defer i.mu.Unlock()
	defs := append(platformTables(), attachmentTables()...)
	for _, d := range defs {
		if err := d.complete(); err != nil {
			return err
		}
		i.tables[d.Name] = &tableData{def: d, rows: map[string]Record{}, nextNumber: 10001}
	}
	if _, err := i.insertLocked("sys_scope", map[string]string{"sys_id": GlobalScope, "scope": GlobalScope, "name": "Global", "version": ""}, "system", "", true); err != nil {
		return err
	}
	for _, r := range baseRoles {
		if _, err := i.insertLocked("sys_user_role", map[string]string{"name": r.name, "description": r.description}, "system", GlobalScope, true); err != nil {
			return err
		}
	}
	for _, r := range baseRoles {
		for _, c := range r.contains {
			if err := i.containRoleLocked(r.name, c); err != nil {
				return err
			}
		}
	}
	for _, d := range defs {
		if err := i.registerTableLocked(d); err != nil {
			return err
		}
	}
	views := map[string]string{}
	for _, v := range [][2]string{{"default", "Default view"}, {"ess", "Self Service"}, {"mobile", "Mobile"}} {
		rec, err := i.insertLocked("sys_ui_view", map[string]string{"name": v[0], "title": v[1]}, "system", "", true)
		if err != nil {
			return err
		}
		views[v[0]] = rec["sys_id"]
	}
	// The incident form's base sections, as a fresh instance has them.
	for _, s := range []struct {
		view, caption string
		pos           int
	}{{"default", "Notes", 1}, {"default", "Related Records", 2}, {"default", "Resolution Information", 3}, {"ess", "Notes", 1}, {"mobile", "Notes", 1}} {
		if _, err := i.insertLocked("sys_ui_section", map[string]string{"name": "incident", "view": views[s.view], "caption": s.caption,
			"position": fmt.Sprint(s.pos)}, "system", GlobalScope, true); err != nil {
			return err
		}
	}
	return nil
}

// WriteUnauthenticated writes ServiceNow's 401 (for scripted APIs that
// authenticate callers themselves).
func (i *Instance) WriteUnauthenticated(w http.ResponseWriter) { i.writeUnauthenticated(w) }

// registerTableLocked writes a table's sys_db_object record and its default
// ACLs.
func (i *Instance) registerTableLocked(d *Table) error {
	scopeID, err := i.scopeIDLocked(d.Scope)
	if err != nil {
		return fmt.Errorf("table %s: %w", d.Name, err)
	}
	a := d.Access
	if _, err := i.insertLocked("sys_db_object", map[string]string{
		"name": d.Name, "label": d.Label, "access": a.Access,
		"read_access": fmt.Sprint(a.Read), "create_access": fmt.Sprint(a.Create), "update_access": fmt.Sprint(a.Update),
		"delete_access": fmt.Sprint(a.Delete), "ws_access": fmt.Sprint(a.WebAPI),
	}, "system", scopeID, true); err != nil {
		return err
	}
	for _, op := range []Op{OpRead, OpCreate, OpWrite, OpDelete} {
		roles, ok := d.ACLRoles[op]
		if !ok {
			continue // no ACL: only admin passes
		}
		if err := i.addACLLocked(d.Name, op, roles, scopeID); err != nil {
			return err
		}
	}
	return nil
}

func (i *Instance) addACLLocked(table string, op Op, roles []string, scopeID string) error {
	acl, err := i.insertLocked("sys_security_acl", map[string]string{"name": table, "operation": string(op), "type": "record"}, "system", scopeID, true)
	if err != nil {
		return err
	}
	for _, name := range roles {
		role := i.findLocked("sys_user_role", "name", name)
		if role == nil {
			return fmt.Errorf("ACL %s.%s: no role %q", table, op, name)
		}
		if _, err := i.insertLocked("sys_security_acl_role", map[string]string{"sys_security_acl": acl["sys_id"], "sys_user_role": role["sys_id"]}, "system", "", true); err != nil {
			return err
		}
	}
	return nil
}

// DefineTable adds a table (an app's, at install) with its sys_db_object
// record and default ACLs. The table belongs to d.Scope, which must exist.
func (i *Instance) DefineTable(d *Table) error {
	i.mu.Lock()
	defer i.mu.Unlock()
	if _, exists := i.tables[d.Name]; exists {
		return fmt.Errorf("table %s already exists", d.Name)
	}
	if err := d.complete(); err != nil {
		return err
	}
	i.tables[d.Name] = &tableData{def: d, rows: map[string]Record{}, nextNumber: 10001}
	if err := i.registerTableLocked(d); err != nil {
		delete(i.tables, d.Name)
		return err
	}
	return nil
}

// findLocked returns the first record whose field equals value exactly.
func (i *Instance) findLocked(table, field, value string) Record {
	td := i.tables[table]
	if td == nil {
		return nil
	}
	for _, id := range td.order {
		if td.rows[id][field] == value {
			return td.rows[id]
		}
	}
	return nil
}

// CreateScope adds an application scope and returns its sys_id. tracking
// is the app's runtime access tracking: none, tracking or enforcing.
func (i *Instance) CreateScope(scope, name, version, vendor, tracking, sysID string) (string, error) {
	i.mu.Lock()
	defer i.mu.Unlock()
	if i.findLocked("sys_scope", "scope", scope) != nil {
		return "", fmt.Errorf("scope %s already exists", scope)
	}
	rec, err := i.insertLocked("sys_scope", map[string]string{"sys_id": sysID, "scope": scope, "name": name, "version": version,
		"vendor": vendor, "runtime_access_tracking": tracking}, "system", "", true)
	if err != nil {
		return "", err
	}
	return rec["sys_id"], nil
}

func (i *Instance) scopeIDLocked(scope string) (string, error) {
	if scope == "" || scope == GlobalScope {
		return GlobalScope, nil
	}
	if s := i.findLocked("sys_scope", "scope", scope); s != nil {
		return s["sys_id"], nil
	}
	return "", fmt.Errorf("no application scope %q", scope)
}

// AddRole creates a role in a scope, containing the given roles.
func (i *Instance) AddRole(name, description, scope string, contains ...string) error {
	i.mu.Lock()
	defer i.mu.Unlock()
	scopeID, err := i.scopeIDLocked(scope)
	if err != nil {
		return err
	}
	if i.findLocked("sys_user_role", "name", name) != nil {
		return fmt.Errorf("role %s already exists", name)
	}
	if _, err := i.insertLocked("sys_user_role", map[string]string{"name": name, "description": description}, "system", scopeID, true); err != nil {
		return err
	}
	for _, c := range contains {
		if err := i.containRoleLocked(name, c); err != nil {
			return err
		}
	}
	return nil
}

func (i *Instance) containRoleLocked(role, contained string) error {
	r, c := i.findLocked("sys_user_role", "name", role), i.findLocked("sys_user_role", "name", contained)
	if r == nil || c == nil {
		return fmt.Errorf("role containment %s → %s: unknown role", role, contained)
	}
	_, err := i.insertLocked("sys_user_role_contains", map[string]string{"role": r["sys_id"], "contains": c["sys_id"]}, "system", "", true)
	return err
}

// GrantRole gives a user a role.
func (i *Instance) GrantRole(userSysID, role string) error {
	i.mu.Lock()
	defer i.mu.Unlock()
	r := i.findLocked("sys_user_role", "name", role)
	if r == nil {
		return fmt.Errorf("no role %q", role)
	}
	if i.tables["sys_user"].rows[userSysID] == nil {
		return fmt.Errorf("no user %s", userSysID)
	}
	_, err := i.insertLocked("sys_user_has_role", map[string]string{"user": userSysID, "role": r["sys_id"]}, "system", "", true)
	return err
}

// Property returns a system property's value ("" when unset).
func (i *Instance) Property(name string) string {
	i.mu.RLock()
	defer i.mu.RUnlock()
	return i.propertyLocked(name)
}

func (i *Instance) propertyLocked(name string) string {
	if p := i.findLocked("sys_properties", "name", name); p != nil {
		return p["value"]
	}
	return ""
}

// SetProperty creates or changes a system property.
func (i *Instance) SetProperty(name, value string) error {
	i.mu.Lock()
	defer i.mu.Unlock()
	if p := i.findLocked("sys_properties", "name", name); p != nil {
		_, err := i.updateLocked("sys_properties", p["sys_id"], map[string]string{"value": value}, "system")
		return err
	}
	_, err := i.insertLocked("sys_properties", map[string]string{"name": name, "value": value}, "system", GlobalScope, true)
	return err
}

// Properties the platform reads.
const (
	// PropBasicAuthAllowed answers the guide's Question 1 for worlds. It is
	// this project's alias, not a ServiceNow property: "false" stands for an
	// instance whose REST API access policies admit no Basic authentication
	// profile and no password grant, and refuses Authorization: Basic and
	// the OAuth password grant on every inbound call. The platform's own
	// switch is PropBasicAuthRestrictionEnforce (basicauth.go), which
	// exempts Web-service-access-only accounts (docs/fidelity.md).
	PropBasicAuthAllowed = "m365snow.inbound.basic_auth.allowed"
	// PropClientCredentials enables the inbound client_credentials grant.
	PropClientCredentials = "glide.oauth.inbound.client.credential.grant_type.enabled"
	// PropInvalidQueryNoRows makes a query with an unknown field match nothing.
	PropInvalidQueryNoRows = "glide.invalid_query.returns_no_rows"
	// PropOutboundLogLevel is basic (default), elevated or all.
	PropOutboundLogLevel = "glide.outbound_http_log.override.level"
	// PropOutboundBodyLimit caps logged bodies (default 100, max 1000).
	PropOutboundBodyLimit = "glide.outbound_http.content.max_limit"
)

// Log levels of the system log (stored as integers).
const (
	LevelDebug = "-1"
	LevelInfo  = "0"
	LevelWarn  = "1"
	LevelError = "2"
)

// maxLogRows bounds each log table, as a real instance rotates its logs.
const maxLogRows = 20000

// Log writes a system log entry.
func (i *Instance) Log(level, source, message, by string) {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.logLocked(level, source, message, by)
}

func (i *Instance) logLocked(level, source, message, by string) {
	if by == "" {
		by = "system"
	}
	_, _ = i.insertLocked("syslog", map[string]string{"level": level, "source": source, "message": message}, by, "", false)
	i.trimLocked("syslog")
}

func (i *Instance) trimLocked(table string) {
	td := i.tables[table]
	if excess := len(td.order) - maxLogRows; excess > 0 {
		for _, id := range td.order[:excess] {
			delete(td.rows, id)
		}
		td.order = append([]string(nil), td.order[excess:]...)
		td.version++
	}
}

type scriptedAPI struct {
	h           http.Handler
	requireAuth bool
}

// HandleScriptedAPI mounts a scripted REST API at
// /api/{namespace}/{version}/{api}/... (and without the version). The handler
// sees the path after the API id. With requireAuth (ServiceNow's default,
// "Requires authentication"), the platform authenticates first and puts the
// Caller in the request context (CallerFrom); without it the API
// authenticates callers itself.
func (i *Instance) HandleScriptedAPI(namespace, api string, h http.Handler, requireAuth bool) error {
	i.mu.Lock()
	defer i.mu.Unlock()
	key := namespace + "/" + api
	if _, dup := i.apis[key]; dup {
		return errors.New("scripted REST API " + key + " already mounted")
	}
	i.apis[key] = scriptedAPI{h, requireAuth}
	return nil
}

func (i *Instance) routes() *mux.Router {
	r := mux.NewRouter()
	r.HandleFunc("/login.do", i.login).Methods(http.MethodPost)
	r.HandleFunc("/logout.do", i.logout)
	r.HandleFunc("/login_with_sso.do", i.loginWithSSO).Methods(http.MethodGet)
	r.HandleFunc("/navpage.do", i.navpage).Methods(http.MethodGet)
	r.HandleFunc("/navpage.do", i.ssoCallback).Methods(http.MethodPost)
	r.HandleFunc("/oauth_token.do", i.oauthToken)
	for _, prefix := range []string{"/api/now/table", "/api/now/v1/table", "/api/now/v2/table"} {
		r.HandleFunc(prefix+"/{table}", xmlBodies(i.authenticated(i.tableCollection))).Methods(http.MethodGet, http.MethodHead, http.MethodPost)
		r.HandleFunc(prefix+"/{table}/{sys_id}", xmlBodies(i.authenticated(i.tableRecord))).Methods(http.MethodGet, http.MethodHead, http.MethodPut, http.MethodPatch, http.MethodDelete)
	}
	// The other APIs real clients call (batch.go, aggregate.go,
	// attachment.go). The Batch API exists at v1 only.
	r.HandleFunc("/api/now/v1/batch", i.authenticated(i.batch)).Methods(http.MethodPost)
	for _, prefix := range []string{"/api/now", "/api/now/v1", "/api/now/v2"} {
		r.HandleFunc(prefix+"/stats/{table}", i.authenticated(i.aggregate)).Methods(http.MethodGet)
	}
	for _, prefix := range []string{"/api/now/attachment", "/api/now/v1/attachment"} {
		r.HandleFunc(prefix, i.authenticated(i.attachmentList)).Methods(http.MethodGet)
		r.HandleFunc(prefix+"/file", i.authenticated(i.attachmentUpload)).Methods(http.MethodPost)
		r.HandleFunc(prefix+"/upload", i.authenticated(i.attachmentMultipart)).Methods(http.MethodPost)
		r.HandleFunc(prefix+"/{sys_id}", i.authenticated(i.attachmentRecord)).Methods(http.MethodGet, http.MethodDelete)
		r.HandleFunc(prefix+"/{sys_id}/file", i.authenticated(i.attachmentFile)).Methods(http.MethodGet)
	}
	r.HandleFunc("/api/now/ui/concoursepicker/application", i.authenticated(i.appPicker)).Methods(http.MethodGet, http.MethodPut)
	r.PathPrefix("/api/").HandlerFunc(i.scriptedAPI).Name(catchAllRoute)
	r.MethodNotAllowedHandler = http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		w.Header().Set("Allow", AllowedMethods(r, req))
		WriteError(w, http.StatusMethodNotAllowed, "Method not Supported", fmt.Sprintf("%s is not supported for %s", req.Method, req.URL.Path))
	})
	r.NotFoundHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		WriteError(w, http.StatusNotFound, "Not Found", fmt.Sprintf("fakesnow serves no %s %s", r.Method, r.URL.Path))
	})
	return r
}

// scriptedAPI dispatches /api/{namespace}/[v1/]{api}/... to mounted APIs.
func (i *Instance) scriptedAPI(w http.ResponseWriter, r *http.Request) {
	parts := strings.Split(strings.TrimPrefix(r.URL.Path, "/api/"), "/")
	if len(parts) >= 3 && len(parts[1]) > 1 && parts[1][0] == 'v' && strings.Trim(parts[1][1:], "0123456789") == "" {
		parts = append(parts[:1], parts[2:]...) // drop the version
	}
	var api scriptedAPI
	if len(parts) >= 2 {
		i.mu.RLock()
		api = i.apis[parts[0]+"/"+parts[1]]
		i.mu.RUnlock()
	}
	if api.h == nil {
		if allow := AllowedMethods(i.router, r); allow != "" {
			// A platform API's path with a method it does not serve
			// (OPTIONS, TRACE...) reaches this catch-all route.
			w.Header().Set("Allow", allow)
			WriteError(w, http.StatusMethodNotAllowed, "Method not Supported", fmt.Sprintf("%s is not supported for %s", r.Method, r.URL.Path))
			return
		}
		WriteError(w, http.StatusBadRequest, "Requested URI does not represent any resource", "")
		return
	}
	ctx := r.Context()
	if api.requireAuth {
		caller, err := i.Authenticate(r)
		if err != nil {
			i.writeUnauthenticated(w)
			return
		}
		ctx = withCaller(ctx, caller)
		i.loggedIn(w, r)
	}
	r2 := r.Clone(ctx)
	r2.URL.Path = "/" + strings.Join(parts[2:], "/")
	api.h.ServeHTTP(w, r2)
}
