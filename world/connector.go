package world

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"

	"github.com/m365snow/m365snow/fakeaad"
	"github.com/m365snow/m365snow/fakem365"
	"github.com/m365snow/m365snow/internal/faults"
	"github.com/m365snow/m365snow/internal/wellknown"
)

// portalRoles may save a tenant's support integration (fakem365/CONTRACT.md).
var portalRoles = map[string]bool{"Global Administrator": true, "Helpdesk Administrator": true, "Service Support Administrator": true}

// provisionConnector brings an external connector build to the fixture's
// m365: state through the contract's own calls, as the people in the guide
// would: a tenant administrator saves the Organization profile and the
// repositories in the admin portal, and the instance's final Setup step
// (the handshake, made with the outbound app's token) connects each
// repository that the fixture has connected. In every tenant the m365:
// section names (all shipped worlds name Contoso and Fabrikam), existing
// repositories are deleted first, so that one scenario's leftovers do not
// leak into the next; an Organization profile cannot be removed through
// the contract, so a tenant's last one stays until a world saves another.
// Content (solutions, service health) is the build's own.
func (w *World) provisionConnector(af *fakeaad.Fixture, mf *fakem365.Fixture) error {
	for _, tf := range mf.Tenants {
		admin, err := portalAdmin(af, tf.ID)
		if err != nil {
			return err
		}
		tok, err := w.AADToken(tf.ID, url.Values{"grant_type": {"password"}, "client_id": {wellknown.AzureCLIAppID},
			"username": {admin.UserPrincipalName}, "password": {admin.Password}, "resource": {wellknown.AdminPortalResource}})
		if err != nil {
			return fmt.Errorf("world: signing in to the admin portal of %s: %w", tf.ID, err)
		}
		base := "https://" + wellknown.AdminHost + "/api/tenants/" + tf.ID + "/supportIntegration"
		call := func(method, path string, body any, ok ...int) (*Response, error) {
			r, err := w.Do(method, base+path, Bearer(tok), body)
			if err != nil {
				return nil, fmt.Errorf("world: %s %s on the connector: %w", method, base+path, err)
			}
			for _, s := range ok {
				if r.Status == s {
					return r, nil
				}
			}
			return nil, fmt.Errorf("world: %s %s on the connector: %s", method, base+path, r)
		}
		existing, err := call("GET", "/repositories", nil, 200)
		if err != nil {
			return err
		}
		list, _ := existing.JSON["value"].([]any)
		for _, v := range list {
			id, _ := v.(map[string]any)["id"].(string)
			if id != "" {
				if _, err := call("DELETE", "/repositories/"+url.PathEscape(id), nil, 204, 404); err != nil {
					return err
				}
			}
		}
		if in := tf.Integration; in != nil {
			if _, err := call("PUT", "", map[string]string{"internalSupportTool": in.InternalSupportTool, "applicationId": in.ApplicationID}, 200); err != nil {
				return err
			}
		}
		for _, repo := range tf.Repositories {
			body := map[string]any{"endpoint": repo.Endpoint, "authenticationType": repo.AuthenticationType, "clientId": repo.ClientID,
				"clientSecret": repo.ClientSecret, "refreshTokenExpiry": repo.RefreshTokenExpiry,
				"restUsername": repo.RestUsername, "restUserPassword": repo.RestUserPassword}
			if _, err := call("PUT", "/repositories/"+url.PathEscape(repo.ID), body, 200, 201); err != nil {
				return err
			}
			if repo.Handshake != nil {
				if err := w.handshake(af, tf.ID, repo.ID, repo.Handshake); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// handshake makes the instance's final Setup call for a repository.
func (w *World) handshake(af *fakeaad.Fixture, tenant, repo string, hs *fakem365.Handshake) error {
	secrets := AppSecrets(af, hs.OutboundAppID)
	if len(secrets) == 0 {
		return fmt.Errorf("world: the aad: section has no secret for the outbound app %s of repository %s", hs.OutboundAppID, repo)
	}
	var tok string
	var err error
	for _, s := range secrets {
		if tok, err = w.AADToken(tenant, url.Values{"grant_type": {"client_credentials"}, "client_id": {hs.OutboundAppID},
			"client_secret": {s}, "resource": {wellknown.ConnectorResource}}); err == nil {
			break
		}
	}
	if err != nil {
		return fmt.Errorf("world: outbound token for the handshake of %s: %w", repo, err)
	}
	// The instance's Setup values only: completedDateTime is the
	// connector's own, read-only, and a strict connector refuses it.
	body := map[string]any{"instanceUrl": hs.InstanceURL, "endpoint": hs.Endpoint, "inboundMode": hs.InboundMode,
		"outboundAppId": hs.OutboundAppID, "clientId": hs.ClientID, "userName": hs.UserName, "adminEmail": hs.AdminEmail,
		"sso": hs.SSO, "testEnvironment": hs.TestEnvironment}
	r, err := w.Do("POST", "https://"+wellknown.ConnectorHost+"/api/v1/repositories/"+url.PathEscape(repo)+"/handshake", Bearer(tok), body)
	if err != nil {
		return fmt.Errorf("world: handshake of %s: %w", repo, err)
	}
	if r.Status != 200 {
		return fmt.Errorf("world: handshake of %s: %s", repo, r)
	}
	return nil
}

// portalAdmin is the first user of a tenant who may use the admin portal.
func portalAdmin(af *fakeaad.Fixture, tenant string) (*fakeaad.UserFixture, error) {
	for i := range af.Tenants {
		t := &af.Tenants[i]
		if !strings.EqualFold(t.ID, tenant) {
			continue
		}
		for j := range t.Users {
			for _, role := range t.Users[j].Roles {
				if portalRoles[role] {
					return &t.Users[j], nil
				}
			}
		}
	}
	return nil, fmt.Errorf("world: the aad: section has no administrator of tenant %s to save its support integration", tenant)
}

// AppSecrets lists an app registration's client secrets, newest first.
func AppSecrets(af *fakeaad.Fixture, appID string) []string {
	var apps []fakeaad.ApplicationFixture
	apps = append(apps, af.Applications...)
	for _, t := range af.Tenants {
		apps = append(apps, t.Applications...)
	}
	var out []string
	for _, a := range apps {
		if strings.EqualFold(a.AppID, appID) {
			for i := len(a.PasswordCreds) - 1; i >= 0; i-- {
				out = append(out, a.PasswordCreds[i].Secret)
			}
		}
	}
	return out
}

// connectorGateway is a reverse proxy to an external connector build with
// the world's fault set in front of it. The connector's own answers pass
// through untouched; an injected fault answers instead (an error status,
// malformed JSON, a dropped connection), which is all the app can see of a
// failing connector. The gateway's connections are the world's own.
func (w *World) connectorGateway(target string) (http.Handler, error) {
	u, err := url.Parse(target)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("world: connector URL %q is not an absolute URL", target)
	}
	proxy := httputil.NewSingleHostReverseProxy(u)
	proxy.Transport = w.transport
	direct := proxy.Director
	proxy.Director = func(r *http.Request) {
		host := r.Host
		direct(r)
		// The connector sees the real host name it was called by, as
		// behind Microsoft's front door.
		r.Host = host
	}
	w.ConnectorFaults = faults.NewSet(func(status int) (string, []byte) {
		b, _ := json.Marshal(map[string]any{"error": map[string]string{"code": http.StatusText(status),
			"message": fmt.Sprintf("The service answered HTTP %d (fault injected by m365snow's gateway).", status)}})
		return "application/json; charset=utf-8", b
	})
	return w.ConnectorFaults.Middleware(proxy), nil
}
