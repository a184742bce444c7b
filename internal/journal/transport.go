package journal

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/m365snow/m365snow/internal/clock"
)

// Transport records, as c.Party's, the exchanges that go through next to
// the given hosts. It journals a party that no fake in the process is: a
// connector build under test, whose answers the world only sees from the
// calling side. An exchange is recorded when its response body is closed
// (or, when no answer came, at once with status 0).
func Transport(next http.RoundTripper, c Config, hosts ...string) http.RoundTripper {
	if next == nil {
		next = http.DefaultTransport
	}
	return &recordingTransport{next: next, c: c, clk: clock.OrReal(c.Clock), hosts: hosts}
}

type recordingTransport struct {
	next    http.RoundTripper
	c       Config
	clk     clock.Clock
	hosts   []string
	counter atomic.Uint64
}

func (t *recordingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	host := strings.ToLower(req.URL.Hostname())
	if t.c.Journal == nil || (len(t.hosts) > 0 && !slices.Contains(t.hosts, host)) {
		return t.next.RoundTrip(req)
	}
	started := time.Now()
	e := record{id: fmt.Sprintf("%s-%d", t.c.Party, t.counter.Add(1)), at: t.clk.Now(), party: t.c.Party, method: req.Method,
		host: req.URL.Host, uri: req.URL.RequestURI(), path: req.URL.Path, reqHeader: req.Header.Clone()}
	if req.Body != nil && req.Body != http.NoBody {
		// The transport owns req.Body from here; hand the next one an
		// equivalent body.
		clone := req.Clone(req.Context())
		e.reqBody, e.reqSize, e.reqTrunc = captureBody(clone)
		req = clone
	}
	resp, err := t.next.RoundTrip(req)
	if err != nil {
		e.dur = time.Since(started)
		e.respHeader = http.Header{}
		e.respBody = []byte("(no answer: " + err.Error() + ")")
		e.respSize = int64(len(e.respBody))
		t.c.Journal.add(e)
		return nil, err
	}
	e.status, e.respHeader = resp.StatusCode, resp.Header.Clone()
	resp.Body = &recordingBody{ReadCloser: resp.Body, done: func(b []byte, size int64) {
		e.dur = time.Since(started)
		e.respBody, e.respSize, e.respTrunc = b, size, size > int64(len(b))
		t.c.Journal.add(e)
	}}
	return resp, nil
}

// recordingBody keeps the first MaxBody bytes read and reports once, on
// Close or at the end of the body.
type recordingBody struct {
	io.ReadCloser
	buf  bytes.Buffer
	size int64
	once sync.Once
	done func([]byte, int64)
}

func (b *recordingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if room := MaxBody - b.buf.Len(); room > 0 {
		b.buf.Write(p[:min(n, room)])
	}
	b.size += int64(n)
	if err == io.EOF {
		b.report()
	}
	return n, err
}

func (b *recordingBody) Close() error {
	b.report()
	return b.ReadCloser.Close()
}

func (b *recordingBody) report() {
	b.once.Do(func() { b.done(bytes.Clone(b.buf.Bytes()), b.size) })
}
