package platform

import (
	"encoding/json"
	"net/http"
)

// errorBody is ServiceNow's REST error envelope. detail is null when empty.
type errorBody struct {
	Error struct {
		Message string  `json:"message"`
		Detail  *string `json:"detail"`
	} `json:"error"`
	Status string `json:"status"`
}

// ErrorJSON renders the envelope.
func ErrorJSON(message, detail string) []byte {
	var b errorBody
	b.Error.Message = message
	if detail != "" {
		b.Error.Detail = &detail
	}
	b.Status = "failure"
	out, _ := json.Marshal(b)
	return out
}

// noCache sets the cache headers every Table API response carries.
func noCache(h http.Header) {
	// Canonical keys assigned directly: these headers go out with every
	// answer.
	h["Pragma"] = []string{"no-store,no-cache"}
	h["Cache-Control"] = []string{"no-cache,no-store,must-revalidate,max-age=-1"}
	h["Expires"] = []string{"0"}
	h["Server"] = []string{"ServiceNow"}
}

// WriteError writes ServiceNow's error envelope with status.
func WriteError(w http.ResponseWriter, status int, message, detail string) {
	noCache(w.Header())
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.WriteHeader(status)
	_, _ = w.Write(ErrorJSON(message, detail))
}

// WriteResult writes {"result": v} with status.
func WriteResult(w http.ResponseWriter, status int, v any) {
	noCache(w.Header())
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"result": v})
}

// writeUnauthenticated is ServiceNow's 401 (reference/servicenow.md §4.1).
func (i *Instance) writeUnauthenticated(w http.ResponseWriter) {
	w.Header().Set("WWW-Authenticate", `BASIC realm="Service-now"`)
	w.Header().Set("X-Is-Logged-In", "false")
	WriteError(w, http.StatusUnauthorized, "User Not Authenticated", "Required to provide Auth information")
}

// Status-only faults answer with this body.
func FaultBody(status int) (string, []byte) {
	msg := "Service Unavailable"
	if status < 500 {
		msg = http.StatusText(status)
	}
	return "application/json;charset=UTF-8", ErrorJSON(msg, "fault injected by m365snow")
}
