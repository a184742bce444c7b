package fakeaad

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/gorilla/mux"

	"github.com/m365snow/m365snow/internal/wellknown"
)

// msaTenantID is the tenant of Microsoft personal accounts.
const msaTenantID = "9188040d-6c67-4c5b-b112-36a304b66dad"

// discoveryHeaders are the headers Entra sends on metadata documents.
func discoveryHeaders(h http.Header) {
	h.Set("Cache-Control", "max-age=86400, private")
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Access-Control-Allow-Origin", "*")
	h.Set("Access-Control-Allow-Methods", "GET, OPTIONS")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("x-ms-request-id", uuid.NewString())
	h.Set("x-ms-ests-server", estsServer)
}

// discoveryDoc is the OpenID configuration, v1 or v2 (reference/aad.md
// §2.1, §2.2).
type discoveryDoc struct {
	TokenEndpoint                     string   `json:"token_endpoint"`
	TokenEndpointAuthMethodsSupported []string `json:"token_endpoint_auth_methods_supported"`
	JWKSURI                           string   `json:"jwks_uri"`
	ResponseModesSupported            []string `json:"response_modes_supported"`
	SubjectTypesSupported             []string `json:"subject_types_supported"`
	IDTokenSigningAlgValuesSupported  []string `json:"id_token_signing_alg_values_supported"`
	ResponseTypesSupported            []string `json:"response_types_supported"`
	ScopesSupported                   []string `json:"scopes_supported"`
	Issuer                            string   `json:"issuer"`
	RequestURIParameterSupported      *bool    `json:"request_uri_parameter_supported,omitempty"`
	MicrosoftMultiRefreshToken        *bool    `json:"microsoft_multi_refresh_token,omitempty"`
	UserinfoEndpoint                  string   `json:"userinfo_endpoint"`
	AuthorizationEndpoint             string   `json:"authorization_endpoint"`
	DeviceAuthorizationEndpoint       string   `json:"device_authorization_endpoint"`
	HTTPLogoutSupported               bool     `json:"http_logout_supported"`
	FrontchannelLogoutSupported       bool     `json:"frontchannel_logout_supported"`
	EndSessionEndpoint                string   `json:"end_session_endpoint"`
	ClaimsSupported                   []string `json:"claims_supported"`
	CheckSessionIframe                string   `json:"check_session_iframe,omitempty"`
	KerberosEndpoint                  string   `json:"kerberos_endpoint"`
	TenantRegionScope                 *string  `json:"tenant_region_scope"`
	CloudInstanceName                 string   `json:"cloud_instance_name"`
	CloudGraphHostName                string   `json:"cloud_graph_host_name"`
	MsgraphHost                       string   `json:"msgraph_host"`
	RbacURL                           string   `json:"rbac_url"`
}

// buildDiscovery renders the document for tenant path segment seg (a GUID
// for real tenants, "common"/"organizations" for the generic ones).
func (s *Server) buildDiscovery(seg string, v2 bool) discoveryDoc {
	base := s.publicURL + "/" + seg
	region := new(string)
	*region = "NA"
	generic := seg == "common" || seg == "organizations" || seg == "consumers"
	if generic {
		region = nil
	}
	t, f := true, false
	d := discoveryDoc{
		TokenEndpointAuthMethodsSupported: []string{"client_secret_post", "private_key_jwt", "client_secret_basic"},
		ResponseModesSupported:            []string{"query", "fragment", "form_post"},
		SubjectTypesSupported:             []string{"pairwise"},
		IDTokenSigningAlgValuesSupported:  []string{"RS256"},
		HTTPLogoutSupported:               true,
		FrontchannelLogoutSupported:       true,
		KerberosEndpoint:                  base + "/kerberos",
		TenantRegionScope:                 region,
		CloudInstanceName:                 "microsoftonline.com",
		CloudGraphHostName:                "graph.windows.net",
		MsgraphHost:                       wellknown.GraphHost,
		RbacURL:                           "https://pas.windows.net",
	}
	issTenant := seg
	switch seg {
	case "common", "organizations":
		issTenant = "{tenantid}"
	case "consumers":
		// Personal accounts live in one tenant, whose id the consumers
		// documents name as issuer (panva/wellknown entra-consumers).
		issTenant = msaTenantID
	}
	if v2 {
		d.TokenEndpoint = base + "/oauth2/v2.0/token"
		d.JWKSURI = base + "/discovery/v2.0/keys"
		d.ResponseTypesSupported = []string{"code", "id_token", "code id_token", "id_token token"}
		d.ScopesSupported = []string{"openid", "profile", "email", "offline_access"}
		d.Issuer = s.publicURL + "/" + issTenant + "/v2.0"
		d.RequestURIParameterSupported = &f
		d.UserinfoEndpoint = "https://" + wellknown.GraphHost + "/oidc/userinfo"
		d.AuthorizationEndpoint = base + "/oauth2/v2.0/authorize"
		d.DeviceAuthorizationEndpoint = base + "/oauth2/v2.0/devicecode"
		d.EndSessionEndpoint = base + "/oauth2/v2.0/logout"
		d.ClaimsSupported = []string{"sub", "iss", "cloud_instance_name", "cloud_instance_host_name", "cloud_graph_host_name",
			"msgraph_host", "aud", "exp", "iat", "auth_time", "acr", "nonce", "preferred_username", "name", "tid", "ver",
			"at_hash", "c_hash", "email"}
		return d
	}
	d.TokenEndpoint = base + "/oauth2/token"
	d.JWKSURI = s.publicURL + "/common/discovery/keys"
	d.ResponseTypesSupported = []string{"code", "id_token", "code id_token", "token id_token", "token"}
	d.ScopesSupported = []string{"openid"}
	d.Issuer = "https://" + wellknown.STSHost + "/" + issTenant + "/"
	d.MicrosoftMultiRefreshToken = &t
	d.UserinfoEndpoint = base + "/openid/userinfo"
	d.AuthorizationEndpoint = base + "/oauth2/authorize"
	d.DeviceAuthorizationEndpoint = base + "/oauth2/devicecode"
	d.EndSessionEndpoint = base + "/oauth2/logout"
	d.CheckSessionIframe = base + "/oauth2/checksession"
	d.ClaimsSupported = []string{"sub", "iss", "cloud_instance_name", "cloud_instance_host_name", "cloud_graph_host_name",
		"msgraph_host", "aud", "exp", "iat", "auth_time", "acr", "amr", "nonce", "email", "given_name", "family_name", "nickname"}
	return d
}

// resolveSegment maps a tenant path segment to the GUID used in documents,
// "common"/"organizations" to themselves.
func (s *Server) resolveSegment(seg string) (string, *stsError) {
	low := strings.ToLower(seg)
	if low == "common" || low == "organizations" || low == "consumers" {
		return low, nil
	}
	s.mu.RLock()
	t := s.dir.tenant(low)
	s.mu.RUnlock()
	if t != nil {
		return t.ID, nil
	}
	if _, err := uuid.Parse(low); err != nil && !strings.Contains(low, ".") {
		return "", errTenantMalformed(seg)
	}
	return "", errTenantNotFound(seg)
}

func (s *Server) discovery(v2 bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		seg, e := s.resolveSegment(mux.Vars(r)["tenant"])
		if e != nil {
			s.writeSTSError(w, r, e)
			return
		}
		key := strconv.FormatBool(v2) + "/" + seg
		s.mu.RLock()
		b := s.disco[key]
		s.mu.RUnlock()
		if b == nil {
			var err error
			if b, err = json.Marshal(s.buildDiscovery(seg, v2)); err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
				return
			}
			s.mu.Lock()
			s.disco[key] = b
			s.mu.Unlock()
		}
		discoveryHeaders(w.Header())
		_, _ = w.Write(b)
	}
}

// jwks serves the published keys; the bytes are computed once per key set.
// v1 and v2 paths publish the same keys, the v2 ones with an issuer.
func (s *Server) jwks(v2 bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if seg := mux.Vars(r)["tenant"]; !strings.EqualFold(seg, "common") {
			if _, e := s.resolveSegment(seg); e != nil {
				s.writeSTSError(w, r, e)
				return
			}
		}
		s.mu.RLock()
		b := s.keys.document(s.clock.Now(), v2)
		s.mu.RUnlock()
		discoveryHeaders(w.Header())
		_, _ = w.Write(b)
	}
}

// instanceDiscovery answers GET /common/discovery/instance the way Entra
// does (reference/aad.md §2.3), so MSAL clients need not disable it.
func (s *Server) instanceDiscovery(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	version := q.Get("api-version")
	if version == "" {
		s.writeSTSError(w, r, errMissingParam("api-version"))
		return
	}
	pub, _ := url.Parse(s.publicURL)
	aliases := []string{pub.Host}
	for _, h := range []string{wellknown.LoginHost, "login.windows.net", "login.microsoft.com", wellknown.STSHost} {
		if h != pub.Host {
			aliases = append(aliases, h)
		}
	}
	tenant := "common"
	if ae := q.Get("authorization_endpoint"); ae != "" {
		u, err := url.Parse(ae)
		known := err == nil && u.Host != ""
		if known {
			known = false
			for _, a := range aliases {
				// MSAL Python drops the port from the authorization
				// endpoint it sends, so a port-less host matches the
				// alias of the same name on any port.
				if strings.EqualFold(a, u.Host) || (u.Port() == "" && strings.EqualFold(hostOnly(a), u.Hostname())) {
					known = true
				}
			}
		}
		if !known {
			s.writeSTSError(w, r, errInstanceUnknown())
			return
		}
		if seg, _, _ := strings.Cut(strings.TrimPrefix(u.Path, "/"), "/"); seg != "" {
			tenant = seg
		}
	}
	discoveryHeaders(w.Header())
	writeJSON(w, http.StatusOK, map[string]any{
		"tenant_discovery_endpoint": s.publicURL + "/" + tenant + "/v2.0/.well-known/openid-configuration",
		"api-version":               version,
		"metadata": []map[string]any{{
			"preferred_network": pub.Host,
			"preferred_cache":   pub.Host,
			"aliases":           aliases,
		}},
	})
}

// hostOnly strips a port from host[:port].
func hostOnly(hostport string) string {
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		return h
	}
	return hostport
}

// errorPage is what error_uri points at: a short explanation per code.
func (s *Server) errorPage(w http.ResponseWriter, r *http.Request) {
	code := r.URL.Query().Get("code")
	text, ok := errorCodeNames[code]
	if !ok {
		text, ok = signInErrorNames[code]
	}
	if !ok {
		text = "This code is not produced by m365snow's fake Azure AD."
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = fmt.Fprintf(w, "AADSTS%s: %s\n", code, text)
}

var errorCodeNames = map[string]string{
	"50034":   "UserAccountNotFound - the user does not exist in the directory.",
	"50049":   "NoSuchInstanceForDiscovery - unknown or invalid instance.",
	"50057":   "UserDisabled - the user account is disabled.",
	"50059":   "MissingTenantRealmAndNoUserInformationProvided - use a tenant-specific endpoint.",
	"50126":   "InvalidUserNameOrPassword - wrong user name or password.",
	"70003":   "UnsupportedGrantType - the app requested an unsupported grant type.",
	"90002":   "InvalidTenantName - the tenant was not found.",
	"500011":  "InvalidResourceServicePrincipalNotFound - the resource has no service principal in the tenant.",
	"700016":  "UnauthorizedClient_DoesNotMatchRequest - the application was not found in the directory.",
	"700022":  "InvalidMultipleResourcesScope - a scope may name one resource only.",
	"700025":  "InvalidClientPublicClientWithCredential - public clients send no secret.",
	"900023":  "InvalidTenantIdentifier - the tenant identifier is neither a GUID nor a DNS name.",
	"900144":  "InvalidRequestParameter - a required parameter is missing.",
	"900561":  "BadRequestUnsupportedMethod - the token endpoint accepts POST only.",
	"901002":  "AdalRequestResourceParameterNotSupported - use scope on the v2 endpoint.",
	"1002012": "InvalidScope - client credential flows need <resource>/.default.",
	"7000215": "InvalidClientSecretProvided - send the secret value, not its ID.",
	"7000218": "InvalidClientCredentials - the request has neither client_secret nor client_assertion.",
	"7000222": "InvalidClientSecretExpiredKeysProvided - create a new secret.",
	"7000229": "ClientMissingServicePrincipal - create a service principal for the app in this tenant.",
}

// Control-plane routes for signing keys.

func (s *Server) adminKeys(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"published": s.SigningKeyIDs(), "signing": s.ActiveSigningKeyID()})
}

// adminRollover schedules Entra's rollover: {"overlap": "24h"}.
func (s *Server) adminRollover(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Overlap string `json:"overlap"`
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxFormBody))
	dec.DisallowUnknownFields()
	err := dec.Decode(&req)
	d, perr := time.ParseDuration(req.Overlap)
	if err != nil || perr != nil || d < 0 {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": `body must be {"overlap": "<Go duration, e.g. 24h>"}`})
		return
	}
	kid, err := s.RolloverSigningKey(d)
	if err != nil {
		writeJSON(w, http.StatusConflict, map[string]string{"error": err.Error()})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"next": kid, "published": s.SigningKeyIDs(), "signing": s.ActiveSigningKeyID()})
}

func (s *Server) adminRotate(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Key string `json:"key"`
	}
	if r.ContentLength != 0 {
		dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxFormBody))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&req); err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
			return
		}
	}
	kid, err := s.RotateSigningKey(req.Key)
	if err != nil {
		writeJSON(w, http.StatusConflict, map[string]string{"error": err.Error()})
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"signing": kid})
}

func (s *Server) adminRetire(w http.ResponseWriter, r *http.Request) {
	var req struct {
		KID string `json:"kid"`
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxFormBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil || req.KID == "" {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": errors.Join(errors.New(`body must be {"kid": "..."}`), err).Error()})
		return
	}
	if err := s.RetireSigningKey(req.KID); err != nil {
		writeJSON(w, http.StatusConflict, map[string]string{"error": err.Error()})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"published": s.SigningKeyIDs()})
}
