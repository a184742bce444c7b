package journal

import (
	"fmt"
	"strings"
)

// Compact renders an entry for people: a status line, the request's
// credential and content type, and both bodies cut to bodyChars.
//
//	#7 fakeaad-3 POST login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/token -> 401 (0.4 ms)
//	  > Content-Type: application/x-www-form-urlencoded
//	  > grant_type=client_credentials&client_id=…&client_secret=%5Bredacted%3A1a2b3c4d%5D
//	  < {"error":"invalid_client", …}
func Compact(e Entry, bodyChars int) string {
	var b strings.Builder
	status := fmt.Sprint(e.Status)
	if e.Status == 0 {
		status = "connection dropped, no answer"
	}
	fmt.Fprintf(&b, "#%d %s %s %s %s -> %s (%.1f ms, %s)\n", e.Seq, e.Party, e.RequestID, e.Method, e.URL, status, e.DurationMS, e.Time.Format("15:04:05"))
	for _, h := range []string{"Authorization", "Cookie", "Content-Type"} {
		for _, v := range e.Request.Headers[h] {
			fmt.Fprintf(&b, "  > %s: %s\n", h, v)
		}
	}
	writeBody(&b, "  > ", e.Request, bodyChars)
	for _, h := range []string{"Content-Type", "Location", "WWW-Authenticate"} {
		for _, v := range e.Response.Headers[h] {
			fmt.Fprintf(&b, "  < %s: %s\n", h, v)
		}
	}
	writeBody(&b, "  < ", e.Response, bodyChars)
	return b.String()
}

func writeBody(b *strings.Builder, prefix string, m Message, max int) {
	if m.Body == "" {
		return
	}
	body := strings.Join(strings.Fields(m.Body), " ") // one line: JSON and forms lose nothing that matters
	cut := m.Truncated
	if max > 0 && len(body) > max {
		body, cut = strings.ToValidUTF8(body[:max], ""), true
	}
	if cut {
		body += fmt.Sprintf(" … (%d bytes in all)", m.Size)
	}
	b.WriteString(prefix + body + "\n")
}
