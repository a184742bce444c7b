package features

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/cucumber/godog"
	messages "github.com/cucumber/messages/go/v21"

	"github.com/m365snow/m365snow/internal/journal"
)

// docs/steps.md says, for every step, which parties it talks to and what
// HTTP calls it makes. It is generated from the step definitions (godog's
// ShowStepDefinitions) and from the request journal of a run of every
// feature: each call a step's world saw while the step ran is the step's.
// Run `go test ./features -run TestStepsDoc -update` after changing steps.

func TestStepsDoc(t *testing.T) {
	defs := stepDefinitions(t)
	calls := recordStepCalls(t, defs)
	got := renderStepsDoc(defs, calls)
	path := filepath.Join("..", "docs", "steps.md")
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./features -run TestStepsDoc -update)", err)
	}
	if string(want) != got {
		t.Errorf("docs/steps.md is not what the steps do; run go test ./features -run TestStepsDoc -update\n%s", firstDifference(string(want), got))
	}
}

func firstDifference(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := 0; i < max(len(al), len(bl)); i++ {
		var x, y string
		if i < len(al) {
			x = al[i]
		}
		if i < len(bl) {
			y = bl[i]
		}
		if x != y {
			return fmt.Sprintf("line %d:\n  docs/steps.md: %s\n  the steps:     %s", i+1, x, y)
		}
	}
	return ""
}

type stepDef struct {
	pattern string
	re      *regexp.Regexp
	file    string // world_steps.go
	fn      string // the handler's name; empty for a closure
}

var ansi = regexp.MustCompile(`\x1b\[[0-9;]*m`)

// stepDefinitions lists the steps in registration order, the order in
// which godog tries them.
func stepDefinitions(t *testing.T) []stepDef {
	var out bytes.Buffer
	opts := godog.Options{Format: "progress", Output: &out, ShowStepDefinitions: true, NoColors: true}
	godog.TestSuite{ScenarioInitializer: initScenario(suiteConfig{}), Options: &opts}.Run()
	var defs []stepDef
	for _, line := range strings.Split(ansi.ReplaceAllString(out.String(), ""), "\n") {
		pattern, loc, ok := strings.Cut(line, "# ")
		if !ok {
			continue
		}
		pattern = strings.TrimSpace(pattern)
		fileLine, fn, _ := strings.Cut(loc, " -> ")
		file, _, _ := strings.Cut(fileLine, ":")
		fn = fn[strings.LastIndex(fn, "features.")+len("features."):]
		if strings.Contains(fn, ".func") {
			fn = ""
		}
		defs = append(defs, stepDef{pattern: pattern, re: regexp.MustCompile(pattern), file: file, fn: fn})
	}
	if len(defs) < 20 {
		t.Fatalf("read %d step definitions from godog:\n%s", len(defs), out.String())
	}
	return defs
}

// stepCalls is what the run saw of one step definition.
type stepCalls struct {
	runs     int
	calls    map[string]bool // rendered call lines
	parties  map[string]bool
	examples map[string]bool // "file.feature: Keyword text"
}

// recordStepCalls runs every feature in process and files the journal
// entries each step caused under the definition that matched it.
func recordStepCalls(t *testing.T, defs []stepDef) map[string]*stepCalls {
	var mu sync.Mutex
	out := map[string]*stepCalls{}
	match := func(text string) string {
		for _, d := range defs {
			if d.re.MatchString(text) {
				return d.pattern
			}
		}
		return ""
	}
	initialize := initScenario(suiteConfig{})
	init := func(s *godog.ScenarioContext) {
		initialize(s)
		var uri string
		var last uint64
		s.Before(func(ctx context.Context, p *godog.Scenario) (context.Context, error) {
			uri = filepath.Base(p.Uri)
			return ctx, nil
		})
		s.StepContext().Before(func(ctx context.Context, st *godog.Step) (context.Context, error) {
			if sc, _ := ctx.Value(scenarioKey{}).(*scenario); sc != nil && sc.w != nil {
				if e := sc.w.Journal.Entries(journal.Filter{Limit: 1}); len(e) > 0 {
					last = e[0].Seq
				}
			}
			return ctx, nil
		})
		s.StepContext().After(func(ctx context.Context, st *godog.Step, status godog.StepResultStatus, err error) (context.Context, error) {
			if status != godog.StepPassed {
				return ctx, err
			}
			var entries []journal.Entry
			if sc, _ := ctx.Value(scenarioKey{}).(*scenario); sc != nil && sc.w != nil {
				entries = sc.w.Journal.Entries(journal.Filter{After: last})
			}
			pattern := match(st.Text)
			mu.Lock()
			defer mu.Unlock()
			c := out[pattern]
			if c == nil {
				c = &stepCalls{calls: map[string]bool{}, parties: map[string]bool{}, examples: map[string]bool{}}
				out[pattern] = c
			}
			c.runs++
			c.examples[uri+": "+keywordOf(st)+" "+st.Text] = true
			for _, e := range entries {
				c.parties[e.Party] = true
				c.calls[callLine(e)] = true
			}
			return ctx, err
		})
	}
	opts := godog.Options{Format: "progress", Output: io.Discard, Paths: []string{"."}, Tags: "~@report-fixture", Strict: true, NoColors: true,
		Concurrency: 2 * runtime.NumCPU()}
	if status := (godog.TestSuite{Name: "steps-doc", ScenarioInitializer: init, Options: &opts}).Run(); status != 0 {
		t.Fatalf("the features failed (status %d); TestFeatures says why", status)
	}
	return out
}

func keywordOf(st *godog.Step) string {
	switch st.Type {
	case messages.PickleStepType_CONTEXT:
		return "Given"
	case messages.PickleStepType_ACTION:
		return "When"
	case messages.PickleStepType_OUTCOME:
		return "Then"
	}
	return "*"
}

var (
	guidPart  = regexp.MustCompile(`(?i)\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b`)
	sysIDPart = regexp.MustCompile(`\b[0-9a-f]{32}\b`)
	numberID  = regexp.MustCompile(`\b(INC|CS|TASK|REQ)\d{7}\b`)
)

// callLine renders a call without what varies between runs: ids become
// placeholders, query values and bodies are reduced to their names.
func callLine(e journal.Entry) string {
	host, _, _ := strings.Cut(e.URL, "/")
	path := numberID.ReplaceAllString(sysIDPart.ReplaceAllString(guidPart.ReplaceAllString(e.Path, "{guid}"), "{sys_id}"), "{number}")
	line := fmt.Sprintf("`%s %s%s`", e.Method, host, path)
	if _, q, ok := strings.Cut(e.URL, "?"); ok {
		if v, err := url.ParseQuery(q); err == nil {
			line += " query " + strings.Join(sortedNames(v), ", ")
		}
	}
	if shape := bodyShape(e.Request); shape != "" {
		line += " body " + shape
	}
	return line
}

func sortedNames[V any](m map[string]V) []string {
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}

// bodyShape is a request body's member names: {a, b} for a JSON object,
// form a, b for a form.
func bodyShape(m journal.Message) string {
	if m.Body == "" {
		return ""
	}
	ct := ""
	if v := m.Headers["Content-Type"]; len(v) > 0 {
		ct = v[0]
	}
	switch {
	case strings.HasPrefix(ct, "application/x-www-form-urlencoded"):
		if v, err := url.ParseQuery(m.Body); err == nil {
			return "form " + strings.Join(sortedNames(v), ", ")
		}
	case strings.Contains(ct, "json"):
		var obj map[string]json.RawMessage
		if json.Unmarshal([]byte(m.Body), &obj) == nil {
			return "{" + strings.Join(sortedNames(obj), ", ") + "}"
		}
		return "JSON"
	}
	return ct
}

func renderStepsDoc(defs []stepDef, calls map[string]*stepCalls) string {
	var b strings.Builder
	b.WriteString(`# Steps and the HTTP they make

Generated by ` + "`go test ./features -run TestStepsDoc -update`" + ` from the step
definitions (in the order godog tries them) and from the request journal of a
run of every feature; TestStepsDoc fails when this file and the steps differ.

For each step: where it is defined, the parties its calls reached, the HTTP
calls its world recorded while it ran (method, host and path with ids as
` + "`{guid}`, `{sys_id}`, `{number}`" + `; query parameter names; the request body's
member names), and examples from the scenarios. A step reaches a party
directly or through another (the instance calling the connector, say); both
are listed. Read a call's full exchange in ` + "`/__admin/requests`" + ` of a world, or in
the Cucumber JSON and HTML reports of a failed scenario.

`)
	const maxExamples, maxCalls = 2, 12
	for _, d := range defs {
		fmt.Fprintf(&b, "## `%s`\n\n", d.pattern)
		where := "`" + d.file + "`"
		if d.fn != "" {
			where += ", `" + d.fn + "`"
		}
		fmt.Fprintf(&b, "- Defined in %s\n", where)
		c := calls[d.pattern]
		if c == nil {
			b.WriteString("- Not used by any scenario\n\n")
			continue
		}
		examples := sortedNames(c.examples)
		for i, ex := range examples {
			if i == maxExamples {
				fmt.Fprintf(&b, "- … and %d more uses\n", len(examples)-maxExamples)
				break
			}
			fmt.Fprintf(&b, "- Example: %s\n", ex)
		}
		if len(c.calls) == 0 {
			b.WriteString("- HTTP: none (the step checks or changes the scenario's own state)\n\n")
			continue
		}
		fmt.Fprintf(&b, "- Parties: %s\n- HTTP:\n", strings.Join(sortedNames(c.parties), ", "))
		lines := sortedNames(c.calls)
		for i, l := range lines {
			if i == maxCalls {
				fmt.Fprintf(&b, "  - … and %d more\n", len(lines)-maxCalls)
				break
			}
			fmt.Fprintf(&b, "  - %s\n", l)
		}
		b.WriteString("\n")
	}
	return b.String()
}
