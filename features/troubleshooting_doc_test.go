package features

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	gherkin "github.com/cucumber/gherkin/go/v26"
	messages "github.com/cucumber/messages/go/v21"
)

var update = flag.Bool("update", false, "rewrite docs/troubleshooting.md from the feature files")

const troubleshootingDoc = "../docs/troubleshooting.md"

// guideRows says, in short, what each row of the guide's Troubleshooting
// table reports; the exact messages are the app's (DESIGN §7).
var guideRows = map[string]string{
	"1":  `Can't see the "Microsoft 365 Support" tab`,
	"2":  `Recommended solutions button: "…complete the setup steps for the app."`,
	"3":  `Recommended solutions button: "…complete the final set up step for the app."`,
	"4":  `Search box: "…complete the setup steps for the app."`,
	"5":  `Search box: "…complete the final set up step for the app."`,
	"6":  `Contact Microsoft Support: "…complete the setup steps for the app."`,
	"7":  `Contact Microsoft Support: "…complete the final set up step for the app."`,
	"8":  `Contact Microsoft Support: "{EmailAddress} is not a valid Microsoft 365 admin account…"`,
	"9":  `Recommended solutions button: nothing shows up`,
	"10": `Recommended solutions button: "Please contact app support."`,
	"11": `Search box: nothing shows up`,
	"12": `Search box: "Please contact app support."`,
	"13": `Contact Microsoft Support: nothing happened`,
	"14": `Recommended solutions gone after reopening the incident`,
	"15": `Microsoft cases gone after reopening the incident`,
	"16": `"Unable to save ticket details. Please contact App Support."`,
	"cross-scope": `Setup note: "Read operation against 'oauth_entity' … refused due to the table's cross-scope access policy"; ` +
		`install note: the Application Cross-Scope Access records are missing`,
}

// example is one pickle of a troubleshooting scenario, as far as the
// document needs it.
type example struct {
	file, scenario        string
	line                  int64
	tags                  map[string]bool
	cause, fix            string
	diagnostics, symptoms []string
}

var placeholder = regexp.MustCompile(`<([^<>]+)>`)

// troubleshootingExamples reads every troubleshooting scenario in the
// feature files, with outlines expanded per example row.
func troubleshootingExamples(t *testing.T) []example {
	t.Helper()
	files, err := filepath.Glob("*.feature")
	if err != nil {
		t.Fatal(err)
	}
	var out []example
	for _, file := range files {
		f, err := os.Open(file)
		if err != nil {
			t.Fatal(err)
		}
		doc, err := gherkin.ParseGherkinDocument(f, (&messages.Incrementing{}).NewId)
		f.Close()
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		ft := tagSet(doc.Feature.Tags)
		if !ft["@troubleshooting"] || ft["@sandbox-worlds"] {
			continue
		}
		for _, child := range doc.Feature.Children {
			sc := child.Scenario
			if sc == nil {
				continue
			}
			base := union(ft, tagSet(sc.Tags))
			rows := []map[string]string{nil}
			rowTags := []map[string]bool{base}
			if len(sc.Examples) > 0 {
				rows, rowTags = nil, nil
				for _, ex := range sc.Examples {
					for _, r := range ex.TableBody {
						vals := map[string]string{}
						for i, c := range ex.TableHeader.Cells {
							vals[c.Value] = r.Cells[i].Value
						}
						rows = append(rows, vals)
						rowTags = append(rowTags, union(base, tagSet(ex.Tags)))
					}
				}
			}
			for i, vals := range rows {
				sub := func(s string) string {
					return placeholder.ReplaceAllStringFunc(s, func(m string) string {
						if v, ok := vals[m[1:len(m)-1]]; ok {
							return v
						}
						return m
					})
				}
				// "Cause:" and "Fix:" lines of the description win over the
				// cause and fix columns they may quote.
				e := example{file: file, scenario: sc.Name, line: sc.Location.Line, tags: rowTags[i], cause: vals["cause"], fix: vals["fix"]}
				for _, l := range strings.Split(sc.Description, "\n") {
					l = strings.TrimSpace(l)
					if v, ok := strings.CutPrefix(l, "Cause: "); ok {
						e.cause = sub(v)
					}
					if v, ok := strings.CutPrefix(l, "Fix: "); ok {
						e.fix = sub(v)
					}
				}
				for _, st := range sc.Steps {
					text := sub(st.Text)
					switch {
					case strings.HasPrefix(text, "System Logs"):
						e.diagnostics = append(e.diagnostics, shortDiagnostic(text))
					case strings.HasPrefix(text, "the form shows the error"):
						e.diagnostics = append(e.diagnostics, "the message on top of the form")
						e.symptoms = append(e.symptoms, text)
					case text == "nothing shows up" || text == "nothing happens" || strings.HasPrefix(text, "the tab lists no") ||
						strings.HasPrefix(text, "Setup shows the error") || text == `the "Microsoft 365 Support" tab is not shown` ||
						strings.HasPrefix(text, "the tab does not offer"):
						e.symptoms = append(e.symptoms, text)
					}
				}
				out = append(out, e)
			}
		}
	}
	return out
}

func tagSet(tags []*messages.Tag) map[string]bool {
	m := map[string]bool{}
	for _, t := range tags {
		m[t.Name] = true
	}
	return m
}

func union(a, b map[string]bool) map[string]bool {
	m := map[string]bool{}
	for k := range a {
		m[k] = true
	}
	for k := range b {
		m[k] = true
	}
	return m
}

// renderTroubleshootingDoc builds docs/troubleshooting.md.
func renderTroubleshootingDoc(t *testing.T, all []example) string {
	keys := make([]string, 0, len(guideRows))
	for k := range guideRows {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		a, errA := strconv.Atoi(keys[i])
		b, errB := strconv.Atoi(keys[j])
		if errA != nil || errB != nil {
			return errB != nil && errA == nil
		}
		return a < b
	})
	var b strings.Builder
	b.WriteString(`# Troubleshooting, reproduced

Generated from the feature files by ` + "`go test ./features -run TestTroubleshootingDoc -update`" + `;
` + "`make test`" + ` fails when this page and the features disagree. Each row of the
installation guide's Troubleshooting table has scenarios that induce a cause
through the parties' own APIs (or the connector's fault injection), show the
symptom exactly as the guide words it, find it with the diagnostic the guide
names, apply the fix and check that the action works again with nothing
saved before the fault lost. Run one row with
` + "`go test ./features/ -godog.tags=@row-9`" + ` (` + "`@cross-scope`" + ` for the Setup and install notes), and see it
by hand with ` + "`make sandbox WORLD=troubleshooting-9`" + `.

The guide prints the System Logs filter as ` + "`x_mioms_m365_assit`" + `; the app's
entries carry its scope ` + "`x_mioms_m365_assis`" + `, which is what finds them
(` + "`@log-filter`" + ` shows both). Against an external connector every row runs:
faults at the connector are injected at a gateway in front of it, and an
expired secret is one whose end date has passed rather than one whose
time Azure AD's clock jumped past (docs/vendor-mode.md).

| Row | The guide's symptom | Scenarios (examples) | Causes reproduced | What the diagnostics show | Fix |
| --- | --- | --- | --- | --- | --- |
`)
	for _, k := range keys {
		tag := "@row-" + k
		if k == "cross-scope" {
			tag = "@cross-scope"
		}
		var scen, causes, diags, fixes []string
		seen := map[string]bool{}
		add := func(list *[]string, kind, v string) {
			if v != "" && !seen[kind+v] {
				seen[kind+v] = true
				*list = append(*list, v)
			}
		}
		counts := map[string]int{}
		var order []string
		for _, e := range all {
			if !e.tags[tag] {
				continue
			}
			key := fmt.Sprintf("[%s](../features/%s#L%d)", e.scenario, e.file, e.line)
			if counts[key] == 0 {
				order = append(order, key)
			}
			counts[key]++
			add(&causes, "c", e.cause)
			add(&fixes, "f", e.fix)
			for _, d := range e.diagnostics {
				add(&diags, "d", d)
			}
		}
		for _, key := range order {
			scen = append(scen, fmt.Sprintf("%s (%d)", key, counts[key]))
		}
		if len(scen) == 0 || len(causes) == 0 {
			t.Errorf("guide row %s has no scenario with a cause (%s)", k, tag)
		}
		label := k
		if k != "cross-scope" {
			label = "[" + k + "](../fixtures/troubleshooting-" + k + ".yaml)"
		} else {
			label = "[cross-scope](../fixtures/troubleshooting-cross-scope.yaml)"
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s |\n", label, cell(guideRows[k]), cells(scen), cells(causes), cells(diags), cells(fixes))
	}
	return b.String()
}

var diagnosticForms = []struct {
	re   *regexp.Regexp
	with string
}{
	{regexp.MustCompile(`^System Logs > All filtered on "([^"]+)" shows (.*)$`), `System Logs > All, filter $1: $2`},
	{regexp.MustCompile(`^System Logs > All filtered on "([^"]+)" finds nothing$`), `System Logs > All, filter $1: nothing`},
	{regexp.MustCompile(`^System Logs > Outbound HTTP Requests filtered on "([^"]+)" shows (.*)$`), `Outbound HTTP logs, filter $1: $2`},
}

// shortDiagnostic words a diagnostic step for the table.
func shortDiagnostic(step string) string {
	for _, f := range diagnosticForms {
		if f.re.MatchString(step) {
			return f.re.ReplaceAllString(step, f.with)
		}
	}
	return step
}

// cell escapes Markdown table syntax and the angle brackets of outline
// placeholders, which would otherwise read as HTML.
func cell(s string) string {
	return strings.NewReplacer("|", `\|`, "<", "&lt;", ">", "&gt;").Replace(s)
}

func cells(l []string) string {
	for i := range l {
		l[i] = cell(l[i])
	}
	return strings.Join(l, "<br>")
}

// TestTroubleshootingDoc keeps docs/troubleshooting.md and the features in
// step, and checks that every row of the guide is covered.
func TestTroubleshootingDoc(t *testing.T) {
	all := troubleshootingExamples(t)
	rowTag := regexp.MustCompile(`^@row-(\d+)$`)
	for _, e := range all {
		n := 0
		for tag := range e.tags {
			if m := rowTag.FindStringSubmatch(tag); m != nil {
				n++
				if _, ok := guideRows[m[1]]; !ok {
					t.Errorf("%s:%d: %s is not a row of the guide's table", e.file, e.line, tag)
				}
			}
		}
		if n == 0 && !e.tags["@cross-scope"] {
			t.Errorf("%s:%d %q has no @row-N or @cross-scope tag", e.file, e.line, e.scenario)
		}
		if len(e.symptoms) == 0 && !e.tags["@log-filter"] {
			t.Errorf("%s:%d %q shows no symptom", e.file, e.line, e.scenario)
		}
	}
	got := renderTroubleshootingDoc(t, all)
	if *update {
		if err := os.WriteFile(troubleshootingDoc, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(troubleshootingDoc)
	if err != nil {
		t.Fatalf("%v (run go test ./features -run TestTroubleshootingDoc -update)", err)
	}
	if string(want) != got {
		t.Errorf("docs/troubleshooting.md is not what the feature files say; run go test ./features -run TestTroubleshootingDoc -update")
	}
}
