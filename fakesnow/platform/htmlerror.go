package platform

import (
	"fmt"
	"net/http"
)

// writeTomcatError is the HTML error report of the application server an
// instance runs on, for requests refused before any ServiceNow code sees
// them. A URL too long for the server's request-header buffer is one:
// KB0826932 ("HTTP 400 'Request header is too large'…") shows Tomcat's
// "java.lang.IllegalArgumentException: Request header is too large" and an
// HTTP 400 in the browser. The page follows Tomcat's ErrorReportValve
// layout; its exact bytes on an instance are not published.
func writeTomcatError(w http.ResponseWriter, status int, message string) {
	h := w.Header()
	h.Set("Content-Type", "text/html;charset=utf-8")
	h.Set("Content-Language", "en")
	w.WriteHeader(status)
	title := fmt.Sprintf("HTTP Status %d – %s", status, http.StatusText(status))
	fmt.Fprintf(w, `<!doctype html><html lang="en"><head><title>%s</title></head><body><h1>%s</h1><hr class="line" /><p><b>Type</b> Exception Report</p><p><b>Message</b> %s</p><p><b>Description</b> The server cannot or will not process the request due to something that is perceived to be a client error (e.g., malformed request syntax, invalid request message framing, or deceptive request routing).</p><hr class="line" /><h3>Apache Tomcat</h3></body></html>`,
		title, title, message)
}
