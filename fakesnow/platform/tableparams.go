package platform

import (
	"net/http"
	"regexp"
	"strings"
)

// Table API request parameters and headers (docs/fidelity.md, "Table API
// parameters and headers").

// methodOverride applies X-HTTP-Method-Override to a POST: "X-HTTP-Method-
// Override can override the method" (ServiceNow REST API reference,
// supported headers).
func methodOverride(r *http.Request) {
	if r.Method != http.MethodPost {
		return
	}
	switch m := strings.ToUpper(strings.TrimSpace(r.Header.Get("X-HTTP-Method-Override"))); m {
	case http.MethodGet, http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodHead:
		r.Method = m
	}
}

var anyCaseSysID = regexp.MustCompile(`^[0-9a-fA-F]{32}$`)

// canonicalSysID reads a sys_id a caller wrote in upper or mixed case as
// the lower-case sys_id it names (the instance's database compares them
// case-insensitively; modelled, docs/fidelity.md).
func canonicalSysID(id string) string {
	if anyCaseSysID.MatchString(id) {
		return strings.ToLower(id)
	}
	return id
}

// inputDisplayLocked turns display values into values when
// sysparm_input_display_value=true: choice labels become their values and
// a reference's display value (the target's display field) its sys_id.
// "true: Treats input values as display values and they are manipulated
// so they are stored properly in the database" (Table API reference).
// Without it, both are stored as given (normalizeLocked).
// A date-time is read in the caller's time zone and date/time format;
// one that does not parse so is left for normalizeLocked (internal
// format, UTC).
func (i *Instance) inputDisplayLocked(td *tableData, values map[string]string, dates userDates) {
	for name, v := range values {
		f, ok := td.def.Field(name)
		if !ok {
			continue
		}
		if f.Type == TypeDateTime {
			if utc, ok := dates.parse(v); ok {
				values[name] = utc
			}
			continue
		}
		if f.Type == TypeReference {
			values[name] = i.resolveRefLocked(f.Reference, v)
			continue
		}
		for _, c := range f.Choices {
			if strings.EqualFold(c.Label, strings.TrimSpace(v)) {
				values[name] = c.Value
				break
			}
		}
	}
}

// tableWriteParamsLocked applies the write parameters of a Table API
// request to its values.
func (i *Instance) tableWriteParamsLocked(r *http.Request, c *Caller, td *tableData, values map[string]string) {
	if id, ok := values["sys_id"]; ok {
		values["sys_id"] = canonicalSysID(id)
	}
	if strings.EqualFold(r.URL.Query().Get("sysparm_input_display_value"), "true") {
		i.inputDisplayLocked(td, values, i.userDatesLocked(c))
	}
}
