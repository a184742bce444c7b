package features

import (
	"bytes"
	"fmt"
	"html/template"
	"strings"
	"time"

	"github.com/m365snow/m365snow/internal/journal"
)

// A single self-contained HTML page of a run: inline style, no script, no
// network; scenarios open with <details>, failures first and open.

var htmlReport = template.Must(template.New("report").Funcs(template.FuncMap{
	"ms":      func(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(max(d, 0).Microseconds())/1000) },
	"compact": func(e journal.Entry) string { return journal.Compact(e, 4000) },
	"upper":   strings.ToUpper,
}).Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>m365snow conformance: {{.Summary}}</title>
<style>
body { font: 14px/1.45 system-ui, sans-serif; margin: 2em; color: #1b1b1b; }
h1 { font-size: 1.4em; } h2 { font-size: 1.15em; margin-top: 1.6em; }
.passed { color: #116329; } .failed, .undefined, .pending { color: #b31d28; } .skipped { color: #7a6400; }
details { border: 1px solid #d0d7de; border-radius: 6px; margin: .4em 0; padding: .3em .8em; }
details.failed, details.undefined, details.pending { border-color: #b31d28; }
summary { cursor: pointer; }
pre { background: #f6f8fa; padding: .6em; overflow-x: auto; white-space: pre-wrap; word-break: break-word; font-size: 12.5px; }
table.steps td { padding: .1em .6em; vertical-align: top; }
.muted { color: #57606a; }
</style>
</head>
<body>
<h1>m365snow conformance: {{.Summary}}</h1>
<p class="muted">Started {{.Started}}, {{.Wall}} wall time. Each scenario ran against its own world; a failed scenario lists the HTTP exchanges its world saw (secrets redacted).</p>
{{range .Features}}
<h2>{{.Name}} <span class="muted">{{.URI}}</span></h2>
{{range .Scenarios}}
<details class="{{.Status}}"{{if .Open}} open{{end}}>
<summary><b class="{{.Status}}">{{upper .Status}}</b> {{.Name}} <span class="muted">line {{.Line}}, {{ms .Duration}}</span></summary>
{{if .Message}}<p class="{{.Status}}">{{.Message}}</p>{{end}}
<table class="steps">
{{range .Steps}}<tr><td class="{{.Status}}">{{.Status}}</td><td>{{.Keyword}}{{.Text}}</td><td class="muted">{{ms .Duration}}</td></tr>
{{end}}</table>
{{if .Detail}}<pre>{{.Detail}}</pre>{{end}}
{{if .Exchanges}}<p><b>All {{len .Exchanges}} HTTP exchanges in this scenario's world</b></p>
<pre>{{range .Exchanges}}{{compact .}}{{end}}</pre>{{end}}
</details>
{{end}}
{{end}}
</body>
</html>
`))

type htmlScenario struct {
	Name, Status, Message, Detail string
	Line                          int
	Duration                      time.Duration
	Open                          bool
	Steps                         []htmlStep
	Exchanges                     []journal.Entry
}

type htmlStep struct {
	Keyword, Text, Status string
	Duration              time.Duration
}

type htmlFeature struct {
	Name, URI string
	Scenarios []htmlScenario
}

func renderHTML(res *runResults) ([]byte, error) {
	counts := map[string]int{}
	data := struct {
		Summary, Started, Wall string
		Features               []htmlFeature
	}{Started: res.started.UTC().Format(time.RFC3339), Wall: res.wall.Round(time.Millisecond).String()}
	for _, f := range res.features {
		hf := htmlFeature{Name: f.name, URI: f.uri}
		for _, s := range f.scenarios {
			counts[s.status]++
			hs := htmlScenario{Name: s.name, Status: s.status, Message: s.message, Detail: s.detail, Line: s.line, Duration: s.duration,
				Open: s.status != "passed" && s.status != "skipped", Exchanges: s.exchanges}
			for _, st := range s.steps {
				hs.Steps = append(hs.Steps, htmlStep{Keyword: st.keyword, Text: st.text, Status: st.status, Duration: st.duration})
			}
			hf.Scenarios = append(hf.Scenarios, hs)
		}
		data.Features = append(data.Features, hf)
	}
	var parts []string
	total := 0
	for _, k := range []string{"passed", "failed", "undefined", "pending", "skipped"} {
		total += counts[k]
		if counts[k] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", counts[k], k))
		}
	}
	data.Summary = fmt.Sprintf("%d scenarios (%s)", total, strings.Join(parts, ", "))
	var b bytes.Buffer
	err := htmlReport.Execute(&b, data)
	return b.Bytes(), err
}
