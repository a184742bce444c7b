package platform

import (
	"slices"
	"strings"
)

// Records as an instance writes them (docs/fidelity.md, "Records").
//
// The incident table carries the field set of the Table API reference's
// full incident record (GET /now/table/incident/{sys_id} example,
// INC0000046), with the types and defaults a base instance gives them;
// journal fields (comments, work_notes) are entries in sys_journal_field,
// not values on the record; priority follows impact × urgency by the base
// instance's priority lookup; opened_by and opened_at are set on insert.

// Journal field types: an entry field, and the combined history.
const (
	TypeJournal     FieldType = "journal_input"
	TypeJournalList FieldType = "journal_list"
)

func dt(name, label string) *Field { return &Field{Name: name, Label: label, Type: TypeDateTime} }
func def(name, label, value string) *Field {
	return &Field{Name: name, Label: label, Default: value}
}
func intChoice(name, label, value string, choices ...Choice) *Field {
	return &Field{Name: name, Label: label, Type: TypeInteger, Default: value, Choices: choices}
}

var (
	hml  = []Choice{{"1", "1 - High"}, {"2", "2 - Medium"}, {"3", "3 - Low"}}
	prio = []Choice{{"1", "1 - Critical"}, {"2", "2 - High"}, {"3", "3 - Moderate"}, {"4", "4 - Low"}, {"5", "5 - Planning"}}
	// incidentStates are the base instance's incident states.
	incidentStates = []Choice{{"1", "New"}, {"2", "In Progress"}, {"3", "On Hold"}, {"6", "Resolved"}, {"7", "Closed"}, {"8", "Canceled"}}
)

// incidentTable is the incident table with task's and incident's base
// fields.
func incidentTable() *Table {
	incidentRoles := []string{"itil", "incident_manager"}
	return &Table{Name: "incident", Label: "Incident", NumberPrefix: "INC", Fields: []*Field{
		str("number", "Number"), str("short_description", "Short description"), str("description", "Description"),
		ref("caller_id", "Caller", "sys_user"), ref("opened_by", "Opened by", "sys_user"), ref("assigned_to", "Assigned to", "sys_user"),
		intChoice("state", "State", "1", incidentStates...), intChoice("incident_state", "Incident state", "1", incidentStates...),
		intChoice("impact", "Impact", "3", hml...), intChoice("urgency", "Urgency", "3", hml...), intChoice("priority", "Priority", "5", prio...),
		intChoice("severity", "Severity", "3", hml...),
		str("category", "Category"), str("subcategory", "Subcategory"), boolean("active", "Active", "true"),
		dt("opened_at", "Opened"), str("close_code", "Resolution code"), str("close_notes", "Resolution notes"),
		{Name: "comments", Label: "Additional comments", Type: TypeJournal},
		{Name: "work_notes", Label: "Work notes", Type: TypeJournal},
		{Name: "comments_and_work_notes", Label: "Comments and Work notes", Type: TypeJournalList},
		{Name: "approval_history", Label: "Approval history", Type: TypeJournalList},
		str("work_notes_list", "Work notes list"), str("watch_list", "Watch list"), str("additional_assignee_list", "Additional assignee list"),
		str("group_list", "Group list"),
		ref("assignment_group", "Assignment group", "sys_user_group"), ref("location", "Location", "cmn_location"),
		ref("company", "Company", "core_company"), ref("cmdb_ci", "Configuration item", "cmdb_ci"),
		ref("business_service", "Service", "cmdb_ci_service"), ref("problem_id", "Problem", "problem"),
		ref("caused_by", "Caused by Change", "change_request"), ref("rfc", "Change Request", "change_request"),
		ref("parent", "Parent", "task"), ref("parent_incident", "Parent Incident", "incident"),
		ref("closed_by", "Closed by", "sys_user"), ref("resolved_by", "Resolved by", "sys_user"),
		ref("delivery_plan", "Delivery plan", "sc_cat_item_delivery_plan"), ref("delivery_task", "Delivery task", "sc_cat_item_delivery_task"),
		ref("wf_activity", "Workflow activity", "wf_activity"), ref("rejection_goto", "Rejection goto", "task"),
		{Name: "sys_domain", Label: "Domain", Type: TypeReference, Reference: "sys_user_group", Default: "global"},
		def("sys_domain_path", "Domain Path", "/"), def("sys_class_name", "Class", "incident"), str("sys_tags", "Tags"),
		dt("closed_at", "Closed"), dt("resolved_at", "Resolved"), dt("sla_due", "SLA due"), dt("due_date", "Due date"),
		dt("expected_start", "Expected start"), dt("work_start", "Actual start"), dt("work_end", "Actual end"),
		dt("activity_due", "Activity due"), dt("follow_up", "Follow up"), dt("approval_set", "Approval set"),
		str("business_duration", "Business duration"), str("calendar_duration", "Duration"),
		integer("business_stc", "Business resolve time", ""), integer("calendar_stc", "Resolve time", ""),
		integer("reassignment_count", "Reassignment count", "0"), integer("reopen_count", "Reopen count", "0"),
		integer("child_incidents", "Child Incidents", "0"), integer("order", "Order", ""),
		intChoice("escalation", "Escalation", "0", Choice{"0", "Normal"}, Choice{"1", "Moderate"}, Choice{"2", "High"}, Choice{"3", "Overdue"}),
		intChoice("notify", "Notify", "1", Choice{"1", "Do Not Notify"}, Choice{"2", "Send Email"}, Choice{"3", "Send SMS"}),
		def("approval", "Approval", "not requested"), def("upon_approval", "Upon approval", "proceed"), def("upon_reject", "Upon reject", "cancel"),
		boolean("knowledge", "Knowledge", "false"), boolean("made_sla", "Made SLA", "true"),
		str("contact_type", "Channel"), str("correlation_id", "Correlation ID"), str("correlation_display", "Correlation display"),
		str("time_worked", "Time worked"), str("user_input", "User input"), str("task_effective_number", "Effective number"),
		intChoice("hold_reason", "On hold reason", ""),
	}, ACLRoles: map[Op][]string{OpRead: incidentRoles, OpCreate: incidentRoles, OpWrite: incidentRoles}}
}

// journalTable holds journal entries (sys_journal_field): element is the
// field, element_id the record's sys_id, name its table.
func journalTable() *Table {
	return &Table{Name: "sys_journal_field", Label: "Journal Entry", DisplayField: "value", Fields: []*Field{
		str("element", "Element"), str("element_id", "Element ID"), str("name", "Table name"), str("value", "Value"),
	}}
}

// priorityLookup is the base instance's priority data lookup
// (dl_u_priority): impact × urgency.
var priorityLookup = map[[2]string]string{
	{"1", "1"}: "1", {"1", "2"}: "2", {"1", "3"}: "3",
	{"2", "1"}: "2", {"2", "2"}: "3", {"2", "3"}: "4",
	{"3", "1"}: "3", {"3", "2"}: "4", {"3", "3"}: "5",
}

func isJournal(f *Field) bool { return f.Type == TypeJournal || f.Type == TypeJournalList }

// writeRulesLocked applies what an instance's business rules and data
// lookups do to a record being written: on insert (old == nil) by a
// request, opened_by and opened_at; task_effective_number; incident_state
// following state; priority from impact × urgency (kept as given only by
// a system insert that names it); journal input moved to sys_journal_field.
// given are the values the writer sent.
func (i *Instance) writeRulesLocked(td *tableData, rec Record, given map[string]string, actor string, insert, system bool) error {
	if td.def.Name != "incident" {
		return nil
	}
	if insert && !system {
		if rec["opened_by"] == "" {
			if u := i.userByNameLocked(actor); u != nil {
				rec["opened_by"] = u["sys_id"]
			}
		}
		if rec["opened_at"] == "" {
			rec["opened_at"] = i.now()
		}
	}
	if rec["task_effective_number"] == "" {
		rec["task_effective_number"] = rec["number"]
	}
	if _, ok := given["state"]; ok || insert {
		rec["incident_state"] = rec["state"]
	}
	_, gotPriority := given["priority"]
	_, gotImpact := given["impact"]
	_, gotUrgency := given["urgency"]
	recompute := gotImpact || gotUrgency || (!system && gotPriority)
	if insert {
		recompute = !(system && gotPriority)
	}
	if recompute {
		if p, ok := priorityLookup[[2]string{rec["impact"], rec["urgency"]}]; ok {
			rec["priority"] = p
		}
	}
	for _, f := range td.def.Fields {
		if !isJournal(f) {
			continue
		}
		text := rec[f.Name]
		rec[f.Name] = "" // a journal field has no value of its own
		if f.Type != TypeJournal || strings.TrimSpace(text) == "" {
			continue
		}
		if _, err := i.insertLocked("sys_journal_field", map[string]string{"element": f.Name, "element_id": rec["sys_id"],
			"name": td.def.Name, "value": text}, actor, "", system); err != nil {
			return err
		}
	}
	return nil
}

// journalDisplayLocked is a journal field's display value: its entries,
// newest first, each as "<date> - <user's name> (<label>)\n<text>\n\n"
// (docs/fidelity.md). A journal list combines the record's journal fields.
func (i *Instance) journalDisplayLocked(td *tableData, rec Record, f *Field, dates userDates) string {
	var elements []string
	if f.Type == TypeJournal {
		elements = []string{f.Name}
	} else if f.Name == "comments_and_work_notes" {
		elements = []string{"comments", "work_notes"}
	}
	jt := i.tables["sys_journal_field"]
	var b strings.Builder
	order := jt.order
	for k := len(order) - 1; k >= 0; k-- {
		e := jt.rows[order[k]]
		if e["element_id"] != rec["sys_id"] || e["name"] != td.def.Name || !slices.Contains(elements, e["element"]) {
			continue
		}
		label := e["element"]
		if ef, ok := td.def.Field(e["element"]); ok {
			label = ef.Label
		}
		b.WriteString(dates.display(e["sys_created_on"]) + " - " + i.fullNameLocked(e["sys_created_by"]) + " (" + label + ")\n" + e["value"] + "\n\n")
	}
	return b.String()
}

// journalMemberLocked renders a journal field: "" as its value, its
// history as its display value.
func (i *Instance) journalMemberLocked(td *tableData, rec Record, f *Field, name string, v view) member {
	switch v.display {
	case "true":
		return member{key: name, str: i.journalDisplayLocked(td, rec, f, v.dates)}
	case "all":
		return member{key: name, obj: object{{key: "display_value", str: i.journalDisplayLocked(td, rec, f, v.dates)}, {key: "value", str: ""}}}
	}
	return member{key: name, str: ""}
}
