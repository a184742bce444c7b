package fakeaad

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/gorilla/mux"

	"github.com/m365snow/m365snow/internal/badinput"
	"github.com/m365snow/m365snow/internal/wellknown"
)

// stsShape is Entra's token-endpoint error body (error, error_description).
func stsShape(_ int, body []byte) error {
	var b struct {
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}
	if err := json.Unmarshal(body, &b); err != nil || b.Error == "" || b.Description == "" {
		return errors.New(`want {"error":…,"error_description":…}`)
	}
	return nil
}

// graphShape is Microsoft Graph's error body.
func graphShape(_ int, body []byte) error {
	var b struct {
		Error struct {
			Code, Message string
			InnerError    map[string]any `json:"innerError"`
		} `json:"error"`
	}
	if err := json.Unmarshal(body, &b); err != nil || b.Error.Code == "" || b.Error.Message == "" || b.Error.InnerError == nil {
		return errors.New(`want {"error":{"code":…,"message":…,"innerError":{…}}}`)
	}
	return nil
}

// pageShape is the HTML error page Entra's sign-in endpoints (authorize,
// device login) show a browser.
func pageShape(_ int, body []byte) error {
	if !bytes.Contains(bytes.ToLower(body), []byte("<html")) {
		return errors.New("want an HTML error page")
	}
	return nil
}

// negotiateShape is the kerberos endpoint's bodiless SPNEGO challenge.
func negotiateShape(status int, body []byte) error {
	if status != http.StatusUnauthorized || len(body) != 0 {
		return errors.New("want a bodiless 401 Negotiate challenge")
	}
	return nil
}

// TestBadInputOnEveryRoute walks the router and sends badinput's requests
// to every route and method, with a Graph token where Graph needs one.
func TestBadInputOnEveryRoute(t *testing.T) {
	env := newEnv(t, false)
	srv := badinput.Server(t, env.srv)
	admin := env.userToken(t, "admin@contoso.onmicrosoft.com", "admin-pw", wellknown.GraphResource)
	// An application to address by id and appId.
	created := env.graph(t, "POST", "/applications", admin, `{"displayName":"bad-input target"}`)
	if created.status != 201 {
		t.Fatalf("create: %d %s", created.status, created.raw)
	}
	vars := map[string]string{"tenant": contosoID, "id": created.body["id"].(string), "appId": created.body["appId"].(string),
		"userId": "admin@contoso.onmicrosoft.com", "keyId": "00000000-0000-0000-0000-000000000000"}
	varName := regexp.MustCompile(`\{([^}:]+)(:[^}]*)?\}`)
	type route struct{ method, path string }
	var routes []route
	err := env.srv.router().Walk(func(r *mux.Route, _ *mux.Router, _ []*mux.Route) error {
		tpl, err := r.GetPathTemplate()
		if err != nil {
			return nil
		}
		methods, err := r.GetMethods()
		if err != nil {
			methods = []string{http.MethodGet, http.MethodPost} // the token endpoints take any method
		}
		path := varName.ReplaceAllStringFunc(tpl, func(v string) string {
			name := varName.FindStringSubmatch(v)[1]
			if val, ok := vars[name]; ok {
				return val
			}
			return "x"
		})
		for _, m := range methods {
			routes = append(routes, route{m, path})
		}
		return nil
	})
	if err != nil || len(routes) < 15 {
		t.Fatalf("walked %d routes: %v", len(routes), err)
	}
	// The control plane last: reset and faults change the fake.
	sort.SliceStable(routes, func(a, b int) bool {
		return !strings.HasPrefix(routes[a].path, "/__admin") && strings.HasPrefix(routes[b].path, "/__admin")
	})
	check := func(t *testing.T, r route) {
		shape, header := stsShape, http.Header{}
		switch {
		case strings.HasPrefix(r.path, "/__admin"):
			shape = badinput.AdminShape
		case strings.HasSuffix(r.path, "/authorize") || strings.HasSuffix(r.path, "/devicelogin") || strings.HasSuffix(r.path, "/adminconsent"):
			shape = pageShape
		case strings.HasSuffix(r.path, "/userinfo"):
			shape = badinput.CodeMessageShape
		case strings.HasSuffix(r.path, "/kerberos"):
			shape = negotiateShape
		case strings.HasPrefix(r.path, "/v1.0"):
			shape, header = graphShape, http.Header{"Authorization": {"Bearer " + admin}}
		}
		badinput.Check(t, srv.Client(), r.method, srv.URL+r.path, header, shape)
	}
	// The API routes in parallel (a refused oversize body costs the server's
	// lingering close, half a second), then the control plane in order.
	t.Run("api", func(t *testing.T) {
		for _, r := range routes {
			if !strings.HasPrefix(r.path, "/__admin") {
				t.Run(r.method+" "+r.path, func(t *testing.T) { t.Parallel(); check(t, r) })
			}
		}
	})
	for _, r := range routes {
		if strings.HasPrefix(r.path, "/__admin") {
			t.Run(r.method+" "+r.path, func(t *testing.T) { check(t, r) })
		}
	}
}
