package features

import (
	"context"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"

	"github.com/cucumber/godog"

	"github.com/m365snow/m365snow/world"
)

// Single sign-on into the instance (the guide's "SSO with Microsoft 365"):
// Multi-Provider SSO with Azure AD as OpenID Connect identity provider. The
// steps play the browser: the instance's SSO link, Azure AD's sign-in page,
// the form_post back to the instance.
func ssoSteps(s *godog.ScenarioContext) {
	s.Step(`^the ServiceNow admin creates the Multi-Provider SSO identity provider "([^"]+)":$`, createSSOProvider)
	s.Step(`^"([^"]+)" signs in to the instance with the SSO link of "([^"]+)"$`, ssoSignIn)
	s.Step(`^"([^"]+)" signing in to the instance with the SSO link of "([^"]+)" is refused with "([^"]+)"$`, ssoSignInRefused)
	s.Step(`^with the single sign-on session of "([^"]+)" the Table API lists the incident "([^"]+)"$`, ssoSessionLists)
}

func createSSOProvider(ctx context.Context, name string, t *godog.Table) error {
	sc := from(ctx)
	v, _, err := sc.rows(t)
	if err != nil {
		return err
	}
	ent, err := sc.createEntity(map[string]string{"name": name, "type": "oidc_provider", "client_id": v["Client ID"], "client_secret": v["Client Secret"],
		"oidc_provider_configuration": v["OAuth OIDC Provider Configuration"], "redirect_url": v["Redirect URL"], "default_grant_type": "authorization_code"})
	if err != nil {
		return err
	}
	sc.set(name+": sys_id", ent["sys_id"].(string))
	return nil
}

var (
	ssoForm   = regexp.MustCompile(`(?s)<form method="(?i:post)"[^>]*action="([^"]*)"[^>]*>(.*?)</form>`)
	ssoHidden = regexp.MustCompile(`<input type="hidden" name="([^"]*)" value="([^"]*)">`)
	ssoError  = regexp.MustCompile(`<div class="outputmsg_error">([^<]*)</div>`)
	ssoGck    = regexp.MustCompile(`g_ck = '([^']+)'`)
)

type ssoAnswer struct {
	status   int
	location string
	body     string
	url      *url.URL
}

// ssoWalk signs upn in through the identity provider and returns the
// instance's last answer and the browser's client.
func (sc *scenario) ssoWalk(upn, provider string) (ssoAnswer, *http.Client, error) {
	pw, ok := aadPasswords[upn]
	if !ok {
		return ssoAnswer{}, nil, fmt.Errorf("the scenario does not know the Azure AD password of %s", upn)
	}
	id, err := sc.expand("${" + provider + ": sys_id}")
	if err != nil {
		return ssoAnswer{}, nil, err
	}
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Transport: sc.w.Client.Transport, Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	do := func(method, target string, form url.Values) (ssoAnswer, error) {
		var body io.Reader
		if form != nil {
			body = strings.NewReader(form.Encode())
		}
		req, err := http.NewRequest(method, target, body)
		if err != nil {
			return ssoAnswer{}, err
		}
		if form != nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		resp, err := c.Do(req)
		if err != nil {
			return ssoAnswer{}, err
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return ssoAnswer{resp.StatusCode, resp.Header.Get("Location"), string(b), req.URL}, nil
	}
	submit := func(a ssoAnswer, extra url.Values) (ssoAnswer, error) {
		m := ssoForm.FindStringSubmatch(a.body)
		if m == nil {
			return ssoAnswer{}, fmt.Errorf("%s showed no form (HTTP %d): %s", a.url, a.status, a.body)
		}
		action, err := a.url.Parse(html.UnescapeString(m[1]))
		if err != nil {
			return ssoAnswer{}, err
		}
		form := url.Values{}
		for _, h := range ssoHidden.FindAllStringSubmatch(m[2], -1) {
			form.Set(html.UnescapeString(h[1]), html.UnescapeString(h[2]))
		}
		for k, v := range extra {
			form[k] = v
		}
		return do(http.MethodPost, action.String(), form)
	}
	a, err := do(http.MethodGet, sc.w.InstanceURL+"/login_with_sso.do?glide_sso_id="+url.QueryEscape(id), nil)
	if err != nil {
		return a, nil, err
	}
	if a.status != http.StatusFound {
		return a, c, nil
	}
	if a, err = do(http.MethodGet, a.location, nil); err != nil {
		return a, nil, err
	}
	if a, err = submit(a, url.Values{"login": {upn}, "passwd": {pw}, "action": {"signin"}}); err != nil {
		return a, nil, err
	}
	// A user's first sign-in to the app asks their consent; they accept.
	if strings.Contains(a.body, `id="accept"`) {
		if a, err = submit(a, url.Values{"action": {"accept"}}); err != nil {
			return a, nil, err
		}
	}
	// Azure AD's form_post page, which a browser submits by script.
	a, err = submit(a, nil)
	return a, c, err
}

func ssoSignIn(ctx context.Context, upn, provider string) error {
	sc := from(ctx)
	a, c, err := sc.ssoWalk(upn, provider)
	if err != nil {
		return err
	}
	if a.status != http.StatusFound || a.location != "/navpage.do" {
		msg := a.body
		if m := ssoError.FindStringSubmatch(a.body); m != nil {
			msg = html.UnescapeString(m[1])
		}
		return fmt.Errorf("single sign-on did not log %s in (HTTP %d): %s", upn, a.status, msg)
	}
	// Where the instance sends the browser: the main frame, whose page
	// carries the session's token (g_ck) that REST calls present.
	resp, err := c.Get(sc.w.InstanceURL + a.location)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	page, _ := io.ReadAll(resp.Body)
	m := ssoGck.FindSubmatch(page)
	if m == nil {
		return fmt.Errorf("%s signed in, but /navpage.do carries no session token (HTTP %d)", upn, resp.StatusCode)
	}
	u, _ := url.Parse(sc.w.InstanceURL)
	for _, ck := range c.Jar.Cookies(u) {
		if ck.Name == "JSESSIONID" {
			sc.mu.Lock()
			sc.sessions["sso:"+upn] = &world.UISession{Cookie: ck, Token: string(m[1])}
			sc.mu.Unlock()
			return nil
		}
	}
	return fmt.Errorf("the instance set no session cookie for %s", upn)
}

func ssoSignInRefused(ctx context.Context, upn, provider, message string) error {
	sc := from(ctx)
	a, _, err := sc.ssoWalk(upn, provider)
	if err != nil {
		return err
	}
	m := ssoError.FindStringSubmatch(a.body)
	if a.status != http.StatusUnauthorized || m == nil || !strings.Contains(html.UnescapeString(m[1]), message) {
		return fmt.Errorf("want the login page saying %q, got HTTP %d: %s", message, a.status, a.body)
	}
	return nil
}

func ssoSessionLists(ctx context.Context, upn, shortDescription string) error {
	sc := from(ctx)
	sc.mu.Lock()
	session := sc.sessions["sso:"+upn]
	sc.mu.Unlock()
	if session == nil {
		return fmt.Errorf("%s has no single sign-on session", upn)
	}
	r, err := sc.w.Do("GET", sc.w.InstanceURL+"/api/now/table/incident?sysparm_fields=short_description&sysparm_query="+
		url.QueryEscape("short_description="+shortDescription), world.Session(session), nil)
	if err != nil {
		return err
	}
	if err := expect(r, 200, "listing incidents in the SSO session"); err != nil {
		return err
	}
	if !strings.Contains(string(r.Body), shortDescription) {
		return fmt.Errorf("the SSO session does not see %q: %s", shortDescription, r)
	}
	return nil
}
