// Package features is the conformance suite: the installation guide of the
// Microsoft 365 support integration as Gherkin scenarios, run with godog
// against the fakes (features_test.go). Steps are grouped by party in the
// *_steps.go files; every scenario builds its own world, in process, on
// 127.0.0.1:0, and keeps its state in a scenario value carried by the
// context.
package features

import (
	"context"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"sync"

	"github.com/cucumber/godog"

	"github.com/m365snow/m365snow/world"
)

// suiteConfig says which connector the scenarios drive.
type suiteConfig struct {
	// connectorURL is an external connector build; empty means fakem365
	// in each scenario's world.
	connectorURL string
	// fronts serve the current world's Azure AD and instance at the fixed
	// addresses an external connector reaches for the whole run (vendor.go); ledger counts what ran and
	// what was skipped, and why.
	fronts *fronts
	ledger *skipLedger
}

// scenario is the state of one running scenario.
type scenario struct {
	w   *world.World
	cfg suiteConfig
	// external: the world drives a connector build outside this process,
	// whose content (articles, service health) is its own.
	external bool
	// vendorSkip, when set, is why vendor mode skips this scenario.
	vendorSkip string

	mu       sync.Mutex
	vars     map[string]string           // ${name} values recorded by steps
	sessions map[string]*world.UISession // ServiceNow UI sessions by user_name
	// passwords of ServiceNow users the scenario knows (fixture or created).
	passwords map[string]string
	// last answers, for Then steps.
	last      *world.Response
	incident  map[string]any            // last incident action's result
	form      map[string]any            // last opened form
	repo      map[string]map[string]any // repositories as last saved, by id (for re-saving)
	repoAdmin map[string]string         // who saved them
}

type scenarioKey struct{}

func from(ctx context.Context) *scenario {
	sc, _ := ctx.Value(scenarioKey{}).(*scenario)
	if sc == nil {
		panic("no scenario in context: the Before hook did not run")
	}
	return sc
}

// passwords of the users every shipped world has (fixtures/fresh.yaml).
var worldPasswords = map[string]string{
	"admin": "Snow-Admin-1!", "beth.anglin": "Snow-Beth-1!", "abel.tuter": "Snow-Abel-1!",
	"david.miller": "Snow-David-1!", "fred.luddy": "Snow-Fred-1!", "m365.integration": "Snow-Integration-1!",
}

var aadPasswords = map[string]string{
	"admin@contoso.onmicrosoft.com": "Contoso-Admin-1!", "helpdesk@contoso.onmicrosoft.com": "Contoso-Helpdesk-1!",
	"appadmin@contoso.onmicrosoft.com": "Contoso-AppAdmin-1!", "lynne@contoso.onmicrosoft.com": "Contoso-User-1!",
	"admin@fabrikam.onmicrosoft.com": "Fabrikam-Admin-1!",
}

func newScenario(cfg suiteConfig) *scenario {
	sc := &scenario{cfg: cfg, external: cfg.connectorURL != "", vars: map[string]string{}, sessions: map[string]*world.UISession{}, passwords: map[string]string{},
		repo: map[string]map[string]any{}, repoAdmin: map[string]string{}}
	for k, v := range worldPasswords {
		sc.passwords[k] = v
	}
	return sc
}

func (sc *scenario) set(name, value string) {
	sc.mu.Lock()
	sc.vars[name] = value
	sc.mu.Unlock()
}

var varRef = regexp.MustCompile(`\$\{([^}]+)\}`)

// expand replaces ${name} with values recorded earlier in the scenario.
func (sc *scenario) expand(s string) (string, error) {
	var missing []string
	out := varRef.ReplaceAllStringFunc(s, func(m string) string {
		name := varRef.FindStringSubmatch(m)[1]
		sc.mu.Lock()
		v, ok := sc.vars[name]
		sc.mu.Unlock()
		if !ok {
			missing = append(missing, name)
		}
		return v
	})
	if len(missing) > 0 {
		sc.mu.Lock()
		known := make([]string, 0, len(sc.vars))
		for k := range sc.vars {
			known = append(known, k)
		}
		sc.mu.Unlock()
		sort.Strings(known)
		return "", fmt.Errorf("no value recorded for %q (known: %s)", missing, strings.Join(known, "; "))
	}
	return out, nil
}

// rows reads a two-column table (label | value) with values expanded.
func (sc *scenario) rows(t *godog.Table) (map[string]string, []string, error) {
	out := map[string]string{}
	var order []string
	for _, r := range t.Rows {
		if len(r.Cells) != 2 {
			return nil, nil, fmt.Errorf("table rows need two cells (label | value), got %d", len(r.Cells))
		}
		v, err := sc.expand(r.Cells[1].Value)
		if err != nil {
			return nil, nil, err
		}
		out[r.Cells[0].Value] = v
		order = append(order, r.Cells[0].Value)
	}
	return out, order, nil
}

// as is a ServiceNow user's UI session, opened on first use. Interactive
// sessions work whatever the instance says of basic authentication, as an
// admin's browser would.
func (sc *scenario) as(user string) (world.Auth, error) {
	sc.mu.Lock()
	ck := sc.sessions[user]
	pw, known := sc.passwords[user]
	sc.mu.Unlock()
	if ck != nil {
		return world.Session(ck), nil
	}
	if !known {
		return nil, fmt.Errorf("the scenario does not know %s's password", user)
	}
	ck, err := sc.w.Login(user, pw)
	if err != nil {
		return nil, err
	}
	sc.mu.Lock()
	sc.sessions[user] = ck
	sc.mu.Unlock()
	return world.Session(ck), nil
}

// snow calls the instance as a user; path is relative to the instance.
func (sc *scenario) snow(user, method, path string, body any) (*world.Response, error) {
	auth, err := sc.as(user)
	if err != nil {
		return nil, err
	}
	r, err := sc.w.Do(method, sc.w.InstanceURL+path, auth, body)
	if err != nil {
		return nil, err
	}
	sc.last = r
	return r, nil
}

// expect checks a status and explains the answer when it is wrong.
func expect(r *world.Response, status int, what string) error {
	if r.Status != status {
		return fmt.Errorf("%s: want HTTP %d, got %s", what, status, r)
	}
	return nil
}
