package world

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"

	"github.com/m365snow/m365snow/fakeaad"
	"github.com/m365snow/m365snow/fakem365"
	"github.com/m365snow/m365snow/fakesnow"
	"github.com/m365snow/m365snow/internal/clock"
	"github.com/m365snow/m365snow/internal/fixture"
	"github.com/m365snow/m365snow/internal/hostmap"
	"github.com/m365snow/m365snow/internal/wellknown"
)

// Alone is one fake serving by itself, as its single binary and a compose
// service run it. Exactly one of AAD, Snow and M365 is set.
type Alone struct {
	AAD  *fakeaad.Server
	Snow *fakesnow.Server
	M365 *fakem365.Server
	// Clock is the fake's clock; an advance: inducement moves it.
	Clock clock.Adjustable
	// Others routes the other parties' real names to where they run
	// (--map-host); an inducement signed by another party's user (an Azure
	// AD token for admin.microsoft.com) goes there. Nil routes nowhere.
	Others *hostmap.Map
}

// InduceAlone applies the inducements of f that act on the fake a holds,
// through its own API (in process, before it serves) or its own faults,
// exactly as Start applies them to a whole world: a troubleshooting world
// is the same world in the sandbox, in compose and in each single binary.
// Each of the other inducements belongs to the binary of the party it acts
// on; an advance: moves every party's clock.
func InduceAlone(f *fixture.File, a Alone) error {
	af, err := fakeaad.ParseFixture(&f.AAD)
	if err != nil {
		return err
	}
	sf, err := fakesnow.ParseFixture(&f.Snow)
	if err != nil {
		return err
	}
	others := a.Others
	if others == nil {
		others = hostmap.New()
	}
	w := &World{Clock: a.Clock, AAD: a.AAD, Snow: a.Snow, M365: a.M365, Hosts: hostmap.New()}
	w.aadPasswords, w.snowPasswords = passwords(af, sf)
	var party string
	var h http.Handler
	var own []string
	switch {
	case a.AAD != nil:
		party, h, own = "aad", a.AAD, []string{wellknown.LoginHost, wellknown.GraphHost}
	case a.Snow != nil:
		w.InstanceURL = a.Snow.URL()
		w.InstanceHost = hostOf(w.InstanceURL)
		party, h, own = "snow", a.Snow, []string{w.InstanceHost, hostOf(sf.InstanceURL())}
	case a.M365 != nil:
		party, h, own = "m365", a.M365, []string{wellknown.ConnectorHost, wellknown.AdminHost}
	default:
		return fmt.Errorf("world: InduceAlone needs one fake")
	}
	w.Client = &http.Client{Transport: &inProcess{handler: h, hosts: own, others: &hostmap.Transport{Map: others}}}
	for i := range f.Induce {
		var in Inducement
		if err := fixture.Section(&f.Induce[i], &in); err != nil {
			return fmt.Errorf("world: %s: %w", inducementAt(f.Induce, f.InduceFiles, i), err)
		}
		if in.Advance == "" && ownerOf(in, w.InstanceHost) != party {
			continue
		}
		if err := w.induce(in); err != nil {
			return inducementError(f.Induce, f.InduceFiles, i, in, err)
		}
	}
	return nil
}

// ownerOf is the party an inducement acts on: the fake a fault is for, the
// instance for record updates, and for a request the party serving its host.
func ownerOf(in Inducement, instanceHost string) string {
	switch {
	case in.Fault != nil:
		return in.Fault.On
	case in.Update != nil:
		return "snow"
	case in.Request != "":
		_, target, _ := strings.Cut(strings.TrimSpace(in.Request), " ")
		switch strings.ToLower(hostOf(strings.TrimSpace(target))) {
		case wellknown.LoginHost, wellknown.GraphHost:
			return "aad"
		case wellknown.ConnectorHost, wellknown.AdminHost:
			return "m365"
		}
		return "snow"
	}
	return ""
}

func hostOf(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return ""
	}
	return p.Hostname()
}

// passwords are the fixture's users' passwords, for inducements signed as
// a user: Azure AD's by lower-cased user principal name, ServiceNow's by
// user_name.
func passwords(af *fakeaad.Fixture, sf *fakesnow.Fixture) (aad, snow map[string]string) {
	aad, snow = map[string]string{}, map[string]string{}
	for _, t := range af.Tenants {
		for _, u := range t.Users {
			aad[strings.ToLower(u.UserPrincipalName)] = u.Password
		}
	}
	for _, u := range sf.Users {
		if u.Password != "" {
			snow[u.UserName] = u.Password
		}
	}
	return aad, snow
}

// inProcess hands requests for the fake's own names to its handler, as if
// they had come in on its listener from loopback, and the rest to others.
type inProcess struct {
	handler http.Handler
	hosts   []string
	others  http.RoundTripper
}

func (t *inProcess) RoundTrip(req *http.Request) (*http.Response, error) {
	for _, h := range t.hosts {
		if h != "" && strings.EqualFold(req.URL.Hostname(), h) {
			in := req.Clone(req.Context())
			in.RequestURI = req.URL.RequestURI()
			in.RemoteAddr = "127.0.0.1:0"
			if in.Host == "" {
				in.Host = req.URL.Host
			}
			rec := httptest.NewRecorder()
			t.handler.ServeHTTP(rec, in)
			res := rec.Result()
			res.Request = req
			return res, nil
		}
	}
	return t.others.RoundTrip(req)
}
