package platform

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/gorilla/mux"

	"github.com/m365snow/m365snow/fakesnow/encodedquery"
)

// view is how a request wants records rendered.
type view struct {
	fields      []string // nil: all fields
	display     string   // "false", "true" or "all"
	excludeLink bool
	version     string    // "", "v1" or "v2": echoed in reference links
	dates       userDates // the caller's date-time display (userdates.go)
}

func parseView(r *http.Request) view { return parseViewQuery(r, r.URL.Query()) }

// parseViewQuery is parseView with the query already parsed.
func parseViewQuery(r *http.Request, q url.Values) view {
	v := view{display: strings.ToLower(q.Get("sysparm_display_value")), excludeLink: q.Get("sysparm_exclude_reference_link") == "true"}
	if v.display != "true" && v.display != "all" {
		v.display = "false"
	}
	if f := q.Get("sysparm_fields"); f != "" {
		for _, name := range strings.Split(f, ",") {
			if name = strings.TrimSpace(name); name != "" {
				v.fields = append(v.fields, name)
			}
		}
	}
	switch {
	case strings.HasPrefix(r.URL.Path, "/api/now/v1/"):
		v.version = "v1"
	case strings.HasPrefix(r.URL.Path, "/api/now/v2/"):
		v.version = "v2"
	}
	return v
}

func (i *Instance) tableLink(v view, table, id string) string {
	p := "/api/now/"
	if v.version != "" {
		p += v.version + "/"
	}
	return i.linkURL + p + "table/" + table + "/" + id
}

// viewNamesLocked lists the fields a view renders, sorted as ServiceNow's
// JSON members are.
func viewNamesLocked(td *tableData, v view) []string {
	if v.fields != nil {
		// sysparm_fields members come back in the order requested, once
		// each (issue 12 item 5; docs/fidelity.md).
		names := make([]string, 0, len(v.fields))
		for _, n := range v.fields {
			if !slices.Contains(names, n) {
				names = append(names, n)
			}
		}
		return names
	}
	names := make([]string, 0, len(td.def.Fields))
	for _, f := range td.def.Fields {
		names = append(names, f.Name)
	}
	slices.Sort(names)
	return slices.Compact(names)
}

// visibleNamesLocked is viewNamesLocked without the fields rd may not
// read (fieldaccess.go): they are left out of the answer.
func (i *Instance) visibleNamesLocked(rd *reader, td *tableData, v view) []string {
	names := viewNamesLocked(td, v)
	if rd == nil {
		return names
	}
	out := names[:0]
	for _, n := range names {
		if i.pathReadableLocked(rd, td.def, n) {
			out = append(out, n)
		}
	}
	return out
}

// renderLocked turns a record into the Table API's JSON object as rd sees
// it; names come from visibleNamesLocked.
func (i *Instance) renderLocked(rd *reader, td *tableData, rec Record, v view, names []string) object {
	out := make(object, 0, len(names))
	get := i.getterAsLocked(rd, td, rec)
	for _, name := range names {
		f, ok := i.fieldOfLocked(td.def, name)
		if !ok {
			continue // invalid names are ignored
		}
		val, _ := get(name) // passwords read as secretValue
		if isJournal(f) && strings.IndexByte(name, '.') < 0 {
			out = append(out, i.journalMemberLocked(td, rec, f, name, v))
			continue
		}
		if strings.IndexByte(name, '.') >= 0 {
			// A dot-walked reference under display values is an object
			// with its display value and link (issue 12 item 5).
			if f.Type == TypeReference && val != "" && v.display != "false" && !v.excludeLink {
				obj := object{{key: "display_value", str: i.displayInLocked(f, val, v)}, {key: "link", str: i.tableLink(v, f.Reference, val)}}
				if v.display == "all" {
					obj = append(obj, member{key: "value", str: val})
				}
				out = append(out, member{key: name, obj: obj})
				continue
			}
			// Dot-walked fields come back flat under their dotted name.
			if v.display != "false" {
				val = i.displayInLocked(f, val, v)
			}
			out = append(out, member{key: name, str: val})
			continue
		}
		if f.Type == TypeReference && val != "" {
			if v.excludeLink && v.display != "all" {
				if v.display == "true" {
					val = i.displayInLocked(f, val, v)
				}
				out = append(out, member{key: name, str: val})
				continue
			}
			// Members in JSON order: display_value, link, value.
			obj := make(object, 0, 3)
			if v.display != "false" {
				obj = append(obj, member{key: "display_value", str: i.displayInLocked(f, val, v)})
			}
			if !v.excludeLink {
				obj = append(obj, member{key: "link", str: i.tableLink(v, f.Reference, val)})
			}
			if v.display != "true" {
				obj = append(obj, member{key: "value", str: val})
			}
			out = append(out, member{key: name, obj: obj})
			continue
		}
		switch v.display {
		case "false":
			out = append(out, member{key: name, str: val})
		case "true":
			out = append(out, member{key: name, str: i.displayInLocked(f, val, v)})
		case "all":
			out = append(out, member{key: name, obj: object{{key: "display_value", str: i.displayInLocked(f, val, v)}, {key: "value", str: val}}})
		}
	}
	return out
}

// writeRecordLocked answers one record, as c may read it.
func (i *Instance) writeRecordLocked(w http.ResponseWriter, status int, c *Caller, td *tableData, rec Record, v view) {
	rd := readerFor(c)
	v.dates = i.userDatesLocked(c)
	i.writeRecords(w, status, [][]byte{i.renderLocked(rd, td, rec, v, i.visibleNamesLocked(rd, td, v)).appendJSON(nil)}, true)
}

// displayInLocked is displayLocked with date-times in the time zone and
// format of the view's caller (userdates.go).
func (i *Instance) displayInLocked(f *Field, val string, v view) string {
	if f.Type == TypeDateTime {
		return v.dates.display(val)
	}
	return i.displayLocked(f, val)
}

// displayLocked is a value's display value: choice labels, and for
// references the target's display field.
func (i *Instance) displayLocked(f *Field, val string) string {
	if f.Type == TypeReference {
		td := i.tables[f.Reference]
		if td == nil || val == "" {
			return val
		}
		if target, ok := td.rows[val]; ok {
			return target[td.def.displayField()]
		}
		return ""
	}
	return f.displayOf(val)
}

// wsAllowedLocked applies "Allow access to this table via web services".
func (i *Instance) wsAllowedLocked(table string) bool {
	obj := i.findLocked("sys_db_object", "name", table)
	return obj == nil || obj["ws_access"] != "false"
}

// webServicesLocked answers ServiceNow's refusal when the table is closed
// to web services, and reports whether the request may go on.
func (i *Instance) webServicesLocked(w http.ResponseWriter, table string) bool {
	if i.wsAllowedLocked(table) {
		return true
	}
	WriteError(w, http.StatusForbidden, "User Not Authorized", fmt.Sprintf("Access to table %s via web services is not allowed", table))
	return false
}

// tableBody checks that the table exists and reads the request's JSON
// body, answering ServiceNow's error when either fails.
func (i *Instance) tableBody(w http.ResponseWriter, r *http.Request, table string) (map[string]string, bool) {
	if _, ok := i.Table(table); !ok {
		WriteError(w, http.StatusBadRequest, (&InvalidTableError{table}).Error(), "")
		return nil, false
	}
	values, err := readBody(r)
	if err != nil {
		WriteBodyError(w, r, err)
		return nil, false
	}
	return values, true
}

func (i *Instance) tableCollection(w http.ResponseWriter, r *http.Request, c *Caller) {
	if r.Method == http.MethodPost {
		i.tableInsert(w, r, c)
		return
	}
	table := mux.Vars(r)["table"]
	q := r.URL.Query()
	v := parseViewQuery(r, q)

	i.mu.RLock()
	defer i.mu.RUnlock()
	td, err := i.tableLocked(table)
	if err != nil {
		WriteError(w, http.StatusBadRequest, err.Error(), "")
		return
	}
	if !i.webServicesLocked(w, table) {
		return
	}
	v.dates = i.userDatesLocked(c)
	var page [][]byte
	total := 0
	offset, limit := intParam(q, "sysparm_offset", 0), intParam(q, "sysparm_limit", 10000)
	if i.aclAllowsLocked(c, table, OpRead) {
		rd := readerFor(c)
		selected := i.selectCachedLocked(rd, td, i.bindQueryLocked(c, nameValueQuery(q, td.def)))
		// The limit applies before row ACLs, so a page can be short, and
		// X-Total-Count counts the query's rows (paging.go).
		total = len(selected)
		names := i.visibleNamesLocked(rd, td, v)
		key := i.renderKeyLocked(rd, td, v, names)
		for k := offset; k < total && k < offset+limit; k++ {
			if i.canSeeRowLocked(c, td.def, selected[k]) {
				page = append(page, i.renderJSONLocked(rd, td, selected[k], v, names, key))
			}
		}
	}
	h := w.Header()
	if q.Get("sysparm_no_count") != "true" {
		h.Set("X-Total-Count", strconv.Itoa(total))
	}
	if q.Get("sysparm_suppress_pagination_header") != "true" {
		if link := i.linkHeader(r, total, offset, limit); link != "" {
			h.Set("Link", link)
		}
	}
	if v.version == "v1" && total == 0 {
		WriteError(w, http.StatusNotFound, "No Record found", "Records not found")
		return
	}
	if r.Method == http.MethodHead {
		noCache(h)
		h.Set("Content-Type", "application/json;charset=UTF-8")
		w.WriteHeader(http.StatusOK)
		return
	}
	i.writeRecords(w, http.StatusOK, page, false)
}

// nameValueQuery combines sysparm_query with name=value parameters that
// name fields of the table (the documented alternative); each parameter
// becomes one term, whatever its value holds.
func nameValueQuery(q url.Values, def *Table) encodedquery.Query {
	query := encodedquery.Parse(q.Get("sysparm_query"))
	names := make([]string, 0, len(q))
	for k, vs := range q {
		if strings.HasPrefix(k, "sysparm_") || len(vs) == 0 {
			continue
		}
		if _, ok := def.Field(k); ok {
			names = append(names, k)
		}
	}
	slices.Sort(names) // one key per query in the read cache
	for _, k := range names {
		query = query.And(k, "=", q[k][0])
	}
	return query
}

func intParam(q url.Values, name string, def int) int {
	n, err := strconv.Atoi(q.Get(name))
	if err != nil || n < 0 {
		return def
	}
	return n
}

func (i *Instance) tableRecord(w http.ResponseWriter, r *http.Request, c *Caller) {
	vars := mux.Vars(r)
	table, id := vars["table"], canonicalSysID(vars["sys_id"])
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		i.mu.RLock()
		defer i.mu.RUnlock()
		td, err := i.tableLocked(table)
		if err != nil {
			WriteError(w, http.StatusBadRequest, err.Error(), "")
			return
		}
		rec, ok := i.recordForLocked(w, c, td, id, OpRead)
		if !ok {
			return
		}
		i.writeRecordLocked(w, http.StatusOK, c, td, rec, parseView(r))
	case http.MethodPut, http.MethodPatch:
		i.tableUpdate(w, r, c, table, id)
	case http.MethodDelete:
		i.tableDelete(w, c, table, id)
	}
}

// readBody decodes the JSON body of a write into field values. ServiceNow
// processes only the first record of an array.
func readBody(r *http.Request) (map[string]string, error) {
	if err := CheckJSONContentType(r); err != nil {
		return nil, err
	}
	b, err := io.ReadAll(r.Body)
	if err != nil {
		return nil, err
	}
	var raw any
	if err := json.Unmarshal(b, &raw); err != nil {
		return nil, errInvalidJSON
	}
	if arr, ok := raw.([]any); ok && len(arr) > 0 {
		raw = arr[0]
	}
	obj, ok := raw.(map[string]any)
	if !ok {
		return nil, errInvalidJSON
	}
	out := map[string]string{}
	for k, v := range obj {
		switch x := v.(type) {
		case nil:
			out[k] = ""
		case string:
			out[k] = x
		case bool:
			out[k] = strconv.FormatBool(x)
		case float64:
			out[k] = strconv.FormatFloat(x, 'f', -1, 64)
		case map[string]any:
			if s, ok := x["value"].(string); ok {
				out[k] = s // a reference given as {"value": sys_id}
			}
		}
	}
	return out, nil
}

var errInvalidJSON = errors.New("invalid JSON")

// decodeJSON reads a JSON body into v (for the platform's other APIs).
func decodeJSON(r *http.Request, v any) error {
	if err := CheckJSONContentType(r); err != nil {
		return err
	}
	b, err := io.ReadAll(r.Body)
	if err != nil {
		return err
	}
	if json.Unmarshal(b, v) != nil {
		return errInvalidJSON
	}
	return nil
}

// WriteBodyError reports a request body that is too large (ServiceNow's
// wording, KB0747638 as quoted in community notes) or not JSON.
func WriteBodyError(w http.ResponseWriter, r *http.Request, err error) {
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		length := "unknown"
		if r.ContentLength >= 0 {
			length = strconv.FormatInt(r.ContentLength, 10)
		}
		WriteError(w, http.StatusBadRequest, "Exception while reading request",
			fmt.Sprintf("Rejected large REST payload with content-length = %s bytes. Max allowed: %d bytes.", length, tooLarge.Limit))
		return
	}
	if errors.Is(err, ErrUnsupportedMedia) {
		WriteError(w, http.StatusUnsupportedMediaType, "Unsupported Media Type",
			fmt.Sprintf("Content-Type %q is not supported: send application/json.", r.Header.Get("Content-Type")))
		return
	}
	if errors.Is(err, errInvalidXML) {
		WriteError(w, http.StatusBadRequest, "Exception while reading request", "The payload is not valid XML.")
		return
	}
	WriteError(w, http.StatusBadRequest, "Exception while reading request", "The payload is not valid JSON.")
}

// DecodeJSON is decodeJSON for apps' scripted REST APIs.
func DecodeJSON(r *http.Request, v any) error { return decodeJSON(r, v) }

func writeStoreError(w http.ResponseWriter, err error) {
	var ve *ValueError
	var it *InvalidTableError
	switch {
	case errors.As(err, &it):
		WriteError(w, http.StatusBadRequest, err.Error(), "")
	case errors.As(err, &ve):
		WriteError(w, http.StatusBadRequest, "Operation Failed", ve.Error())
	case errors.Is(err, ErrNotFound):
		WriteError(w, http.StatusNotFound, "No Record found", "Record doesn't exist or ACL restricts the record retrieval")
	default:
		WriteError(w, http.StatusInternalServerError, "Operation Failed", err.Error())
	}
}

func (i *Instance) tableInsert(w http.ResponseWriter, r *http.Request, c *Caller) {
	table := mux.Vars(r)["table"]
	values, ok := i.tableBody(w, r, table)
	if !ok {
		return
	}
	i.mu.Lock()
	defer i.mu.Unlock()
	td := i.tables[table]
	if !i.webServicesLocked(w, table) {
		return
	}
	if !i.aclAllowsLocked(c, table, OpCreate) {
		WriteError(w, http.StatusForbidden, "Operation Failed", "ACL Exception Insert Failed due to security constraints")
		return
	}
	if td.def.OwnRows != "" && !c.roles["admin"] {
		values[td.def.OwnRows] = c.SysID
	}
	for k := range values {
		if strings.HasPrefix(k, "sys_") && k != "sys_id" {
			delete(values, k)
		}
	}
	i.tableWriteParamsLocked(r, c, td, values)
	rec, err := i.insertLocked(table, values, c.UserName, i.currentAppLocked(c.SysID), false)
	if err != nil {
		writeStoreError(w, err)
		return
	}
	w.Header().Set("Location", i.tableLink(parseView(r), table, rec["sys_id"]))
	if strings.EqualFold(r.Header.Get("X-no-response-body"), "true") {
		noCache(w.Header())
		w.WriteHeader(http.StatusCreated)
		return
	}
	i.writeRecordLocked(w, http.StatusCreated, c, td, rec, parseView(r))
}

// interactiveScopeRefusalLocked refuses an edit, from a UI session, of an
// application file that belongs to an application other than the current.
func (i *Instance) interactiveScopeRefusalLocked(c *Caller, td *tableData, rec Record) string {
	if !c.Interactive() || !td.def.ApplicationFile {
		return ""
	}
	cur := i.currentAppLocked(c.SysID)
	if rec["sys_scope"] == cur {
		return ""
	}
	scopes := i.tables["sys_scope"].rows
	return otherApplicationMessage(scopes[rec["sys_scope"]]["name"], scopes[cur]["name"])
}

func (i *Instance) tableUpdate(w http.ResponseWriter, r *http.Request, c *Caller, table, id string) {
	values, ok := i.tableBody(w, r, table)
	if !ok {
		return
	}
	i.mu.Lock()
	defer i.mu.Unlock()
	td := i.tables[table]
	rec, ok := i.recordForLocked(w, c, td, id, OpWrite)
	if !ok {
		return
	}
	if td.def.OwnRows != "" && !c.roles["admin"] {
		delete(values, td.def.OwnRows)
	}
	i.tableWriteParamsLocked(r, c, td, values)
	newPassword := table == "sys_user" && values["user_password"] != "" && values["user_password"] != rec["user_password"]
	upd, err := i.updateLocked(table, id, values, c.UserName)
	if err != nil {
		writeStoreError(w, err)
		return
	}
	if newPassword {
		// A reset password ends the user's sessions and OAuth tokens here
		// (modelled: the prudent reading of a credential change).
		i.revokeTokensLocked(id)
	}
	i.writeRecordLocked(w, http.StatusOK, c, td, upd, parseView(r))
}

// recordForLocked finds the record the caller may act on with op, or
// answers ServiceNow's refusal: web services off for the table, no record
// the caller may read (404), an ACL against the operation, or an
// application file of another application than the session's current one.
func (i *Instance) recordForLocked(w http.ResponseWriter, c *Caller, td *tableData, id string, op Op) (Record, bool) {
	table := td.def.Name
	if !i.webServicesLocked(w, table) {
		return nil, false
	}
	rec, ok := td.rows[id]
	if !ok || !i.aclAllowsLocked(c, table, OpRead) || !i.canSeeRowLocked(c, td.def, rec) {
		WriteError(w, http.StatusNotFound, "No Record found", "Record doesn't exist or ACL restricts the record retrieval")
		return nil, false
	}
	if op == OpRead {
		return rec, true
	}
	if !i.aclAllowsLocked(c, table, op) {
		verb := map[Op]string{OpWrite: "Update", OpDelete: "Delete"}[op]
		WriteError(w, http.StatusForbidden, "Operation Failed", "ACL Exception "+verb+" Failed due to security constraints")
		return nil, false
	}
	if msg := i.interactiveScopeRefusalLocked(c, td, rec); msg != "" {
		WriteError(w, http.StatusForbidden, "Operation Failed", msg)
		return nil, false
	}
	return rec, true
}

func (i *Instance) tableDelete(w http.ResponseWriter, c *Caller, table, id string) {
	i.mu.Lock()
	defer i.mu.Unlock()
	td, err := i.tableLocked(table)
	if err != nil {
		WriteError(w, http.StatusBadRequest, err.Error(), "")
		return
	}
	if _, ok := i.recordForLocked(w, c, td, id, OpDelete); !ok {
		return
	}
	if err := i.deleteLocked(table, id); err != nil {
		writeStoreError(w, err)
		return
	}
	noCache(w.Header())
	w.WriteHeader(http.StatusNoContent)
}
