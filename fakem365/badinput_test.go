package fakem365_test

import (
	"net/http"
	"os"
	"sort"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/m365snow/m365snow/internal/badinput"
	"github.com/m365snow/m365snow/internal/wellknown"
)

// TestBadInputOnEveryRoute sends badinput's requests to every route of
// openapi.yaml (TestOpenAPIMatchesRoutes keeps it equal to the router) and
// of the control plane, authorized so that the handlers get to the body.
func TestBadInputOnEveryRoute(t *testing.T) {
	e := newEnv(t)
	srv := badinput.Server(t, e.m365)
	for _, host := range []string{"connector.rave.microsoft.com", "admin.microsoft.com"} {
		if err := e.hosts.Set(host, srv.URL); err != nil {
			t.Fatal(err)
		}
	}
	e.integrate(t, "Basic Auth")
	if r := e.handshake(t, "basic", inboundID, "m365.integration"); r.status != 200 {
		t.Fatalf("handshake: %d %s", r.status, r.raw)
	}
	app := e.appToken(t, contoso, outbound, "outbound-secret", wellknown.ConnectorResource)
	if r := e.do(t, "POST", connector("contoso-snow")+"/cases", app, map[string]any{"incidentNumber": "INC0010001", "title": "x", "contactEmail": "megan@contoso.com"}); r.status != 201 {
		t.Fatalf("case: %d %s", r.status, r.raw)
	}
	admin := e.adminToken(t, "admin@contoso.onmicrosoft.com", "admin-pw")

	b, err := os.ReadFile("openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Paths map[string]map[string]yaml.Node `yaml:"paths"`
	}
	if err := yaml.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	fill := strings.NewReplacer("{tenant}", contoso, "{repositoryId}", "contoso-snow", "{caseNumber}", "7000000001")
	var routes []string
	for path, ops := range doc.Paths {
		if !strings.HasPrefix(path, "/api/tenants/") && !strings.HasPrefix(path, "/api/v1/") {
			continue // calls into the instance: fakesnow's routes
		}
		for m := range ops {
			if m != "parameters" && m != "servers" {
				routes = append(routes, strings.ToUpper(m)+" "+path)
			}
		}
	}
	sort.Strings(routes)
	if len(routes) < 10 {
		t.Fatalf("only %d routes in openapi.yaml", len(routes))
	}
	for _, rt := range routes {
		method, path, _ := strings.Cut(rt, " ")
		token, host := app, "https://connector.rave.microsoft.com"
		if strings.HasPrefix(path, "/api/tenants/") {
			token, host = admin, "https://admin.microsoft.com"
		}
		t.Run(rt, func(t *testing.T) {
			badinput.Check(t, e.client, method, host+fill.Replace(path), http.Header{"Authorization": {"Bearer " + token}}, badinput.CodeMessageShape)
		})
	}
	// The control plane last: reset and faults change the world.
	for _, rt := range []string{"GET /__admin/state", "PUT /__admin/state", "GET /__admin/inbound", "GET /__admin/clock", "POST /__admin/clock",
		"GET /__admin/faults", "DELETE /__admin/faults/nope", "POST /__admin/faults", "DELETE /__admin/faults", "POST /__admin/reset"} {
		method, path, _ := strings.Cut(rt, " ")
		t.Run(rt, func(t *testing.T) {
			badinput.Check(t, http.DefaultClient, method, srv.URL+path, nil, badinput.AdminShape)
		})
	}
	// An unknown route answers in the API's shape too.
	badinput.Check(t, e.client, "POST", "https://connector.rave.microsoft.com/api/v1/nothing", nil, badinput.CodeMessageShape)
}
