package platform

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"sort"
	"strconv"
	"strings"
)

// The Batch API (POST /api/now/v1/batch) runs several REST calls in one
// request, as the batch's caller, and answers each one base64-encoded.
//
// Wire details (docs/fidelity.md, "Batch API"): ServiceNow's Batch API
// reference (request members batch_request_id, rest_requests[].id, method,
// url, headers[{name,value}], body (base64), exclude_response_headers;
// answer members batch_request_id, serviced_requests[].id, body (base64),
// status_code, status_text, headers, execution_time, unserviced_requests;
// the answer is not wrapped in "result"). Only the v1 path exists: the
// unversioned and v2 paths answer "Requested URI does not represent any
// resource" (community capture, developer forum 2623575). PySNC sends
// batch_request_id as a JSON number and compares the echo as a string.

type batchRequest struct {
	BatchRequestID json.RawMessage `json:"batch_request_id"`
	RestRequests   []batchItem     `json:"rest_requests"`
}

type batchItem struct {
	ID      json.RawMessage `json:"id"`
	Method  string          `json:"method"`
	URL     string          `json:"url"`
	Body    string          `json:"body"`
	Headers []batchHeader   `json:"headers"`
	// ExcludeResponseHeaders drops the item's headers from the answer.
	ExcludeResponseHeaders bool `json:"exclude_response_headers"`
}

type batchHeader struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

type batchServiced struct {
	ID            string        `json:"id"`
	Body          string        `json:"body"`
	StatusCode    int           `json:"status_code"`
	StatusText    string        `json:"status_text"`
	Headers       []batchHeader `json:"headers"`
	ExecutionTime int64         `json:"execution_time"`
	ErrorMessage  string        `json:"error_message,omitempty"`
}

type batchAnswer struct {
	BatchRequestID string          `json:"batch_request_id"`
	Serviced       []batchServiced `json:"serviced_requests"`
	Unserviced     []string        `json:"unserviced_requests"`
}

// rawString reads a JSON string or number as text ("" for null/absent).
func rawString(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	t := strings.TrimSpace(string(raw))
	if t == "null" {
		return ""
	}
	return t
}

type batchCallerKey struct{}

// batchCallerFrom is the caller a batch item runs as, if r is one.
func batchCallerFrom(ctx context.Context) *Caller {
	c, _ := ctx.Value(batchCallerKey{}).(*Caller)
	return c
}

// itemRecorder captures one batch item's answer.
type itemRecorder struct {
	h      http.Header
	status int
	body   bytes.Buffer
}

func (r *itemRecorder) Header() http.Header { return r.h }
func (r *itemRecorder) WriteHeader(status int) {
	if r.status == 0 {
		r.status = status
	}
}
func (r *itemRecorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.body.Write(b)
}

func (i *Instance) batch(w http.ResponseWriter, r *http.Request, c *Caller) {
	var req batchRequest
	if err := decodeJSON(r, &req); err != nil {
		WriteBodyError(w, r, err)
		return
	}
	if req.RestRequests == nil {
		// Modelled: the reference marks rest_requests required but gives no
		// error body for its absence.
		WriteError(w, http.StatusBadRequest, "Exception while reading request", "rest_requests is required")
		return
	}
	ans := batchAnswer{BatchRequestID: rawString(req.BatchRequestID), Serviced: []batchServiced{}, Unserviced: []string{}}
	maxIn, maxOut := i.batchLimits(r)
	for k, item := range req.RestRequests {
		body, decodeErr := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(item.Body), ""))
		if len(body) > maxIn {
			ans.Unserviced = unserviced(req.RestRequests[k:])
			break
		}
		served, outLen := i.batchItem(r.Context(), c, item, body, decodeErr)
		if outLen > maxOut {
			// The item ran; its answer is over the limit, so the batch
			// stops here and returns it and the rest as unserviced.
			ans.Unserviced = unserviced(req.RestRequests[k:])
			break
		}
		ans.Serviced = append(ans.Serviced, served)
	}
	b, _ := json.Marshal(ans)
	h := w.Header()
	noCache(h)
	h.Set("Content-Type", "application/json;charset=UTF-8")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b)
}

// Size limits of the Batch API reference ("Size and processing limits"):
// "Each item in the request: 5 MB. You can change this default by updating
// the glide.rest.batch.max.inputSize system property. Maximum value: 10
// MB." "Each item in the response: 10 MB … glide.rest.batch.max.outputSize
// … or adding the X-BATCHREQUEST-MAX-OUTPUT-SIZE header to your request.
// The … header value cannot exceed the value of the system property."
// "When a batch request reaches a size or processing limit, the system
// cancels the transaction and returns unprocessed requests in the
// unserviced JSON array." The properties' unit is not documented: the fake
// reads bytes (docs/fidelity.md).
const (
	PropBatchMaxInputSize  = "glide.rest.batch.max.inputSize"
	PropBatchMaxOutputSize = "glide.rest.batch.max.outputSize"
	batchInputSizeDefault  = 5 << 20
	batchInputSizeCeiling  = 10 << 20
	batchOutputSizeDefault = 10 << 20
)

// batchLimits are the item size limits in force for r, in bytes.
func (i *Instance) batchLimits(r *http.Request) (maxIn, maxOut int) {
	positive := func(s string) (int, bool) {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		return n, err == nil && n > 0
	}
	maxIn, maxOut = batchInputSizeDefault, batchOutputSizeDefault
	if n, ok := positive(i.Property(PropBatchMaxInputSize)); ok {
		maxIn = min(n, batchInputSizeCeiling)
	}
	if n, ok := positive(i.Property(PropBatchMaxOutputSize)); ok {
		maxOut = n
	}
	if n, ok := positive(r.Header.Get("X-BATCHREQUEST-MAX-OUTPUT-SIZE")); ok {
		maxOut = min(n, maxOut)
	}
	return maxIn, maxOut
}

// unserviced lists the ids of the items a cancelled batch did not answer.
func unserviced(items []batchItem) []string {
	ids := make([]string, 0, len(items))
	for _, it := range items {
		ids = append(ids, rawString(it.ID))
	}
	return ids
}

// batchItem runs one item, whose decoded body is body (err when it was
// not base64), through the instance's own router; outLen is the size of
// its answer's body.
func (i *Instance) batchItem(ctx context.Context, c *Caller, item batchItem, body []byte, err error) (served batchServiced, outLen int) {
	out := batchServiced{ID: rawString(item.ID), Headers: []batchHeader{}}
	start := i.clock.Now()
	rec := &itemRecorder{h: http.Header{}}
	switch {
	case item.Method == "" || item.URL == "" || !strings.HasPrefix(item.URL, "/"):
		WriteError(rec, http.StatusBadRequest, "Exception while reading request", "A batch item needs an id, a method and a relative url")
	case err != nil:
		WriteError(rec, http.StatusBadRequest, "Exception while reading request", "The body of a batch item must be base64")
	case strings.HasPrefix(strings.SplitN(item.URL, "?", 2)[0], "/api/now/v1/batch"):
		WriteError(rec, http.StatusBadRequest, "Requested URI does not represent any resource", "")
	default:
		sub, err := http.NewRequestWithContext(context.WithValue(ctx, batchCallerKey{}, c), strings.ToUpper(item.Method), i.url+item.URL, bytes.NewReader(body))
		if err != nil {
			WriteError(rec, http.StatusBadRequest, "Exception while reading request", "The url of a batch item is not valid")
			break
		}
		for _, hd := range item.Headers {
			sub.Header.Add(hd.Name, hd.Value)
		}
		sub.RequestURI = item.URL
		i.ServeHTTP(rec, sub)
	}
	if rec.status == 0 {
		rec.status = http.StatusOK
	}
	out.StatusCode = rec.status
	out.StatusText = http.StatusText(rec.status)
	out.Body = base64.StdEncoding.EncodeToString(rec.body.Bytes())
	out.ExecutionTime = i.clock.Now().Sub(start).Milliseconds()
	if !item.ExcludeResponseHeaders {
		names := make([]string, 0, len(rec.h))
		for k := range rec.h {
			names = append(names, k)
		}
		sort.Strings(names)
		for _, k := range names {
			for _, v := range rec.h[k] {
				out.Headers = append(out.Headers, batchHeader{Name: k, Value: v})
			}
		}
		if rec.h.Get("Content-Length") == "" {
			out.Headers = append(out.Headers, batchHeader{Name: "Content-Length", Value: strconv.Itoa(rec.body.Len())})
		}
	}
	return out, rec.body.Len()
}
