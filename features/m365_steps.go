package features

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/cucumber/godog"

	"github.com/m365snow/m365snow/internal/wellknown"
	"github.com/m365snow/m365snow/world"
)

// Microsoft 365 admin steps: the guide's step 9, "[The person who is
// Helpdesk Admin or Service Request Admin in Microsoft 365 tenants] Complete
// Integration", through the admin portal.

func m365Steps(s *godog.ScenarioContext) {
	s.Step(`^the Microsoft 365 admin "([^"]+)" selects the internal support tool "ServiceNow" with Application ID "([^"]+)"$`, saveProfile)
	s.Step(`^the Microsoft 365 admin "([^"]+)" adds the repository:$`, addRepository)
	s.Step(`^the Microsoft 365 admin "([^"]+)" saves the repository "([^"]+)" again(?: with the rest user password "([^"]+)")?$`, resaveRepository)
	s.Step(`^the repository is saved$`, repositorySaved)
	s.Step(`^the repository is refused because "([^"]+)"$`, repositoryRefused)
}

func (sc *scenario) portal(admin, method, path string, body any) (*world.Response, error) {
	tok, err := sc.userToken(admin, wellknown.AdminPortalResource)
	if err != nil {
		return nil, err
	}
	tenant := admin[strings.Index(admin, "@")+1:]
	r, err := sc.w.Do(method, "https://"+wellknown.AdminHost+"/api/tenants/"+tenant+"/supportIntegration"+path, world.Bearer(tok), body)
	if err == nil {
		sc.last = r
	}
	return r, err
}

func saveProfile(ctx context.Context, admin, appID string) error {
	sc := from(ctx)
	appID, err := sc.expand(appID)
	if err != nil {
		return err
	}
	r, err := sc.portal(admin, "PUT", "", map[string]string{"internalSupportTool": "ServiceNow", "applicationId": appID})
	if err != nil {
		return err
	}
	return expect(r, 200, "saving the Organization profile")
}

var repositoryFields = map[string]string{"Endpoint": "endpoint", "Authentication type": "authenticationType", "Client Id": "clientId",
	"Client secret": "clientSecret", "Refresh token expiry": "refreshTokenExpiry", "Rest username": "restUsername", "Rest user password": "restUserPassword"}

// addRepository takes the guide's list: Repository, Endpoint,
// Authentication type, Client Id, Client secret, Refresh token expiry, Rest
// username, Rest user password.
func addRepository(ctx context.Context, admin string, t *godog.Table) error {
	sc := from(ctx)
	v, order, err := sc.rows(t)
	if err != nil {
		return err
	}
	id := v["Repository"]
	if id == "" {
		return fmt.Errorf("the table needs a Repository row")
	}
	body := map[string]any{}
	for _, label := range order {
		if label == "Repository" {
			continue
		}
		key, ok := repositoryFields[label]
		if !ok {
			return fmt.Errorf("a repository has no field %q", label)
		}
		if key == "refreshTokenExpiry" {
			n, err := strconv.Atoi(v[label])
			if err != nil {
				return fmt.Errorf("Refresh token expiry %q is not a number", v[label])
			}
			body[key] = n
			continue
		}
		body[key] = v[label]
	}
	sc.mu.Lock()
	sc.repo[id], sc.repoAdmin[id] = body, admin
	sc.mu.Unlock()
	r, err := sc.portal(admin, "PUT", "/repositories/"+id, body)
	if err != nil {
		return err
	}
	if r.Status != 201 && r.Status != 200 {
		return fmt.Errorf("saving repository %s: %s", id, r)
	}
	return nil
}

// resaveRepository saves a repository with the values it was last given
// (a new rest user password if one is named); the connector then tests its
// inbound calls.
func resaveRepository(ctx context.Context, admin, id, password string) error {
	sc := from(ctx)
	sc.mu.Lock()
	body := map[string]any{}
	for k, v := range sc.repo[id] {
		body[k] = v
	}
	sc.mu.Unlock()
	if len(body) == 0 {
		// Saved before the scenario: start from what the portal shows;
		// secrets it does not show stay as saved.
		r, err := sc.portal(admin, "GET", "/repositories/"+id, nil)
		if err != nil {
			return err
		}
		if err := expect(r, 200, "reading repository "+id); err != nil {
			return err
		}
		for _, k := range []string{"endpoint", "authenticationType", "clientId", "refreshTokenExpiry", "restUsername"} {
			body[k] = r.JSON[k]
		}
	}
	if password != "" {
		body["restUserPassword"] = password
	}
	_, err := sc.portal(admin, "PUT", "/repositories/"+id, body)
	return err
}

func repositorySaved(ctx context.Context) error {
	r := from(ctx).last
	if r.Status != 200 && r.Status != 201 {
		return fmt.Errorf("want the repository saved, got %s", r)
	}
	return nil
}

func repositoryRefused(ctx context.Context, reason string) error {
	sc := from(ctx)
	r := sc.last
	if sc.external {
		// The contract fixes the status and code of a failed inbound test
		// (422 InboundTestFailed), not the wording of its message, which
		// is the reference connector's.
		e, _ := r.JSON["error"].(map[string]any)
		if r.Status != 422 || e["code"] != "InboundTestFailed" {
			return fmt.Errorf("want the save refused with HTTP 422 InboundTestFailed (the reference connector says %q), got %s", reason, r)
		}
		return nil
	}
	if r.Status/100 == 2 || !strings.Contains(string(r.Body), reason) {
		return fmt.Errorf("want the save refused because %q, got %s", reason, r)
	}
	return nil
}
