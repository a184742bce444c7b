package platform

import (
	"fmt"
	"html"
	"net/http"
	"strings"
)

// login serves the UI form login (POST /login.do with user_name and
// user_password). It gives an interactive session — a JSESSIONID cookie —
// to users who may have one; web-service-access-only users may not.
func (i *Instance) login(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		i.loginPage(w, "User name or password invalid")
		return
	}
	name := r.PostForm.Get("user_name")
	c, fail := i.checkPassword(name, r.PostForm.Get("user_password"), "session")
	if fail != nil {
		i.Log(LevelWarn, "Authentication", "Interactive login failed: "+fail.message, "")
		i.loginPage(w, "User name or password invalid")
		return
	}
	// The account's state is read again in the section that creates the
	// session: a user deactivated, locked or made web-service-only since
	// the password check gets no session (read-modify-write audit, issue 11).
	sid := newSessionID()
	i.mu.Lock()
	rec := i.tables["sys_user"].rows[c.SysID]
	refusal := ""
	switch {
	case rec == nil || rec["active"] != "true" || rec["locked_out"] == "true":
		refusal = fmt.Sprintf("Interactive login refused for %s: the user is inactive or locked out", c.UserName)
	case rec["web_service_access_only"] == "true":
		refusal = fmt.Sprintf("Interactive login refused for %s: the user is Web service access only", c.UserName)
	default:
		i.sessions[sid] = uiSession{user: c.SysID, token: newUserToken()}
		_, _ = i.updateLocked("sys_user", c.SysID, map[string]string{"last_login_time": i.now()}, c.UserName)
	}
	i.mu.Unlock()
	if refusal != "" {
		i.Log(LevelWarn, "Authentication", refusal, c.UserName)
		i.loginPage(w, "User name or password invalid")
		return
	}
	i.sessionCookies(w, r, sid)
	w.Header().Set("Location", "/navpage.do")
	w.WriteHeader(http.StatusFound)
}

func (i *Instance) loginPage(w http.ResponseWriter, msg string) {
	w.Header().Set("Content-Type", "text/html;charset=UTF-8")
	w.Header().Set("X-Is-Logged-In", "false")
	w.WriteHeader(http.StatusOK)
	fmt.Fprintf(w, "<html><body><div class=\"outputmsg_error\">%s</div><form method=\"post\" action=\"/login.do\"></form></body></html>\n", html.EscapeString(msg))
}

func (i *Instance) logout(w http.ResponseWriter, r *http.Request) {
	if ck, err := r.Cookie("JSESSIONID"); err == nil {
		i.mu.Lock()
		delete(i.sessions, ck.Value)
		i.mu.Unlock()
	}
	http.SetCookie(w, &http.Cookie{Name: "JSESSIONID", Value: "", Path: "/", MaxAge: -1})
	w.Header().Set("Location", "/login.do")
	w.WriteHeader(http.StatusFound)
}

// CurrentApp returns the sys_id of the user's current application scope
// (sys_user_preference apps.current_app; Global when unset).
func (i *Instance) CurrentApp(userSysID string) string {
	i.mu.RLock()
	defer i.mu.RUnlock()
	return i.currentAppLocked(userSysID)
}

func (i *Instance) currentAppLocked(user string) string {
	prefs := i.tables["sys_user_preference"]
	for _, id := range prefs.order {
		p := prefs.rows[id]
		if p["user"] == user && p["name"] == "apps.current_app" {
			if i.tables["sys_scope"].rows[p["value"]] != nil {
				return p["value"]
			}
		}
	}
	return GlobalScope
}

// SetCurrentApp switches a user's current application, as the application
// picker does.
func (i *Instance) SetCurrentApp(userSysID, scopeSysID string) error {
	i.mu.Lock()
	defer i.mu.Unlock()
	return i.setCurrentAppLocked(userSysID, scopeSysID)
}

func (i *Instance) setCurrentAppLocked(user, scope string) error {
	if i.tables["sys_scope"].rows[scope] == nil {
		return fmt.Errorf("no application with sys_id %s", scope)
	}
	prefs := i.tables["sys_user_preference"]
	for _, id := range prefs.order {
		if p := prefs.rows[id]; p["user"] == user && p["name"] == "apps.current_app" {
			_, err := i.updateLocked("sys_user_preference", id, map[string]string{"value": scope}, "system")
			return err
		}
	}
	_, err := i.insertLocked("sys_user_preference", map[string]string{"user": user, "name": "apps.current_app", "value": scope, "type": "string"}, "system", "", false)
	return err
}

// appPicker is the UI's application picker
// (/api/now/ui/concoursepicker/application; community-observed contract):
// GET lists applications and the current one, PUT {"app_id": ...} switches.
func (i *Instance) appPicker(w http.ResponseWriter, r *http.Request, c *Caller) {
	if !c.HasRole("admin") && !c.HasRole("delegated_developer") {
		WriteError(w, http.StatusForbidden, "User Not Authorized", "The application picker requires the admin or delegated_developer role")
		return
	}
	if r.Method == http.MethodPut {
		var body struct {
			AppID string `json:"app_id"`
		}
		if err := decodeJSON(r, &body); err != nil {
			WriteBodyError(w, r, err)
			return
		}
		if err := i.SetCurrentApp(c.SysID, body.AppID); err != nil {
			WriteError(w, http.StatusBadRequest, "Invalid application", err.Error())
			return
		}
	}
	i.mu.RLock()
	cur := i.currentAppLocked(c.SysID)
	scopes := i.tables["sys_scope"]
	var list []map[string]string
	var current map[string]string
	for _, id := range scopes.order {
		s := scopes.rows[id]
		item := map[string]string{"sysId": id, "name": s["name"], "scope": s["scope"]}
		list = append(list, item)
		if id == cur {
			current = item
		}
	}
	i.mu.RUnlock()
	WriteResult(w, http.StatusOK, map[string]any{"current": current, "list": list})
}

// otherApplicationMessage is the refusal of an edit to an application file
// of another scope. ServiceNow shows it at the top of the form; the wording
// here is modelled on it.
func otherApplicationMessage(recordApp, currentApp string) string {
	return fmt.Sprintf("This record is in the %s application, but %s is the current application. To edit this record, switch to the %s application.",
		recordApp, currentApp, strings.TrimSpace(recordApp))
}
