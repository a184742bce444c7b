package fakeaad

import (
	"context"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/AzureAD/microsoft-authentication-library-for-go/apps/cache"
	"gopkg.in/yaml.v3"

	"github.com/m365snow/m365snow/internal/clock"
)

// The sign-in flows get a directory of their own: the apps a real
// deployment registers for interactive and delegated use.
const flowFixture = `
tenants:
  - id: 8b6a7f0e-3c2d-4e5f-9a1b-2c3d4e5f6a7b
    displayName: Contoso
    domains: [contoso.onmicrosoft.com]
    users:
      - userPrincipalName: admin@contoso.onmicrosoft.com
        displayName: Megan Bowen
        givenName: Megan
        surname: Bowen
        mail: megan@contoso.com
        password: admin-pw
        roles: [Global Administrator]
      - userPrincipalName: lynne@contoso.onmicrosoft.com
        displayName: Lynne Robbins
        password: lynne-pw
    applications:
      - appId: 0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d
        displayName: Native tool
        publicClient: true
        redirectUris: [http://localhost]
      - appId: 1b2c3d4e-5f6a-4b7c-9d8e-0f1a2b3c4d5e
        displayName: Web portal
        redirectUris: [https://portal.contoso.com/signin-oidc]
        passwordCredentials:
          - secret: web-secret
      - appId: 2c3d4e5f-6a7b-4c8d-0e9f-1a2b3c4d5e6f
        displayName: Second web app
        redirectUris: [https://second.contoso.com/callback]
        passwordCredentials:
          - secret: second-secret
      - appId: 3d4e5f6a-7b8c-4d9e-1f0a-2b3c4d5e6f7a
        displayName: Middle-tier API
        identifierUris: [api://middle]
        accessTokenVersion: 2
        passwordCredentials:
          - secret: middle-secret
      - appId: 4e5f6a7b-8c9d-4e0f-2a1b-3c4d5e6f7a8b
        displayName: Certificate daemon
    # Delegated permissions the tenant granted (oauth2PermissionGrants):
    # without them Entra answers a user token for Graph with 65001.
    consents:
      - {client: 0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d, resource: 00000003-0000-0000-c000-000000000000, scopes: [User.Read]}
      - {client: 1b2c3d4e-5f6a-4b7c-9d8e-0f1a2b3c4d5e, resource: 00000003-0000-0000-c000-000000000000, scopes: [User.Read]}
      - {client: 2c3d4e5f-6a7b-4c8d-0e9f-1a2b3c4d5e6f, resource: 00000003-0000-0000-c000-000000000000, scopes: [User.Read]}
      - {client: 3d4e5f6a-7b8c-4d9e-1f0a-2b3c4d5e6f7a, resource: 00000003-0000-0000-c000-000000000000, scopes: [User.Read]}
  - id: 4d3c2b1a-0f9e-4d8c-b7a6-5f4e3d2c1b0a
    displayName: Fabrikam
    domains: [fabrikam.onmicrosoft.com]
    users:
      - userPrincipalName: admin@fabrikam.onmicrosoft.com
        password: fab-pw
`

const (
	nativeID = "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
	webID    = "1b2c3d4e-5f6a-4b7c-9d8e-0f1a2b3c4d5e"
	secondID = "2c3d4e5f-6a7b-4c8d-0e9f-1a2b3c4d5e6f"
	middleID = "3d4e5f6a-7b8c-4d9e-1f0a-2b3c4d5e6f7a"
	certID   = "4e5f6a7b-8c9d-4e0f-2a1b-3c4d5e6f7a8b"
	webRedir = "https://portal.contoso.com/signin-oidc"
)

// newFlowEnv serves flowFixture; edit, if set, changes the fixture first.
// The clock starts at the wall clock's second, because real clients date
// their client assertions with it.
func newFlowEnv(t testing.TB, tls bool, edit func(*Fixture)) *testEnv {
	t.Helper()
	var n yaml.Node
	if err := yaml.Unmarshal([]byte(flowFixture), &n); err != nil {
		t.Fatal(err)
	}
	f, err := ParseFixture(n.Content[0])
	if err != nil {
		t.Fatal(err)
	}
	if edit != nil {
		edit(f)
	}
	env := &testEnv{clock: clock.NewManual(time.Now().UTC().Truncate(time.Second))}
	var h http.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { env.srv.ServeHTTP(w, r) })
	if tls {
		env.ts = httptest.NewTLSServer(h)
	} else {
		env.ts = httptest.NewServer(h)
	}
	t.Cleanup(env.ts.Close)
	srv, err := New(Options{PublicURL: env.ts.URL, Clock: env.clock, Fixture: f})
	if err != nil {
		t.Fatal(err)
	}
	env.srv = srv
	return env
}

// browser is a user agent: it keeps cookies and stops at redirects so the
// test can read where the fake sends it.
type browser struct {
	t      testing.TB
	client *http.Client
}

func (e *testEnv) browser(t testing.TB) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, client: &http.Client{Transport: e.ts.Client().Transport, Jar: jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

type page struct {
	status   int
	location string
	body     string
	base     *url.URL
}

func (b *browser) do(req *http.Request) page {
	b.t.Helper()
	resp, err := b.client.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return page{status: resp.StatusCode, location: resp.Header.Get("Location"), body: string(body), base: req.URL}
}

func (b *browser) get(u string) page {
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	return b.do(req)
}

var (
	formRE   = regexp.MustCompile(`(?s)<form method="(?i:post)"[^>]*action="([^"]*)"[^>]*>(.*?)</form>`)
	hiddenRE = regexp.MustCompile(`<input type="hidden" name="([^"]*)" value="([^"]*)">`)
	errorRE  = regexp.MustCompile(`<p class="error" id="error" role="alert">([^<]*)</p>`)
)

// submit fills the page's form like a person would: the hidden fields, the
// given fields, and the button pressed (action).
func (b *browser) submit(p page, fields url.Values) page {
	b.t.Helper()
	m := formRE.FindStringSubmatch(p.body)
	if m == nil {
		b.t.Fatalf("no form on the page (status %d): %s", p.status, p.body)
	}
	action, err := p.base.Parse(html.UnescapeString(m[1]))
	if err != nil {
		b.t.Fatal(err)
	}
	form := url.Values{}
	for _, h := range hiddenRE.FindAllStringSubmatch(m[2], -1) {
		form.Set(html.UnescapeString(h[1]), html.UnescapeString(h[2]))
	}
	for k, v := range fields {
		form[k] = v
	}
	req, _ := http.NewRequest(http.MethodPost, action.String(), strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req)
}

func (p page) errorText() string {
	if m := errorRE.FindStringSubmatch(p.body); m != nil {
		return html.UnescapeString(m[1])
	}
	return ""
}

// redirectParams reads the parameters of a redirect to the app, from the
// query or the fragment.
func (p page) redirectParams(t testing.TB) url.Values {
	t.Helper()
	if p.status != http.StatusFound {
		t.Fatalf("want a redirect to the app, got %d: %s", p.status, p.body)
	}
	u, err := url.Parse(p.location)
	if err != nil {
		t.Fatal(err)
	}
	if u.Fragment != "" {
		v, _ := url.ParseQuery(u.Fragment)
		return v
	}
	return u.Query()
}

func signInFields(upn, pw string) url.Values {
	return url.Values{"login": {upn}, "passwd": {pw}, "action": {"signin"}}
}

// shiftingCache is an MSAL cache an app persists between runs. Before MSAL
// reads it back, its timestamps move back by the time the test let pass on
// the fake's clock, so MSAL sees the access token as expired exactly when
// the fake does — MSAL itself reads only the wall clock.
type shiftingCache struct {
	mu    sync.Mutex
	data  []byte
	shift time.Duration
}

var cacheTimeRE = regexp.MustCompile(`"(cached_at|expires_on|extended_expires_on|refresh_on)":"(\d+)"`)

func (c *shiftingCache) Replace(ctx context.Context, u cache.Unmarshaler, _ cache.ReplaceHints) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.data == nil {
		return nil
	}
	shifted := cacheTimeRE.ReplaceAllFunc(c.data, func(m []byte) []byte {
		parts := cacheTimeRE.FindSubmatch(m)
		n, _ := strconv.ParseInt(string(parts[2]), 10, 64)
		return []byte(`"` + string(parts[1]) + `":"` + strconv.FormatInt(n-int64(c.shift.Seconds()), 10) + `"`)
	})
	return u.Unmarshal(shifted)
}

func (c *shiftingCache) Export(ctx context.Context, m cache.Marshaler, _ cache.ExportHints) error {
	b, err := m.Marshal()
	if err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.data, c.shift = b, 0
	return nil
}

// age records that d passed on the fake's clock.
func (c *shiftingCache) age(env *testEnv, d time.Duration) {
	env.clock.Advance(d)
	c.mu.Lock()
	c.shift += d
	c.mu.Unlock()
}
