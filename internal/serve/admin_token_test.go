package serve

import (
	"flag"
	"slices"
	"strings"
	"testing"

	"github.com/m365snow/m365snow/internal/adminapi"
)

// Issue 11 item 6: a binary listening beyond loopback (compose publishes
// 0.0.0.0 inside its containers) refuses to start without an admin token;
// the token comes from --admin-token or the environment.
func TestAdminTokenRequiredBeyondLoopback(t *testing.T) {
	cases := []struct {
		name, env string
		args      []string
		wantErr   string
		wantToken string
	}{
		{"loopback needs none", "", []string{"--listen", "127.0.0.1:0"}, "", ""},
		{"all interfaces without a token", "", []string{"--listen", "0.0.0.0:8081"}, "needs a token", ""},
		{"empty host without a token", "", []string{"--listen", ":8081"}, "needs a token", ""},
		{"flag", "", []string{"--listen", "0.0.0.0:8081", "--admin-token", "t1"}, "", "t1"},
		{"environment", "t2", []string{"--listen", "0.0.0.0:8081"}, "", "t2"},
		{"flag wins over environment", "t2", []string{"--admin-token", "t1"}, "", "t1"},
		{"token on loopback too", "t3", []string{"--listen", "127.0.0.1:0"}, "", "t3"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Setenv(adminapi.TokenEnv, c.env)
			var f Flags
			fs := flag.NewFlagSet("x", flag.ContinueOnError)
			f.Register(fs, "127.0.0.1:0", false)
			if err := fs.Parse(c.args); err != nil {
				t.Fatal(err)
			}
			err := f.Validate()
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) || !strings.Contains(err.Error(), adminapi.TokenEnv) {
					t.Fatalf("Validate() = %v, want an error naming %s", err, adminapi.TokenEnv)
				}
				return
			}
			if err != nil || f.AdminToken != c.wantToken {
				t.Fatalf("Validate() = %v, token %q, want %q", err, f.AdminToken, c.wantToken)
			}
		})
	}
}

func TestGuardAdmitsThePublicName(t *testing.T) {
	c := Command{TLSHosts: []string{"login.microsoftonline.com"}}
	g := c.guard(&Flags{AdminToken: "t"}, "https://sandbox.example.com:8443")
	if g.Token != "t" || !slices.Contains(g.Hosts, "sandbox.example.com") || !slices.Contains(g.Hosts, "login.microsoftonline.com") {
		t.Fatalf("guard %+v", g)
	}
}
