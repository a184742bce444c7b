package features

import (
	"encoding/base64"
	"encoding/json"
	"regexp"
	"strings"

	"github.com/m365snow/m365snow/internal/journal"
)

// Cucumber JSON as cucumber-jvm writes it (testdata/schemas/cucumber-jvm.json),
// which Jenkins' cucumber-reports and most other tools read. A failed
// scenario's failing step carries its world's exchanges as two embeddings:
// a readable transcript (text/plain) and the journal entries
// (application/json, as /__admin/requests serves them).

type cukeFeature struct {
	URI         string        `json:"uri"`
	ID          string        `json:"id"`
	Line        int           `json:"line"`
	Keyword     string        `json:"keyword"`
	Name        string        `json:"name"`
	Description string        `json:"description"`
	Tags        []cukeLocTag  `json:"tags,omitempty"`
	Elements    []cukeElement `json:"elements"`
}

type cukeLocTag struct {
	Name     string `json:"name"`
	Type     string `json:"type"`
	Location struct {
		Line   int `json:"line"`
		Column int `json:"column"`
	} `json:"location"`
}

type cukeTag struct {
	Name string `json:"name"`
}

type cukeElement struct {
	ID             string     `json:"id"`
	Keyword        string     `json:"keyword"`
	Type           string     `json:"type"`
	Name           string     `json:"name"`
	Description    string     `json:"description"`
	Line           int        `json:"line"`
	StartTimestamp string     `json:"start_timestamp"`
	Tags           []cukeTag  `json:"tags,omitempty"`
	Steps          []cukeStep `json:"steps"`
}

type cukeStep struct {
	Keyword    string          `json:"keyword"`
	Name       string          `json:"name"`
	Line       int             `json:"line"`
	Result     cukeResult      `json:"result"`
	DocString  *cukeDocString  `json:"doc_string,omitempty"`
	Rows       []cukeRow       `json:"rows,omitempty"`
	Embeddings []cukeEmbedding `json:"embeddings,omitempty"`
}

type cukeResult struct {
	Status       string `json:"status"`
	Duration     int64  `json:"duration"` // nanoseconds, as cucumber-jvm
	ErrorMessage string `json:"error_message,omitempty"`
}

type cukeDocString struct {
	Value       string `json:"value"`
	ContentType string `json:"content_type,omitempty"`
	Line        int    `json:"line"`
}

type cukeRow struct {
	Cells []string `json:"cells"`
}

type cukeEmbedding struct {
	MimeType string `json:"mime_type"`
	Data     string `json:"data"`
	Name     string `json:"name,omitempty"`
}

var nonSlug = regexp.MustCompile(`[^a-z0-9]+`)

func slug(s string) string {
	return strings.Trim(nonSlug.ReplaceAllString(strings.ToLower(s), "-"), "-")
}

func renderCucumber(res *runResults) ([]byte, error) {
	out := []cukeFeature{}
	for _, f := range res.features {
		cf := cukeFeature{URI: f.uri, ID: slug(f.name), Line: f.line, Keyword: f.keyword, Name: f.name, Description: f.description, Elements: []cukeElement{}}
		for _, t := range f.tags {
			tag := cukeLocTag{Name: t.name, Type: "Tag"}
			tag.Location.Line, tag.Location.Column = t.line, t.column
			cf.Tags = append(cf.Tags, tag)
		}
		for _, s := range f.scenarios {
			e := cukeElement{ID: cf.ID + ";" + slug(s.name), Keyword: s.keyword, Type: "scenario", Name: s.name, Description: s.description,
				Line: s.line, StartTimestamp: s.started.UTC().Format("2006-01-02T15:04:05.000Z"), Steps: []cukeStep{}}
			for _, t := range s.tags {
				e.Tags = append(e.Tags, cukeTag{Name: t})
			}
			for _, st := range s.steps {
				cs := cukeStep{Keyword: st.keyword, Name: st.text, Line: st.line, Result: cukeResult{Status: st.status, Duration: st.duration.Nanoseconds(), ErrorMessage: st.err}}
				if st.status == "failed" && cs.Result.ErrorMessage == "" {
					cs.Result.ErrorMessage = "failed"
				}
				if st.docString != nil {
					cs.DocString = &cukeDocString{Value: st.docString.Content, ContentType: st.docString.MediaType, Line: st.docLine}
				}
				for _, r := range st.rows {
					cs.Rows = append(cs.Rows, cukeRow{Cells: r})
				}
				if st.status == "failed" && len(s.exchanges) > 0 {
					cs.Embeddings = wireEmbeddings(s.exchanges)
				}
				e.Steps = append(e.Steps, cs)
			}
			cf.Elements = append(cf.Elements, e)
		}
		out = append(out, cf)
	}
	b, err := json.MarshalIndent(out, "", "  ")
	return append(b, '\n'), err
}

func wireEmbeddings(entries []journal.Entry) []cukeEmbedding {
	var text strings.Builder
	for _, e := range entries {
		text.WriteString(journal.Compact(e, 4000))
	}
	js, _ := json.MarshalIndent(entries, "", "  ")
	enc := base64.StdEncoding.EncodeToString
	return []cukeEmbedding{
		{MimeType: "text/plain", Data: enc([]byte(text.String())), Name: "HTTP exchanges in this scenario's world"},
		{MimeType: "application/json", Data: enc(js), Name: "request journal (as /__admin/requests)"},
	}
}
