package features

import (
	"context"
	"fmt"
	"strings"

	"github.com/cucumber/godog"
)

// Setup steps: the guide's "Set up Microsoft 365 support integration
// application", through the app's Setup API, as the ServiceNow admin.

func setupSteps(s *godog.ScenarioContext) {
	s.Step(`^the ServiceNow admin opens Microsoft 365 Support > Setup$`, openSetup)
	s.Step(`^Setup opens$`, setupOpens)
	s.Step(`^Setup shows the error "([^"]*)"$`, setupShowsError)
	s.Step(`^the ServiceNow admin's Setup shows the error "([^"]*)"$`, func(ctx context.Context, msg string) error {
		if err := openSetup(ctx); err != nil {
			return err
		}
		return setupShowsError(ctx, msg)
	})
	s.Step(`^the admin agrees to the consent$`, func(ctx context.Context) error {
		return setupStep(ctx, "POST", "/consent", map[string]bool{"agree": true})
	})
	s.Step(`^the admin selects the OAuth profile "([^"]+)" for the outbound OAuth provider$`, func(ctx context.Context, p string) error {
		return setupStep(ctx, "PUT", "/outbound", map[string]string{"profile": p})
	})
	s.Step(`^the admin selects the OAuth client "([^"]+)" for the inbound OAuth provider, External OIDC Auth Token (checked|unchecked)$`, func(ctx context.Context, e, oidc string) error {
		return setupStep(ctx, "PUT", "/inbound", map[string]any{"entity": e, "externalOIDC": oidc == "checked"})
	})
	s.Step(`^the admin skips the inbound OAuth provider$`, func(ctx context.Context) error {
		return setupStep(ctx, "PUT", "/inbound", map[string]any{"skip": true})
	})
	s.Step(`^the admin (?:selects|types) the integration user "([^"]+)"$`, func(ctx context.Context, u string) error {
		u, err := from(ctx).expand(u)
		if err != nil {
			return err
		}
		return setupStep(ctx, "PUT", "/integration_user", map[string]any{"user": u})
	})
	s.Step(`^the admin skips the integration user$`, func(ctx context.Context) error {
		return setupStep(ctx, "PUT", "/integration_user", map[string]any{"skip": true})
	})
	s.Step(`^the admin sets the repository ID "([^"]+)"$`, func(ctx context.Context, id string) error {
		return setupStep(ctx, "PUT", "/repository", map[string]string{"repositoryId": id})
	})
	s.Step(`^the admin sets the application settings:$`, applicationSettings)
	s.Step(`^the completion page shows:$`, completionPage)
	s.Step(`^the admin selects Next to complete the integration$`, next)
	s.Step(`^the integration is complete$`, func(ctx context.Context) error { return setupState(ctx, "complete") })
	s.Step(`^the final step fails because "([^"]+)"$`, finalStepFails)
}

func (sc *scenario) setup(method, path string, body any) error {
	r, err := sc.snow("admin", method, "/api/x_mioms_m365_assis/v1/setup"+path, body)
	if err != nil {
		return err
	}
	return expect(r, 200, "Setup "+method+" "+path)
}

func openSetup(ctx context.Context) error {
	_, err := from(ctx).snow("admin", "GET", "/api/x_mioms_m365_assis/v1/setup/", nil)
	return err
}

func setupOpens(ctx context.Context) error {
	return expect(from(ctx).last, 200, "opening Setup")
}

// setupShowsError checks the message Setup shows on top, exactly.
func setupShowsError(ctx context.Context, msg string) error {
	r := from(ctx).last
	if r.Status/100 == 2 || r.ErrorMessage() != msg {
		return fmt.Errorf("want Setup to show %q, got %s", msg, r)
	}
	return nil
}

func setupStep(ctx context.Context, method, path string, body any) error {
	return from(ctx).setup(method, path, body)
}

func checked(v string) (bool, error) {
	switch strings.ToLower(v) {
	case "checked":
		return true, nil
	case "unchecked":
		return false, nil
	}
	return false, fmt.Errorf("%q: checked or unchecked", v)
}

func applicationSettings(ctx context.Context, t *godog.Table) error {
	sc := from(ctx)
	v, _, err := sc.rows(t)
	if err != nil {
		return err
	}
	sso, err := checked(v["SSO with Microsoft 365"])
	if err != nil {
		return err
	}
	test, err := checked(v["Test Environment"])
	if err != nil {
		return err
	}
	return sc.setup("PUT", "/settings", map[string]any{"ssoWithMicrosoft365": sso, "adminEmail": v["Microsoft 365 Admin Email"], "testEnvironment": test})
}

var completionFields = map[string]string{"Outbound App ID": "outboundAppId", "Repository ID": "repositoryId", "Endpoint": "endpoint",
	"Client ID": "clientId", "User Name": "userName"}

// completionPage checks the "Step - 6 Complete" values and records them as
// ${completion: <label>} for the Microsoft 365 admin.
func completionPage(ctx context.Context, t *godog.Table) error {
	sc := from(ctx)
	want, order, err := sc.rows(t)
	if err != nil {
		return err
	}
	r, err := sc.snow("admin", "GET", "/api/x_mioms_m365_assis/v1/setup/complete", nil)
	if err != nil {
		return err
	}
	if err := expect(r, 200, "the completion page"); err != nil {
		return err
	}
	got, _ := r.Result()["values"].(map[string]any)
	for _, label := range order {
		key, ok := completionFields[label]
		if !ok {
			return fmt.Errorf("the completion page has no %q (it shows Outbound App ID, Repository ID, Endpoint, Client ID, User Name)", label)
		}
		if fmt.Sprint(got[key]) != want[label] {
			return fmt.Errorf("completion page %s = %q, want %q", label, got[key], want[label])
		}
	}
	for label, key := range completionFields {
		sc.set("completion: "+label, fmt.Sprint(got[key]))
	}
	return nil
}

func next(ctx context.Context) error {
	_, err := from(ctx).snow("admin", "POST", "/api/x_mioms_m365_assis/v1/setup/complete", nil)
	return err
}

func setupState(ctx context.Context, want string) error {
	sc := from(ctx)
	r := sc.last
	if r == nil {
		return fmt.Errorf("no Setup call was made")
	}
	if r.Status != 200 {
		return fmt.Errorf("the last Setup call failed: %s", r)
	}
	if got := r.Result()["state"]; got != want {
		return fmt.Errorf("Setup state %s, want %s", shown(got), want)
	}
	return nil
}

func finalStepFails(ctx context.Context, reason string) error {
	r := from(ctx).last
	if r.Status/100 == 2 || r.ErrorMessage() != "Unable to complete the integration" || !strings.Contains(string(r.Body), reason) {
		return fmt.Errorf("want the final step to fail because %q, got %s", reason, r)
	}
	return nil
}
