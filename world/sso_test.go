package world

import (
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/m365snow/m365snow/fakeaad"
	"github.com/m365snow/m365snow/fixtures"
	"github.com/m365snow/m365snow/internal/fixture"
)

const (
	ssoAppID  = "5e6f7a8b-9c0d-4e1f-a2b3-c4d5e6f7a8b9"
	ssoSecret = "instance-sso-secret"
	contoso   = "8b6a7f0e-3c2d-4e5f-9a1b-2c3d4e5f6a7b"
)

var (
	ssoFormRE   = regexp.MustCompile(`(?s)<form method="(?i:post)"[^>]*action="([^"]*)"[^>]*>(.*?)</form>`)
	ssoHiddenRE = regexp.MustCompile(`<input type="hidden" name="([^"]*)" value="([^"]*)">`)
)

// ssoBrowser is a user agent on the world's host-mapped transport that
// keeps cookies and stops at redirects.
func ssoBrowser(w *World) *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Transport: w.Client.Transport, Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

type ssoPage struct {
	status   int
	location string
	body     string
	url      *url.URL
}

func ssoDo(t *testing.T, c *http.Client, req *http.Request) ssoPage {
	t.Helper()
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return ssoPage{resp.StatusCode, resp.Header.Get("Location"), string(b), req.URL}
}

func ssoGet(t *testing.T, c *http.Client, u string) ssoPage {
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	return ssoDo(t, c, req)
}

// ssoSubmit posts a page's form with its hidden fields and extra ones, as
// a browser does (the form_post page submits itself by script).
func ssoSubmit(t *testing.T, c *http.Client, p ssoPage, extra url.Values) ssoPage {
	t.Helper()
	m := ssoFormRE.FindStringSubmatch(p.body)
	if m == nil {
		t.Fatalf("no form on %s (%d): %s", p.url, p.status, p.body)
	}
	action, _ := p.url.Parse(html.UnescapeString(m[1]))
	form := url.Values{}
	for _, h := range ssoHiddenRE.FindAllStringSubmatch(m[2], -1) {
		form.Set(html.UnescapeString(h[1]), html.UnescapeString(h[2]))
	}
	for k, v := range extra {
		form[k] = v
	}
	req, _ := http.NewRequest(http.MethodPost, action.String(), strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return ssoDo(t, c, req)
}

// setUpInstanceSSO registers the instance as an app in Contoso's directory
// and configures Multi-Provider SSO with it on the instance; it returns the
// identity provider's sys_id.
func setUpInstanceSSO(t *testing.T, w *World) string {
	t.Helper()
	state, err := w.AAD.ExportState()
	if err != nil {
		t.Fatal(err)
	}
	var f fakeaad.Fixture
	if err := yaml.Unmarshal(state, &f); err != nil {
		t.Fatal(err)
	}
	for i := range f.Tenants {
		if f.Tenants[i].ID == contoso {
			f.Tenants[i].Applications = append(f.Tenants[i].Applications, fakeaad.ApplicationFixture{AppID: ssoAppID, DisplayName: "ServiceNow SSO",
				RedirectURIs: []string{w.InstanceURL + "/navpage.do"}, PasswordCreds: []fakeaad.PasswordCredentialFixture{{Secret: ssoSecret}}})
		}
	}
	b, _ := yaml.Marshal(&f)
	if err := w.AAD.ImportState(b); err != nil {
		t.Fatal(err)
	}
	admin := Basic("admin", w.snowPasswords["admin"])
	r, err := w.Do("POST", w.InstanceURL+"/api/now/table/oidc_provider_configuration", admin, map[string]string{"name": "Microsoft 365",
		"oidc_url": "https://login.microsoftonline.com/" + contoso + "/v2.0/.well-known/openid-configuration", "user_claim": "email", "user_field": "email"})
	if err != nil || r.Status != 201 {
		t.Fatalf("provider configuration: %v %v", r, err)
	}
	cfg := r.JSON["result"].(map[string]any)["sys_id"].(string)
	r, err = w.Do("POST", w.InstanceURL+"/api/now/table/oauth_entity", admin, map[string]string{"name": "Microsoft 365 SSO", "type": "oidc_provider",
		"client_id": ssoAppID, "client_secret": ssoSecret, "default_grant_type": "authorization_code", "oidc_provider_configuration": cfg})
	if err != nil || r.Status != 201 {
		t.Fatalf("identity provider: %v %v", r, err)
	}
	return r.JSON["result"].(map[string]any)["sys_id"].(string)
}

// Single sign-on into the instance: the instance sends the browser to
// fakeaad's sign-in, gets the code back by form_post, verifies the ID token
// and maps its email claim to a sys_user; the session then works like a
// /login.do one.
func TestSingleSignOnIntoTheInstance(t *testing.T) {
	f, err := fixture.Load(fixtures.FS, "fresh")
	if err != nil {
		t.Fatal(err)
	}
	w, err := Start(Options{Fixture: f})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	idp := setUpInstanceSSO(t, w)

	b := ssoBrowser(w)
	p := ssoGet(t, b, w.InstanceURL+"/login_with_sso.do?glide_sso_id="+idp)
	if p.status != http.StatusFound || !strings.HasPrefix(p.location, "https://login.microsoftonline.com/"+contoso+"/oauth2/v2.0/authorize?") {
		t.Fatalf("the instance did not send the browser to Azure AD: %d %s %s", p.status, p.location, p.body)
	}
	signIn := ssoGet(t, b, p.location)
	consent := ssoSubmit(t, b, signIn, url.Values{"login": {"admin@contoso.onmicrosoft.com"}, "passwd": {w.aadPasswords["admin@contoso.onmicrosoft.com"]}, "action": {"signin"}})
	// A new app: Azure AD asks the user's consent to sign them in and
	// read their profile.
	if !strings.Contains(consent.body, `id="accept"`) || !strings.Contains(consent.body, "ServiceNow SSO") {
		t.Fatalf("no consent page for a new app: %d %s", consent.status, consent.body)
	}
	post := ssoSubmit(t, b, consent, url.Values{"action": {"accept"}})
	if !strings.Contains(post.body, `action="`+w.InstanceURL+`/navpage.do"`) {
		t.Fatalf("Azure AD did not post back to the instance: %d %s", post.status, post.body)
	}
	back := ssoSubmit(t, b, post, nil)
	if back.status != http.StatusFound || back.location != "/navpage.do" {
		t.Fatalf("SSO callback: %d %s", back.status, back.body)
	}
	// The session is a normal one: the main frame carries its token, and
	// the Table API answers as admin with cookie and token.
	nav := ssoGet(t, b, w.InstanceURL+back.location)
	gck := gckPattern.FindStringSubmatch(nav.body)
	if gck == nil {
		t.Fatalf("/navpage.do after SSO: %d %s", nav.status, nav.body)
	}
	req, _ := http.NewRequest(http.MethodGet, w.InstanceURL+"/api/now/table/sys_user?sysparm_query=user_name=admin&sysparm_fields=user_name,last_login_time", nil)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("X-UserToken", gck[1])
	if r := ssoDo(t, b, req); r.status != 200 || !strings.Contains(r.body, `"user_name":"admin"`) {
		t.Fatalf("the SSO session does not work: %d %s", r.status, r.body)
	}
	// The form_post cannot be replayed.
	if again := ssoSubmit(t, b, post, nil); again.status != http.StatusUnauthorized || !strings.Contains(again.body, "unknown or expired SSO state") {
		t.Errorf("replayed callback: %d %s", again.status, again.body)
	}
	// Consent given once: the next SSO round trip needs no page at all
	// (Azure AD's session signs the admin in silently).
	p3 := ssoGet(t, b, w.InstanceURL+"/login_with_sso.do?glide_sso_id="+idp)
	if silent := ssoGet(t, b, p3.location); !strings.Contains(silent.body, `action="`+w.InstanceURL+`/navpage.do"`) {
		t.Errorf("second SSO was not silent: %d %s", silent.status, silent.body)
	}
	// An Azure AD user with no matching sys_user is refused, and the
	// instance log says why.
	b2 := ssoBrowser(w)
	p2 := ssoGet(t, b2, w.InstanceURL+"/login_with_sso.do?glide_sso_id="+idp)
	consent2 := ssoSubmit(t, b2, ssoGet(t, b2, p2.location), url.Values{"login": {"lynne@contoso.onmicrosoft.com"}, "passwd": {w.aadPasswords["lynne@contoso.onmicrosoft.com"]}, "action": {"signin"}})
	post2 := ssoSubmit(t, b2, consent2, url.Values{"action": {"accept"}})
	if r := ssoSubmit(t, b2, post2, nil); r.status != http.StatusUnauthorized || !strings.Contains(r.body, "no user with email = lynne@contoso.onmicrosoft.com") {
		t.Errorf("unmapped user: %d %s", r.status, r.body)
	}
	if p := ssoGet(t, ssoBrowser(w), w.InstanceURL+"/login_with_sso.do?glide_sso_id=nope"); p.status != http.StatusUnauthorized {
		t.Errorf("unknown identity provider: %d", p.status)
	}
}
