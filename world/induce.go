package world

import (
	"fmt"
	"net/url"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/m365snow/m365snow/internal/faults"
	"github.com/m365snow/m365snow/internal/fixture"
	"github.com/m365snow/m365snow/internal/wellknown"
)

// Inducement is one entry of a fixture's induce: list — something done to
// a loaded world through the parties' own APIs or their fault injection,
// never by editing state behind them. The troubleshooting worlds use it to
// start with a cause already in place. Exactly one of Request, Update,
// Fault or Advance is set.
type Inducement struct {
	// Note says what this does, in the guide's words.
	Note string `yaml:"note,omitempty"`
	// As signs Request and Update: a ServiceNow user_name (an interactive
	// session), or an Azure AD user principal name, whose token is for the
	// request's host (graph.microsoft.com or admin.microsoft.com).
	As string `yaml:"as,omitempty"`
	// Request is "METHOD URL" at a party's real URL; Body goes as JSON.
	Request string `yaml:"request,omitempty"`
	Body    any    `yaml:"body,omitempty"`
	// Update changes instance records through the Table API.
	Update *TableUpdate `yaml:"update,omitempty"`
	// Fault is injected into one fake.
	Fault *PartyFault `yaml:"fault,omitempty"`
	// Advance moves the world's clock by a Go duration ("49h").
	Advance string `yaml:"advance,omitempty"`
}

// TableUpdate is a Table API PATCH of every record a query selects.
type TableUpdate struct {
	Table string            `yaml:"table"`
	Where string            `yaml:"where"` // an encoded query; it must select something
	Set   map[string]string `yaml:"set"`
}

// PartyFault is a fault for one fake: aad, snow or m365.
type PartyFault struct {
	On           string `yaml:"on"`
	faults.Fault `yaml:",inline"`
}

// Induce applies a fixture's induce: list in order.
func (w *World) Induce(list []yaml.Node) error { return w.induceFrom(list, nil) }

// induceFrom is Induce with the file each entry comes from
// (fixture.File.InduceFiles), so that a failure names FILE:LINE:COLUMN.
func (w *World) induceFrom(list []yaml.Node, files []string) error {
	for i := range list {
		var in Inducement
		if err := fixture.Section(&list[i], &in); err != nil {
			return fmt.Errorf("world: %s: %w", inducementAt(list, files, i), err)
		}
		if err := w.induce(in); err != nil {
			return inducementError(list, files, i, in, err)
		}
	}
	return nil
}

// inducementAt is where entry i of an induce: list is: FILE:LINE:COLUMN
// when its file is known, else its index.
func inducementAt(list []yaml.Node, files []string, i int) string {
	if i < len(files) && files[i] != "" && list[i].Line > 0 {
		return fmt.Sprintf("%s:%d:%d", files[i], list[i].Line, list[i].Column)
	}
	return fmt.Sprintf("induce[%d]", i)
}

func inducementError(list []yaml.Node, files []string, i int, in Inducement, err error) error {
	at := inducementAt(list, files, i)
	if in.Note != "" {
		return fmt.Errorf("world: %s: %s: %w", at, in.Note, err)
	}
	return fmt.Errorf("world: %s: %w", at, err)
}

func (w *World) induce(in Inducement) error {
	set := 0
	for _, b := range []bool{in.Request != "", in.Update != nil, in.Fault != nil, in.Advance != ""} {
		if b {
			set++
		}
	}
	if set != 1 {
		return fmt.Errorf("an inducement needs exactly one of request, update, fault or advance")
	}
	switch {
	case in.Advance != "":
		d, err := time.ParseDuration(in.Advance)
		if err != nil || d <= 0 {
			return fmt.Errorf("advance %q is not a positive Go duration", in.Advance)
		}
		w.Clock.Advance(d)
		return nil
	case in.Fault != nil:
		set, err := w.faultsOf(in.Fault.On)
		if err != nil {
			return err
		}
		_, err = set.Add(in.Fault.Fault)
		return err
	case in.Update != nil:
		return w.updateRecords(in.As, in.Update)
	}
	method, target, ok := strings.Cut(strings.TrimSpace(in.Request), " ")
	if !ok {
		return fmt.Errorf("request %q is not \"METHOD URL\"", in.Request)
	}
	auth, err := w.signAs(in.As, target)
	if err != nil {
		return err
	}
	r, err := w.Do(method, strings.TrimSpace(target), auth, in.Body)
	if err != nil {
		return err
	}
	if r.Status/100 != 2 {
		return fmt.Errorf("%s: %s", in.Request, r)
	}
	return nil
}

func (w *World) faultsOf(party string) (*faults.Set, error) {
	switch party {
	case "aad":
		return w.AAD.Faults(), nil
	case "snow":
		return w.Snow.Faults(), nil
	case "m365":
		if w.M365 == nil {
			return w.ConnectorFaults, nil
		}
		return w.M365.Faults(), nil
	}
	return nil, fmt.Errorf("fault on %q: aad, snow or m365", party)
}

func (w *World) updateRecords(as string, u *TableUpdate) error {
	if u.Table == "" || u.Where == "" || len(u.Set) == 0 {
		return fmt.Errorf("update needs table, where and set")
	}
	auth, err := w.signAs(as, w.InstanceURL)
	if err != nil {
		return err
	}
	base := w.InstanceURL + "/api/now/table/" + url.PathEscape(u.Table)
	r, err := w.Do("GET", base+"?sysparm_fields=sys_id&sysparm_query="+url.QueryEscape(u.Where), auth, nil)
	if err != nil {
		return err
	}
	if r.Status != 200 {
		return fmt.Errorf("reading %s where %s: %s", u.Table, u.Where, r)
	}
	list := r.ResultList()
	if len(list) == 0 {
		return fmt.Errorf("no %s record where %s", u.Table, u.Where)
	}
	for _, rec := range list {
		id, _ := rec.(map[string]any)["sys_id"].(string)
		r, err := w.Do("PATCH", base+"/"+id, auth, u.Set)
		if err != nil {
			return err
		}
		if r.Status != 200 {
			return fmt.Errorf("updating %s %s: %s", u.Table, id, r)
		}
	}
	return nil
}

// signAs signs in as a ServiceNow user (session) or an Azure AD user (a
// token for target's host).
func (w *World) signAs(as, target string) (Auth, error) {
	if as == "" {
		return nil, nil
	}
	if at := strings.LastIndex(as, "@"); at > 0 {
		pw, ok := w.aadPasswords[strings.ToLower(as)]
		if !ok {
			return nil, fmt.Errorf("the aad: section has no user %s", as)
		}
		u, err := url.Parse(target)
		if err != nil {
			return nil, err
		}
		resource := map[string]string{wellknown.GraphHost: wellknown.GraphResource, wellknown.AdminHost: wellknown.AdminPortalResource}[u.Hostname()]
		if resource == "" {
			return nil, fmt.Errorf("an Azure AD user signs requests to %s or %s, not %s", wellknown.GraphHost, wellknown.AdminHost, u.Host)
		}
		tok, err := w.AADToken(as[at+1:], url.Values{"grant_type": {"password"}, "client_id": {wellknown.AzureCLIAppID},
			"username": {as}, "password": {pw}, "resource": {resource}})
		if err != nil {
			return nil, err
		}
		return Bearer(tok), nil
	}
	pw, ok := w.snowPasswords[as]
	if !ok {
		return nil, fmt.Errorf("the snow: section has no user %s with a password", as)
	}
	ck, err := w.Login(as, pw)
	if err != nil {
		return nil, err
	}
	return Session(ck), nil
}
