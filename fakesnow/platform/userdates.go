package platform

import (
	"strings"
	"time"

	// The fake runs FROM scratch, without /usr/share/zoneinfo: users'
	// time zones come from the zone database embedded in the binary.
	_ "time/tzdata"
)

// Date-time display values as an instance renders them: in the user's time
// zone and date/time format (sys_user.time_zone, date_format,
// time_format), falling back to the system's (glide.sys.default.tz,
// glide.sys.date_format, glide.sys.time_format). Values stay in UTC and
// the internal format (TimeFormat). Sources: ServiceNow, "Global date and
// time field format" (glide.sys.date_format "The default format is:
// yyyy-MM-dd", glide.sys.time_format, SimpleDateFormat patterns, "A user
// can override the global date or time format with a personal
// preference"); docs/fidelity.md.

// Defaults of the system properties. An instance with a blank
// glide.sys.default.tz uses America/Los_Angeles (a ServiceNow employee in
// the community, docs/fidelity.md); the fake's system zone is UTC, so
// that a world without time zones reads as its values do.
const (
	PropDefaultTZ       = "glide.sys.default.tz"
	PropDateFormat      = "glide.sys.date_format"
	PropTimeFormat      = "glide.sys.time_format"
	defaultDateFormat   = "yyyy-MM-dd"
	defaultTimeFormat   = "HH:mm:ss"
	defaultSystemZoneID = "UTC"
)

// userDates is how one user reads and writes date-time display values.
type userDates struct {
	loc    *time.Location
	layout string // Go layout of "<date_format> <time_format>"
	key    string // what the read cache keys renders on
}

// userDatesLocked reads the caller's preferences, each falling back to
// the system property and then to the default. A zone or format the fake
// cannot read falls back the same way (an instance validates them when
// they are set; modelled).
func (i *Instance) userDatesLocked(c *Caller) userDates {
	var user Record
	if c != nil {
		user = i.tables["sys_user"].rows[c.SysID]
	}
	pick := func(field, prop, def string, ok func(string) bool) string {
		for _, v := range []string{user[field], i.propertyLocked(prop)} {
			if v = strings.TrimSpace(v); v != "" && ok(v) {
				return v
			}
		}
		return def
	}
	loc := time.UTC
	validZone := func(z string) bool {
		l, err := time.LoadLocation(z)
		if err == nil {
			loc = l
		}
		return err == nil
	}
	validFormat := func(f string) bool { _, ok := javaLayout(f); return ok }
	zone := pick("time_zone", PropDefaultTZ, defaultSystemZoneID, validZone)
	if zone == defaultSystemZoneID {
		loc = time.UTC
	}
	dateLayout, _ := javaLayout(pick("date_format", PropDateFormat, defaultDateFormat, validFormat))
	timeLayout, _ := javaLayout(pick("time_format", PropTimeFormat, defaultTimeFormat, validFormat))
	layout := dateLayout + " " + timeLayout
	return userDates{loc: loc, layout: layout, key: zone + "\x00" + layout}
}

// display renders an internal UTC date-time value for the user; a value
// that is not one is shown as it is.
func (d userDates) display(val string) string {
	t, err := time.Parse(TimeFormat, val)
	if err != nil || d.loc == nil {
		return val
	}
	return t.In(d.loc).Format(d.layout)
}

// parse reads a display value the user typed (their zone and format) as
// the internal UTC value; ok is false when it is not one.
func (d userDates) parse(s string) (string, bool) {
	if d.loc == nil {
		return "", false
	}
	t, err := time.ParseInLocation(d.layout, strings.TrimSpace(s), d.loc)
	if err != nil {
		return "", false
	}
	return t.UTC().Format(TimeFormat), true
}

// javaTokens maps the SimpleDateFormat patterns ServiceNow documents for
// date and time formats to Go layout elements, longest first.
var javaTokens = []struct{ java, gol string }{
	{"yyyy", "2006"}, {"yy", "06"}, {"MMMM", "January"}, {"MMM", "Jan"}, {"MM", "01"}, {"M", "1"},
	{"dd", "02"}, {"d", "2"}, {"HH", "15"}, {"hh", "03"}, {"h", "3"}, {"mm", "04"}, {"ss", "05"}, {"a", "PM"},
}

// javaLayout turns a SimpleDateFormat pattern into a Go layout. Patterns
// with letters outside javaTokens, quoted text or digits (which a Go
// layout would read as elements) are refused.
func javaLayout(p string) (string, bool) {
	var b strings.Builder
	for rest := p; rest != ""; {
		matched := false
		for _, t := range javaTokens {
			if strings.HasPrefix(rest, t.java) {
				b.WriteString(t.gol)
				rest = rest[len(t.java):]
				matched = true
				break
			}
		}
		if matched {
			continue
		}
		c := rest[0]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '\'' || c >= 0x80 {
			return "", false
		}
		b.WriteByte(c)
		rest = rest[1:]
	}
	return b.String(), b.Len() > 0
}
