package main

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/m365snow/m365snow/internal/hostmap"
	"github.com/m365snow/m365snow/internal/serve"
	"github.com/m365snow/m365snow/world"
)

// The single binary applies a world's induce: list as the sandbox does
// (issue 16: compose and the single fakes ignored it, so
// M365SNOW_WORLD=troubleshooting-9 was silently healthy). One row per
// troubleshooting world whose inducements act on the instance; each reads
// the row's symptom, or the induced record that causes it where the
// symptom needs another party, from the handler the binary serves.
func TestSingleBinaryAppliesInducements(t *testing.T) {
	for _, tc := range []struct {
		world, user, password, method, path string
		status                              int
		want                                string
	}{
		// Row 2: Microsoft 365 Admin Email cleared outside Setup.
		{"troubleshooting-2", "admin", "Snow-Admin-1!", "GET", "/api/now/table/x_mioms_m365_assis_setting?sysparm_fields=admin_email", 200, `"admin_email":""`},
		// Row 9: the wrong outbound Client Secret is in the entity (the Table
		// API masks it; the control plane exports it).
		{"troubleshooting-9", "admin", "Snow-Admin-1!", "GET", "/__admin/state", 200, "Out8Q~NotTheSecret."},
		// Row 14: the create ACL of the solution table is inactive.
		{"troubleshooting-14", "admin", "Snow-Admin-1!", "GET", "/api/now/table/sys_security_acl?sysparm_query=name%3Dx_mioms_m365_assis_solution%5Eoperation%3Dcreate&sysparm_fields=active", 200, `"active":"false"`},
		// Row 15: the integration user's first password no longer signs in.
		{"troubleshooting-15", "m365.integration", "Snow-Integration-1!", "GET", "/api/now/table/incident?sysparm_limit=1", 401, ""},
		// The cross-scope note: oauth_entity no longer readable from other scopes.
		{"troubleshooting-cross-scope", "admin", "Snow-Admin-1!", "GET", "/api/now/table/sys_db_object?sysparm_query=name%3Doauth_entity&sysparm_fields=read_access", 200, `"read_access":"false"`},
		// The healthy world it extends, for contrast: the secret is the right one.
		{"integrated-basic", "admin", "Snow-Admin-1!", "GET", "/__admin/state", 200, "Out8Q~ContosoOutboundSecret."},
	} {
		t.Run(tc.world, func(t *testing.T) {
			f, err := world.Load(tc.world)
			if err != nil {
				t.Fatal(err)
			}
			h, err := command.Build(&serve.Flags{}, f, hostmap.New(), slog.New(slog.DiscardHandler))
			if err != nil {
				t.Fatal(err)
			}
			req := httptest.NewRequest(tc.method, "https://dev12345.service-now.com"+tc.path, nil)
			req.SetBasicAuth(tc.user, tc.password)
			req.Header.Set("Accept", "application/json")
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			body, _ := io.ReadAll(rec.Result().Body)
			if rec.Code != tc.status || !strings.Contains(string(body), tc.want) {
				t.Errorf("%s %s as %s: %d %s, want %d with %q", tc.method, tc.path, tc.user, rec.Code, body, tc.status, tc.want)
			}
		})
	}
}

// The instance's new password works where the old one fails (row 15).
func TestSingleBinaryRow15NewPassword(t *testing.T) {
	f, err := world.Load("troubleshooting-15")
	if err != nil {
		t.Fatal(err)
	}
	h, err := command.Build(&serve.Flags{}, f, hostmap.New(), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequest("GET", "https://dev12345.service-now.com/api/now/table/incident?sysparm_limit=1", nil)
	req.SetBasicAuth("m365.integration", "Integration-Pw-2!")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code == http.StatusUnauthorized {
		t.Errorf("the induced password does not sign in: %d %s", rec.Code, rec.Body)
	}
}

// An inducement that fails names its file, line and column, in the world
// file that holds it rather than the merged chain (issue 16, point 6).
func TestSingleBinaryInducementErrorNamesItsFile(t *testing.T) {
	file := filepath.Join(t.TempDir(), "mine.yaml")
	if err := os.WriteFile(file, []byte("description: mine\nextends: troubleshooting-9\ninduce:\n  - as: admin\n    update: {table: oauth_entity, where: name=nope, set: {client_secret: x}}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := world.Load(file)
	if err != nil {
		t.Fatal(err)
	}
	_, err = command.Build(&serve.Flags{}, f, hostmap.New(), slog.New(slog.DiscardHandler))
	if want := file + ":4:5: no oauth_entity record where name=nope"; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("got %v, want %q", err, want)
	}
}
