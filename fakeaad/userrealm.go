package fakeaad

import (
	"net/http"
	"strings"

	"github.com/gorilla/mux"
)

// userRealm answers GET /common/UserRealm/{user}, the home-realm discovery
// MSAL calls before a password grant (MSAL Go authority.go UserRealm:
// api-version=1.0, needs account_type, domain_name, cloud_instance_name and
// cloud_audience_urn). Every tenant of the fake is managed (cloud-only
// passwords), so no federation metadata is ever advertised. api-version=2.0
// answers in the older GetUserRealm form (NameSpaceType, Login, DomainName,
// FederationBrandName) that admin tools read.
func (s *Server) userRealm(w http.ResponseWriter, r *http.Request) {
	user := mux.Vars(r)["user"]
	version := r.URL.Query().Get("api-version")
	_, domain, _ := strings.Cut(user, "@")
	s.mu.RLock()
	t := s.dir.tenant(domain)
	brand := ""
	if t != nil {
		brand = t.DisplayName
	}
	s.mu.RUnlock()
	discoveryHeaders(w.Header())
	if domain == "" {
		domain = user
	}
	switch version {
	case "1.0":
		accountType := "Unknown"
		if t != nil {
			accountType = "Managed"
		}
		writeJSON(w, http.StatusOK, map[string]any{
			"ver": "1.0", "account_type": accountType, "domain_name": strings.ToLower(domain),
			"cloud_instance_name": "microsoftonline.com", "cloud_audience_urn": "urn:federation:MicrosoftOnline",
		})
	case "2.0":
		ns := "Unknown"
		if t != nil {
			ns = "Managed"
		}
		writeJSON(w, http.StatusOK, map[string]any{
			"NameSpaceType": ns, "Login": user, "DomainName": strings.ToLower(domain), "FederationBrandName": brand,
			"TenantBrandingInfo": nil, "cloud_instance_name": "microsoftonline.com",
		})
	case "":
		s.writeSTSError(w, r, errMissingParam("api-version"))
	default:
		s.writeSTSError(w, r, &stsError{400, "invalid_request", 90013, "Invalid input received from the user: api-version must be 1.0 or 2.0."})
	}
}
