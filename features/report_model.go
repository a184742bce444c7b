package features

import (
	"bytes"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	gherkin "github.com/cucumber/gherkin/go/v26"
	"github.com/cucumber/godog"
	messages "github.com/cucumber/messages/go/v21"

	"github.com/m365snow/m365snow/internal/journal"
)

// runResults is a finished run, in source order, ready to render.
type runResults struct {
	started  time.Time
	wall     time.Duration
	features []*featureResult
}

type featureResult struct {
	uri, keyword, name, description string
	line                            int
	tags                            []tagAt
	scenarios                       []*scenarioResult
}

type tagAt struct {
	name         string
	line, column int
}

type scenarioResult struct {
	feature *featureResult
	// name is readable and unique within an outline: an example row's
	// values follow the title when the title alone repeats.
	name, keyword, description string
	line                       int    // the example row's line for an outline row
	example                    string // "header: value, ..." of an outline row
	tags                       []string
	started                    time.Time
	duration                   time.Duration
	status                     string // passed, failed, skipped, undefined, pending
	// message is the first problem in one line; detail has it in full,
	// with the exchanges the failure printed.
	message, detail string
	steps           []stepResult
	exchanges       []journal.Entry
}

type stepResult struct {
	keyword, text string
	line          int
	status        string
	duration      time.Duration
	err           string
	docString     *messages.PickleDocString
	docLine       int
	rows          [][]string
}

// statusName is Cucumber's spelling of a step status. Ambiguous steps
// fail the run (Strict), so they are reported as failed with godog's
// message.
func statusName(done bool, s godog.StepResultStatus) string {
	if !done {
		return "skipped"
	}
	switch s {
	case godog.StepPassed:
		return "passed"
	case godog.StepSkipped:
		return "skipped"
	case godog.StepUndefined:
		return "undefined"
	case godog.StepPending:
		return "pending"
	}
	return "failed"
}

// results joins the collected runs with their Gherkin source.
func (r *runReport) results(runs []*scenarioRun) (*runResults, error) {
	out := &runResults{started: r.started, wall: time.Since(r.started)}
	byURI := map[string]*featureResult{}
	for _, run := range runs {
		file, compiled, err := r.index.lookup(run.pickle)
		if err != nil {
			return nil, err
		}
		f := byURI[run.pickle.Uri]
		if f == nil {
			doc := file.doc.Feature
			f = &featureResult{uri: run.pickle.Uri, keyword: doc.Keyword, name: doc.Name, description: strings.TrimSpace(doc.Description), line: int(doc.Location.Line)}
			for _, t := range doc.Tags {
				f.tags = append(f.tags, tagAt{t.Name, int(t.Location.Line), int(t.Location.Column)})
			}
			byURI[run.pickle.Uri] = f
			out.features = append(out.features, f)
		}
		f.scenarios = append(f.scenarios, file.scenario(f, run, compiled))
	}
	sort.Slice(out.features, func(i, j int) bool { return out.features[i].uri < out.features[j].uri })
	for _, f := range out.features {
		sort.SliceStable(f.scenarios, func(i, j int) bool { return f.scenarios[i].line < f.scenarios[j].line })
		nameOutlineRows(f)
	}
	return out, nil
}

// nameOutlineRows appends an example row's values to its title when the
// title alone does not tell the rows of an outline apart.
func nameOutlineRows(f *featureResult) {
	count := map[string]int{}
	for _, s := range f.scenarios {
		count[s.name]++
	}
	for _, s := range f.scenarios {
		if count[s.name] > 1 && s.example != "" {
			s.name += " (" + s.example + ")"
		}
	}
}

// gherkinIndex parses the feature files the run used, to give reports
// lines, keywords and outline rows. godog's pickle ids come from its own
// parse, so a pickle is matched by content (uri, name, steps): pickles
// compiled from the same file come out alike and in the same order.
type gherkinIndex struct {
	files map[string]*indexedFile
}

type indexedFile struct {
	doc     *messages.GherkinDocument
	nodes   map[string]any // AST node by id: *messages.Scenario, *messages.Step, *messages.TableRow
	headers map[string]*messages.TableRow
	pickles []*messages.Pickle
	claimed []bool
}

func newGherkinIndex() *gherkinIndex { return &gherkinIndex{files: map[string]*indexedFile{}} }

func (ix *gherkinIndex) lookup(p *godog.Scenario) (*indexedFile, *messages.Pickle, error) {
	f := ix.files[p.Uri]
	if f == nil {
		src, err := os.ReadFile(p.Uri)
		if err != nil {
			return nil, nil, fmt.Errorf("reports: read %s: %w", p.Uri, err)
		}
		n := 0
		newID := func() string { n++; return strconv.Itoa(n) }
		doc, err := gherkin.ParseGherkinDocument(bytes.NewReader(src), newID)
		if err != nil {
			return nil, nil, fmt.Errorf("reports: parse %s: %w", p.Uri, err)
		}
		f = &indexedFile{doc: doc, nodes: map[string]any{}, headers: map[string]*messages.TableRow{}}
		f.walk()
		f.pickles = gherkin.Pickles(*doc, p.Uri, newID)
		f.claimed = make([]bool, len(f.pickles))
		ix.files[p.Uri] = f
	}
	want := signature(p)
	for i, c := range f.pickles {
		if !f.claimed[i] && signature(c) == want {
			f.claimed[i] = true
			return f, c, nil
		}
	}
	return nil, nil, fmt.Errorf("reports: no scenario in %s compiles to %q", p.Uri, p.Name)
}

func signature(p *messages.Pickle) string {
	var b strings.Builder
	b.WriteString(p.Name)
	for _, s := range p.Steps {
		b.WriteString("\x00" + s.Text)
		if s.Argument != nil && s.Argument.DocString != nil {
			b.WriteString("\x01" + s.Argument.DocString.Content)
		}
		if s.Argument != nil && s.Argument.DataTable != nil {
			for _, row := range s.Argument.DataTable.Rows {
				for _, c := range row.Cells {
					b.WriteString("\x02" + c.Value)
				}
			}
		}
	}
	return b.String()
}

func (f *indexedFile) walk() {
	addScenario := func(s *messages.Scenario) {
		f.nodes[s.Id] = s
		for _, st := range s.Steps {
			f.nodes[st.Id] = st
		}
		for _, ex := range s.Examples {
			for _, row := range ex.TableBody {
				f.nodes[row.Id] = row
				f.headers[row.Id] = ex.TableHeader
			}
		}
	}
	addBackground := func(b *messages.Background) {
		for _, st := range b.Steps {
			f.nodes[st.Id] = st
		}
	}
	if f.doc.Feature == nil {
		return
	}
	for _, c := range f.doc.Feature.Children {
		switch {
		case c.Background != nil:
			addBackground(c.Background)
		case c.Scenario != nil:
			addScenario(c.Scenario)
		case c.Rule != nil:
			for _, rc := range c.Rule.Children {
				if rc.Background != nil {
					addBackground(rc.Background)
				}
				if rc.Scenario != nil {
					addScenario(rc.Scenario)
				}
			}
		}
	}
}

// scenario builds one scenario's result from its run and its source.
func (f *indexedFile) scenario(feature *featureResult, run *scenarioRun, c *messages.Pickle) *scenarioResult {
	s := &scenarioResult{feature: feature, name: run.pickle.Name, started: run.started, status: "passed", exchanges: run.exchanges}
	if !run.ended.IsZero() && run.ended.After(run.started) {
		s.duration = run.ended.Sub(run.started)
	}
	for _, t := range run.pickle.Tags {
		s.tags = append(s.tags, t.Name)
	}
	if len(c.AstNodeIds) > 0 {
		if sc, ok := f.nodes[c.AstNodeIds[0]].(*messages.Scenario); ok {
			s.keyword, s.line, s.description = sc.Keyword, int(sc.Location.Line), strings.TrimSpace(sc.Description)
		}
	}
	if len(c.AstNodeIds) > 1 {
		if row, ok := f.nodes[c.AstNodeIds[1]].(*messages.TableRow); ok {
			s.line = int(row.Location.Line)
			var pairs []string
			if h := f.headers[row.Id]; h != nil {
				for i, cell := range row.Cells {
					if i < len(h.Cells) {
						pairs = append(pairs, h.Cells[i].Value+": "+cell.Value)
					}
				}
			}
			s.example = strings.Join(pairs, ", ")
		}
	}
	for i, ps := range run.pickle.Steps {
		sr := run.steps[i]
		st := stepResult{text: ps.Text, status: statusName(sr.done, sr.status), duration: max(sr.duration, 0), err: sr.err}
		if i < len(c.Steps) && len(c.Steps[i].AstNodeIds) > 0 {
			if node, ok := f.nodes[c.Steps[i].AstNodeIds[0]].(*messages.Step); ok {
				st.keyword, st.line = node.Keyword, int(node.Location.Line)
				if node.DocString != nil {
					st.docLine = int(node.DocString.Location.Line)
				}
			}
		}
		if ps.Argument != nil {
			st.docString = ps.Argument.DocString
			if t := ps.Argument.DataTable; t != nil {
				for _, row := range t.Rows {
					var cells []string
					for _, cell := range row.Cells {
						cells = append(cells, cell.Value)
					}
					st.rows = append(st.rows, cells)
				}
			}
		}
		if s.status == "passed" && st.status != "passed" {
			s.status = st.status
			s.message, s.detail = firstLine(sr.message), sr.err
			if st.status == "skipped" && sr.message == "" {
				s.message = "not run: an earlier step did not pass"
			}
		}
		s.steps = append(s.steps, st)
	}
	if s.status == "skipped" && s.message == "" {
		s.message = "skipped"
	}
	return s
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}
