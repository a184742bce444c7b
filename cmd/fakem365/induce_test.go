package main

import (
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/m365snow/m365snow/fakeaad"
	"github.com/m365snow/m365snow/internal/hostmap"
	"github.com/m365snow/m365snow/internal/serve"
	"github.com/m365snow/m365snow/internal/wellknown"
	"github.com/m365snow/m365snow/world"
)

// The single binary applies a world's induce: list as the sandbox does
// (issue 16). One row per troubleshooting world whose inducements act on
// Microsoft 365: the connector's faults (rows 10 and 16) answer at once;
// row 3's repository deletion is signed by the Microsoft 365 admin, with a
// token from the fakeaad that --map-host names, as in compose.
func TestSingleBinaryAppliesInducements(t *testing.T) {
	f, err := world.Load("integrated-basic")
	if err != nil {
		t.Fatal(err)
	}
	af, err := fakeaad.ParseFixture(&f.AAD)
	if err != nil {
		t.Fatal(err)
	}
	aad, err := fakeaad.New(fakeaad.Options{PublicURL: "https://" + wellknown.LoginHost, Fixture: af})
	if err != nil {
		t.Fatal(err)
	}
	aadSrv := httptest.NewServer(aad)
	t.Cleanup(aadSrv.Close)
	for _, tc := range []struct {
		world, method, path string
		status              int
		want                string
	}{
		// Row 10: every search fails with a server error.
		{"troubleshooting-10", "POST", "/api/v1/repositories/contoso-snow/solutions/search", 500, ""},
		// Row 16: every case update fails.
		{"troubleshooting-16", "PATCH", "/api/v1/repositories/contoso-snow/cases/1234", 500, ""},
		// Row 3: the repository is gone from the connector's state.
		{"troubleshooting-3", "GET", "/__admin/state", 200, "contoso.onmicrosoft.com"},
		// The healthy world: no fault, so the search wants a token.
		{"integrated-basic", "POST", "/api/v1/repositories/contoso-snow/solutions/search", 401, ""},
	} {
		t.Run(tc.world, func(t *testing.T) {
			f, err := world.Load(tc.world)
			if err != nil {
				t.Fatal(err)
			}
			hosts := hostmap.New()
			for _, h := range []string{wellknown.LoginHost, wellknown.GraphHost} {
				if err := hosts.Set(h, aadSrv.URL); err != nil {
					t.Fatal(err)
				}
			}
			h, err := command.Build(&serve.Flags{}, f, hosts, slog.New(slog.DiscardHandler))
			if err != nil {
				t.Fatal(err)
			}
			req := httptest.NewRequest(tc.method, "https://"+wellknown.ConnectorHost+tc.path, strings.NewReader(`{"query":"teams"}`))
			req.Header.Set("Content-Type", "application/json")
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != tc.status || !strings.Contains(rec.Body.String(), tc.want) {
				t.Errorf("%s %s: %d %s, want %d with %q", tc.method, tc.path, rec.Code, rec.Body, tc.status, tc.want)
			}
			if tc.world == "troubleshooting-3" && strings.Contains(rec.Body.String(), "contoso-snow") {
				t.Errorf("the repository contoso-snow is still there:\n%s", rec.Body)
			}
		})
	}
}

// Without a fakeaad to sign with, row 3's inducement cannot run, and the
// binary says which flag is missing rather than serving a healthy world.
func TestSingleBinaryInducementNeedsItsSigner(t *testing.T) {
	f, err := world.Load("troubleshooting-3")
	if err != nil {
		t.Fatal(err)
	}
	_, err = command.Build(&serve.Flags{}, f, hostmap.New(), slog.New(slog.DiscardHandler))
	if err == nil || !strings.Contains(err.Error(), "--map-host login.microsoftonline.com=") {
		t.Errorf("want an error naming --map-host, got %v", err)
	}
}
