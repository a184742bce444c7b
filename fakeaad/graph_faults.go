package fakeaad

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
)

// Injected faults answer in the shape of the endpoint family they hit:
// Graph's error envelope and headers under /v1.0/, Entra's STS error
// elsewhere. A 429 or 503 carries Retry-After, as both services send it.

// faultRetryAfter is the Retry-After, in seconds, of injected throttling.
const faultRetryAfter = 2

func (s *Server) faultBody(r *http.Request, h http.Header, status int) (string, []byte) {
	if status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable {
		h.Set("Retry-After", strconv.Itoa(faultRetryAfter))
	}
	if strings.HasPrefix(r.URL.Path, "/v1.0/") {
		return graphFaultBody(r, h, status, s.clock.Now())
	}
	return stsFault(h, status, s.clock.Now(), s.publicURL)
}

// graphFaultBody follows Graph's documented shapes; the 429 body is the
// example of concepts/throttling.md (code TooManyRequests, innerError with
// code and status "429").
func graphFaultBody(r *http.Request, h http.Header, status int, now time.Time) (string, []byte) {
	req := uuid.NewString()
	client := r.Header.Get("client-request-id")
	if client == "" {
		client = req
	}
	h.Set("request-id", req)
	h.Set("client-request-id", client)
	h.Set("x-ms-ags-diagnostic", agsDiagnostic)
	date := now.UTC().Format("2006-01-02T15:04:05")
	var body any
	switch {
	case status == http.StatusTooManyRequests:
		body = map[string]any{"error": map[string]any{
			"code": "TooManyRequests", "message": "Please retry again later.",
			"innerError": map[string]string{"code": "429", "date": date, "message": "Please retry after", "request-id": req, "status": "429"},
		}}
	default:
		code, msg := "UnknownError", ""
		switch {
		case status == http.StatusServiceUnavailable:
			code, msg = "serviceNotAvailable", "The service is temporarily unavailable. Please retry after some time."
		case status == http.StatusGatewayTimeout:
			code, msg = "gatewayTimeout", "The request timed out."
		case status >= 500:
			code, msg = "generalException", "An unspecified error has occurred."
		default:
			code, msg = "BadRequest", fmt.Sprintf("The request was refused with HTTP %d (fault injected by m365snow).", status)
		}
		body = graphErrorBody(&graphError{status, code, msg}, now, req, client)
	}
	b, _ := json.Marshal(body)
	return "application/json", b
}

// stsFault is an injected STS error with the STS's headers. Throttling is
// AADSTS90055 (reference-error-codes.md: "TenantThrottlingError - There are
// too many incoming requests"); 5xx is AADSTS90033 (transient) and other
// 4xx a plain invalid_request.
func stsFault(h http.Header, status int, now time.Time, publicURL string) (string, []byte) {
	code, n, text := "temporarily_unavailable", 90033, "A transient error has occurred. Please try again."
	switch {
	case status == http.StatusTooManyRequests:
		n, text = 90055, "There are too many incoming requests. This exception is thrown for blocked tenants."
	case status < 500:
		code, n, text = "invalid_request", 90000, fmt.Sprintf("The request was refused with HTTP %d (fault injected by m365snow).", status)
	}
	trace := uuid.NewString()
	ts := now.UTC().Format("2006-01-02 15:04:05Z")
	noStore(h, trace)
	b, _ := json.Marshal(map[string]any{
		"error":             code,
		"error_description": fmt.Sprintf("AADSTS%d: %s Trace ID: %s Correlation ID: %s Timestamp: %s", n, text, trace, trace, ts),
		"error_codes":       []int{n},
		"timestamp":         ts,
		"trace_id":          trace,
		"correlation_id":    trace,
		"error_uri":         publicURL + "/error?code=" + strconv.Itoa(n),
	})
	return "application/json; charset=utf-8", b
}
