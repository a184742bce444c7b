package platform

import (
	"bytes"
	"io"
	"mime"
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Outbound returns an http.Client for code of scope running as user. It
// goes through the instance's transport (host mapping) and writes one
// sys_outbound_http_log row per request, failed or not, with the host name
// as the URL spells it.
func (i *Instance) Outbound(scope, user string) *http.Client {
	return &http.Client{
		Transport: &loggingTransport{inst: i, scope: scope, user: user},
		Timeout:   30 * time.Second,
		// ServiceNow's RESTMessageV2 does not follow redirects silently;
		// neither does the fake, so a redirect shows up in the log.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

type loggingTransport struct {
	inst        *Instance
	scope, user string
}

const maxLoggedRead = 10 << 20

func (t *loggingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	i := t.inst
	level := i.Property(PropOutboundLogLevel)
	limit := atoiDefault(i.Property(PropOutboundBodyLimit), 100)
	if limit > 1000 {
		limit = 1000
	}
	row := map[string]string{
		"url": req.URL.String(), "hostname": req.URL.Hostname(), "path": req.URL.Path,
		"http_method": req.Method, "source_scope": t.scope,
	}
	if level == "elevated" || level == "all" {
		row["request_headers"] = headerText(req.Header)
	}
	if level == "all" && req.Body != nil && req.Body != http.NoBody {
		b, err := io.ReadAll(io.LimitReader(req.Body, maxLoggedRead))
		req.Body.Close()
		if err != nil {
			return nil, err
		}
		req.Body = io.NopCloser(bytes.NewReader(b))
		if textual(req.Header.Get("Content-Type")) {
			row["request_body"] = clip(maskSecrets(string(b)), limit)
		}
	}
	start := time.Now()
	resp, err := i.transport.RoundTrip(req)
	if err != nil {
		row["error_message"] = err.Error()
		row["response_time"] = strconv.FormatInt(time.Since(start).Milliseconds(), 10)
		i.logOutbound(row, t.user)
		return nil, err
	}
	body, rerr := io.ReadAll(io.LimitReader(resp.Body, maxLoggedRead))
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(body))
	row["http_status"] = strconv.Itoa(resp.StatusCode)
	row["response_time"] = strconv.FormatInt(time.Since(start).Milliseconds(), 10)
	if rerr != nil {
		row["error_message"] = "reading the response: " + rerr.Error()
	}
	if level == "elevated" || level == "all" {
		row["response_headers"] = headerText(resp.Header)
	}
	if level == "all" && textual(resp.Header.Get("Content-Type")) {
		row["response_body"] = clip(string(body), limit)
	}
	i.logOutbound(row, t.user)
	if rerr != nil {
		return nil, rerr
	}
	return resp, nil
}

func (i *Instance) logOutbound(row map[string]string, user string) {
	i.mu.Lock()
	defer i.mu.Unlock()
	_, _ = i.insertLocked("sys_outbound_http_log", row, user, "", false)
	i.trimLocked("sys_outbound_http_log")
}

func textual(ct string) bool {
	mt, _, _ := mime.ParseMediaType(ct)
	return strings.HasPrefix(mt, "text/") || strings.HasSuffix(mt, "json") || strings.HasSuffix(mt, "xml") || mt == "application/x-www-form-urlencoded"
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

var secretParam = regexp.MustCompile(`(?i)\b(client_secret|password|refresh_token|client_assertion)=[^&]*`)

// maskSecrets hides credentials in logged form bodies.
func maskSecrets(s string) string {
	return secretParam.ReplaceAllString(s, "$1=********")
}

// headerText renders headers one per line, Authorization masked.
func headerText(h http.Header) string {
	keys := make([]string, 0, len(h))
	for k := range h {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		v := strings.Join(h[k], ", ")
		if strings.EqualFold(k, "Authorization") {
			scheme, _, _ := strings.Cut(v, " ")
			v = scheme + " ********"
		}
		b.WriteString(k + ": " + v + "\n")
	}
	return b.String()
}
