// Package faults makes a fake misbehave on purpose: answer an endpoint with
// an error status, a malformed body, a delay or a dropped connection. The
// troubleshooting scenarios induce outages through it, and the control plane
// exposes it as /__admin/faults.
package faults

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
)

// Fault describes one misbehaviour and the requests it applies to.
type Fault struct {
	// ID is assigned by Set.Add when empty.
	ID string `json:"id,omitempty" yaml:"id,omitempty"`
	// Method restricts the fault to one HTTP method; empty matches any.
	Method string `json:"method,omitempty" yaml:"method,omitempty"`
	// Path is a pattern over the request path: "*" matches exactly one
	// segment, a final "**" matches whatever remains (including nothing).
	Path string `json:"path" yaml:"path"`
	// Status answers with this HTTP status. Without Body, the fake's own
	// error shape for that status is used.
	Status int `json:"status,omitempty" yaml:"status,omitempty"`
	// Body is sent verbatim with Status.
	Body string `json:"body,omitempty" yaml:"body,omitempty"`
	// ContentType goes with Body (default application/json).
	ContentType string `json:"contentType,omitempty" yaml:"contentType,omitempty"`
	// Malformed answers with a truncated JSON document (status 200 unless
	// Status is set).
	Malformed bool `json:"malformed,omitempty" yaml:"malformed,omitempty"`
	// Delay holds the answer back; alone, the request then proceeds
	// normally.
	Delay Duration `json:"delay,omitempty" yaml:"delay,omitempty"`
	// Drop closes the connection without answering, as an unreachable or
	// crashing server would.
	Drop bool `json:"drop,omitempty" yaml:"drop,omitempty"`
	// Times limits how many requests the fault applies to; 0 means until
	// it is removed.
	Times int `json:"times,omitempty" yaml:"times,omitempty"`
	// Hits counts the requests the fault applied to (read-only).
	Hits int `json:"hits" yaml:"hits,omitempty"`
}

// Validate reports a fault that could never do anything.
func (f Fault) Validate() error {
	if f.Path == "" || f.Path[0] != '/' {
		return fmt.Errorf("fault path %q must start with /", f.Path)
	}
	if f.Status == 0 && !f.Malformed && f.Delay == 0 && !f.Drop {
		return errors.New("fault needs an effect: status, malformed, delay or drop")
	}
	if f.Status != 0 && (f.Status < 100 || f.Status > 599) {
		return fmt.Errorf("fault status %d is not an HTTP status", f.Status)
	}
	if f.Drop && (f.Status != 0 || f.Malformed) {
		return errors.New("a dropped connection cannot also carry a status or body")
	}
	if f.Times < 0 || f.Delay < 0 {
		return errors.New("fault times and delay must not be negative")
	}
	return nil
}

func (f Fault) matches(r *http.Request) bool {
	if f.Method != "" && !strings.EqualFold(f.Method, r.Method) {
		return false
	}
	return MatchPath(f.Path, r.URL.Path)
}

// MatchPath reports whether path matches pattern (see Fault.Path).
func MatchPath(pattern, path string) bool {
	ps := strings.Split(strings.Trim(pattern, "/"), "/")
	xs := strings.Split(strings.Trim(path, "/"), "/")
	for i, p := range ps {
		if p == "**" && i == len(ps)-1 {
			return true
		}
		if i >= len(xs) || (p != "*" && p != xs[i]) {
			return false
		}
	}
	return len(ps) == len(xs)
}

// ErrorBody renders a fake's own error body for a status; each fake passes
// one so that injected errors look like its real ones.
type ErrorBody func(status int) (contentType string, body []byte)

// RequestErrorBody is an ErrorBody for a fake whose endpoint families
// answer errors in different shapes: it sees the request and may set
// response headers (Retry-After on a 429, request ids).
type RequestErrorBody func(r *http.Request, h http.Header, status int) (contentType string, body []byte)

// Set holds the active faults of one fake. It is safe for concurrent use.
type Set struct {
	mu      sync.Mutex
	faults  []*Fault
	body    ErrorBody
	reqBody RequestErrorBody
}

// NewSet returns an empty Set whose status-only faults answer with body.
func NewSet(body ErrorBody) *Set { return &Set{body: body} }

// NewRequestSet returns an empty Set whose status-only faults answer with
// body, chosen per request.
func NewRequestSet(body RequestErrorBody) *Set { return &Set{reqBody: body} }

// Add validates and activates f, returning its ID.
func (s *Set) Add(f Fault) (string, error) {
	if err := f.Validate(); err != nil {
		return "", err
	}
	if f.ID == "" {
		f.ID = uuid.NewString()
	}
	f.Hits = 0
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, g := range s.faults {
		if g.ID == f.ID {
			return "", fmt.Errorf("fault %q already exists", f.ID)
		}
	}
	s.faults = append(s.faults, &f)
	return f.ID, nil
}

// Remove deactivates the fault with id; it reports whether one was found.
func (s *Set) Remove(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, f := range s.faults {
		if f.ID == id {
			s.faults = append(s.faults[:i], s.faults[i+1:]...)
			return true
		}
	}
	return false
}

// Clear removes every fault.
func (s *Set) Clear() {
	s.mu.Lock()
	s.faults = nil
	s.mu.Unlock()
}

// List returns copies of the active faults, oldest first.
func (s *Set) List() []Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Fault, len(s.faults))
	for i, f := range s.faults {
		out[i] = *f
	}
	return out
}

// take finds the first fault matching r, counts the hit and retires a fault
// whose Times are used up.
func (s *Set) take(r *http.Request) (Fault, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, f := range s.faults {
		if !f.matches(r) {
			continue
		}
		f.Hits++
		hit := *f
		if f.Times > 0 && f.Hits >= f.Times {
			s.faults = append(s.faults[:i], s.faults[i+1:]...)
		}
		return hit, true
	}
	return Fault{}, false
}

// Middleware applies the first matching fault before next runs. Requests
// under /__admin/ are never faulted, so a fake can always be repaired.
func (s *Set) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/__admin/") {
			next.ServeHTTP(w, r)
			return
		}
		f, ok := s.take(r)
		if !ok {
			next.ServeHTTP(w, r)
			return
		}
		if f.Delay > 0 {
			t := time.NewTimer(time.Duration(f.Delay))
			select {
			case <-t.C:
			case <-r.Context().Done():
				t.Stop()
				return
			}
		}
		switch {
		case f.Drop:
			drop(w)
		case f.Malformed:
			status := f.Status
			if status == 0 {
				status = http.StatusOK
			}
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(status)
			_, _ = w.Write([]byte(`{"result":{"id":"`))
		case f.Status != 0:
			ct, body := f.ContentType, []byte(f.Body)
			switch {
			case f.Body == "" && s.reqBody != nil:
				ct, body = s.reqBody(r, w.Header(), f.Status)
			case f.Body == "" && s.body != nil:
				ct, body = s.body(f.Status)
			}
			if ct == "" {
				ct = "application/json"
			}
			w.Header().Set("Content-Type", ct)
			w.Header().Set("Content-Length", strconv.Itoa(len(body)))
			w.WriteHeader(f.Status)
			_, _ = w.Write(body)
		default:
			next.ServeHTTP(w, r)
		}
	})
}

// drop closes the client connection without a response. Hijacking avoids a
// log line in the server; where hijacking is impossible (HTTP/2), aborting
// the handler resets the stream instead.
func drop(w http.ResponseWriter) {
	if hj, ok := w.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			_ = conn.Close()
			return
		}
	}
	panic(http.ErrAbortHandler)
}

// Duration is a time.Duration written as "1.5s", "61m" in JSON and YAML.
type Duration time.Duration

// MarshalJSON writes the duration as a string.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

// UnmarshalJSON accepts "2s" or a number of nanoseconds.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		v, err := time.ParseDuration(s)
		if err != nil {
			return err
		}
		*d = Duration(v)
		return nil
	}
	var n int64
	if err := json.Unmarshal(b, &n); err != nil {
		return fmt.Errorf("duration must be a string such as \"2s\": %s", b)
	}
	*d = Duration(n)
	return nil
}

// MarshalYAML writes the duration as a string.
func (d Duration) MarshalYAML() (any, error) { return time.Duration(d).String(), nil }

// UnmarshalYAML accepts "2s".
func (d *Duration) UnmarshalYAML(unmarshal func(any) error) error {
	var s string
	if err := unmarshal(&s); err != nil {
		return err
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}
