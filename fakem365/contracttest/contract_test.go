package contracttest_test

import (
	"net"
	"net/http"
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

// TestFakeConnectorHonoursTheContract holds fakem365 to CONTRACT.md in
// process, on a frozen clock shared with Azure AD.
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
		OtherTenant: "4d3c2b1a-0f9e-4d8c-b7a6-5f4e3d2c1b0a",
		OtherAdmin:  contracttest.Credentials{ID: "admin@fabrikam.onmicrosoft.com", Secret: "fab-pw"},
		Outbound:    contracttest.Credentials{ID: "1f9c2e4a-6b8d-4f0e-a2c4-6e8a0c2e4f61", Secret: "outbound-secret"},
		Other:       contracttest.Credentials{ID: "7a6b5c4d-3e2f-4a1b-9c8d-7e6f5a4b3c2d", Secret: "other-secret"},
		RestAPI:     "3a5c7e9b-1d3f-4a5c-8e7a-9c1e3a5c7e92",
		RestUser:    contracttest.Credentials{ID: "5b7d9f1c-3e5a-4c7e-9a1c-3e5a7c9e1b83", Secret: "rest-user-secret"},
		Clock:       c,
	})
}

// TestStrangerConnectorHonoursTheContract runs the vendor's check exactly
// as a vendor does (TestVendorConnector's Target, SandboxTarget), against a
// fakem365 it treats as a stranger: its own process-wide state, no
// fixture, wall-clock time, reached only over HTTP at a loopback address,
// with the sandbox world's Azure AD as the only other party. The
// environment variable M365SNOW_TEST_MUTANT (set only by
// TestMutantsAreKilled) makes that stranger one of fakem365's mutants.
func TestStrangerConnectorHonoursTheContract(t *testing.T) {
	conn, aadURL := startStranger(t, fakem365.Mutant(os.Getenv("M365SNOW_TEST_MUTANT")))
	w, err := fixture.Load(fixtures.FS, "sandbox")
	if err != nil {
		t.Fatal(err)
	}
	target, err := contracttest.SandboxTarget(w, conn, conn, aadURL)
	if err != nil {
		t.Fatal(err)
	}
	contracttest.Run(t, target)
}

// startStranger serves the sandbox world's Azure AD and a fakem365 without
// fixture on loopback, as `go run ./cmd/fakeaad` and a vendor's build would
// be, and returns their URLs.
func startStranger(t *testing.T, mutant fakem365.Mutant) (connectorURL, aadURL string) {
	aadURL = serveSandboxAAD(t, "127.0.0.1:0")
	hosts := hostmap.New()
	for _, h := range []string{"login.microsoftonline.com", "graph.microsoft.com"} {
		if err := hosts.Set(h, aadURL); err != nil {
			t.Fatal(err)
		}
	}
	m365, err := fakem365.New(fakem365.Options{Transport: &hostmap.Transport{Map: hosts}, Mutant: mutant})
	if err != nil {
		t.Fatal(err)
	}
	return serve(t, "127.0.0.1:0", m365), aadURL
}

// serveSandboxAAD serves the sandbox world's Azure AD on wall-clock time.
func serveSandboxAAD(t *testing.T, addr string) string {
	w, err := fixture.Load(fixtures.FS, "sandbox")
	if err != nil {
		t.Fatal(err)
	}
	af, err := fakeaad.ParseFixture(&w.AAD)
	if err != nil {
		t.Fatal(err)
	}
	aad, err := fakeaad.New(fakeaad.Options{PublicURL: "https://login.microsoftonline.com", Clock: &clock.Offset{}, Fixture: af})
	if err != nil {
		t.Fatal(err)
	}
	return serve(t, addr, aad)
}

func serve(t *testing.T, addr string, h http.Handler) string {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("listening on %s: %v", addr, err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return "http://" + ln.Addr().String()
}

// TestVendorConnector holds a connector build at M365SNOW_CONNECTOR_URL to
// the contract. It serves the sandbox world's Azure AD at
// M365SNOW_AAD_LISTEN (default 127.0.0.1:8081, where the feature suite
// serves it too), unless M365SNOW_AAD_URL names one already running; the
// admin portal defaults to the connector's URL (M365SNOW_ADMIN_URL). Without
// M365SNOW_CONNECTOR_URL it says so and skips: `make test` runs the same
// checks against a stranger in TestStrangerConnectorHonoursTheContract.
func TestVendorConnector(t *testing.T) {
	conn := os.Getenv("M365SNOW_CONNECTOR_URL")
	if conn == "" {
		t.Skip("M365SNOW_CONNECTOR_URL is not set: no vendor connector to check (TestStrangerConnectorHonoursTheContract runs these checks against fakem365)")
	}
	admin := os.Getenv("M365SNOW_ADMIN_URL")
	if admin == "" {
		admin = conn
	}
	aadURL := os.Getenv("M365SNOW_AAD_URL")
	if aadURL == "" {
		listen := os.Getenv("M365SNOW_AAD_LISTEN")
		if listen == "" {
			listen = "127.0.0.1:8081"
		}
		aadURL = serveSandboxAAD(t, listen)
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
