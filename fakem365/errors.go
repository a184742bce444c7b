package fakem365

import (
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/google/uuid"
)

// apiError is the error envelope of both the admin portal and the
// connector: {"error":{"code","message"}}, Microsoft's usual REST shape.
// The codes are this project's, documented in CONTRACT.md.
type apiError struct {
	status  int
	code    string
	message string
}

func (e *apiError) Error() string { return e.code + ": " + e.message }

func errorf(status int, code, format string, args ...any) *apiError {
	return &apiError{status, code, fmt.Sprintf(format, args...)}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, e *apiError) {
	w.Header().Set("request-id", uuid.NewString())
	writeJSON(w, e.status, map[string]any{"error": map[string]string{"code": e.code, "message": e.message}})
}

// faultBody is what a status-only fault answers with.
func faultBody(status int) (string, []byte) {
	b, _ := json.Marshal(map[string]any{"error": map[string]string{
		"code":    http.StatusText(status),
		"message": fmt.Sprintf("The service answered HTTP %d (fault injected by m365snow).", status),
	}})
	return "application/json; charset=utf-8", b
}
