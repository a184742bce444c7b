package console

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/m365snow/m365snow/internal/wellknown"
)

// The Microsoft 365 side: the admin center's Settings > Organization
// profile > support integration (the guide's "Complete Integration" by the
// Microsoft 365 admin: Basic information, then the repository), read and
// saved through the admin portal's API with the tenant admin's token, and
// the connector's cases. The token comes from Azure AD as the guide's
// admin would get it: a password grant with the Azure CLI's public client
// for the admin portal's resource.

// Tenant is a Microsoft 365 tenant whose admin center the console opens.
type Tenant struct {
	ID, Domain string
	// Admin signs in to the admin center (Global or Helpdesk
	// Administrator); Password is the one the world gave them.
	Admin, Password string
	// The values the guide types in, offered as the forms' defaults
	// (the integrated-* counterpart's; empty: none).
	InternalSupportTool, ApplicationID string
	Repository                         RepositorySettings
}

// RepositorySettings is the repository form: the names are the admin
// portal API's.
type RepositorySettings struct {
	ID                 string `json:"id"`
	Endpoint           string `json:"endpoint"`
	AuthenticationType string `json:"authenticationType"`
	ClientID           string `json:"clientId"`
	ClientSecret       string `json:"clientSecret,omitempty"`
	RefreshTokenExpiry int    `json:"refreshTokenExpiry"`
	RestUsername       string `json:"restUsername"`
	RestUserPassword   string `json:"restUserPassword,omitempty"`
}

// integration is GET …/supportIntegration's answer.
type integration struct {
	InternalSupportTool *string `json:"internalSupportTool"`
	ApplicationID       *string `json:"applicationId"`
	UpdatedBy           string  `json:"updatedBy"`
	Repositories        []struct {
		RepositorySettings
		ClientSecretSet     bool `json:"clientSecretSet"`
		RestUserPasswordSet bool `json:"restUserPasswordSet"`
		PendingCaseLinks    int  `json:"pendingCaseLinks"`
		Handshake           *struct {
			InboundMode       string `json:"inboundMode"`
			OutboundAppID     string `json:"outboundAppId"`
			CompletedDateTime string `json:"completedDateTime"`
		} `json:"handshake"`
	} `json:"repositories"`
}

type tenantView struct {
	Tenant      Tenant
	Integration *integration
	Err         string
	Curl        string
	// Form refills the repository form after a refused save.
	Form RepositorySettings
}

type connectorCase struct {
	Number         string            `yaml:"number"`
	Repository     string            `yaml:"repository"`
	IncidentNumber string            `yaml:"incidentNumber"`
	Title          string            `yaml:"title"`
	ContactEmail   string            `yaml:"contactEmail"`
	Status         string            `yaml:"status"`
	Linked         bool              `yaml:"linked"`
	Details        map[string]string `yaml:"details"`
}

type adminCenterData struct {
	Tenants []tenantView
	Cases   []connectorCase
	M365    Party
}

// adminToken signs the tenant's admin in for the admin center.
func (c *console) adminToken(t Tenant) (string, error) {
	aad, ok := c.party("fakeaad")
	if !ok {
		return "", fmt.Errorf("no fakeaad to sign in with")
	}
	form := url.Values{"grant_type": {"password"}, "client_id": {wellknown.AzureCLIAppID}, "username": {t.Admin},
		"password": {t.Password}, "resource": {wellknown.AdminPortalResource}}
	resp, err := c.client.PostForm(aad.URL+"/"+url.PathEscape(t.ID)+"/oauth2/token", form)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	var tok struct {
		AccessToken string `json:"access_token"`
		Error       string `json:"error_description"`
	}
	_ = json.Unmarshal(b, &tok)
	if resp.StatusCode != http.StatusOK || tok.AccessToken == "" {
		return "", &PartyError{Method: "POST", URL: aad.URL + "/" + t.ID + "/oauth2/token", Status: resp.StatusCode, Message: t.Admin + " could not sign in: " + tok.Error}
	}
	return tok.AccessToken, nil
}

// callAs is call with a bearer token.
func (c *console) callAs(token, method, u string, body, out any) error {
	return c.send(method, u, body, out, func(req *http.Request) { req.Header.Set("Authorization", "Bearer "+token) })
}

func (c *console) tenant(id string) (Tenant, bool) {
	for _, t := range c.opts.Tenants {
		if t.ID == id {
			return t, true
		}
	}
	return Tenant{}, false
}

func (c *console) integrationURL(t Tenant) string {
	m365, _ := c.party("fakem365")
	return m365.URL + "/api/tenants/" + url.PathEscape(t.ID) + "/supportIntegration"
}

func (c *console) adminCenter(w http.ResponseWriter, r *http.Request) {
	c.renderAdminCenter(w, r, http.StatusOK, "", RepositorySettings{}, nil)
}

func (c *console) renderAdminCenter(w http.ResponseWriter, r *http.Request, status int, formTenant string, form RepositorySettings, failed error) {
	d := adminCenterData{}
	m365, ok := c.party("fakem365")
	if !ok {
		c.renderStatus(w, r, status, "admincenter", "Microsoft 365 admin center", d, fmt.Errorf("no fakem365 in this world: its admin portal and connector stand outside (vendor mode)"), failed)
		return
	}
	d.M365 = m365
	for _, t := range c.opts.Tenants {
		v := tenantView{Tenant: t, Form: t.Repository}
		if t.ID == formTenant {
			v.Form = form
		}
		v.Curl = c.curl() + " -H \"Authorization: Bearer $ADMIN_TOKEN\" " + c.integrationURL(t)
		tok, err := c.adminToken(t)
		if err == nil {
			v.Integration = &integration{}
			err = c.callAs(tok, "GET", c.integrationURL(t), nil, v.Integration)
		}
		if err != nil {
			v.Err = err.Error()
		}
		// The form starts with what is saved, else the guide's values.
		if in := v.Integration; in != nil && t.ID != formTenant {
			for _, rp := range in.Repositories {
				if rp.ID == v.Form.ID || v.Form.ID == "" {
					secret, pw := v.Form.ClientSecret, v.Form.RestUserPassword
					v.Form = rp.RepositorySettings
					v.Form.ClientSecret, v.Form.RestUserPassword = secret, pw
				}
			}
		}
		d.Tenants = append(d.Tenants, v)
	}
	// The connector's cases: what it holds, read from its control plane.
	req, err := http.NewRequest("GET", m365.URL+"/__admin/state", nil)
	if err == nil {
		if c.opts.AdminToken != "" {
			req.Header.Set("Authorization", "Bearer "+c.opts.AdminToken)
		}
		var resp *http.Response
		if resp, err = c.client.Do(req); err == nil {
			var st struct {
				Cases []connectorCase `yaml:"cases"`
			}
			err = yaml.NewDecoder(io.LimitReader(resp.Body, 8<<20)).Decode(&st)
			resp.Body.Close()
			if err == io.EOF {
				err = nil
			}
			d.Cases = st.Cases
		}
	}
	c.renderStatus(w, r, status, "admincenter", "Microsoft 365 admin center: support integration", d, failed, err)
}

// adminCenterSave saves Basic information or a repository.
func (c *console) adminCenterSave(w http.ResponseWriter, r *http.Request) {
	t, ok := c.tenant(r.FormValue("tenant"))
	if !ok {
		http.Error(w, fmt.Sprintf("tenant %q: choose one the page lists", r.FormValue("tenant")), http.StatusBadRequest)
		return
	}
	tok, err := c.adminToken(t)
	if err != nil {
		c.renderAdminCenter(w, r, statusFor(err), "", RepositorySettings{}, err)
		return
	}
	switch what := r.PathValue("what"); what {
	case "basic":
		body := map[string]string{"internalSupportTool": r.FormValue("internalSupportTool"), "applicationId": r.FormValue("applicationId")}
		if err := c.callAs(tok, "PUT", c.integrationURL(t), body, nil); err != nil {
			c.renderAdminCenter(w, r, statusFor(err), "", RepositorySettings{}, err)
			return
		}
		done(w, r, "/admin-center", "Saved Basic information for "+t.Domain)
	case "repository":
		form := RepositorySettings{ID: strings.TrimSpace(r.FormValue("id")), Endpoint: r.FormValue("endpoint"), AuthenticationType: r.FormValue("authenticationType"),
			ClientID: r.FormValue("clientId"), ClientSecret: r.FormValue("clientSecret"), RestUsername: r.FormValue("restUsername"), RestUserPassword: r.FormValue("restUserPassword")}
		if s := r.FormValue("refreshTokenExpiry"); s != "" {
			n, err := strconv.Atoi(s)
			if err != nil {
				c.renderAdminCenter(w, r, http.StatusBadRequest, t.ID, form, fmt.Errorf("refresh token expiry %q: want seconds", s))
				return
			}
			form.RefreshTokenExpiry = n
		}
		if form.ID == "" || strings.ContainsAny(form.ID, "/?#") {
			c.renderAdminCenter(w, r, http.StatusBadRequest, t.ID, form, fmt.Errorf("repository %q: give the Repository ID of Setup's last page", form.ID))
			return
		}
		body := map[string]any{"endpoint": form.Endpoint, "authenticationType": form.AuthenticationType, "clientId": form.ClientID,
			"refreshTokenExpiry": form.RefreshTokenExpiry, "restUsername": form.RestUsername}
		// Empty secrets keep the saved ones, as the admin center's
		// password fields do.
		if form.ClientSecret != "" {
			body["clientSecret"] = form.ClientSecret
		}
		if form.RestUserPassword != "" {
			body["restUserPassword"] = form.RestUserPassword
		}
		if err := c.callAs(tok, "PUT", c.integrationURL(t)+"/repositories/"+url.PathEscape(form.ID), body, nil); err != nil {
			c.renderAdminCenter(w, r, statusFor(err), t.ID, form, err)
			return
		}
		done(w, r, "/admin-center", "Saved repository "+form.ID+" for "+t.Domain)
	default:
		http.Error(w, "no admin center form "+what, http.StatusNotFound)
	}
}
