package fakeaad

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"

	"github.com/google/uuid"
)

// stsError is an error of the token and discovery endpoints, rendered in
// Entra's JSON shape (reference/aad.md §4.1).
type stsError struct {
	status int
	code   string // the OAuth "error" value
	aadsts int
	text   string // the message after "AADSTSnnnn: "
}

func (e *stsError) Error() string { return fmt.Sprintf("AADSTS%d: %s", e.aadsts, e.text) }

// The catalogue. Statuses and codes follow reference/aad.md §4.2; where the
// reference marks a status unconfirmed, RFC 6749's convention is used
// (invalid_client 401, everything else 400).
func errTenantNotFound(t string) *stsError {
	return &stsError{400, "invalid_tenant", 90002, fmt.Sprintf("Tenant '%s' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. Check with your subscription administrator, this may happen if there are no active subscriptions for the tenant.", t)}
}

func errTenantMalformed(t string) *stsError {
	return &stsError{400, "invalid_request", 900023, fmt.Sprintf("Specified tenant identifier '%s' is neither a valid DNS name, nor a valid external domain.", t)}
}

func errNoTenantInfo() *stsError {
	return &stsError{400, "invalid_request", 50059, "No tenant-identifying information found in either the request or implied by any provided credentials."}
}

func errMissingParam(name string) *stsError {
	return &stsError{400, "invalid_request", 900144, fmt.Sprintf("The request body must contain the following parameter: '%s'.", name)}
}

func errMethod(method string) *stsError {
	return &stsError{400, "invalid_request", 900561, fmt.Sprintf("The endpoint only accepts POST, OPTIONS requests. Received a %s request.", method)}
}

func errUnsupportedGrant(gt string) *stsError {
	return &stsError{400, "unsupported_grant_type", 70003, fmt.Sprintf("The app requested an unsupported grant type '%s'.", gt)}
}

func errAppNotFound(appID, tenantName string) *stsError {
	return &stsError{400, "unauthorized_client", 700016, fmt.Sprintf("Application with identifier '%s' was not found in the directory '%s'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.", appID, tenantName)}
}

func errMissingServicePrincipal(appID, tid string) *stsError {
	return &stsError{401, "invalid_client", 7000229, fmt.Sprintf("The client application %s is missing service principal in the tenant %s. See instructions here: https://go.microsoft.com/fwlink/?linkid=2225119", appID, tid)}
}

func errNoSecret() *stsError {
	return &stsError{401, "invalid_client", 7000218, "The request body must contain the following parameter: 'client_assertion' or 'client_secret'."}
}

func errPublicClientSecret() *stsError {
	return &stsError{400, "invalid_request", 700025, "Client is public so neither 'client_assertion' nor 'client_secret' should be presented."}
}

func errBadSecret(appID string) *stsError {
	return &stsError{401, "invalid_client", 7000215, fmt.Sprintf("Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '%s'.", appID)}
}

func errExpiredSecret(appID string) *stsError {
	return &stsError{401, "invalid_client", 7000222, fmt.Sprintf("The provided client secret keys for app '%s' are expired. Visit the Azure portal to create new keys for your app: https://aka.ms/NewClientSecret, or consider using certificate credentials for added security: https://aka.ms/certCreds.", appID)}
}

func errResourceNotFound(resource, tenantName string) *stsError {
	return &stsError{400, "invalid_resource", 500011, fmt.Sprintf("The resource principal named %s was not found in the tenant named %s. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant.", resource, tenantName)}
}

func errScopeNotDefault(scope string) *stsError {
	return &stsError{400, "invalid_scope", 1002012, fmt.Sprintf("The provided value for scope %s is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).", scope)}
}

func errMultipleResources() *stsError {
	return &stsError{400, "invalid_scope", 700022, "The provided value for the input parameter scope is not valid because it contains more than one resource. Scope is not valid."}
}

func errResourceParamOnV2() *stsError {
	return &stsError{400, "invalid_request", 901002, "The 'resource' request parameter isn't supported."}
}

func errUserNotFound(upn, tid string) *stsError {
	return &stsError{400, "invalid_grant", 50034, fmt.Sprintf("The user account %s does not exist in the %s directory. To sign into this application, the account must be added to the directory.", upn, tid)}
}

func errBadPassword() *stsError {
	return &stsError{400, "invalid_grant", 50126, "Error validating credentials due to invalid username or password."}
}

func errUserDisabled() *stsError {
	return &stsError{400, "invalid_grant", 50057, "The user account is disabled."}
}

func errInstanceUnknown() *stsError {
	return &stsError{400, "invalid_instance", 50049, "Unknown or invalid instance."}
}

// estsServer is the x-ms-ests-server value in Entra's form: build number,
// region and slice ("2.1.11654.16 - WUS2 ProdSlices" in the recording of
// reference/aad.md §1.2). Clients only log it.
const estsServer = "2.1.19340.4 - WUS2 ProdSlices"

// noStore are the headers Entra sends on token responses, errors included.
func noStore(h http.Header, requestID string) {
	h.Set("Cache-Control", "no-store, no-cache")
	h.Set("Pragma", "no-cache")
	h.Set("Expires", "-1")
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
	h.Set("x-ms-request-id", requestID)
	h.Set("x-ms-ests-server", estsServer)
}

// writeSTSError renders e. The trace id doubles as x-ms-request-id; the
// correlation id echoes the client's client-request-id when it sent one.
func (s *Server) writeSTSError(w http.ResponseWriter, r *http.Request, e *stsError) {
	trace := uuid.NewString()
	corr := r.Header.Get("client-request-id")
	if _, err := uuid.Parse(corr); err != nil {
		corr = uuid.NewString()
	}
	ts := s.clock.Now().UTC().Format("2006-01-02 15:04:05Z")
	body := struct {
		Error            string `json:"error"`
		ErrorDescription string `json:"error_description"`
		ErrorCodes       []int  `json:"error_codes"`
		Timestamp        string `json:"timestamp"`
		TraceID          string `json:"trace_id"`
		CorrelationID    string `json:"correlation_id"`
		ErrorURI         string `json:"error_uri"`
	}{
		Error:            e.code,
		ErrorDescription: fmt.Sprintf("AADSTS%d: %s Trace ID: %s Correlation ID: %s Timestamp: %s", e.aadsts, e.text, trace, corr, ts),
		ErrorCodes:       []int{e.aadsts},
		Timestamp:        ts,
		TraceID:          trace,
		CorrelationID:    corr,
		ErrorURI:         s.publicURL + "/error?code=" + strconv.Itoa(e.aadsts),
	}
	noStore(w.Header(), trace)
	w.WriteHeader(e.status)
	_ = json.NewEncoder(w).Encode(body)
}
