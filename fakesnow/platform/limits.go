package platform

import (
	"errors"
	"mime"
	"net/http"
	"strings"

	"github.com/gorilla/mux"
)

// What one request may cost (issue 11, defect 5). Reads run under the
// instance's read lock and writes under its write lock, so the work a
// request can ask for must be bounded by its size, and its size bounded.
//
// maxRequestTargetBytes bounds the request target (path and query string),
// and with it sysparm_query, sysparm_fields and name=value parameters.
// ServiceNow runs on Apache Tomcat, whose default maxHttpHeaderSize (8 KiB)
// bounds the request line and headers together; the fake bounds the
// target alone at that size and answers as Tomcat does on an instance:
// 400 "Request header is too large" as an HTML error page, not JSON
// (KB0826932; htmlerror.go). The exact limit of a ServiceNow instance is
// not published (docs/fidelity.md).
const maxRequestTargetBytes = 8192

// refuseOversizeTarget answers Tomcat's 400 for a request target over the
// limit and reports whether it did.
func refuseOversizeTarget(w http.ResponseWriter, r *http.Request) bool {
	target := r.RequestURI
	if target == "" {
		target = r.URL.RequestURI()
	}
	if len(target) <= maxRequestTargetBytes {
		return false
	}
	writeTomcatError(w, http.StatusBadRequest, "Request header is too large")
	return true
}

// ErrUnsupportedMedia refuses a body that is declared as something other
// than JSON (reference/servicenow.md, status codes: 415 "Unsupported
// request Content-Type").
var ErrUnsupportedMedia = errors.New("unsupported media type")

// CheckJSONContentType accepts a request whose body is JSON by its
// Content-Type (application/json or any +json type), or that declares no
// type at all (curl --data-binary and most HTTP libraries' defaults
// without a JSON helper; modelled leniency). A request without a body
// passes.
func CheckJSONContentType(r *http.Request) error {
	ct := r.Header.Get("Content-Type")
	if ct == "" || r.ContentLength == 0 {
		return nil
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err == nil && (mt == "application/json" || strings.HasSuffix(mt, "+json")) {
		return nil
	}
	return ErrUnsupportedMedia
}

// catchAllRoute names a route that matches any method (the scripted-API
// dispatcher): it does not make a method allowed.
const catchAllRoute = "catch-all"

// AllowedMethods lists the methods router serves at r's path, for the
// Allow header of a 405 (RFC 9110 §15.5.6).
func AllowedMethods(router *mux.Router, r *http.Request) string {
	var allow []string
	for _, m := range []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
		probe := r.Clone(r.Context())
		probe.Method = m
		var match mux.RouteMatch
		if router.Match(probe, &match) && match.MatchErr == nil && match.Route.GetName() != catchAllRoute {
			allow = append(allow, m)
		}
	}
	return strings.Join(allow, ", ")
}
