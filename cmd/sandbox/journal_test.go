package main

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
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
