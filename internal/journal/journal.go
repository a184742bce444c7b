// Package journal records the HTTP exchanges the fakes serve, as WireMock's
// request journal does (GET /__admin/requests): who was called (the party),
// what came in and what went out, how long it took, and the request id the
// log line of the same request carries. It answers "what did my build send,
// and what did it get back?" without a packet capture.
//
// A Journal is a ring buffer of a fixed number of entries (DefaultSize
// unless told otherwise); the oldest entry goes when a new one comes. Bodies
// are kept up to MaxBody bytes each. Recording copies bytes only: headers,
// bodies and query strings are redacted when entries are read, so the cost
// on a request's path stays a few copies (docs/benchmarks.md measures it).
// Entries never leave the journal unredacted: credentials become their
// scheme and a short keyed hash, secrets in bodies become a short hash.
package journal

import (
	"crypto/rand"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"
)

// DefaultSize is how many exchanges a journal keeps unless told otherwise:
// enough for a whole scenario or a sandbox session's last minutes, and at
// most DefaultSize × 2 × MaxBody (16 MiB) of bodies.
const DefaultSize = 1000

// MaxBody is how many bytes of each request and response body an entry
// keeps; Message.Size says how long the body was.
const MaxBody = 8 << 10

// Entry is one exchange, redacted.
type Entry struct {
	// Seq orders entries in the journal that recorded them (1, 2, ...).
	Seq uint64 `json:"seq"`
	// RequestID is also the request_id of the request's log line.
	RequestID string `json:"requestId"`
	// Time is when the request arrived, read from the fake's clock (the
	// time its tokens and records are dated with).
	Time time.Time `json:"time"`
	// Party is the fake that answered: fakeaad, fakesnow or fakem365 (or
	// "connector" for a connector build outside the world).
	Party  string `json:"party"`
	Method string `json:"method"`
	// URL is scheme-less host, path and query as the client sent them.
	URL  string `json:"url"`
	Path string `json:"path"`
	// Status is the HTTP status answered; 0 when the connection was
	// dropped without an answer (an injected fault).
	Status   int     `json:"status"`
	Request  Message `json:"request"`
	Response Message `json:"response"`
	// DurationMS is the wall time from the request's arrival to the end of
	// the answer, in milliseconds.
	DurationMS float64 `json:"durationMs"`
}

// Message is one side of an exchange.
type Message struct {
	Headers map[string][]string `json:"headers"`
	// Body is the first MaxBody bytes as text, or a note saying what the
	// bytes were when they are not text.
	Body string `json:"body,omitempty"`
	// Size is the whole body's length in bytes (Content-Length when the
	// fake did not read it all).
	Size int64 `json:"size"`
	// Truncated says Body holds only the first MaxBody bytes.
	Truncated bool `json:"truncated,omitempty"`
}

// record is an exchange as captured: unredacted, owned by the journal.
type record struct {
	seq                 uint64
	id                  string
	at                  time.Time
	party, method       string
	host, uri, path     string
	status              int
	reqHeader           http.Header
	reqBody             []byte
	reqSize             int64
	respHeader          http.Header
	respBody            []byte
	respSize            int64
	dur                 time.Duration
	reqTrunc, respTrunc bool
}

// Journal is a bounded, concurrency-safe record of exchanges. The zero
// value is not usable; call New. A nil *Journal records nothing and reads
// as empty.
type Journal struct {
	key []byte // keys the short hashes of redacted values

	mu    sync.Mutex
	ring  []record
	start int // index of the oldest entry
	n     int
	seq   uint64
}

// New makes a journal that keeps the last size exchanges (DefaultSize when
// size <= 0).
func New(size int) *Journal {
	if size <= 0 {
		size = DefaultSize
	}
	key := make([]byte, 16)
	_, _ = rand.Read(key)
	return &Journal{key: key, ring: make([]record, size)}
}

// Size is how many entries the journal keeps.
func (j *Journal) Size() int {
	if j == nil {
		return 0
	}
	return len(j.ring)
}

// add stores r, evicting the oldest entry when full.
func (j *Journal) add(r record) {
	j.mu.Lock()
	j.seq++
	r.seq = j.seq
	if j.n < len(j.ring) {
		j.ring[(j.start+j.n)%len(j.ring)] = r
		j.n++
	} else {
		j.ring[j.start] = r
		j.start = (j.start + 1) % len(j.ring)
	}
	j.mu.Unlock()
}

// Entries returns the entries f selects, oldest first, redacted.
func (j *Journal) Entries(f Filter) []Entry {
	recs := j.selected(f)
	if len(recs) == 0 {
		return nil
	}
	out := make([]Entry, len(recs))
	for i := range recs {
		out[i] = j.redact(&recs[i])
	}
	return out
}

// Count is how many entries f selects.
func (j *Journal) Count(f Filter) int {
	f.Limit = 0
	return len(j.selected(f))
}

// Clear empties the journal; sequence numbers keep counting.
func (j *Journal) Clear() {
	if j == nil {
		return
	}
	j.mu.Lock()
	clear(j.ring)
	j.start, j.n = 0, 0
	j.mu.Unlock()
}

// selected copies the matching records under the lock (records are never
// modified once added, so sharing their slices is safe).
func (j *Journal) selected(f Filter) []record {
	if j == nil {
		return nil
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	var out []record
	for i := 0; i < j.n; i++ {
		r := &j.ring[(j.start+i)%len(j.ring)]
		if f.matches(r) {
			out = append(out, *r)
		}
	}
	if f.Limit > 0 && len(out) > f.Limit {
		out = out[len(out)-f.Limit:]
	}
	return out
}

func (j *Journal) redact(r *record) Entry {
	red := redactor{key: j.key}
	e := Entry{
		Seq: r.seq, RequestID: r.id, Time: r.at, Party: r.party, Method: r.method,
		URL: r.host + red.query(r.uri), Path: r.path, Status: r.status,
		DurationMS: float64(r.dur.Microseconds()) / 1000,
	}
	e.Request = Message{Headers: red.headers(r.reqHeader), Size: r.reqSize, Truncated: r.reqTrunc,
		Body: red.body(r.reqHeader.Get("Content-Type"), r.reqBody)}
	e.Response = Message{Headers: red.headers(r.respHeader), Size: r.respSize, Truncated: r.respTrunc,
		Body: red.body(r.respHeader.Get("Content-Type"), r.respBody)}
	return e
}

// sortedKeys is for stable renderings of header maps.
func sortedKeys(h map[string][]string) []string {
	keys := make([]string, 0, len(h))
	for k := range h {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b string) int { return strings.Compare(strings.ToLower(a), strings.ToLower(b)) })
	return keys
}
