package fakem365

import (
	"os"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/gorilla/mux"
	"gopkg.in/yaml.v3"
)

// TestOpenAPIMatchesRoutes keeps openapi.yaml and the server's routes from
// drifting apart: every served path and method is documented, and every
// documented connector or portal operation is served.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	b, err := os.ReadFile("openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		OpenAPI string                          `yaml:"openapi"`
		Paths   map[string]map[string]yaml.Node `yaml:"paths"`
	}
	if err := yaml.Unmarshal(b, &doc); err != nil {
		t.Fatalf("openapi.yaml: %v", err)
	}
	if doc.OpenAPI != "3.0.3" {
		t.Fatalf("openapi %q", doc.OpenAPI)
	}
	documented := map[string]bool{}
	for path, ops := range doc.Paths {
		if !strings.HasPrefix(path, "/api/tenants/") && !strings.HasPrefix(path, "/api/v1/") {
			continue // calls into the instance, served by fakesnow
		}
		for m := range ops {
			if m != "parameters" && m != "servers" {
				documented[strings.ToUpper(m)+" "+path] = true
			}
		}
	}
	s, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	served := map[string]bool{}
	varName := regexp.MustCompile(`\{([^}:]+)(:[^}]*)?\}`)
	_ = s.router.Walk(func(route *mux.Route, _ *mux.Router, _ []*mux.Route) error {
		tpl, err := route.GetPathTemplate()
		methods, merr := route.GetMethods()
		if err != nil || merr != nil || !strings.HasPrefix(tpl, "/api/") {
			return nil
		}
		for _, m := range methods {
			served[m+" "+varName.ReplaceAllString(tpl, "{$1}")] = true
		}
		return nil
	})
	var missing, extra []string
	for k := range served {
		if !documented[k] {
			missing = append(missing, k)
		}
	}
	for k := range documented {
		if !served[k] {
			extra = append(extra, k)
		}
	}
	sort.Strings(missing)
	sort.Strings(extra)
	if len(missing) > 0 || len(extra) > 0 || len(served) == 0 {
		t.Fatalf("served but undocumented: %v\ndocumented but not served: %v", missing, extra)
	}
}

// TestOpenAPIAgreesWithContract keeps CONTRACT.md and openapi.yaml saying
// the same thing: every operation a CONTRACT.md heading names is in the
// OpenAPI file with the heading's statuses and vice versa, the error codes
// of the Errors table are the Error schema's enum, and the fields of every
// JSON example are the properties of the schema it illustrates.
func TestOpenAPIAgreesWithContract(t *testing.T) {
	contract, err := os.ReadFile("CONTRACT.md")
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile("openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Paths      map[string]map[string]yaml.Node `yaml:"paths"`
		Components struct {
			Schemas map[string]struct {
				Properties map[string]struct {
					ReadOnly bool `yaml:"readOnly"`
				} `yaml:"properties"`
			} `yaml:"schemas"`
		} `yaml:"components"`
	}
	if err := yaml.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}

	// Operations and statuses.
	heading := regexp.MustCompile("(?m)^### (.*)$")
	method := regexp.MustCompile(`\b(GET|PUT|POST|PATCH|DELETE)\b`)
	path := regexp.MustCompile(`(/api/[^\s` + "`" + `]+)`)
	status := regexp.MustCompile(`\b([1-5]\d\d)\b`)
	inContract := map[string]bool{}
	for _, h := range heading.FindAllStringSubmatch(string(contract), -1) {
		p := path.FindString(h[1])
		if p == "" {
			continue
		}
		statuses := status.FindAllString(h[1], -1)
		for _, m := range method.FindAllString(h[1], -1) {
			inContract[m+" "+p] = true
			node, ok := doc.Paths[p][strings.ToLower(m)]
			var op struct {
				Responses map[string]yaml.Node `yaml:"responses"`
			}
			if !ok || node.Decode(&op) != nil {
				t.Errorf("CONTRACT.md names %s %s; openapi.yaml does not", m, p)
				continue
			}
			found := false
			for _, s := range statuses {
				if _, ok := op.Responses[s]; ok {
					found = true
				}
			}
			if !found {
				t.Errorf("%s %s: CONTRACT.md answers %v, openapi.yaml %v", m, p, statuses, keys(op.Responses))
			}
		}
	}
	for p, ops := range doc.Paths {
		if !strings.HasPrefix(p, "/api/tenants/") && !strings.HasPrefix(p, "/api/v1/") {
			continue
		}
		for m := range ops {
			if m != "parameters" && m != "servers" && !inContract[strings.ToUpper(m)+" "+p] {
				t.Errorf("openapi.yaml has %s %s; no CONTRACT.md heading names it", strings.ToUpper(m), p)
			}
		}
	}

	// Error codes.
	codeRow := regexp.MustCompile("(?m)^\\| [1-5]\\d\\d \\| (.*?) \\|")
	tick := regexp.MustCompile("`([A-Za-z]+)`")
	var contractCodes []string
	for _, r := range codeRow.FindAllStringSubmatch(string(contract), -1) {
		for _, c := range tick.FindAllStringSubmatch(r[1], -1) {
			contractCodes = append(contractCodes, c[1])
		}
	}
	var enum struct {
		Components struct {
			Schemas struct {
				Error struct {
					Properties struct {
						Error struct {
							Properties struct {
								Code struct {
									Enum []string `yaml:"enum"`
								} `yaml:"code"`
							} `yaml:"properties"`
						} `yaml:"error"`
					} `yaml:"properties"`
				} `yaml:"Error"`
			} `yaml:"schemas"`
		} `yaml:"components"`
	}
	if err := yaml.Unmarshal(b, &enum); err != nil {
		t.Fatal(err)
	}
	sort.Strings(contractCodes)
	codes := append([]string(nil), enum.Components.Schemas.Error.Properties.Error.Properties.Code.Enum...)
	sort.Strings(codes)
	if strings.Join(contractCodes, ",") != strings.Join(codes, ",") {
		t.Errorf("error codes differ:\nCONTRACT.md  %v\nopenapi.yaml %v", contractCodes, codes)
	}

	// JSON examples against schemas, told apart by the fields only one has.
	block := regexp.MustCompile("(?s)```json\n(.*?)```")
	field := regexp.MustCompile(`"([A-Za-z]+)"\s*:`)
	which := func(f map[string]bool) string {
		switch {
		case f["error"]:
			return ""
		case f["tenantId"]:
			return "SupportIntegration"
		case f["internalSupportTool"]:
			return "IntegrationInput"
		case f["clientSecretSet"]:
			return "Repository"
		case f["authenticationType"]:
			return "RepositoryInput"
		case f["inboundMode"] && f["outboundAppId"]:
			return "Handshake"
		case f["caseNumber"]:
			return "Case"
		case f["contactEmail"]:
			return "CaseInput"
		}
		return ""
	}
	seen := map[string]bool{}
	for _, m := range block.FindAllStringSubmatch(string(contract), -1) {
		fields := map[string]bool{}
		for _, f := range field.FindAllStringSubmatch(m[1], -1) {
			fields[f[1]] = true
		}
		name := which(fields)
		if name == "" {
			continue
		}
		seen[name] = true
		schema := doc.Components.Schemas[name]
		var missing, extra []string
		for f := range fields {
			if _, ok := schema.Properties[f]; !ok {
				extra = append(extra, f)
			}
		}
		for f, p := range schema.Properties {
			if !fields[f] && !p.ReadOnly {
				missing = append(missing, f)
			}
		}
		sort.Strings(missing)
		sort.Strings(extra)
		if len(missing)+len(extra) > 0 {
			t.Errorf("CONTRACT.md's %s example: fields not in openapi.yaml %v; schema properties not in the example %v", name, extra, missing)
		}
	}
	for _, name := range []string{"SupportIntegration", "IntegrationInput", "Repository", "RepositoryInput", "Handshake", "Case", "CaseInput"} {
		if !seen[name] {
			t.Errorf("CONTRACT.md has no JSON example of %s", name)
		}
	}
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
