package features

import (
	"context"
	"fmt"
	"net/url"
	"strings"

	"github.com/cucumber/godog"

	"github.com/m365snow/m365snow/internal/wellknown"
	"github.com/m365snow/m365snow/world"
)

// Azure AD steps: the guide's "[The person who can create AAD
// applications]" prerequisites, done the way automation does them, through
// Microsoft Graph with an administrator's token.

func aadSteps(s *godog.ScenarioContext) {
	s.Step(`^the Azure AD admin "([^"]+)" registers the application "([^"]+)" in "([^"]+)", single tenant(?:, with redirect URL "([^"]+)")?$`, registerApp)
	s.Step(`^the Azure AD admin "([^"]+)" creates an App Secret for "([^"]+)"$`, addSecret)
	s.Step(`^the Azure AD application "([^"]+)" has Client ID "([^"]+)"(?: and App Secret "([^"]+)")?$`, knownApp)
}

// knownApp records an application a shipped world registered.
func knownApp(ctx context.Context, name, clientID, secret string) error {
	sc := from(ctx)
	sc.set(name+": Client ID", clientID)
	if secret != "" {
		sc.set(name+": App Secret", secret)
	}
	return nil
}

// userToken is an Azure AD user token (password grant, Azure CLI client).
func (sc *scenario) userToken(upn, resource string) (string, error) {
	pw, ok := aadPasswords[upn]
	if !ok {
		return "", fmt.Errorf("no password known for %s", upn)
	}
	tenant := upn[strings.Index(upn, "@")+1:]
	return sc.w.AADToken(tenant, url.Values{"grant_type": {"password"}, "client_id": {wellknown.AzureCLIAppID},
		"username": {upn}, "password": {pw}, "resource": {resource}})
}

func (sc *scenario) graph(upn, method, path string, body any) (*world.Response, error) {
	tok, err := sc.userToken(upn, wellknown.GraphResource)
	if err != nil {
		return nil, err
	}
	return sc.w.Do(method, "https://"+wellknown.GraphHost+"/v1.0"+path, world.Bearer(tok), body)
}

// registerApp creates the registration and, as the portal does, its service
// principal; the Client ID is recorded as ${<name>: Client ID}.
func registerApp(ctx context.Context, admin, name, tenant, redirect string) error {
	sc := from(ctx)
	if !strings.HasSuffix(admin, "@"+tenant) {
		return fmt.Errorf("%s is not a user of %s", admin, tenant)
	}
	body := map[string]any{"displayName": name, "signInAudience": "AzureADMyOrg"}
	if redirect != "" {
		body["web"] = map[string]any{"redirectUris": []string{redirect}}
	}
	r, err := sc.graph(admin, "POST", "/applications", body)
	if err != nil {
		return err
	}
	if err := expect(r, 201, "creating the application"); err != nil {
		return err
	}
	appID, _ := r.JSON["appId"].(string)
	sc.set(name+": Client ID", appID)
	sc.set(name+": object id", r.JSON["id"].(string))
	r, err = sc.graph(admin, "POST", "/servicePrincipals", map[string]string{"appId": appID})
	if err != nil {
		return err
	}
	return expect(r, 201, "creating the application's service principal")
}

// addSecret records the secret as ${<name>: App Secret}.
func addSecret(ctx context.Context, admin, name string) error {
	sc := from(ctx)
	id, err := sc.expand("${" + name + ": object id}")
	if err != nil {
		return err
	}
	r, err := sc.graph(admin, "POST", "/applications/"+id+"/addPassword", map[string]any{"passwordCredential": map[string]string{"displayName": "servicenow"}})
	if err != nil {
		return err
	}
	if err := expect(r, 200, "creating the App Secret"); err != nil {
		return err
	}
	sc.set(name+": App Secret", r.JSON["secretText"].(string))
	return nil
}
