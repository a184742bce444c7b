package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/m365snow/m365snow/world"
)

// The sandbox serves one journal for its three fakes: any of their ports
// answers for all, as issue 15 asks of
// `curl 127.0.0.1:8080/__admin/requests?party=fakeaad`.
func TestSandboxServesTheMergedJournalOnEveryPort(t *testing.T) {
	w, _ := start(t, "integrated-basic")
	res, err := http.PostForm(w.AADURL+"/contoso.onmicrosoft.com/oauth2/token", url.Values{
		"grant_type": {"client_credentials"}, "client_id": {"00000000-0000-0000-0000-000000000001"},
		"client_secret": {"Not-The-Secret-1!"}, "resource": {"https://graph.microsoft.com"}})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res, err = http.Get(w.SnowURL + "/api/now/table/incident"); err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	for _, base := range []string{w.SnowURL, w.AADURL, w.M365URL} {
		res, err := http.Get(base + "/__admin/requests?party=fakeaad")
		if err != nil {
			t.Fatal(err)
		}
		var got struct {
			Requests []struct {
				Party, Method, Path string
				Status              int
				Request             struct{ Body string }
			}
		}
		err = json.NewDecoder(res.Body).Decode(&got)
		res.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		if len(got.Requests) != 1 {
			t.Fatalf("%s/__admin/requests?party=fakeaad holds %d entries, want the refused token request", base, len(got.Requests))
		}
		e := got.Requests[0]
		if e.Party != "fakeaad" || e.Method != "POST" || e.Path != "/contoso.onmicrosoft.com/oauth2/token" || e.Status/100 != 4 {
			t.Errorf("%s: entry %+v", base, e)
		}
		if strings.Contains(e.Request.Body, "Not-The-Secret") || !strings.Contains(e.Request.Body, "client_secret=%5Bredacted%3A") {
			t.Errorf("%s: the secret is not redacted: %s", base, e.Request.Body)
		}
	}
	res, err = http.Get(w.AADURL + "/__admin/requests/count?party=fakesnow")
	if err != nil {
		t.Fatal(err)
	}
	var count struct{ Count int }
	_ = json.NewDecoder(res.Body).Decode(&count)
	res.Body.Close()
	if count.Count != 1 {
		t.Errorf("fakeaad's port counts %d fakesnow requests, want 1", count.Count)
	}
}

// At the default level the sandbox says what it serves and where, and then
// one line per request once it is answered.
func TestSandboxLogsItsStartupAndEachRequest(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var out, errOut syncBuffer
	ready := make(chan *world.World, 1)
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"--snow-listen", "127.0.0.1:0", "--aad-listen", "127.0.0.1:0", "--m365-listen", "127.0.0.1:0", "--proxy-listen", ""},
			&out, &errOut, func(w *world.World) { ready <- w })
	}()
	var w *world.World
	select {
	case w = <-ready:
	case code := <-done:
		t.Fatalf("sandbox exited with %d: %s", code, errOut.String())
	}
	res, err := http.Get(w.AADURL + "/common/discovery/keys")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	cancel()
	<-done
	logs := errOut.String()
	for _, want := range []string{
		`msg="sandbox ready" world=integrated-basic fakesnow=http://127.0.0.1:`,
		`journal=http://127.0.0.1:`,
		`msg=request party=fakeaad method=GET path=/common/discovery/keys status=200 latency=`,
		`request_id=fakeaad-`,
	} {
		if !strings.Contains(logs, want) {
			t.Errorf("stderr lacks %q:\n%s", want, logs)
		}
	}
}
