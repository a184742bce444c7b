package contracttest_test

import (
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"github.com/m365snow/m365snow/fakeaad"
	"github.com/m365snow/m365snow/fakem365"
	"github.com/m365snow/m365snow/fakem365/contracttest"
	"github.com/m365snow/m365snow/fixtures"
	"github.com/m365snow/m365snow/internal/clock"
	"github.com/m365snow/m365snow/internal/fixture"
	"github.com/m365snow/m365snow/internal/hostmap"
)

// TestFakeConnectorHonoursTheContract holds fakem365 to CONTRACT.md.
func TestFakeConnectorHonoursTheContract(t *testing.T) {
	world, err := fixture.Load(os.DirFS("../testdata"), "world")
	if err != nil {
		t.Fatal(err)
	}
	af, _ := fakeaad.ParseFixture(&world.AAD)
	mf, _ := fakem365.ParseFixture(&world.M365)
	c := clock.NewManual(clock.Epoch)
	hosts := hostmap.New()
	aad, err := fakeaad.New(fakeaad.Options{PublicURL: "https://login.microsoftonline.com", Clock: c, Fixture: af})
	if err != nil {
		t.Fatal(err)
	}
	m365, err := fakem365.New(fakem365.Options{Clock: c, Transport: &hostmap.Transport{Map: hosts}, Fixture: mf})
	if err != nil {
		t.Fatal(err)
	}
	aadSrv, m365Srv := httptest.NewServer(aad), httptest.NewServer(m365)
	defer aadSrv.Close()
	defer m365Srv.Close()
	for host, u := range map[string]string{"login.microsoftonline.com": aadSrv.URL, "graph.microsoft.com": aadSrv.URL,
		"connector.rave.microsoft.com": m365Srv.URL, "admin.microsoft.com": m365Srv.URL} {
		if err := hosts.Set(host, u); err != nil {
			t.Fatal(err)
		}
	}
	contracttest.Run(t, contracttest.Target{
		ConnectorURL: "https://connector.rave.microsoft.com", AdminURL: "https://admin.microsoft.com", AADURL: "https://login.microsoftonline.com",
		Client: hosts.Client(nil), Tenant: "8b6a7f0e-3c2d-4e5f-9a1b-2c3d4e5f6a7b",
		Admin:      contracttest.Credentials{ID: "admin@contoso.onmicrosoft.com", Secret: "admin-pw"},
		NonAdmin:   contracttest.Credentials{ID: "lynne@contoso.onmicrosoft.com", Secret: "lynne-pw"},
		AdminEmail: "megan@contoso.com", NonAdminEmail: "lynne@contoso.onmicrosoft.com",
		Outbound: contracttest.Credentials{ID: "1f9c2e4a-6b8d-4f0e-a2c4-6e8a0c2e4f61", Secret: "outbound-secret"},
		Other:    contracttest.Credentials{ID: "7a6b5c4d-3e2f-4a1b-9c8d-7e6f5a4b3c2d", Secret: "other-secret"},
		RestAPI:  "3a5c7e9b-1d3f-4a5c-8e7a-9c1e3a5c7e92",
		RestUser: contracttest.Credentials{ID: "5b7d9f1c-3e5a-4c7e-9a1c-3e5a7c9e1b83", Secret: "rest-user-secret"},
		Advance:  func(d time.Duration) { c.Advance(d) },
		Clock:    c,
	})
}

// TestVendorConnector holds a connector build at M365SNOW_CONNECTOR_URL to
// the contract. It needs a fake Azure AD the connector trusts, loaded with
// the sandbox world (`go run ./cmd/fakeaad`), at M365SNOW_AAD_URL; the admin
// portal defaults to the connector's URL (M365SNOW_ADMIN_URL).
func TestVendorConnector(t *testing.T) {
	conn := os.Getenv("M365SNOW_CONNECTOR_URL")
	if conn == "" {
		t.Skip("M365SNOW_CONNECTOR_URL is not set: no vendor connector to check")
	}
	admin := os.Getenv("M365SNOW_ADMIN_URL")
	if admin == "" {
		admin = conn
	}
	aadURL := os.Getenv("M365SNOW_AAD_URL")
	if aadURL == "" {
		aadURL = "http://127.0.0.1:8081"
	}
	w, err := fixture.Load(fixtures.FS, "sandbox")
	if err != nil {
		t.Fatal(err)
	}
	target, err := contracttest.SandboxTarget(w, conn, admin, aadURL)
	if err != nil {
		t.Fatal(err)
	}
	contracttest.Run(t, target)
}
