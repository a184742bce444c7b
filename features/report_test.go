package features

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"encoding/xml"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/cucumber/godog"
	"github.com/santhosh-tekuri/jsonschema/v6"
)

// runFixture runs testdata/report/report.feature with the suite's steps
// and reports, and returns the report directory and godog's output.
func runFixture(t *testing.T, format string) (string, string) {
	t.Helper()
	dir := t.TempDir()
	godogFormat, files, err := splitFormats(strings.ReplaceAll(format, "DIR", dir))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	rep := newRunReport(files)
	initialize := initScenario(suiteConfig{})
	opts := godog.Options{Format: godogFormat, Output: &out, Paths: []string{"testdata/report"}, Strict: true, NoColors: true, Concurrency: 2}
	suite := godog.TestSuite{Name: "report", ScenarioInitializer: func(s *godog.ScenarioContext) { initialize(s); rep.register(s) }, Options: &opts}
	if status := suite.Run(); status != 1 {
		t.Fatalf("the fixture run exited %d, want 1 (it has a failure): %s", status, out.String())
	}
	if err := rep.write(); err != nil {
		t.Fatal(err)
	}
	return dir, out.String()
}

func TestFailuresShowTheWireInProgressOutput(t *testing.T) {
	_, out := runFixture(t, "progress")
	for _, want := range []string{
		// The step's own message, in words.
		`System Logs > All filtered on "x_mioms_m365_assis"`,
		"HTTP exchanges in this scenario's world (all of them are in the Cucumber JSON and HTML reports):",
		// A compact exchange: party, request id, method, URL, status.
		"fakesnow fakesnow-",
		" -> 200 (",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("progress output lacks %q:\n%s", want, out)
		}
	}
	if regexp.MustCompile(`map\[[a-z_]+:`).MatchString(out) {
		t.Errorf("a Go map dump in the output:\n%s", out)
	}
}

func TestJUnitReportIsWhatJenkinsReads(t *testing.T) {
	dir, _ := runFixture(t, "progress,junit:DIR/junit.xml")
	path := filepath.Join(dir, "junit.xml")
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	xsd := filepath.Join("testdata", "schemas", "jenkins-junit.xsd")
	t.Run("xmllint", func(t *testing.T) {
		xmllint, err := exec.LookPath("xmllint")
		if err != nil {
			t.Skip("xmllint is not installed (Debian: apt-get install libxml2-utils); the checks of the XSD's attributes below still run")
		}
		if out, err := exec.Command(xmllint, "--noout", "--schema", xsd, path).CombinedOutput(); err != nil {
			t.Fatalf("junit.xml does not validate against %s: %v\n%s", xsd, err, out)
		}
	})
	allowed, required := xsdAttributes(t, xsd)
	var doc xmlNode
	if err := xml.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	var cases, outlineRows []string
	var walk func(n xmlNode, parent string)
	walk = func(n xmlNode, parent string) {
		el := n.XMLName.Local
		attrs := map[string]string{}
		for _, a := range n.Attrs {
			attrs[a.Name.Local] = a.Value
			if !allowed[el][a.Name.Local] {
				t.Errorf("<%s %s=…> is not in the XSD", el, a.Name.Local)
			}
			if a.Name.Local == "time" {
				if f, err := strconv.ParseFloat(a.Value, 64); err != nil || f < 0 {
					t.Errorf("<%s time=%q> is not a non-negative number", el, a.Value)
				}
			}
		}
		for _, r := range required[el] {
			if _, ok := attrs[r]; !ok {
				t.Errorf("<%s> lacks the required %s", el, r)
			}
		}
		if el == "testcase" {
			cases = append(cases, attrs["name"])
			if attrs["classname"] != "Reports of a run with failures" {
				t.Errorf("testcase %q has classname %q, want the feature's name", attrs["name"], attrs["classname"])
			}
			if strings.HasPrefix(attrs["name"], "One title for every row") {
				outlineRows = append(outlineRows, attrs["name"])
			}
		}
		if el == "testsuite" {
			var sum float64
			for _, c := range n.Children {
				for _, a := range c.Attrs {
					if a.Name.Local == "time" {
						f, _ := strconv.ParseFloat(a.Value, 64)
						sum += f
					}
				}
			}
			got, _ := strconv.ParseFloat(attrs["time"], 64)
			if d := got - sum; d > 0.002*float64(len(n.Children)+1) || d < -0.002*float64(len(n.Children)+1) {
				t.Errorf("testsuite time %s is not the sum of its cases' (%.3f)", attrs["time"], sum)
			}
		}
		for _, c := range n.Children {
			walk(c, el)
		}
	}
	walk(doc, "")
	if len(cases) != 5 {
		t.Errorf("want 5 test cases (one per scenario and outline row), got %q", cases)
	}
	want := []string{"One title for every row (source: report.alpha)", "One title for every row (source: report.beta)"}
	if strings.Join(outlineRows, "|") != strings.Join(want, "|") {
		t.Errorf("outline rows are named %q, want %q", outlineRows, want)
	}
	for _, frag := range []string{`<failure message="System Logs &gt; All filtered on`, `type="failed step: Then System Logs`, `<error message=`, `type="undefined step: Given a step that no definition matches"`} {
		if !strings.Contains(string(raw), frag) {
			t.Errorf("junit.xml lacks %s:\n%s", frag, raw)
		}
	}
}

type xmlNode struct {
	XMLName  xml.Name
	Attrs    []xml.Attr `xml:",any,attr"`
	Children []xmlNode  `xml:",any"`
}

// xsdAttributes reads which attributes each element of the XSD declares,
// and which of them are required.
func xsdAttributes(t *testing.T, path string) (map[string]map[string]bool, map[string][]string) {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var schema xmlNode
	if err := xml.Unmarshal(raw, &schema); err != nil {
		t.Fatal(err)
	}
	allowed, required := map[string]map[string]bool{}, map[string][]string{}
	var collect func(n xmlNode, element string)
	collect = func(n xmlNode, element string) {
		attr := func(name string) string {
			for _, a := range n.Attrs {
				if a.Name.Local == name {
					return a.Value
				}
			}
			return ""
		}
		switch n.XMLName.Local {
		case "element":
			if name := attr("name"); name != "" {
				element = name
				allowed[element] = map[string]bool{}
			}
		case "attribute":
			allowed[element][attr("name")] = true
			if attr("use") == "required" {
				required[element] = append(required[element], attr("name"))
			}
		}
		for _, c := range n.Children {
			collect(c, element)
		}
	}
	collect(schema, "")
	if len(allowed["testcase"]) == 0 || len(required["testsuite"]) == 0 {
		t.Fatalf("read nothing from %s", path)
	}
	return allowed, required
}

func TestCucumberJSONValidatesAndCarriesTheWire(t *testing.T) {
	dir, _ := runFixture(t, "progress,cucumber:DIR/cucumber.json")
	schemaPath := filepath.Join("testdata", "schemas", "cucumber-jvm.json")
	c := jsonschema.NewCompiler()
	schema, err := c.Compile(schemaPath)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(dir, "cucumber.json"))
	if err != nil {
		t.Fatal(err)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	if err := schema.Validate(doc); err != nil {
		t.Fatalf("cucumber.json does not validate against %s: %v", schemaPath, err)
	}
	var features []cukeFeature
	if err := json.Unmarshal(raw, &features); err != nil {
		t.Fatal(err)
	}
	var failed *cukeStep
	for _, e := range features[0].Elements {
		for i, s := range e.Steps {
			if s.Result.Status == "failed" {
				failed = &e.Steps[i]
			}
		}
	}
	if failed == nil || len(failed.Embeddings) != 2 {
		t.Fatalf("the failed step carries no exchanges: %+v", failed)
	}
	text, _ := base64.StdEncoding.DecodeString(failed.Embeddings[0].Data)
	js, _ := base64.StdEncoding.DecodeString(failed.Embeddings[1].Data)
	if failed.Embeddings[0].MimeType != "text/plain" || !strings.Contains(string(text), "POST graph.microsoft.com/v1.0/applications -> 201") {
		t.Errorf("the transcript lacks the app registration:\n%s", text)
	}
	var entries []map[string]any
	if err := json.Unmarshal(js, &entries); err != nil || failed.Embeddings[1].MimeType != "application/json" || len(entries) == 0 {
		t.Errorf("the journal embedding is not a list of entries: %v %s", err, js)
	}
	if strings.Contains(string(raw), "Contoso-AppAdmin-1!") {
		t.Error("a password from the world appears in cucumber.json")
	}
}

func TestHTMLReportIsSelfContained(t *testing.T) {
	dir, _ := runFixture(t, "progress,html:DIR/report.html")
	raw, err := os.ReadFile(filepath.Join(dir, "report.html"))
	if err != nil {
		t.Fatal(err)
	}
	page := string(raw)
	for _, bad := range []string{"<script", "<link", " src=", "@import", "url("} {
		if strings.Contains(page, bad) {
			t.Errorf("report.html fetches or runs something: %s", bad)
		}
	}
	for _, want := range []string{"5 scenarios (3 passed, 1 failed, 1 undefined)", "A failure shows the wire", "POST graph.microsoft.com/v1.0/applications -&gt; 201", "One title for every row (source: report.beta)"} {
		if !strings.Contains(page, want) {
			t.Errorf("report.html lacks %q:\n%.600s", want, page)
		}
	}
}

func TestSplitFormats(t *testing.T) {
	for _, tc := range []struct{ in, godog, junit, cucumber, html string }{
		{"pretty,junit:r/j.xml,cucumber:r/c.json,html:r/r.html", "pretty", "r/j.xml", "r/c.json", "r/r.html"},
		{"junit:j.xml", "progress", "j.xml", "", ""},
		{"progress,events:e.json", "progress,events:e.json", "", "", ""},
	} {
		g, f, err := splitFormats(tc.in)
		if err != nil || g != tc.godog || f.junit != tc.junit || f.cucumber != tc.cucumber || f.html != tc.html {
			t.Errorf("splitFormats(%q) = %q %+v %v", tc.in, g, f, err)
		}
	}
	if _, _, err := splitFormats("pretty,junit"); err == nil || !strings.Contains(err.Error(), "junit:reports/junit.xml") {
		t.Errorf("junit without a file: %v", err)
	}
}
