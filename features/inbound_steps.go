package features

import (
	"context"
	"fmt"
	"net/url"
	"strings"

	"github.com/cucumber/godog"

	"github.com/m365snow/m365snow/world"
)

// Inbound steps: what reaches the app's inbound API, called the way the
// connector would call it.

func inboundSteps(s *godog.ScenarioContext) {
	s.Step(`^the integration user's ServiceNow OAuth token from "([^"]+)" is (accepted|refused) by the inbound API$`, snowTokenInbound)
	s.Step(`^the integration user's basic credentials are (accepted|refused) by the inbound API$`, func(ctx context.Context, want string) error {
		return basicInbound(ctx, "m365.integration", want)
	})
	s.Step(`^the basic credentials of "([^"]+)" are (accepted|refused) by the inbound API$`, basicInbound)
	s.Step(`^an Azure AD token of "([^"]+)" for "([^"]+)" is (accepted|refused) by the inbound API$`, aadInbound)
	s.Step(`^the ServiceNow admin's session is refused by the inbound API$`, sessionInbound)
	s.Step(`^the instance received (no|an) inbound call from the connector$`, inboundReceived)
}

const ping = "/api/x_mioms_m365_assis/v1/inbound/ping"

func (sc *scenario) judge(r *world.Response, want string) error {
	if (r.Status == 200) != (want == "accepted") {
		return fmt.Errorf("want the inbound call %s, got %s", want, r)
	}
	return nil
}

func snowTokenInbound(ctx context.Context, client, want string) error {
	sc := from(ctx)
	id, err := sc.expand("${" + client + ": Client ID}")
	if err != nil {
		return err
	}
	secret, err := sc.expand("${" + client + ": Client Secret}")
	if err != nil {
		return err
	}
	r, err := sc.w.Do("POST", sc.w.InstanceURL+"/oauth_token.do", nil, url.Values{"grant_type": {"password"}, "client_id": {id},
		"client_secret": {secret}, "username": {"m365.integration"}, "password": {sc.passwords["m365.integration"]}})
	if err != nil {
		return err
	}
	tok, _ := r.JSON["access_token"].(string)
	if r.Status != 200 || tok == "" {
		if want == "refused" {
			return nil // refused at the token endpoint already
		}
		return fmt.Errorf("the password grant was refused: %s", r)
	}
	r, err = sc.w.Do("GET", sc.w.InstanceURL+ping, world.Bearer(tok), nil)
	if err != nil {
		return err
	}
	return sc.judge(r, want)
}

func basicInbound(ctx context.Context, user, want string) error {
	sc := from(ctx)
	r, err := sc.w.Do("GET", sc.w.InstanceURL+ping, world.Basic(user, sc.passwords[user]), nil)
	if err != nil {
		return err
	}
	return sc.judge(r, want)
}

func aadInbound(ctx context.Context, app, resource, want string) error {
	sc := from(ctx)
	id, err := sc.expand("${" + app + ": Client ID}")
	if err != nil {
		return err
	}
	secret, err := sc.expand("${" + app + ": App Secret}")
	if err != nil {
		return err
	}
	if strings.Contains(resource, "${") || !strings.Contains(resource, "://") {
		if resource, err = sc.expand("${" + resource + ": Client ID}"); err != nil {
			return err
		}
	}
	tok, err := sc.w.AADToken("contoso.onmicrosoft.com", url.Values{"grant_type": {"client_credentials"}, "client_id": {id},
		"client_secret": {secret}, "resource": {resource}})
	if err != nil {
		return err
	}
	r, err := sc.w.Do("GET", sc.w.InstanceURL+ping, world.Bearer(tok), nil)
	if err != nil {
		return err
	}
	return sc.judge(r, want)
}

func sessionInbound(ctx context.Context) error {
	sc := from(ctx)
	r, err := sc.snow("admin", "GET", ping, nil)
	if err != nil {
		return err
	}
	return sc.judge(r, "refused")
}

// inboundReceived reads the instance's own log of its inbound API.
func inboundReceived(ctx context.Context, which string) error {
	sc := from(ctx)
	r, err := sc.snow("admin", "GET", "/api/now/table/syslog?sysparm_query="+url.QueryEscape("source=x_mioms_m365_assis^messageSTARTSWITHInbound call"), nil)
	if err != nil {
		return err
	}
	n := len(r.ResultList())
	if (n > 0) != (which == "an") {
		return fmt.Errorf("the instance logged %d inbound calls, want %s", n, which)
	}
	return nil
}
