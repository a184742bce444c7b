package platform

import (
	"net/http"
	"strconv"
	"strings"
)

// Paging as an instance pages (docs/fidelity.md, "Paging"), from recorded
// Link headers of real instances (public client code and test cassettes,
// e.g. dev86373 and dev130168 captures):
//
//	<…/api/now/table/incident?sysparm_limit=1&sysparm_offset=0>;rel="first",
//	<…?sysparm_limit=1&sysparm_offset=-1>;rel="prev",
//	<…?sysparm_limit=1&sysparm_offset=1>;rel="next",
//	<…?sysparm_limit=1&sysparm_offset=72>;rel="last"   (X-Total-Count: 73)
//
// The client's parameters keep their order and their encoding; the
// offset's value is replaced where the client put it, and sysparm_limit
// and sysparm_offset are appended (in that order) when absent. prev is
// offset-limit, present even on the first page, where it is negative.
// last is the start of the last full-limit page, (total-1)/limit*limit
// (73 rows by 1: 72; 28,124 by 10,000: 20,000).
//
// The Table API reference documents sysparm_limit as applied before ACL
// evaluation: a page holds the query's rows at [offset, offset+limit)
// that the caller may see, so it can be short, and X-Total-Count counts
// the query's rows.

// linkHeader renders the first, prev, next and last links.
func (i *Instance) linkHeader(r *http.Request, total, offset, limit int) string {
	if limit <= 0 {
		return ""
	}
	var pieces []string
	offAt, hasLimit := -1, false
	for _, p := range strings.Split(r.URL.RawQuery, "&") {
		if p == "" {
			continue
		}
		name, _, _ := strings.Cut(p, "=")
		switch name {
		case "sysparm_offset":
			if offAt >= 0 {
				continue // one offset, where the client first put it
			}
			offAt = len(pieces)
		case "sysparm_limit":
			if hasLimit {
				continue
			}
			hasLimit = true
			p = "sysparm_limit=" + strconv.Itoa(limit)
		}
		pieces = append(pieces, p)
	}
	if !hasLimit {
		pieces = append(pieces, "sysparm_limit="+strconv.Itoa(limit))
	}
	if offAt < 0 {
		offAt = len(pieces)
		pieces = append(pieces, "")
	}
	prefix := i.linkURL + r.URL.Path + "?"
	var b strings.Builder
	link := func(off int, rel string) {
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		pieces[offAt] = "sysparm_offset=" + strconv.Itoa(off)
		b.WriteByte('<')
		b.WriteString(prefix)
		b.WriteString(strings.Join(pieces, "&"))
		b.WriteString(`>;rel="`)
		b.WriteString(rel)
		b.WriteByte('"')
	}
	last := 0
	if total > 0 {
		last = (total - 1) / limit * limit
	}
	link(0, "first")
	link(offset-limit, "prev")
	if offset+limit < total {
		link(offset+limit, "next")
	}
	link(last, "last")
	return b.String()
}
