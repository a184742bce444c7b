package fakem365

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"

	"github.com/golang-jwt/jwt/v5"

	"github.com/m365snow/m365snow/internal/oidckeys"
	"github.com/m365snow/m365snow/internal/wellknown"
)

// verifyAADToken checks a bearer token issued by Azure AD for audience:
// signature through the tenant's v1 discovery document and JWKS (fetched
// over the wire and cached), issuer https://sts.windows.net/{tid}/, audience
// and lifetime. It returns the token's claims and tenant id.
func (s *Server) verifyAADToken(ctx context.Context, r *http.Request, audiences ...string) (jwt.MapClaims, string, *apiError) {
	raw, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || strings.TrimSpace(raw) == "" {
		return nil, "", errorf(http.StatusUnauthorized, "InvalidAuthenticationToken", "The request carries no bearer token.")
	}
	raw = strings.TrimSpace(raw)
	unverified, err := oidckeys.Unverified(raw)
	if err != nil {
		return nil, "", errorf(http.StatusUnauthorized, "InvalidAuthenticationToken", "The bearer token is not a JWT.")
	}
	tid, _ := unverified["tid"].(string)
	if tid == "" || strings.ContainsAny(tid, "/?#") {
		return nil, "", errorf(http.StatusUnauthorized, "InvalidAuthenticationToken", "The token names no tenant (tid).")
	}
	claims, err := s.keys.Verify(ctx, raw, oidckeys.Expect{
		MetadataURL: "https://" + wellknown.LoginHost + "/" + tid + "/.well-known/openid-configuration",
		Audiences:   audiences,
		Skew:        oidckeys.DefaultSkew,
	})
	if err != nil && s.mutant.skipsTokenCheck(err) {
		claims, err = oidckeys.Unverified(raw)
	}
	if err != nil {
		var f *oidckeys.Failure
		if errors.As(err, &f) && f.Check == oidckeys.CheckMetadata {
			return nil, "", errorf(http.StatusUnauthorized, "InvalidAuthenticationToken", "The token's tenant %s could not be resolved: %s", tid, f.Detail)
		}
		return nil, "", errorf(http.StatusUnauthorized, "InvalidAuthenticationToken", "Token validation failed: %v", err)
	}
	return claims, tid, nil
}

// adminCaller is a signed-in Microsoft 365 administrator of the admin portal.
type adminCaller struct {
	tid string
	upn string
}

// authorizeAdmin admits a user token, for the admin portal, of a Global,
// Helpdesk or Service Support administrator of the tenant in the path.
func (s *Server) authorizeAdmin(r *http.Request, tenantID string) (*adminCaller, *apiError) {
	claims, tid, e := s.verifyAADToken(r.Context(), r, wellknown.AdminPortalResource, wellknown.AdminPortalAppID)
	if e != nil {
		return nil, e
	}
	upn, _ := claims["upn"].(string)
	if upn == "" {
		return nil, errorf(http.StatusForbidden, "Forbidden", "The admin portal needs a signed-in administrator; this is an application token.")
	}
	if !strings.EqualFold(tid, tenantID) && s.mutant != MutantAnyTenantAdmin {
		return nil, errorf(http.StatusForbidden, "Forbidden", "%s signed in to tenant %s and may not manage tenant %s.", upn, tid, tenantID)
	}
	var wids []string
	if list, ok := claims["wids"].([]any); ok {
		for _, w := range list {
			if s, ok := w.(string); ok {
				wids = append(wids, s)
			}
		}
	}
	if !slices.ContainsFunc(wids, func(w string) bool { return slices.Contains(wellknown.SupportAdminRoles, w) }) {
		return nil, errorf(http.StatusForbidden, "Forbidden", "%s is not a Global, Helpdesk or Service Support administrator of this tenant.", upn)
	}
	return &adminCaller{tid: tid, upn: upn}, nil
}

// connectorCaller is an instance calling the connector.
type connectorCaller struct {
	tid   string
	appID string
}

// authorizeConnector admits an app-only v1 token for the connector whose
// appid is the Application ID of the tenant's ServiceNow support
// integration, for a repository saved in that tenant.
func (s *Server) authorizeConnector(r *http.Request, repoID string) (*connectorCaller, *tenant, *Repository, *apiError) {
	claims, tid, e := s.verifyAADToken(r.Context(), r, wellknown.ConnectorResource, wellknown.ConnectorAppID)
	if e != nil {
		return nil, nil, nil, e
	}
	appID, _ := claims["appid"].(string)
	if appID == "" {
		return nil, nil, nil, errorf(http.StatusUnauthorized, "InvalidAuthenticationToken", "The connector accepts v1 application tokens (appid claim); this token has none.")
	}
	if _, isUser := claims["upn"]; isUser {
		return nil, nil, nil, errorf(http.StatusUnauthorized, "InvalidAuthenticationToken", "The connector accepts application tokens only; this is a user token.")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.st.tenants[strings.ToLower(tid)]
	if t == nil || t.Integration == nil || t.Integration.InternalSupportTool != "ServiceNow" {
		return nil, nil, nil, errorf(http.StatusForbidden, "OrganizationProfileMissing",
			"Tenant %s has no Organization profile support integration for ServiceNow.", tid)
	}
	if !strings.EqualFold(t.Integration.ApplicationID, appID) {
		return nil, nil, nil, errorf(http.StatusForbidden, "ApplicationIdMismatch",
			"The token's application %s is not the Application ID %s saved in the tenant's Organization profile.", appID, t.Integration.ApplicationID)
	}
	repo := t.Repositories[repoID]
	if repo == nil && s.mutant == MutantForbiddenUnknownRepository {
		return nil, nil, nil, errorf(http.StatusForbidden, "Forbidden", "Repository %q is not yours.", repoID)
	}
	if repo == nil {
		return nil, nil, nil, errorf(http.StatusNotFound, "RepositoryNotFound",
			"Repository %q is not saved in the Organization profile of tenant %s.", repoID, tid)
	}
	return &connectorCaller{tid: t.ID, appID: appID}, t, repo, nil
}
