package features

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/cucumber/godog"

	"github.com/m365snow/m365snow/internal/journal"
)

// The suite writes its JUnit XML, Cucumber JSON and HTML reports itself,
// from godog's scenario and step events (hooks), instead of through
// godog's junit and cucumber formatters: with concurrent scenarios
// godog v0.15.1's JUnit has negative suite times, no classname, a
// non-standard status attribute and "#1" outline names, and neither of its
// formatters can attach what the scenario's world saw on the wire. The
// formats keep godog's spelling on the command line:
//
//	-godog.format=pretty,junit:reports/junit.xml,cucumber:reports/cucumber.json,html:reports/report.html
//
// Other formats (pretty, progress, ...) stay godog's.

// reportFiles are the report paths taken out of godog's format list.
type reportFiles struct {
	junit, cucumber, html string
}

func (f reportFiles) any() bool { return f.junit != "" || f.cucumber != "" || f.html != "" }

// splitFormats takes junit:, cucumber: and html: out of a godog format
// list. What remains is godog's; "progress" when nothing does.
func splitFormats(format string) (string, reportFiles, error) {
	var rest []string
	var files reportFiles
	for _, f := range strings.Split(format, ",") {
		name, path, _ := strings.Cut(strings.TrimSpace(f), ":")
		var dst *string
		switch name {
		case "junit":
			dst = &files.junit
		case "cucumber":
			dst = &files.cucumber
		case "html":
			dst = &files.html
		default:
			if name != "" {
				rest = append(rest, f)
			}
			continue
		}
		if path == "" {
			return "", files, fmt.Errorf("format %s needs a file: %s:reports/%s", name, name, map[string]string{"junit": "junit.xml", "cucumber": "cucumber.json", "html": "report.html"}[name])
		}
		*dst = path
	}
	if len(rest) == 0 {
		rest = []string{"progress"}
	}
	return strings.Join(rest, ","), files, nil
}

// withoutReportFixture adds to a godog tag expression the exclusion of
// testdata/report, the report tests' fixture (failures included), which
// godog would otherwise find under Paths ".".
func withoutReportFixture(tags string) string {
	if tags == "" {
		return "~@report-fixture"
	}
	return tags + " && ~@report-fixture"
}

// wireLines is how many exchanges a failure prints with its message; the
// reports carry them all.
const wireLines = 5

// maxAttached bounds the exchanges attached to one failed scenario.
const maxAttached = 100

// runReport collects one run's results. It belongs to one runSuite call.
type runReport struct {
	files   reportFiles
	started time.Time
	index   *gherkinIndex

	mu        sync.Mutex
	scenarios []*scenarioRun
	byID      map[string]*scenarioRun
}

// scenarioRun is one pickle's result.
type scenarioRun struct {
	pickle         *godog.Scenario
	started, ended time.Time
	steps          []stepRun // in pickle.Steps order
	// exchanges of the scenario's world, when it failed.
	exchanges []journal.Entry
}

type stepRun struct {
	done     bool
	status   godog.StepResultStatus
	err      string // the reported error, wire included
	message  string // the step's own error, for one-line summaries
	started  time.Time
	duration time.Duration
}

func newRunReport(files reportFiles) *runReport {
	return &runReport{files: files, started: time.Now(), index: newGherkinIndex(), byID: map[string]*scenarioRun{}}
}

// register adds the report's hooks to a scenario. Call it after the
// scenario's own Before hook is registered: it reads the world from the
// scenario value.
func (r *runReport) register(s *godog.ScenarioContext) {
	s.Before(func(ctx context.Context, p *godog.Scenario) (context.Context, error) {
		r.mu.Lock()
		defer r.mu.Unlock()
		run := &scenarioRun{pickle: p, started: time.Now(), steps: make([]stepRun, len(p.Steps))}
		r.scenarios = append(r.scenarios, run)
		r.byID[p.Id] = run
		return ctx, nil
	})
	s.StepContext().Before(func(ctx context.Context, st *godog.Step) (context.Context, error) {
		r.step(st, func(sr *stepRun, _ *scenarioRun) { sr.started = time.Now() })
		return ctx, nil
	})
	s.StepContext().After(func(ctx context.Context, st *godog.Step, status godog.StepResultStatus, err error) (context.Context, error) {
		now := time.Now()
		var wire []journal.Entry
		if status == godog.StepFailed {
			if sc, _ := ctx.Value(scenarioKey{}).(*scenario); sc != nil && sc.w != nil {
				wire = sc.w.Journal.Entries(journal.Filter{})
			}
		}
		reported := err
		if err != nil && len(wire) > 0 {
			reported = &wireError{err: err, wire: wire}
		}
		r.step(st, func(sr *stepRun, run *scenarioRun) {
			sr.done, sr.status = true, status
			if sr.started.IsZero() {
				sr.started = now
			}
			sr.duration = now.Sub(sr.started)
			if err != nil {
				sr.err, sr.message = reported.Error(), err.Error()
			}
			if len(wire) > 0 {
				run.exchanges = wire[max(0, len(wire)-maxAttached):]
			}
			run.ended = now
		})
		return ctx, reported
	})
}

// step finds the run of st and changes it under the lock.
func (r *runReport) step(st *godog.Step, f func(*stepRun, *scenarioRun)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, run := range r.scenarios {
		for i, ps := range run.pickle.Steps {
			if ps.Id == st.Id {
				f(&run.steps[i], run)
				return
			}
		}
	}
}

// wireError is a step's failure followed by the last exchanges of the
// scenario's world, so that pretty and progress output show the wire.
type wireError struct {
	err  error
	wire []journal.Entry
}

func (e *wireError) Unwrap() error { return e.err }

func (e *wireError) Error() string {
	var b strings.Builder
	b.WriteString(e.err.Error())
	last := e.wire[max(0, len(e.wire)-wireLines):]
	fmt.Fprintf(&b, "\n\nThe last %d of the %d HTTP exchanges in this scenario's world (all of them are in the Cucumber JSON and HTML reports):\n", len(last), len(e.wire))
	for _, x := range last {
		b.WriteString(journal.Compact(x, 300))
	}
	return strings.TrimRight(b.String(), "\n")
}

// write writes the reports asked for.
func (r *runReport) write() error {
	if !r.files.any() {
		return nil
	}
	r.mu.Lock()
	runs := make([]*scenarioRun, len(r.scenarios))
	copy(runs, r.scenarios)
	r.mu.Unlock()
	res, err := r.results(runs)
	if err != nil {
		return err
	}
	var errs []error
	for _, out := range []struct {
		path   string
		render func(*runResults) ([]byte, error)
	}{{r.files.junit, renderJUnit}, {r.files.cucumber, renderCucumber}, {r.files.html, renderHTML}} {
		if out.path == "" {
			continue
		}
		b, err := out.render(res)
		if err == nil {
			if err = os.MkdirAll(filepath.Dir(out.path), 0o755); err == nil {
				err = os.WriteFile(out.path, b, 0o644)
			}
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("report %s: %w", out.path, err))
		}
	}
	return errors.Join(errs...)
}
