package journal

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Filter selects entries; zero fields select everything.
type Filter struct {
	Party      string // fakeaad, fakesnow, fakem365, connector
	Method     string // case-insensitive
	PathPrefix string
	// Status is an exact status (401) or, below 10, a class: 4 selects
	// 400-499.
	Status int
	// Since and Until bound Entry.Time (inclusive), on the fake's clock.
	Since, Until time.Time
	// After selects entries recorded after the one with this Seq, for
	// polling: ?after=<the last seq seen>.
	After uint64
	// Limit keeps only the last Limit entries selected.
	Limit int
}

// FilterParams documents the query parameters ParseFilter reads, for
// error messages and docs.
const FilterParams = "party, method, path (a prefix), status (401 or 4xx), since and until (RFC 3339), after (a seq), limit (the last N)"

// ParseFilter reads a filter from query parameters:
//
//	?party=fakeaad&method=POST&path=/common/oauth2&status=4xx&since=2026-03-02T09:00:00Z&limit=20
func ParseFilter(q url.Values) (Filter, error) {
	var f Filter
	for k := range q {
		switch k {
		case "party", "method", "path", "status", "since", "until", "after", "limit":
		default:
			return f, fmt.Errorf("unknown filter %q; filters are %s", k, FilterParams)
		}
	}
	f.Party, f.Method, f.PathPrefix = q.Get("party"), q.Get("method"), q.Get("path")
	switch s := strings.ToLower(q.Get("status")); {
	case s == "":
	case len(s) == 3 && strings.HasSuffix(s, "xx") && s[0] >= '1' && s[0] <= '5':
		f.Status = int(s[0] - '0')
	default:
		n, err := strconv.Atoi(s)
		if err != nil || n < 100 || n > 599 {
			return f, fmt.Errorf("status %q: want a status such as 401 or a class such as 4xx", s)
		}
		f.Status = n
	}
	for _, t := range []struct {
		name string
		dst  *time.Time
	}{{"since", &f.Since}, {"until", &f.Until}} {
		if v := q.Get(t.name); v != "" {
			tm, err := time.Parse(time.RFC3339Nano, v)
			if err != nil {
				return f, fmt.Errorf("%s %q: want an RFC 3339 time such as 2026-03-02T09:00:00Z", t.name, v)
			}
			*t.dst = tm
		}
	}
	if v := q.Get("after"); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			return f, fmt.Errorf("after %q: want the seq of an entry", v)
		}
		f.After = n
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return f, fmt.Errorf("limit %q: want a positive number", v)
		}
		f.Limit = n
	}
	return f, nil
}

func (f *Filter) matches(r *record) bool {
	switch {
	case f.Party != "" && r.party != f.Party,
		f.Method != "" && !strings.EqualFold(r.method, f.Method),
		f.PathPrefix != "" && !strings.HasPrefix(r.path, f.PathPrefix),
		f.Status >= 100 && r.status != f.Status,
		f.Status > 0 && f.Status < 10 && r.status/100 != f.Status,
		!f.Since.IsZero() && r.at.Before(f.Since),
		!f.Until.IsZero() && r.at.After(f.Until),
		r.seq <= f.After:
		return false
	}
	return true
}
