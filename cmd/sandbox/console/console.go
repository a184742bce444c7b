// Package console is the sandbox's web console: server-rendered pages that
// show the three parties of a running world at once (who they are, what
// they hold, what they said to each other) and move the world (its clock,
// its faults, a reset). It stands in for the screens a person would
// otherwise piece together from curl: WireMock's request list, a debugger
// page, an admin center.
//
// The console is a client like any other: it reads and moves the fakes over
// HTTP only (their Table API and /__admin/ control planes), never through
// their Go values. Pages work with JavaScript off; every action is a form
// that posts and redirects back (POST/redirect/GET).
package console

import (
	"bytes"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/m365snow/m365snow/internal/journal"
)

// Party is one fake as the console reaches it.
type Party struct {
	Name  string // fakesnow, fakeaad, fakem365: the journal's party names
	Title string // what it stands in for, e.g. "ServiceNow instance"
	Hosts string // the real host names it answers to
	URL   string // its listen address, e.g. http://127.0.0.1:8080
}

// User is a ServiceNow user with the password the world gave it.
type User struct {
	Name, Password string
	Roles          []string
	// WebServiceOnly is sys_user.web_service_access_only.
	WebServiceOnly bool
}

// App is an Azure AD app registration.
type App struct{ Name, Tenant, TenantID, ClientID, Secret string }

// Repository is a Microsoft 365 repository as the sandbox saw it at start.
type Repository struct{ Tenant, ID, AuthenticationType, State string }

// Options are what the sandbox knows about the world it started.
type Options struct {
	// Parties in the order shown; the first fakesnow is the instance whose
	// Table API and merged journal the console reads.
	Parties []Party
	// AdminToken is sent as a bearer token to every /__admin/ call, and
	// required from the console's own visitors (see Handler).
	AdminToken   string
	Users        []User
	Apps         []App
	Repositories []Repository
	// Setup, when set, is what the Setup wizard's fields start with.
	Setup *SetupChoices
	// Tenants are the Microsoft 365 tenants whose admin center the
	// console opens.
	Tenants []Tenant
	// Client reaches the parties; nil means a client with a 10 s timeout.
	Client *http.Client
	// CAFile, with --tls, is the CA file the printed curl commands trust
	// (--cacert); empty for plain HTTP.
	CAFile string
}

//go:embed templates
var templateFS embed.FS

var pages = template.Must(template.New("").Funcs(template.FuncMap{
	"join": strings.Join,
	"time": func(t time.Time) string { return t.UTC().Format("15:04:05") },
	"statusClass": func(s int) string {
		switch {
		case s == 0 || s >= 500:
			return "bad"
		case s >= 400:
			return "warn"
		}
		return "ok"
	},
}).ParseFS(templateFS, "templates/*.html"))

type console struct {
	opts     Options
	client   *http.Client
	sessions sessions
}

// New returns the console's handler. Mount it at /.
func New(opts Options) http.Handler {
	c := &console{opts: opts, client: opts.Client}
	if c.client == nil {
		c.client = &http.Client{Timeout: 10 * time.Second}
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", c.world)
	mux.HandleFunc("GET /journal", c.journal)
	mux.HandleFunc("GET /time", c.timePage)
	mux.HandleFunc("POST /clock", c.advance)
	mux.HandleFunc("POST /faults", c.addFault)
	mux.HandleFunc("POST /faults/clear", c.clearFaults)
	mux.HandleFunc("POST /reset", c.reset)
	mux.HandleFunc("GET /incident", c.incidentPage)
	mux.HandleFunc("GET /logs", c.logs)
	mux.HandleFunc("GET /setup", c.setupPage)
	mux.HandleFunc("GET /troubleshooting", c.troubleshooting)
	mux.HandleFunc("POST /troubleshooting", c.induce)
	mux.HandleFunc("GET /outbound", c.outbound)
	mux.HandleFunc("GET /admin-center", c.adminCenter)
	mux.HandleFunc("POST /admin-center/{what}", c.adminCenterSave)
	mux.HandleFunc("POST /setup/{step}", c.setupPost)
	mux.HandleFunc("POST /incident", c.incidentPage)
	mux.HandleFunc("GET /style.css", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/css; charset=utf-8")
		b, _ := templateFS.ReadFile("templates/style.css")
		w.Write(b)
	})
	return guard{token: opts.AdminToken}.wrap(mux)
}

// page is what every template gets.
type page struct {
	Title, Nav string
	Curl       string // curl and its options, as every printed command starts
	Parties    []Party
	Message    string // the outcome of the last action (?msg=)
	Error      string
	Data       any
}

func (c *console) render(w http.ResponseWriter, r *http.Request, name, title string, data any, errs ...error) {
	c.renderStatus(w, r, http.StatusOK, name, title, data, errs...)
}

func (c *console) renderStatus(w http.ResponseWriter, r *http.Request, status int, name, title string, data any, errs ...error) {
	p := page{Title: title, Nav: name, Curl: c.curl(), Parties: c.opts.Parties, Message: r.URL.Query().Get("msg"), Data: data}
	if err := errors.Join(errs...); err != nil {
		p.Error = err.Error()
	}
	var b bytes.Buffer
	if err := pages.ExecuteTemplate(&b, name+".html", p); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", "default-src 'self'; frame-ancestors 'none'")
	w.WriteHeader(status)
	w.Write(b.Bytes())
}

// curl is how every printed command starts: with --tls it trusts the
// sandbox's CA, as the sandbox's own printed commands do.
func (c *console) curl() string {
	if c.opts.CAFile != "" {
		return "curl -s --cacert " + shellWord(c.opts.CAFile)
	}
	return "curl -s"
}

// shellWord quotes s for a POSIX shell when it needs it.
func shellWord(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/._-") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// done redirects back after an action, with what happened.
// kv are more query parameters, name then value.
// to may end in a #fragment, the part of the page the outcome concerns.
func done(w http.ResponseWriter, r *http.Request, to, msg string, kv ...string) {
	q := url.Values{"msg": {msg}}
	for i := 0; i+1 < len(kv); i += 2 {
		q.Set(kv[i], kv[i+1])
	}
	path, frag, _ := strings.Cut(to, "#")
	if frag != "" {
		frag = "#" + frag
	}
	http.Redirect(w, r, path+"?"+q.Encode()+frag, http.StatusSeeOther)
}

func (c *console) party(name string) (Party, bool) {
	for _, p := range c.opts.Parties {
		if p.Name == name {
			return p, true
		}
	}
	return Party{}, false
}

// selected is the parties an action names: one, or all for "" / "all".
func (c *console) selected(name string) ([]Party, error) {
	if name == "" || name == "all" {
		return c.opts.Parties, nil
	}
	if p, ok := c.party(name); ok {
		return []Party{p}, nil
	}
	return nil, fmt.Errorf("no party %q", name)
}

// call makes one request to a party and decodes a JSON answer into out
// (when not nil). A status of 300 or more is an error carrying the
// party's own message.
//
// call sends the admin token, for the control planes; callUser signs in
// as a ServiceNow user.
func (c *console) call(method, u string, body any, out any) error {
	return c.send(method, u, body, out, func(req *http.Request) {
		if c.opts.AdminToken != "" {
			req.Header.Set("Authorization", "Bearer "+c.opts.AdminToken)
		}
	})
}

func shellQuote(s string) string { return strings.ReplaceAll(s, "'", `'\''`) }

// send is call with the request's authentication set by auth.
func (c *console) send(method, u string, body any, out any, auth func(*http.Request)) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, u, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	auth(req)
	resp, err := c.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode >= 300 {
		msg := strings.TrimSpace(string(b))
		var e struct {
			Error any `json:"error"`
		}
		if json.Unmarshal(b, &e) == nil && e.Error != nil {
			if m, ok := e.Error.(map[string]any); ok {
				// ServiceNow's envelope: the message is what the page shows
				// on top, the detail says why.
				msg = fmt.Sprint(m["message"])
				if d, ok := m["detail"].(string); ok && d != "" {
					msg += " (" + d + ")"
				}
			} else {
				msg = fmt.Sprint(e.Error)
			}
		}
		return &PartyError{Method: method, URL: u, Status: resp.StatusCode, Message: msg}
	}
	if out != nil && len(b) > 0 {
		return json.Unmarshal(b, out)
	}
	return nil
}

// PartyError is a party's refusal: its status and its own message.
type PartyError struct {
	Method, URL string
	Status      int
	Message     string
}

func (e *PartyError) Error() string {
	return fmt.Sprintf("%s %s: %d %s", e.Method, e.URL, e.Status, e.Message)
}

// statusFor is the console's status for a failed call: the party refused
// what the visitor chose (400), or the party failed or was unreachable
// (502).
func statusFor(err error) int {
	var pe *PartyError
	if errors.As(err, &pe) && pe.Status >= 400 && pe.Status < 500 {
		return http.StatusBadRequest
	}
	return http.StatusBadGateway
}

// The world at a glance.

type worldData struct {
	Users        []User
	Apps         []App
	Repositories []Repository
	Entities     []map[string]string
	OIDC         []map[string]string // OIDC provider configurations
	Curl         map[string]string
	Snow, AAD    Party
	M365         Party
	Admin        User
}

func (c *console) admin() (User, bool) {
	for _, u := range c.opts.Users {
		for _, r := range u.Roles {
			if r == "admin" {
				return u, true
			}
		}
	}
	return User{}, false
}

func (c *console) world(w http.ResponseWriter, r *http.Request) {
	d := worldData{Users: c.opts.Users, Apps: c.opts.Apps, Repositories: c.opts.Repositories}
	d.Snow, _ = c.party("fakesnow")
	d.AAD, _ = c.party("fakeaad")
	d.M365, _ = c.party("fakem365")
	var errs []error
	if admin, ok := c.admin(); ok && d.Snow.URL != "" {
		d.Admin = admin
		// The instance's records, not the sandbox's start-up view: a
		// troubleshooting inducement may have changed them since.
		var res struct {
			Result []map[string]string `json:"result"`
		}
		err := c.callUser(admin, "GET", d.Snow.URL+entitiesPath, nil, &res)
		if err != nil {
			errs = append(errs, fmt.Errorf("OAuth entities: %w", err))
		}
		d.Entities = res.Result
		var oidc struct {
			Result []map[string]string `json:"result"`
		}
		if err := c.callUser(admin, "GET", d.Snow.URL+oidcPath, nil, &oidc); err != nil {
			errs = append(errs, fmt.Errorf("OIDC provider configurations: %w", err))
		}
		d.OIDC = oidc.Result
		// Repeat each read in the admin's session, not with -u: a world
		// may refuse Basic (prerequisites-insights-only does).
		d.Curl = map[string]string{
			"entities": c.curlAs(admin, "GET", d.Snow.URL+entitiesPath, nil),
			"oidc":     c.curlAs(admin, "GET", d.Snow.URL+oidcPath, nil),
		}
		for _, u := range d.Users {
			d.Curl["user:"+u.Name] = c.curlAs(admin, "GET", d.Snow.URL+"/api/now/table/sys_user?sysparm_query=user_name="+url.QueryEscape(u.Name), nil)
		}
	}
	c.render(w, r, "world", "The world at a glance", d, errs...)
}

const entitiesPath = "/api/now/table/oauth_entity?sysparm_fields=name,type,client_id,token_url&sysparm_query=ORDERBYname"

const oidcPath = "/api/now/table/oidc_provider_configuration?sysparm_fields=name,oidc_url,user_claim,user_field&sysparm_query=ORDERBYname"

// The request journal.

type journalData struct {
	Party, Method, Path, Status string
	Entries                     []journal.Entry
	Total                       int
	Curl                        string
}

func (c *console) journal(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	d := journalData{Party: q.Get("party"), Method: q.Get("method"), Path: q.Get("path"), Status: q.Get("status")}
	snow, ok := c.party("fakesnow")
	if !ok {
		c.render(w, r, "journal", "Request journal", d, errors.New("no fakesnow: its /__admin/requests serves the merged journal"))
		return
	}
	f := url.Values{"limit": {"200"}}
	for k, v := range map[string]string{"party": d.Party, "method": d.Method, "path": d.Path, "status": d.Status} {
		if v != "" {
			f.Set(k, v)
		}
	}
	u := snow.URL + "/__admin/requests?" + f.Encode()
	d.Curl = c.curl() + " '" + u + "&format=text'"
	var res struct {
		Requests []journal.Entry `json:"requests"`
		Meta     struct {
			Total int `json:"total"`
		} `json:"meta"`
	}
	err := c.call("GET", u, nil, &res)
	// Newest first: the exchange just caused is the one looked for.
	for i := len(res.Requests) - 1; i >= 0; i-- {
		d.Entries = append(d.Entries, res.Requests[i])
	}
	d.Total = res.Meta.Total
	c.render(w, r, "journal", "Request journal", d, err)
}

// Time, faults and reset.

type partyState struct {
	Party  Party
	Now    string
	Faults []fault
}

type fault struct {
	ID     string `json:"id"`
	Method string `json:"method"`
	Path   string `json:"path"`
	Status int    `json:"status"`
	Drop   bool   `json:"drop"`
	Times  int    `json:"times"`
	Hits   int    `json:"hits"`
}

func (c *console) timePage(w http.ResponseWriter, r *http.Request) {
	var states []partyState
	var errs []error
	for _, p := range c.opts.Parties {
		s := partyState{Party: p}
		var clk struct {
			Now string `json:"now"`
		}
		if err := c.call("GET", p.URL+"/__admin/clock", nil, &clk); err != nil {
			errs = append(errs, err)
		}
		s.Now = clk.Now
		var fs struct {
			Faults []fault `json:"faults"`
		}
		if err := c.call("GET", p.URL+"/__admin/faults", nil, &fs); err != nil {
			errs = append(errs, err)
		}
		s.Faults = fs.Faults
		states = append(states, s)
	}
	c.render(w, r, "time", "Time, faults and reset", states, errs...)
}

func (c *console) advance(w http.ResponseWriter, r *http.Request) {
	d, err := time.ParseDuration(r.FormValue("advance"))
	if err != nil || d <= 0 {
		http.Error(w, fmt.Sprintf("advance %q: want a positive duration such as 61m or 24h", r.FormValue("advance")), http.StatusBadRequest)
		return
	}
	if len(c.opts.Parties) == 0 {
		http.Error(w, "no parties", http.StatusBadRequest)
		return
	}
	// The parties of a sandbox share one clock, so advancing each would
	// move it three times: read the first party's time and set every
	// party to it plus d (the same either way).
	var clk struct {
		Now string `json:"now"`
	}
	if err := c.call("GET", c.opts.Parties[0].URL+"/__admin/clock", nil, &clk); err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	now, err := time.Parse(time.RFC3339, clk.Now)
	if err != nil {
		http.Error(w, fmt.Sprintf("clock %q: %v", clk.Now, err), http.StatusBadGateway)
		return
	}
	to := now.Add(d).UTC().Format(time.RFC3339)
	for _, p := range c.opts.Parties {
		if err := c.call("POST", p.URL+"/__admin/clock", map[string]string{"now": to}, nil); err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
	}
	done(w, r, "/time", "Advanced the clock by "+d.String()+" to "+to)
}

func (c *console) addFault(w http.ResponseWriter, r *http.Request) {
	ps, err := c.selected(r.FormValue("party"))
	if err != nil || len(ps) != 1 {
		http.Error(w, fmt.Sprintf("party %q: choose one of the parties", r.FormValue("party")), http.StatusBadRequest)
		return
	}
	f := map[string]any{"path": r.FormValue("path")}
	if m := r.FormValue("method"); m != "" {
		f["method"] = m
	}
	if r.FormValue("effect") == "drop" {
		f["drop"] = true
	} else {
		var status int
		if _, err := fmt.Sscanf(r.FormValue("status"), "%d", &status); err != nil {
			http.Error(w, fmt.Sprintf("status %q: want an HTTP status such as 503", r.FormValue("status")), http.StatusBadRequest)
			return
		}
		f["status"] = status
	}
	var res struct {
		ID string `json:"id"`
	}
	// The party validates the fault; its refusal is the visitor's error.
	if err := c.call("POST", ps[0].URL+"/__admin/faults", f, &res); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	done(w, r, "/time", "Injected fault "+res.ID+" on "+ps[0].Name)
}

func (c *console) clearFaults(w http.ResponseWriter, r *http.Request) {
	ps, err := c.selected(r.FormValue("party"))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	id := r.FormValue("id")
	for _, p := range ps {
		u := p.URL + "/__admin/faults"
		if id != "" {
			u += "/" + url.PathEscape(id)
		}
		if err := c.call("DELETE", u, nil, nil); err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
	}
	if id != "" {
		done(w, r, "/time", "Cleared fault "+id)
		return
	}
	done(w, r, "/time", "Cleared the faults")
}

func (c *console) reset(w http.ResponseWriter, r *http.Request) {
	ps, err := c.selected(r.FormValue("party"))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	var names []string
	for _, p := range ps {
		if err := c.call("POST", p.URL+"/__admin/reset", nil, nil); err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		names = append(names, p.Name)
	}
	done(w, r, "/time", "Reset "+strings.Join(names, ", ")+" to the world as loaded")
}
