package world

import (
	"net/http"
	"testing"

	"github.com/m365snow/m365snow/fixtures"
	"github.com/m365snow/m365snow/internal/fixture"
)

// Issue 11 items 6 and 9: the sandbox's servers had only a
// ReadHeaderTimeout (no ReadTimeout/IdleTimeout, 1 MiB of headers) and an
// unguarded control plane. They now get the binaries' settings and guard.
func TestServersHaveBinarySettingsAndGuard(t *testing.T) {
	f, err := fixture.Load(fixtures.FS, "integrated-basic")
	if err != nil {
		t.Fatal(err)
	}
	w, err := Start(Options{Fixture: f, AdminToken: "tok"})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if len(w.servers) != 3 {
		t.Fatalf("%d servers", len(w.servers))
	}
	for _, s := range w.servers {
		if s.ReadTimeout == 0 || s.IdleTimeout == 0 || s.ReadHeaderTimeout == 0 || s.MaxHeaderBytes == 0 || s.MaxHeaderBytes > 64<<10 {
			t.Errorf("server settings: read %v idle %v header %v max header bytes %d", s.ReadTimeout, s.IdleTimeout, s.ReadHeaderTimeout, s.MaxHeaderBytes)
		}
	}
	for _, base := range []string{w.AADURL, w.SnowURL, w.M365URL} {
		for _, c := range []struct {
			auth, origin string
			status       int
		}{
			{"", "", http.StatusUnauthorized},
			{"Bearer tok", "https://attacker.example", http.StatusForbidden},
			{"Bearer tok", "", http.StatusOK},
		} {
			req, _ := http.NewRequest("GET", base+"/__admin/clock", nil)
			if c.auth != "" {
				req.Header.Set("Authorization", c.auth)
			}
			if c.origin != "" {
				req.Header.Set("Origin", c.origin)
			}
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != c.status {
				t.Errorf("%s/__admin/clock with %q, Origin %q: %d, want %d", base, c.auth, c.origin, res.StatusCode, c.status)
			}
		}
	}
	// The world's own client reaches the control plane under the real names.
	req, _ := http.NewRequest("GET", w.InstanceURL+"/__admin/clock", nil)
	req.Header.Set("Authorization", "Bearer tok")
	res, err := w.Client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Errorf("%s/__admin/clock through the host map: %d", w.InstanceURL, res.StatusCode)
	}
}
