package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/m365snow/m365snow/internal/wellknown"
)

// Issue 16 item 2: behind a port mapping (docker run -p 127.0.0.1:9080:8080)
// the sandbox's listen address is not where a person reaches it. With
// --snow-public-url every printed command, Link and Location header and
// reference link names the public URL, and all of them work through it.
// The public address here is a reverse proxy in front of the real listener.
func TestSnowPublicURLBehindAPortMapping(t *testing.T) {
	var through atomic.Int64
	// portMapping is a reverse proxy to a listener known once the sandbox runs.
	portMapping := func() (*httptest.Server, *atomic.Pointer[url.URL]) {
		var target atomic.Pointer[url.URL]
		m := httptest.NewServer(&httputil.ReverseProxy{Rewrite: func(pr *httputil.ProxyRequest) {
			through.Add(1)
			pr.SetURL(target.Load())
			pr.Out.Host = pr.In.Host // a port mapping keeps the Host the client sent
		}})
		t.Cleanup(m.Close)
		return m, &target
	}
	snow, snowTarget := portMapping()
	aad, aadTarget := portMapping()
	m365, m365Target := portMapping()
	public := snow.URL

	w, out := start(t, "integrated-basic", "--snow-public-url", public+"/", "--aad-public-url", aad.URL, "--m365-public-url", m365.URL)
	listener, ok := w.Hosts.Lookup(w.InstanceHost)
	if !ok {
		t.Fatal("the instance's name is not routed")
	}
	snowTarget.Store(listener)
	for _, m := range []struct {
		host   string
		target *atomic.Pointer[url.URL]
	}{{wellknown.LoginHost, aadTarget}, {wellknown.ConnectorHost, m365Target}} {
		u, ok := w.Hosts.Lookup(m.host)
		if !ok {
			t.Fatalf("%s is not routed", m.host)
		}
		m.target.Store(u)
		if strings.Contains(out, u.String()) {
			t.Errorf("the output names the listener %s of %s, not its public URL", u, m.host)
		}
	}
	if w.SnowURL != public || w.AADURL != aad.URL || w.M365URL != m365.URL {
		t.Errorf("URLs %s %s %s, want %s %s %s", w.SnowURL, w.AADURL, w.M365URL, public, aad.URL, m365.URL)
	}
	if strings.Contains(out, listener.String()) {
		t.Errorf("the output names the listener %s, not the public URL:\n%s", listener, out)
	}
	for _, u := range []string{public + "/api/", aad.URL, m365.URL} {
		if !strings.Contains(out, u) {
			t.Errorf("the output does not name the public URL %s:\n%s", u, out)
		}
	}

	// The whole walk-through through the public URL, its links followed.
	steps, err := walkthrough(w, "integrated-basic")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range steps {
		if strings.HasPrefix(c.URL, listener.String()) {
			t.Errorf("step %q calls the listener: %s", c.Note, c.URL)
		}
	}
	execute(t, steps)
	if through.Load() == 0 {
		t.Fatal("no step went through the public URL")
	}

	// A Table API page: its Link header (pagination) and reference links
	// name the public URL and answer through it.
	req, _ := http.NewRequest("GET", public+"/api/now/table/incident?sysparm_limit=1&sysparm_fields=number,caller_id,opened_by", nil)
	req.SetBasicAuth("admin", "Snow-Admin-1!")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	var js map[string]any
	if err := json.Unmarshal(b, &js); err != nil || res.StatusCode != 200 {
		t.Fatalf("Table API through the public URL: %s %s", res.Status, b)
	}
	links := linksIn(res.Header, js)
	if len(links) < 2 || res.Header.Get("Link") == "" {
		t.Fatalf("want a Link header and reference links, got %v from %s", links, b)
	}
	for _, link := range links {
		if !strings.HasPrefix(link, public+"/") {
			t.Errorf("link %s does not name the public URL %s", link, public)
			continue
		}
		before := through.Load()
		lr, _ := http.NewRequest("GET", link, nil)
		lr.SetBasicAuth("admin", "Snow-Admin-1!")
		got, err := http.DefaultClient.Do(lr)
		if err != nil {
			t.Fatal(err)
		}
		got.Body.Close()
		if got.StatusCode != 200 || through.Load() == before {
			t.Errorf("link %s: %s (through the public URL: %v)", link, got.Status, through.Load() > before)
		}
	}
}

func TestPublicURLFlagsAreBaseURLs(t *testing.T) {
	for _, args := range [][]string{
		{"--snow-public-url", "127.0.0.1:9080"},
		{"--aad-public-url", "ftp://127.0.0.1:9081"},
		{"--m365-public-url", "http://127.0.0.1:9082/some/path"},
	} {
		var out, errOut strings.Builder
		if code := run(t.Context(), args, &out, &errOut, nil); code != 2 || !strings.Contains(errOut.String(), args[0]+" ") || !strings.Contains(errOut.String(), "want a base URL") {
			t.Errorf("%v: exit %d, %q", args, code, errOut.String())
		}
	}
}
