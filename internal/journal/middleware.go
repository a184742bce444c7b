package journal

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/m365snow/m365snow/internal/clock"
)

// Config wires Middleware into a fake.
type Config struct {
	// Party names the fake in entries and log lines: fakeaad, fakesnow,
	// fakem365.
	Party string
	// Journal records every exchange but the control plane's; nil records
	// nothing (the log line is still written).
	Journal *Journal
	// Logger gets one line per request after it is answered: at info, or
	// at debug for /__admin/ and /healthz (compose probes them every few
	// seconds). Nil discards.
	Logger *slog.Logger
	// Clock dates entries; nil is the wall clock.
	Clock clock.Clock
}

type requestIDKey struct{}

// RequestID is the id Middleware gave the request in ctx ("" outside one).
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

// Middleware records and logs every request next answers. Put it
// outermost, so that answers made by injected faults are recorded too.
func Middleware(next http.Handler, c Config) http.Handler {
	log := c.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	clk := clock.OrReal(c.Clock)
	var counter atomic.Uint64
	prefix := c.Party + "-"
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		control := strings.HasPrefix(r.URL.Path, "/__admin/") || r.URL.Path == "/healthz"
		level := slog.LevelInfo
		if control {
			level = slog.LevelDebug
		}
		keep := c.Journal != nil && !control
		if !keep && !log.Enabled(r.Context(), level) {
			next.ServeHTTP(w, r)
			return
		}
		started := time.Now()
		id := prefix + strconv.FormatUint(counter.Add(1), 10)
		r = r.WithContext(context.WithValue(r.Context(), requestIDKey{}, id))
		rec := &recorder{ResponseWriter: w, capture: keep}
		var e record
		if keep {
			e = record{id: id, at: clk.Now(), party: c.Party, method: r.Method, host: r.Host, uri: r.URL.RequestURI(), path: r.URL.Path,
				reqHeader: r.Header.Clone()}
			e.reqBody, e.reqSize, e.reqTrunc = captureBody(r)
		}
		next.ServeHTTP(rec, r)
		if !rec.wrote && !rec.hijacked {
			rec.WriteHeader(http.StatusOK) // what net/http answers for a handler that wrote nothing
		}
		dur := time.Since(started)
		if keep {
			e.status, e.dur = rec.status, dur
			e.respHeader, e.respBody, e.respSize, e.respTrunc = rec.header, rec.body, rec.size, rec.size > int64(len(rec.body))
			if e.respHeader == nil {
				e.respHeader = http.Header{}
			}
			c.Journal.add(e)
		}
		log.LogAttrs(r.Context(), level, "request",
			slog.String("party", c.Party), slog.String("method", r.Method), slog.String("path", r.URL.Path),
			slog.Int("status", rec.status), slog.Duration("latency", dur), slog.String("request_id", id))
	})
}

// captureBody keeps the first MaxBody bytes of the request body and puts
// them back in front of the rest, so the handler reads the body unchanged.
// It reads before the handler does, so that a request refused before its
// body was looked at still shows what was sent.
func captureBody(r *http.Request) (kept []byte, size int64, truncated bool) {
	if r.Body == nil || r.Body == http.NoBody {
		return nil, 0, false
	}
	kept, err := io.ReadAll(io.LimitReader(r.Body, MaxBody))
	rest := r.Body
	if err != nil {
		rest = io.NopCloser(errReader{err})
	}
	r.Body = readCloser{io.MultiReader(bytes.NewReader(kept), rest), r.Body}
	size = int64(len(kept))
	if r.ContentLength > size {
		size, truncated = r.ContentLength, true
	} else if len(kept) == MaxBody {
		truncated = true // chunked, and at least this long
	}
	return kept, size, truncated
}

type readCloser struct {
	io.Reader
	io.Closer
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

// recorder sees the status, the headers and the first MaxBody bytes of the
// answer on their way out.
type recorder struct {
	http.ResponseWriter
	capture  bool
	wrote    bool
	hijacked bool
	status   int
	header   http.Header
	body     []byte
	size     int64
}

func (r *recorder) WriteHeader(code int) {
	if !r.wrote && code >= 200 {
		r.wrote, r.status = true, code
		if r.capture {
			r.header = r.ResponseWriter.Header().Clone()
		}
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	if !r.wrote {
		r.WriteHeader(http.StatusOK)
	}
	if r.capture && len(r.body) < MaxBody {
		r.body = append(r.body, b[:min(len(b), MaxBody-len(r.body))]...)
	}
	r.size += int64(len(b))
	return r.ResponseWriter.Write(b)
}

// Flush and Hijack pass through: the fault middleware drops connections by
// hijacking them.
func (r *recorder) Flush() {
	if f, ok := r.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (r *recorder) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	hj, ok := r.ResponseWriter.(http.Hijacker)
	if !ok {
		return nil, nil, errors.New("journal: the connection cannot be hijacked")
	}
	conn, rw, err := hj.Hijack()
	if err == nil {
		r.hijacked = true
	}
	return conn, rw, err
}

// Unwrap lets http.ResponseController reach the connection.
func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }
