package world_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/m365snow/m365snow/fixtures"
	"github.com/m365snow/m365snow/internal/fixture"
	"github.com/m365snow/m365snow/world"
)

// The key check agrees with the fakes' strict decoders on every shipped
// world: none is refused.
func TestEveryShippedWorldPassesTheKeyCheck(t *testing.T) {
	names, err := fixture.Names(fixtures.FS)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		if _, err := world.Load(n); err != nil {
			t.Errorf("%s: %v", n, err)
		}
	}
}

// The case: a four-line world extending a shipped one, with a typo
// on its line 4, was reported as "line 64: field userz not found in type
// fakesnow.Fixture".
func TestTypoInAWorldThatExtendsIsReportedOnItsOwnLine(t *testing.T) {
	p := filepath.Join(t.TempDir(), "my-world.yaml")
	doc := "description: mine\nextends: integrated-basic\nsnow:\n  userz: []\n"
	if err := os.WriteFile(p, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := world.Load(p)
	want := p + `:4:3: unknown key "userz" under snow (did you mean "users"?)`
	if err == nil || err.Error() != want {
		t.Fatalf("got  %v\nwant %s", err, want)
	}
	if strings.Contains(err.Error(), "fakesnow.") {
		t.Fatal("the error names a Go type")
	}
}
