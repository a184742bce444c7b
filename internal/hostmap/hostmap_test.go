package hostmap

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestTransportRoutesMappedHosts(t *testing.T) {
	var gotHost, gotPath string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotHost, gotPath = r.Host, r.URL.Path
		_, _ = io.WriteString(w, "ok")
	}))
	defer srv.Close()

	m := New()
	if err := m.Set("Login.MicrosoftOnline.com", srv.URL); err != nil {
		t.Fatal(err)
	}
	c := m.Client(nil)
	resp, err := c.Get("https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/token")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if gotHost != "login.microsoftonline.com" {
		t.Errorf("fake saw Host %q, want the real name", gotHost)
	}
	if gotPath != "/contoso.onmicrosoft.com/oauth2/token" {
		t.Errorf("path %q", gotPath)
	}
	// Loopback stays reachable without a route.
	resp, err = c.Get(srv.URL + "/x")
	if err != nil {
		t.Fatalf("loopback refused: %v", err)
	}
	resp.Body.Close()
}

func TestTransportRefusesUnmappedHosts(t *testing.T) {
	c := New().Client(nil)
	for _, u := range []string{"https://login.microsoftonline.com/", "http://example.com/", "https://10.0.0.1/"} {
		_, err := c.Get(u)
		var refused *RefusedError
		if !errors.As(err, &refused) {
			t.Errorf("GET %s: want RefusedError, got %v", u, err)
		}
	}
}

func TestSetAndParseFlag(t *testing.T) {
	m := New()
	cases := []struct {
		in      string
		wantErr bool
		want    string
	}{
		{"connector.rave.microsoft.com=127.0.0.1:8082", false, "http://127.0.0.1:8082"},
		{"dev1.service-now.com=https://127.0.0.1:8443", false, "https://127.0.0.1:8443"},
		{"no-equals", true, ""},
		{"=127.0.0.1:1", true, ""},
		{"a.example=ftp://x", true, ""},
		{"a/b=127.0.0.1:1", true, ""},
	}
	for _, c := range cases {
		err := m.ParseFlag(c.in)
		if (err != nil) != c.wantErr {
			t.Errorf("%q: err %v, wantErr %v", c.in, err, c.wantErr)
			continue
		}
		if c.want != "" {
			host := c.in[:len(c.in)-len(c.in[indexEq(c.in):])]
			u, ok := m.Lookup(host)
			if !ok || u.String() != c.want {
				t.Errorf("%q: lookup %v %v, want %s", c.in, u, ok, c.want)
			}
		}
	}
	if got := m.String(); got != "connector.rave.microsoft.com=http://127.0.0.1:8082,dev1.service-now.com=https://127.0.0.1:8443" {
		t.Errorf("String() = %q", got)
	}
}

func indexEq(s string) int {
	for i := range s {
		if s[i] == '=' {
			return i
		}
	}
	return len(s)
}
