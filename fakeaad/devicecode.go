package fakeaad

import (
	"crypto/rand"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/mux"
)

// deviceCode serves POST /{tenant}/oauth2[/v2.0]/devicecode (RFC 8628 as
// Entra answers it, v2-oauth2-device-code.md): a user code, a device code,
// where to enter it, 900 s to do so and a 5 s polling interval. The v1
// endpoint writes verification_url and numbers as strings, as ADAL read it.
func (s *Server) deviceCode(v2 bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			s.writeSTSError(w, r, errMethod(r.Method))
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, maxFormBody)
		if err := r.ParseForm(); err != nil {
			s.writeSTSError(w, r, errMissingParam("client_id"))
			return
		}
		seg := strings.ToLower(mux.Vars(r)["tenant"])
		clientID := r.PostForm.Get("client_id")
		scope := r.PostForm.Get("scope")
		if !v2 {
			scope = r.PostForm.Get("resource")
		}
		da := &deviceAuth{clientID: clientID, scope: scope, v2: v2, issued: s.clock.Now()}
		s.mu.RLock()
		e := func() *stsError {
			// On /common, /organizations and /consumers the user's
			// sign-in picks the tenant.
			var t *Tenant
			if seg != "organizations" && seg != "common" && seg != "consumers" {
				if t = s.dir.tenant(seg); t == nil {
					return errTenantNotFound(mux.Vars(r)["tenant"])
				}
				da.tid = t.ID
			}
			if clientID == "" {
				return errMissingParam("client_id")
			}
			app := s.dir.app(clientID)
			if app == nil || (t != nil && s.dir.servicePrincipal(t, app.AppID) == nil) {
				return errAppNotFound(clientID, seg)
			}
			if scope == "" {
				if v2 {
					return errMissingParam("scope")
				}
				return errMissingParam("resource")
			}
			return nil
		}()
		s.mu.RUnlock()
		if e != nil {
			s.writeSTSError(w, r, e)
			return
		}
		deviceCode := "DAQABAAEAAAD" + randomB64(120)
		s.flows.mu.Lock()
		for {
			da.userCode = newUserCode()
			if s.flows.userCodes[da.userCode] == "" {
				break
			}
		}
		s.flows.devices[deviceCode] = da
		s.flows.userCodes[da.userCode] = deviceCode
		s.flows.mu.Unlock()

		verify := s.publicURL + "/devicelogin"
		msg := "To sign in, use a web browser to open the page " + verify + " and enter the code " + da.userCode + " to authenticate."
		lifetime, interval := int(deviceCodeLifetime.Seconds()), int(deviceCodeInterval.Seconds())
		noStore(w.Header(), randomB64(16))
		if v2 {
			writeJSON(w, http.StatusOK, map[string]any{"user_code": da.userCode, "device_code": deviceCode, "verification_uri": verify,
				"expires_in": lifetime, "interval": interval, "message": msg})
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"user_code": da.userCode, "device_code": deviceCode, "verification_url": verify,
			"expires_in": strconv.Itoa(lifetime), "interval": strconv.Itoa(interval), "message": msg})
	}
}

// newUserCode is nine letters and digits, as Entra's user codes are
// ("FQK5HW3UF"), without the look-alikes 0/O and 1/I.
func newUserCode() string {
	const alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
	b := make([]byte, 9)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}

// pollDevice answers a device_code token request: the sign-in if approved
// (once), else pending, slow_down (polled again inside the interval by the
// fake's clock), declined or expired. One lock section decides and marks.
func (f *flowState) pollDevice(code, clientID string, now time.Time) (signIn, *stsError) {
	f.mu.Lock()
	defer f.mu.Unlock()
	d := f.devices[code]
	switch {
	case d == nil || !strings.EqualFold(d.clientID, clientID):
		return signIn{}, errBadDeviceCode()
	case d.redeemed:
		return signIn{}, errBadDeviceCode()
	case now.After(d.issued.Add(deviceCodeLifetime)):
		return signIn{}, errDeviceCodeExpired()
	case d.declined:
		return signIn{}, errDeviceDeclined()
	case d.approved != nil:
		d.redeemed = true
		return *d.approved, nil
	}
	last := d.lastPoll
	d.lastPoll = now
	if !last.IsZero() && now.Before(last.Add(deviceCodeInterval)) {
		return signIn{}, errSlowDown()
	}
	return signIn{}, errAuthorizationPending()
}

// deviceLogin is the verification page: enter the code, then sign in (or
// cancel, which declines the request).
func (s *Server) deviceLogin(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBody)
	_ = r.ParseForm()
	w.Header().Set("x-ms-ests-server", estsServer)
	codeStep := func(msg string) {
		writePage(w, http.StatusOK, signInPage, pageData{Title: "Enter code", Action: "/devicelogin", Error: msg, DeviceCodeStep: true})
	}
	if r.Method == http.MethodGet {
		codeStep("")
		return
	}
	userCode := strings.ToUpper(strings.TrimSpace(r.PostForm.Get("otc")))
	now := s.clock.Now()
	s.flows.mu.Lock()
	dc := s.flows.userCodes[userCode]
	da := s.flows.devices[dc]
	var snapshot deviceAuth
	if da != nil {
		snapshot = *da
	}
	s.flows.mu.Unlock()
	switch {
	case da == nil:
		codeStep("AADSTS70018: That code didn't work. Check the code and try again.")
		return
	case now.After(snapshot.issued.Add(deviceCodeLifetime)):
		codeStep("AADSTS70019: That code has expired. Get a new code from your app or device and try again.")
		return
	case snapshot.approved != nil || snapshot.declined:
		codeStep("AADSTS70018: That code has already been used.")
		return
	}
	s.mu.RLock()
	app := s.dir.app(snapshot.clientID)
	var tenant *Tenant
	if snapshot.tid != "" {
		tenant = s.dir.tenant(snapshot.tid)
	}
	var appCopy Application
	if app != nil {
		appCopy = *app
	}
	s.mu.RUnlock()
	if app == nil {
		codeStep("AADSTS700016: The application of this code no longer exists.")
		return
	}
	page := func(msg string) {
		writePage(w, http.StatusOK, signInPage, pageData{Title: "Sign in", Action: "/devicelogin", Error: msg, AppName: appCopy.DisplayName,
			Hidden: map[string]string{"otc": userCode}, Device: true})
	}
	switch r.PostForm.Get("action") {
	case "code":
		page("")
		return
	case "decline":
		s.flows.mu.Lock()
		da.declined = true
		s.flows.mu.Unlock()
		writePage(w, http.StatusOK, signInPage, pageData{Title: "You declined the sign-in", AppName: appCopy.DisplayName})
		return
	case "signin":
	default:
		page("")
		return
	}
	sess, msg := s.passwordSignIn(tenant, "organizations", &appCopy, r.PostForm.Get("login"), r.PostForm.Get("passwd"))
	if msg != "" {
		page(msg)
		return
	}
	si := signIn{tid: sess.tid, clientID: appCopy.AppID, userOID: sess.userOID, scope: snapshot.scope, v2: snapshot.v2,
		authTime: sess.authTime, amr: sess.amr, pwStamp: sess.pwStamp}
	s.flows.mu.Lock()
	if da.approved == nil && !da.declined {
		da.approved = &si
	}
	s.flows.mu.Unlock()
	writePage(w, http.StatusOK, signInPage, pageData{Title: "You have signed in to " + appCopy.DisplayName + " on your device. You may now close this window.", AppName: appCopy.DisplayName})
}
