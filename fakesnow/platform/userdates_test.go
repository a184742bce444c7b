package platform

import (
	"net/url"
	"testing"
	"time"
)

// TestDateTimesInTheUsersZoneAndFormat: display values of date-times
// follow the caller's sys_user.time_zone, date_format and time_format,
// else glide.sys.default.tz / glide.sys.date_format / glide.sys.time_format
// (ServiceNow, "Global date and time field format": default yyyy-MM-dd,
// SimpleDateFormat patterns, "A user can override the global date or time
// format with a personal preference"); values stay UTC in the internal
// format (Table API reference: sysparm_display_value=false returns "the
// actual values from the database"). With sysparm_input_display_value=true
// a date-time is read in the caller's zone and format.
func TestDateTimesInTheUsersZoneAndFormat(t *testing.T) {
	e := newEnv(t)
	winter := mustFirst(t, e, "number=INC0010001")
	summer := mustFirst(t, e, "number=INC0010002")
	for id, at := range map[string]string{winter: "2026-01-15 18:30:00", summer: "2026-07-15 18:30:00"} {
		if _, err := e.inst.Update("incident", id, map[string]string{"opened_at": at}); err != nil {
			t.Fatal(err)
		}
	}
	cases := []struct {
		name                 string
		zone, date, timeFmt  string // beth.anglin's preferences
		sysZone, sysDate     string // system properties
		display              string
		wantWinter, wantSumm string
	}{
		{"values stay UTC", "America/Los_Angeles", "dd-MM-yyyy", "", "", "", "false", "2026-01-15 18:30:00", "2026-07-15 18:30:00"},
		{"no preferences: the system's UTC and yyyy-MM-dd", "", "", "", "", "", "true", "2026-01-15 18:30:00", "2026-07-15 18:30:00"},
		{"Los Angeles, dd-MM-yyyy (PST, PDT)", "America/Los_Angeles", "dd-MM-yyyy", "", "", "", "true", "15-01-2026 10:30:00", "15-07-2026 11:30:00"},
		{"Europe/Berlin, MM-dd-yyyy", "Europe/Berlin", "MM-dd-yyyy", "", "", "", "true", "01-15-2026 19:30:00", "07-15-2026 20:30:00"},
		{"12-hour time format", "America/New_York", "", "hh:mm:ss a", "", "", "true", "2026-01-15 01:30:00 PM", "2026-07-15 02:30:00 PM"},
		{"the system's zone and format apply without preferences", "", "", "", "Asia/Tokyo", "dd.MM.yyyy", "true", "16.01.2026 03:30:00", "16.07.2026 03:30:00"},
		{"the user's preferences win over the system's", "UTC", "yyyy-MM-dd", "", "Asia/Tokyo", "dd.MM.yyyy", "true", "2026-01-15 18:30:00", "2026-07-15 18:30:00"},
		{"an unknown zone or pattern falls back to the system's", "Mars/Olympus_Mons", "dd-EEE-yyyy", "", "", "", "true", "2026-01-15 18:30:00", "2026-07-15 18:30:00"},
	}
	for _, c := range cases {
		if _, err := e.inst.Update("sys_user", e.ids["beth.anglin"], map[string]string{"time_zone": c.zone, "date_format": c.date, "time_format": c.timeFmt}); err != nil {
			t.Fatal(err)
		}
		for prop, v := range map[string]string{PropDefaultTZ: c.sysZone, PropDateFormat: c.sysDate} {
			if err := e.inst.SetProperty(prop, v); err != nil {
				t.Fatal(err)
			}
		}
		for id, want := range map[string]string{winter: c.wantWinter, summer: c.wantSumm} {
			r := e.call(t, "GET", "/api/now/table/incident/"+id+"?sysparm_fields=opened_at&sysparm_display_value="+c.display, "beth.anglin", "")
			if got := r.record()["opened_at"]; got != want {
				t.Errorf("%s: opened_at %v, want %q", c.name, got, want)
			}
			// Lists render the same, and through the read cache.
			r = e.call(t, "GET", "/api/now/table/incident?sysparm_fields=opened_at&sysparm_query=sys_id%3D"+id+"&sysparm_display_value="+c.display, "beth.anglin", "")
			if list := r.result(); len(list) != 1 || list[0].(map[string]any)["opened_at"] != want {
				t.Errorf("%s: list %s, want %q", c.name, r.raw, want)
			}
		}
	}

	// display_value=all: the display value in the user's zone, the value UTC.
	if _, err := e.inst.Update("sys_user", e.ids["beth.anglin"], map[string]string{"time_zone": "America/Los_Angeles", "date_format": "dd-MM-yyyy", "time_format": ""}); err != nil {
		t.Fatal(err)
	}
	r := e.call(t, "GET", "/api/now/table/incident/"+winter+"?sysparm_fields=opened_at&sysparm_display_value=all", "beth.anglin", "")
	if got, _ := r.record()["opened_at"].(map[string]any); got["display_value"] != "15-01-2026 10:30:00" || got["value"] != "2026-01-15 18:30:00" {
		t.Errorf("all: %s", r.raw)
	}

	inputs := []struct {
		name, params, given, want string
	}{
		{"display input in the user's zone and format", "sysparm_input_display_value=true", "15-07-2026 11:30:00", "2026-07-15 18:30:00"},
		{"display input across the DST change", "sysparm_input_display_value=true", "15-01-2026 10:30:00", "2026-01-15 18:30:00"},
		{"value input is UTC, internal format", "sysparm_input_display_value=false", "2026-07-15 11:30:00", "2026-07-15 11:30:00"},
		{"default is value input", "", "2026-07-15 11:30:00", "2026-07-15 11:30:00"},
		{"display input not in the user's format is read as a value", "sysparm_input_display_value=true", "2026-07-15 11:30:00", "2026-07-15 11:30:00"},
	}
	for _, c := range inputs {
		r := e.call(t, "PATCH", "/api/now/table/incident/"+summer+"?sysparm_fields=opened_at&"+c.params, "beth.anglin", `{"opened_at":"`+c.given+`"}`)
		if got := r.record()["opened_at"]; r.status != 200 || got != c.want {
			t.Errorf("%s: %d %s, want value %q", c.name, r.status, r.raw, c.want)
		}
	}
	r = e.call(t, "PATCH", "/api/now/table/incident/"+summer+"?sysparm_input_display_value=true", "beth.anglin", `{"opened_at":"31-02-2026 10:00:00"}`)
	if r.status != 400 {
		t.Errorf("an impossible date: %d %s, want 400", r.status, r.raw)
	}
}

func TestJavaLayout(t *testing.T) {
	cases := []struct{ java, goLayout string }{
		{"yyyy-MM-dd", "2006-01-02"}, {"dd-MM-yyyy", "02-01-2006"}, {"MM/dd/yyyy", "01/02/2006"}, {"dd.MM.yy", "02.01.06"},
		{"d MMM yyyy", "2 Jan 2006"}, {"HH:mm:ss", "15:04:05"}, {"hh:mm:ss a", "03:04:05 PM"},
		{"EEEE", ""}, {"yyyy'T'", ""}, {"yyyy1", ""}, {"", ""},
	}
	for _, c := range cases {
		got, ok := javaLayout(c.java)
		if got != c.goLayout || ok != (c.goLayout != "") {
			t.Errorf("javaLayout(%q) = %q, %v; want %q", c.java, got, ok, c.goLayout)
		}
	}
}

// TestQueryDayBoundariesInTheUsersZone: javascript: day boundaries and ON
// Today are the caller's day, in their time zone; the bound values stay
// UTC, as stored values are.
func TestQueryDayBoundariesInTheUsersZone(t *testing.T) {
	e := newEnv(t)
	// Now is 18:30 UTC; one incident was opened at 06:30 UTC that day:
	// today in UTC, yesterday in Los Angeles (UTC-7/-8, where it is 10:30
	// or 11:30 now and 22:30 or 23:30 then) and in Tokyo (UTC+9, where it
	// is 03:30 tomorrow now).
	now := e.clock.Now().UTC()
	day := time.Date(now.Year(), now.Month(), now.Day(), 6, 30, 0, 0, time.UTC)
	e.clock.Advance(day.Add(12 * time.Hour).Sub(now)) // 18:30 UTC the same day
	if _, err := e.inst.Insert("incident", map[string]string{"short_description": "early", "opened_at": day.Format(TimeFormat)}); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		zone, query string
		want        int
	}{
		{"", "short_description=early^opened_at>=javascript:gs.beginningOfToday()", 1},
		{"America/Los_Angeles", "short_description=early^opened_at>=javascript:gs.beginningOfToday()", 0},
		{"America/Los_Angeles", "short_description=early^opened_atONToday@javascript:gs.beginningOfToday()@javascript:gs.endOfToday()", 0},
		{"America/Los_Angeles", "short_description=early^opened_atONYesterday@javascript:gs.beginningOfYesterday()@javascript:gs.endOfYesterday()", 1},
		// 18:30 UTC is already tomorrow in Tokyo: 06:30 UTC was yesterday there.
		{"Asia/Tokyo", "short_description=early^opened_at>=javascript:gs.beginningOfToday()", 0},
		{"Asia/Tokyo", "short_description=early^opened_atONYesterday@javascript:gs.beginningOfYesterday()@javascript:gs.endOfYesterday()", 1},
		{"UTC", "short_description=early^opened_at>=javascript:gs.daysAgoStart(0)", 1},
		{"America/Los_Angeles", "short_description=early^opened_at>=javascript:gs.daysAgoStart(0)", 0},
	}
	for _, c := range cases {
		if _, err := e.inst.Update("sys_user", e.ids["beth.anglin"], map[string]string{"time_zone": c.zone}); err != nil {
			t.Fatal(err)
		}
		r := e.call(t, "GET", "/api/now/table/incident?sysparm_fields=number&sysparm_query="+url.QueryEscape(c.query), "beth.anglin", "")
		if got := len(r.result()); r.status != 200 || got != c.want {
			t.Errorf("%s as a user in %q: %d rows (%d), want %d", c.query, c.zone, got, r.status, c.want)
		}
	}
}
