package fakeaad

import (
	"crypto/subtle"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/google/uuid"
	"github.com/gorilla/mux"

	"github.com/m365snow/m365snow/internal/wellknown"
)

// sessionCookie is the single sign-on cookie. Entra's is ESTSAUTH (with
// ESTSAUTHPERSISTENT for "stay signed in"); the fake keeps one.
const sessionCookie = "ESTSAUTH"

// signInRoutes adds the user-facing endpoints: authorize with its sign-in
// page, device code with its verification page, logout, userinfo and the
// UserRealm lookup MSAL makes before a password grant.
func (s *Server) signInRoutes(r *mux.Router) {
	r.HandleFunc("/common/UserRealm/{user}", s.userRealm).Methods(http.MethodGet)
	r.HandleFunc("/common/userrealm/{user}", s.userRealm).Methods(http.MethodGet)
	r.HandleFunc("/{tenant}/oauth2/authorize", s.authorizeEndpoint(false)).Methods(http.MethodGet, http.MethodPost)
	r.HandleFunc("/{tenant}/oauth2/v2.0/authorize", s.authorizeEndpoint(true)).Methods(http.MethodGet, http.MethodPost)
	r.HandleFunc("/{tenant}/oauth2/devicecode", s.deviceCode(false))
	r.HandleFunc("/{tenant}/oauth2/v2.0/devicecode", s.deviceCode(true))
	r.HandleFunc("/devicelogin", s.deviceLogin).Methods(http.MethodGet, http.MethodPost)
	r.HandleFunc("/{tenant}/oauth2/logout", s.logout).Methods(http.MethodGet, http.MethodPost)
	r.HandleFunc("/{tenant}/oauth2/v2.0/logout", s.logout).Methods(http.MethodGet, http.MethodPost)
	r.HandleFunc("/{tenant}/openid/userinfo", s.userinfo).Methods(http.MethodGet, http.MethodPost)
	r.HandleFunc("/oidc/userinfo", s.userinfo).Methods(http.MethodGet, http.MethodPost)
	r.HandleFunc("/{tenant}/oauth2/checksession", s.checkSession).Methods(http.MethodGet)
	r.HandleFunc("/{tenant}/kerberos", s.kerberos)
}

// checkSession is the v1 document's check_session_iframe: a page an app
// frames to watch the session. The fake's page never signals a change.
func (s *Server) checkSession(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("x-ms-ests-server", estsServer)
	_, _ = w.Write([]byte("<!DOCTYPE html><html><head><title>Check session</title></head><body></body></html>\n"))
}

// kerberos is the advertised kerberos_endpoint. Without a Kerberos ticket
// (which nothing here has) it asks for one, as an SPNEGO endpoint does.
func (s *Server) kerberos(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("WWW-Authenticate", "Negotiate")
	w.Header().Set("x-ms-ests-server", estsServer)
	w.WriteHeader(http.StatusUnauthorized)
}

// authRequest is a parsed, validated authorization request.
type authRequest struct {
	v2            bool
	seg           string
	tenant        *Tenant // nil on /common and /organizations until sign-in
	app           *Application
	redirectURI   string
	responseTypes []string
	responseMode  string
	scope         string // v2 scope, or the v1 resource
	state, nonce  string
	challenge     string
	method        string
	prompt        string
	loginHint     string
	domainHint    string
	clientInfo    bool
	self          string // this request's URL, for the page's form
}

// pageData feeds the sign-in page template.
type pageData struct {
	Title, Action, Error, Hint, AppName, Tenant string
	Account                                     string // the SSO account offered
	Consent                                     bool
	Scopes                                      []string
	Hidden                                      map[string]string
	Device                                      bool
	DeviceCodeStep                              bool
}

var signInPage = template.Must(template.New("signin").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{{.Title}}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{font-family:"Segoe UI",sans-serif;background:#f2f2f2}main{background:#fff;max-width:440px;margin:4em auto;padding:44px;box-shadow:0 2px 6px rgba(0,0,0,.2)}
input[type=text],input[type=password],input[type=email]{width:100%;padding:6px 0;margin:8px 0;border:0;border-bottom:1px solid #666}
button{background:#0067b8;color:#fff;border:0;padding:8px 24px;margin-top:12px}.secondary{background:#ccc;color:#000}.error{color:#e81123}</style></head>
<body><main>
<div>Microsoft</div>
<h1>{{.Title}}</h1>
{{if .AppName}}<p>to continue to <b id="app">{{.AppName}}</b></p>{{end}}
{{if .Error}}<p class="error" id="error" role="alert">{{.Error}}</p>{{end}}
<form method="post" action="{{.Action}}" id="signin">
{{range $k, $v := .Hidden}}<input type="hidden" name="{{$k}}" value="{{$v}}">{{end}}
{{if .DeviceCodeStep}}
<p>Enter the code displayed on your app or device.</p>
<input type="text" name="otc" id="otc" placeholder="Code" autofocus>
<button type="submit" name="action" value="code" id="next">Next</button>
{{else if .Consent}}
<p>Permissions requested by <b>{{.AppName}}</b>:</p><ul id="scopes">{{range .Scopes}}<li>{{.}}</li>{{end}}</ul>
<p>Signed in as {{.Account}}.</p>
<button type="submit" name="action" value="accept" id="accept">Accept</button>
<button type="submit" name="action" value="decline" id="decline" class="secondary">Cancel</button>
{{else if .Account}}
<p>Pick an account</p>
<button type="submit" name="action" value="continue" id="continue">{{.Account}}</button>
<button type="submit" name="action" value="other" id="other" class="secondary">Use another account</button>
{{else}}
<input type="email" name="login" id="login" placeholder="Email, phone, or Skype" value="{{.Hint}}" autofocus>
<input type="password" name="passwd" id="passwd" placeholder="Password">
<button type="submit" name="action" value="signin" id="idSIButton9">Sign in</button>
{{if .Device}}<button type="submit" name="action" value="decline" id="decline" class="secondary">Cancel</button>{{end}}
{{end}}
</form>
{{if .Tenant}}<p><small>{{.Tenant}}</small></p>{{end}}
</main></body></html>
`))

var formPostPage = template.Must(template.New("formpost").Parse(`<!DOCTYPE html>
<html><head><title>Working...</title></head><body onload="document.forms[0].submit()">
<form method="POST" name="hiddenform" action="{{.Action}}">{{range $k, $v := .Hidden}}<input type="hidden" name="{{$k}}" value="{{$v}}">{{end}}
<noscript><p>Script is disabled. Click Submit to continue.</p><input type="submit" value="Submit"></noscript></form></body></html>
`))

func writePage(w http.ResponseWriter, status int, t *template.Template, data any) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store, no-cache")
	w.Header().Set("X-Frame-Options", "DENY")
	w.WriteHeader(status)
	_ = t.Execute(w, data)
}

// errorPage renders an error Entra shows on its own page because the
// redirect URI cannot be trusted with it.
func (s *Server) signInErrorPage(w http.ResponseWriter, e *stsError) {
	w.Header().Set("x-ms-ests-server", estsServer)
	writePage(w, http.StatusBadRequest, signInPage, pageData{Title: "Sorry, but we're having trouble signing you in.",
		Error: "AADSTS" + itoa(e.aadsts) + ": " + e.text})
}

// authorizeEndpoint serves /{tenant}/oauth2[/v2.0]/authorize: GET starts
// a sign-in, POST is the page's own form coming back.
func (s *Server) authorizeEndpoint(v2 bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, maxFormBody)
		if err := r.ParseForm(); err != nil {
			s.signInErrorPage(w, errMissingParam("client_id"))
			return
		}
		ar, e := s.parseAuthRequest(r, v2)
		if e != nil {
			s.signInErrorPage(w, e)
			return
		}
		if e := ar.validateProtocol(); e != nil {
			s.redirectError(w, ar, e)
			return
		}
		if r.Method == http.MethodPost {
			s.signInPost(w, r, ar)
			return
		}
		sess := s.currentSession(r)
		switch ar.prompt {
		case "none":
			if sess == nil {
				s.redirectError(w, ar, errLoginRequired())
				return
			}
			s.complete(w, r, ar, sess, false)
		case "login":
			s.showSignIn(w, ar, "")
		case "select_account":
			if sess == nil {
				s.showSignIn(w, ar, "")
				return
			}
			s.showPicker(w, ar, sess)
		default:
			if sess == nil {
				s.showSignIn(w, ar, "")
				return
			}
			s.complete(w, r, ar, sess, ar.prompt == "consent")
		}
	}
}

// parseAuthRequest checks what must be right before the fake may redirect
// anywhere: tenant, client and redirect URI. Errors here show a page.
func (s *Server) parseAuthRequest(r *http.Request, v2 bool) (*authRequest, *stsError) {
	q := r.URL.Query()
	ar := &authRequest{v2: v2, seg: strings.ToLower(mux.Vars(r)["tenant"]), redirectURI: q.Get("redirect_uri"),
		responseMode: q.Get("response_mode"), state: q.Get("state"), nonce: q.Get("nonce"),
		challenge: q.Get("code_challenge"), method: q.Get("code_challenge_method"), prompt: q.Get("prompt"),
		loginHint: q.Get("login_hint"), domainHint: q.Get("domain_hint"), clientInfo: q.Get("client_info") == "1",
		responseTypes: strings.Fields(q.Get("response_type"))}
	ar.self = r.URL.Path + "?" + r.URL.RawQuery
	if v2 {
		ar.scope = q.Get("scope")
	} else {
		ar.scope = q.Get("resource")
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	switch ar.seg {
	case "common", "organizations", "consumers":
	default:
		if ar.tenant = s.dir.tenant(ar.seg); ar.tenant == nil {
			if _, err := uuid.Parse(ar.seg); err != nil && !strings.Contains(ar.seg, ".") {
				return nil, errTenantMalformed(mux.Vars(r)["tenant"])
			}
			return nil, errTenantNotFound(mux.Vars(r)["tenant"])
		}
	}
	clientID := q.Get("client_id")
	if clientID == "" {
		return nil, errMissingParam("client_id")
	}
	if ar.app = s.dir.app(clientID); ar.app == nil {
		name := ar.seg
		if ar.tenant != nil {
			name = ar.tenant.DisplayName
		}
		return nil, errAppNotFound(clientID, name)
	}
	if ar.tenant != nil && s.dir.servicePrincipal(ar.tenant, ar.app.AppID) == nil {
		return nil, errAppNotFound(clientID, ar.tenant.DisplayName)
	}
	if ar.redirectURI == "" || !redirectAllowed(ar.app, ar.redirectURI) {
		return nil, errRedirectMismatch(ar.redirectURI, ar.app.AppID)
	}
	cp := *ar.app
	ar.app = &cp
	return ar, nil
}

// redirectAllowed matches a redirect URI exactly, except that a registered
// http://localhost URI accepts any port, as Entra allows for native apps
// (reply-url.md: "localhost … port is ignored").
func redirectAllowed(app *Application, uri string) bool {
	if slices.Contains(app.RedirectURIs, uri) {
		return true
	}
	u, err := url.Parse(uri)
	if err != nil || u.Scheme != "http" || (u.Hostname() != "localhost" && u.Hostname() != "127.0.0.1") {
		return false
	}
	for _, reg := range app.RedirectURIs {
		ru, err := url.Parse(reg)
		if err == nil && ru.Scheme == "http" && ru.Hostname() == u.Hostname() && strings.TrimRight(ru.Path, "/") == strings.TrimRight(u.Path, "/") {
			return true
		}
	}
	return false
}

// validateProtocol checks the OAuth parameters; its errors go back to the
// (now trusted) redirect URI.
func (ar *authRequest) validateProtocol() *stsError {
	rt := strings.Join(ar.responseTypes, " ")
	allowed := []string{"code", "id_token", "code id_token", "id_token code"}
	if !slices.Contains(allowed, rt) {
		return errBadResponseType(rt)
	}
	hasIDToken := slices.Contains(ar.responseTypes, "id_token")
	switch ar.responseMode {
	case "":
		ar.responseMode = "query"
		if hasIDToken {
			ar.responseMode = "fragment"
		}
	case "query":
		if hasIDToken {
			return errBadResponseMode("query")
		}
	case "fragment", "form_post":
	default:
		return errBadResponseMode(ar.responseMode)
	}
	if hasIDToken {
		if ar.v2 && !slices.Contains(strings.Fields(ar.scope), "openid") {
			return errIDTokenNeedsOpenID()
		}
		if ar.nonce == "" {
			return errNonceRequired()
		}
	}
	if ar.challenge != "" {
		switch ar.method {
		case "":
			ar.method = "plain"
		case "S256", "plain":
		default:
			return errCodeChallengeMethod(ar.method)
		}
		if n := len(ar.challenge); n < 43 || n > 128 {
			return errCodeChallengeMethod(ar.method)
		}
	}
	switch ar.prompt {
	case "", "none", "login", "consent", "select_account":
	default:
		return &stsError{400, "invalid_request", 90023, "Invalid prompt value '" + ar.prompt + "': none, login, consent or select_account."}
	}
	return nil
}

// currentSession returns the browser's SSO session if it is still good:
// not expired, the user still there, enabled, and with the same password.
func (s *Server) currentSession(r *http.Request) *session {
	c, err := r.Cookie(sessionCookie)
	if err != nil {
		return nil
	}
	now := s.clock.Now()
	s.flows.mu.Lock()
	sess := s.flows.sessions[c.Value]
	s.flows.mu.Unlock()
	if sess == nil || now.After(sess.authTime.Add(sessionLifetime)) {
		return nil
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	t := s.dir.tenant(sess.tid)
	if t == nil {
		return nil
	}
	u := t.userByID(sess.userOID)
	if u == nil || !u.AccountEnabled || !stampsEqual(sess.pwStamp, passwordStamp(u.Password)) {
		return nil
	}
	cp := *sess
	cp.id = c.Value
	return &cp
}

func (s *Server) showSignIn(w http.ResponseWriter, ar *authRequest, msg string) {
	hint := ar.loginHint
	writePage(w, http.StatusOK, signInPage, pageData{Title: "Sign in", Action: ar.self, Error: msg, Hint: hint,
		AppName: ar.app.DisplayName, Tenant: ar.tenantName()})
}

func (s *Server) showPicker(w http.ResponseWriter, ar *authRequest, sess *session) {
	writePage(w, http.StatusOK, signInPage, pageData{Title: "Pick an account", Action: ar.self, Account: s.upnOf(sess),
		AppName: ar.app.DisplayName, Tenant: ar.tenantName()})
}

func (ar *authRequest) tenantName() string {
	if ar.tenant != nil {
		return ar.tenant.DisplayName
	}
	return ""
}

func (s *Server) upnOf(sess *session) string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if t := s.dir.tenant(sess.tid); t != nil {
		if u := t.userByID(sess.userOID); u != nil {
			return u.UPN
		}
	}
	return ""
}

// signInPost handles the page's buttons.
func (s *Server) signInPost(w http.ResponseWriter, r *http.Request, ar *authRequest) {
	switch r.PostForm.Get("action") {
	case "signin":
		sess, msg := s.passwordSignIn(ar.tenant, ar.seg, ar.app, r.PostForm.Get("login"), r.PostForm.Get("passwd"))
		if msg != "" {
			s.showSignIn(w, ar, msg)
			return
		}
		s.setSession(w, sess)
		s.complete(w, r, ar, sess, ar.prompt == "consent")
	case "continue":
		sess := s.currentSession(r)
		if sess == nil {
			s.showSignIn(w, ar, "")
			return
		}
		s.complete(w, r, ar, sess, ar.prompt == "consent")
	case "other":
		s.showSignIn(w, ar, "")
	case "accept", "decline":
		sess := s.currentSession(r)
		if sess == nil {
			s.showSignIn(w, ar, "")
			return
		}
		if r.PostForm.Get("action") == "decline" {
			s.redirectError(w, ar, errConsentDeclined())
			return
		}
		s.flows.grantConsent(sess.tid, ar.app.AppID, sess.userOID)
		s.recordUserConsent(sess.tid, ar.app.AppID, sess.userOID, ar.scope)
		s.complete(w, r, ar, sess, false)
	default:
		s.showSignIn(w, ar, "")
	}
}

// passwordSignIn checks a user's password on the page. tenant is nil on
// /common and /organizations: the user's domain picks it. The message is
// what the page shows, with Entra's code, or "" on success.
func (s *Server) passwordSignIn(tenant *Tenant, seg string, app *Application, login, password string) (*session, string) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	t := tenant
	if t == nil {
		_, dom, _ := strings.Cut(login, "@")
		t = s.dir.tenant(dom)
	}
	if login == "" {
		return nil, "Enter a valid email address, phone number, or Skype name."
	}
	var u *User
	if t != nil {
		u = t.user(login)
	}
	if u == nil {
		e := errUserNotFound(login, seg)
		if t != nil {
			e = errUserNotFound(login, t.ID)
		}
		return nil, "AADSTS" + itoa(e.aadsts) + ": " + e.text
	}
	if subtle.ConstantTimeCompare([]byte(u.Password), []byte(password)) != 1 {
		e := errBadPassword()
		return nil, "AADSTS" + itoa(e.aadsts) + ": Your account or password is incorrect. " + e.text
	}
	if !u.AccountEnabled || s.dir.blocked("userDisabled", app.AppID, u.UPN) != nil {
		e := errUserDisabled()
		return nil, "AADSTS" + itoa(e.aadsts) + ": Your account has been locked. " + e.text
	}
	if s.dir.blocked("passwordExpired", app.AppID, u.UPN) != nil {
		e := errPasswordExpired()
		return nil, "AADSTS" + itoa(e.aadsts) + ": " + e.text + " Your password has expired and must be changed; ask an administrator to reset it."
	}
	amr := []string{"pwd"}
	if s.dir.blocked("mfaRequired", app.AppID, u.UPN) != nil {
		// The page stands in for the second factor: an interactive
		// sign-in satisfies MFA, and the token says so.
		amr = append(amr, "mfa")
	}
	return &session{id: randomB64(32), tid: t.ID, userOID: u.ObjectID, authTime: s.clock.Now(), amr: amr, pwStamp: passwordStamp(u.Password)}, ""
}

func (s *Server) setSession(w http.ResponseWriter, sess *session) {
	s.flows.mu.Lock()
	s.flows.sessions[sess.id] = sess
	s.flows.mu.Unlock()
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: sess.id, Path: "/", HttpOnly: true, Secure: strings.HasPrefix(s.publicURL, "https://"), SameSite: http.SameSiteNoneMode})
}

// complete finishes an authorization for a signed-in session: tenant and
// hint checks, blocked states, consent (shown, or refused under
// prompt=none), then the response to the redirect URI.
func (s *Server) complete(w http.ResponseWriter, r *http.Request, ar *authRequest, sess *session, forceConsent bool) {
	silent := ar.prompt == "none"
	s.mu.RLock()
	t := s.dir.tenant(sess.tid)
	var u *User
	if t != nil {
		u = t.userByID(sess.userOID)
	}
	var e *stsError
	switch {
	case u == nil:
		e = errLoginRequired()
	case ar.tenant != nil && ar.tenant.ID != t.ID:
		// The session's user is from another directory.
		if silent {
			e = errLoginRequired()
		} else {
			s.mu.RUnlock()
			s.showSignIn(w, ar, "")
			return
		}
	case ar.loginHint != "" && !strings.EqualFold(ar.loginHint, u.UPN):
		if silent {
			e = errLoginHintMismatch(ar.loginHint)
		} else {
			s.mu.RUnlock()
			s.showSignIn(w, ar, "")
			return
		}
	case s.dir.servicePrincipal(t, ar.app.AppID) == nil:
		e = errAppNotFound(ar.app.AppID, t.DisplayName)
	case s.dir.blocked("servicePrincipalDisabled", ar.app.AppID, "") != nil || !s.dir.servicePrincipal(t, ar.app.AppID).AccountEnabled:
		e = errAppDisabled(ar.app.AppID, ar.app.DisplayName)
	default:
		if e = s.dir.userBlock(ar.app, u, "", false); e != nil {
			// The front channel has no invalid_grant: a sign-in the
			// directory refuses comes back as access_denied.
			cp := *e
			cp.code = "access_denied"
			e = &cp
		}
	}
	needConsent := false
	var upn string
	if e == nil {
		upn = u.UPN
		needConsent = forceConsent || s.dir.blocked("consentMissing", ar.app.AppID, u.UPN) != nil && !s.flows.consented(t.ID, ar.app.AppID, u.ObjectID)
	}
	s.mu.RUnlock()
	if e != nil {
		s.redirectError(w, ar, e)
		return
	}
	if needConsent {
		if silent {
			e := errConsentRequired(ar.app.AppID, ar.app.DisplayName)
			e.code = "consent_required"
			s.redirectError(w, ar, e)
			return
		}
		writePage(w, http.StatusOK, signInPage, pageData{Title: "Permissions requested", Action: ar.self, Consent: true,
			Account: upn, AppName: ar.app.DisplayName, Scopes: strings.Fields(ar.scope), Tenant: t.DisplayName})
		return
	}
	si := signIn{tid: t.ID, clientID: ar.app.AppID, userOID: sess.userOID, scope: ar.scope, v2: ar.v2, nonce: ar.nonce,
		authTime: sess.authTime, amr: sess.amr, pwStamp: sess.pwStamp, sessionID: sess.id}
	params := url.Values{}
	if slices.Contains(ar.responseTypes, "code") {
		params.Set("code", s.flows.issueCode(&authCode{signIn: si, redirectURI: ar.redirectURI, challenge: ar.challenge,
			method: ar.method, issued: s.clock.Now(), responseTypes: ar.responseTypes}))
	}
	if slices.Contains(ar.responseTypes, "id_token") {
		idt, err := s.frontChannelIDToken(si, ar)
		if err != nil {
			s.redirectError(w, ar, &stsError{500, "server_error", 50000, "There was an error issuing a token."})
			return
		}
		params.Set("id_token", idt)
	}
	if ar.clientInfo {
		params.Set("client_info", clientInfo(sess.userOID, t.ID))
	}
	if ar.state != "" {
		params.Set("state", ar.state)
	}
	params.Set("session_state", uuid.NewSHA1(uuid.NameSpaceOID, []byte(sess.id)).String())
	s.respond(w, ar, params)
}

// frontChannelIDToken mints the ID token the authorize endpoint returns
// for response_type id_token, with c_hash left out (the fake never pairs it
// with an access token on the front channel).
func (s *Server) frontChannelIDToken(si signIn, ar *authRequest) (string, error) {
	s.mu.RLock()
	var u *User
	if t := s.dir.tenant(si.tid); t != nil {
		if x := t.userByID(si.userOID); x != nil {
			cp := *x
			u = &cp
		}
	}
	s.mu.RUnlock()
	if u == nil {
		return "", errLoginRequired()
	}
	in := &mintInput{v2Endpoint: ar.v2, tid: si.tid, clientAppID: si.clientID, user: u, amr: si.amr, nonce: si.nonce,
		authTime: si.authTime, grant: si}
	return s.idToken(in, s.clock.Now())
}

// respond delivers parameters to the redirect URI in the response mode.
func (s *Server) respond(w http.ResponseWriter, ar *authRequest, params url.Values) {
	w.Header().Set("x-ms-ests-server", estsServer)
	switch ar.responseMode {
	case "form_post":
		hidden := map[string]string{}
		for k := range params {
			hidden[k] = params.Get(k)
		}
		writePage(w, http.StatusOK, formPostPage, pageData{Action: ar.redirectURI, Hidden: hidden})
	case "fragment":
		w.Header().Set("Location", ar.redirectURI+"#"+params.Encode())
		w.WriteHeader(http.StatusFound)
	default:
		u, _ := url.Parse(ar.redirectURI)
		q := u.Query()
		for k := range params {
			q.Set(k, params.Get(k))
		}
		u.RawQuery = q.Encode()
		w.Header().Set("Location", u.String())
		w.WriteHeader(http.StatusFound)
	}
}

// redirectError sends an OAuth error to the redirect URI (RFC 6749
// §4.1.2.1) with Entra's extra fields.
func (s *Server) redirectError(w http.ResponseWriter, ar *authRequest, e *stsError) {
	trace := uuid.NewString()
	ts := s.clock.Now().UTC().Format("2006-01-02 15:04:05Z")
	params := url.Values{
		"error":             {e.code},
		"error_description": {"AADSTS" + itoa(e.aadsts) + ": " + e.text + " Trace ID: " + trace + " Correlation ID: " + trace + " Timestamp: " + ts},
		"error_uri":         {s.publicURL + "/error?code=" + itoa(e.aadsts)},
	}
	if ar.state != "" {
		params.Set("state", ar.state)
	}
	s.respond(w, ar, params)
}

// logout ends the SSO session and, if asked, returns to the app.
func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(sessionCookie); err == nil {
		s.flows.mu.Lock()
		delete(s.flows.sessions, c.Value)
		s.flows.mu.Unlock()
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1})
	if to := r.URL.Query().Get("post_logout_redirect_uri"); to != "" {
		if u, err := url.Parse(to); err == nil && (u.Scheme == "https" || u.Scheme == "http") {
			http.Redirect(w, r, to, http.StatusFound)
			return
		}
	}
	writePage(w, http.StatusOK, signInPage, pageData{Title: "You signed out of your account"})
}

// userinfo answers the OIDC userinfo endpoint for a v1 or Graph-audience
// user token: sub, name, family/given name, email, as Graph's /oidc/userinfo.
func (s *Server) userinfo(w http.ResponseWriter, r *http.Request) {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	fail := func() {
		w.Header().Set("WWW-Authenticate", `Bearer realm="", error="invalid_token"`)
		writeJSON(w, http.StatusUnauthorized, map[string]any{"error": map[string]string{"code": "InvalidAuthenticationToken", "message": "Access token validation failure."}})
	}
	if !ok {
		fail()
		return
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	claims, err := s.verifyOwnToken(tok)
	if err != nil {
		fail()
		return
	}
	tid, _ := claims["tid"].(string)
	oid, _ := claims["oid"].(string)
	t := s.dir.tenant(tid)
	var u *User
	if t != nil {
		u = t.userByID(oid)
	}
	if u == nil {
		fail()
		return
	}
	appID, _ := claims["appid"].(string)
	if appID == "" {
		appID, _ = claims["azp"].(string)
	}
	out := map[string]any{"sub": pairwiseSub(u.ObjectID, appID), "name": u.DisplayName, "family_name": u.Surname, "given_name": u.GivenName,
		"picture": "https://" + wellknown.GraphHost + "/v1.0/me/photo/$value"}
	if u.Mail != "" {
		out["email"] = u.Mail
	}
	writeJSON(w, http.StatusOK, out)
}
