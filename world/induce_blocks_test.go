package world

import (
	"net/url"
	"strings"
	"testing"

	"github.com/m365snow/m365snow/fixtures"
	"github.com/m365snow/m365snow/internal/fixture"
	"github.com/m365snow/m365snow/internal/wellknown"
)

// A blocked state is an inducement like any other: a request to fakeaad's
// control plane at Azure AD's real host (docs/fakeaad-endpoints.md,
// "Blocked states"). Here MFA is required, so an admin's password-grant
// sign-in fails with AADSTS50076.
func TestInduceBlockedState(t *testing.T) {
	f, err := fixture.Load(fixtures.FS, "integrated-basic")
	if err != nil {
		t.Fatal(err)
	}
	f.Induce = induceList(t, `
- note: Conditional Access requires MFA for everyone
  request: POST https://login.microsoftonline.com/__admin/blocks
  body: {state: mfaRequired}
`)
	w, err := Start(Options{Fixture: f})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if b := w.AAD.Blocks(); len(b) != 1 || b[0].State != "mfaRequired" {
		t.Fatalf("blocks %+v", b)
	}
	pw, ok := w.aadPasswords["admin@contoso.onmicrosoft.com"]
	if !ok {
		t.Fatal("the world has no admin@contoso.onmicrosoft.com")
	}
	_, err = w.AADToken("contoso.onmicrosoft.com", url.Values{"grant_type": {"password"}, "client_id": {wellknown.AzureCLIAppID},
		"username": {"admin@contoso.onmicrosoft.com"}, "password": {pw}, "resource": {wellknown.GraphResource}})
	if err == nil || !strings.Contains(err.Error(), "AADSTS50076") {
		t.Fatalf("sign-in under an MFA block: %v", err)
	}
}
