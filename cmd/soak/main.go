// Command soak runs a bounded, loopback-only mixed load against the three
// fakes of one world and prints what docs/benchmarks.md records: requests,
// errors, p50/p99 latency, RSS and goroutines before the load, after it and
// after an idle pause; then an adversarial phase in which one non-admin
// ServiceNow user sends expensive requests while a normal request is timed
// alongside.
//
//	soak [--duration 60s] [--concurrency 16] [--idle 10s] [--adversarial 100] [--world integrated-basic]
//
// The load is vendor-like: the app's token and connector calls, Table API
// reads, recommended solutions through the app (which itself calls Azure AD
// and the connector), discovery and JWKS reads, and Microsoft calling into
// the instance. It exits 1 when a request of the mixed load failed.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/m365snow/m365snow/fixtures"
	"github.com/m365snow/m365snow/internal/clock"
	"github.com/m365snow/m365snow/internal/fixture"
	"github.com/m365snow/m365snow/world"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// The integrated-basic world's credentials (cmd/sandbox prints them).
const (
	tenant        = "contoso.onmicrosoft.com"
	outboundID    = "1f9c2e4a-6b8d-4f0e-a2c4-6e8a0c2e4f61"
	outboundPW    = "Out8Q~ContosoOutboundSecret.000000000000"
	inboundID     = "0c4f5a6b7d8e9f0a1b2c3d4e5f6a7b8c"
	inboundSecret = "Inb-ContosoInboundSecret-1"
)

type op struct {
	name   string
	weight int
	do     func(c *http.Client) error
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("soak", flag.ContinueOnError)
	fs.SetOutput(stderr)
	duration := fs.Duration("duration", 60*time.Second, "how long the mixed load runs")
	concurrency := fs.Int("concurrency", 16, "concurrent clients of the mixed load")
	idle := fs.Duration("idle", 10*time.Second, "pause after the load before the last reading")
	adversarial := fs.Int("adversarial", 100, "expensive requests from one non-admin user in the adversarial phase")
	worldName := fs.String("world", "integrated-basic", "world to load (its credentials must be integrated-basic's)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	fail := func(err error) int { fmt.Fprintf(stderr, "soak: %v\n", err); return 1 }
	if *duration <= 0 || *duration > time.Hour || *concurrency < 1 || *concurrency > 1024 {
		fmt.Fprintln(stderr, "soak: --duration must be in (0, 1h] and --concurrency in [1, 1024]")
		return 2
	}
	f, err := fixture.Load(fixtures.FS, *worldName)
	if err != nil {
		return fail(err)
	}
	// Loopback listeners on free ports; real time, as a vendor's run sees.
	w, err := world.Start(world.Options{Fixture: f, Clock: &clock.Offset{}})
	if err != nil {
		return fail(err)
	}
	defer w.Close()
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: *concurrency * 2}}

	ops, err := vendorMix(client, w)
	if err != nil {
		return fail(err)
	}
	fmt.Fprintf(stdout, "soak: world %s, %v at concurrency %d, loopback only\n", *worldName, *duration, *concurrency)
	before := reading()
	res := load(ctx, client, ops, *duration, *concurrency)
	after := reading()
	// Let the clients' keep-alive connections go, as a vendor's run ends;
	// what stays after the pause is the fakes' own.
	client.Transport.(*http.Transport).CloseIdleConnections()
	select {
	case <-ctx.Done():
	case <-time.After(*idle): // the pause is what is measured, not a wait for something
	}
	idleR := reading()

	fmt.Fprintf(stdout, "\nmixed load: %d requests, %d errors, %.0f req/s, p50 %v, p99 %v\n",
		res.requests, res.errors, float64(res.requests)/duration.Seconds(), res.pct(50), res.pct(99))
	for _, o := range ops {
		fmt.Fprintf(stdout, "  %-32s %6d requests  p50 %-10v p99 %v\n", o.name, len(res.byOp[o.name]), pct(res.byOp[o.name], 50), pct(res.byOp[o.name], 99))
	}
	for _, e := range res.firstErrors {
		fmt.Fprintf(stdout, "  error: %s\n", e)
	}
	fmt.Fprintf(stdout, "\n%-24s %10s %11s\n", "", "RSS (MiB)", "goroutines")
	for _, r := range []struct {
		name string
		r    usage
	}{{"before", before}, {"after the load", after}, {fmt.Sprintf("after %v idle", *idle), idleR}} {
		fmt.Fprintf(stdout, "%-24s %10.1f %11d\n", r.name, r.r.rssMiB, r.r.goroutines)
	}

	adv := adversarialPhase(ctx, client, w, *adversarial)
	fmt.Fprintf(stdout, "\nadversarial: %d requests from abel.tuter (itil, not admin): statuses %v\n", *adversarial, adv.statuses)
	fmt.Fprintf(stdout, "  RSS %.1f → %.1f MiB (+%.1f); a concurrent Table API read: p50 %v, max %v (alone: %v)\n",
		adv.before.rssMiB, adv.after.rssMiB, adv.after.rssMiB-adv.before.rssMiB, pct(adv.probe, 50), pct(adv.probe, 100), adv.baseline)
	if adv.probeErrors > 0 {
		fmt.Fprintf(stdout, "  %d timed reads failed\n", adv.probeErrors)
		res.errors += int64(adv.probeErrors)
	}
	if res.errors > 0 {
		return 1
	}
	return 0
}

func vendorMix(c *http.Client, w *world.World) ([]op, error) {
	form := func(target string, v url.Values) (map[string]any, error) {
		res, err := c.PostForm(target, v)
		if err != nil {
			return nil, err
		}
		defer res.Body.Close()
		var body map[string]any
		_ = json.NewDecoder(res.Body).Decode(&body)
		if res.StatusCode != 200 {
			return nil, fmt.Errorf("POST %s: %s %v", target, res.Status, body)
		}
		return body, nil
	}
	tokenForm := url.Values{"grant_type": {"client_credentials"}, "client_id": {outboundID}, "client_secret": {outboundPW}, "resource": {"https://connector.rave.microsoft.com"}}
	tok, err := form(w.AADURL+"/"+tenant+"/oauth2/token", tokenForm)
	if err != nil {
		return nil, err
	}
	appToken, _ := tok["access_token"].(string)
	in, err := form(w.SnowURL+"/oauth_token.do", url.Values{"grant_type": {"password"}, "client_id": {inboundID},
		"client_secret": {inboundSecret}, "username": {"m365.integration"}, "password": {"Snow-Integration-1!"}})
	if err != nil {
		return nil, err
	}
	inboundToken, _ := in["access_token"].(string)

	call := func(method, target, auth string, body []byte, basic ...string) func(*http.Client) error {
		return func(c *http.Client) error {
			req, err := http.NewRequest(method, target, bytes.NewReader(body))
			if err != nil {
				return err
			}
			if auth != "" {
				req.Header.Set("Authorization", auth)
			}
			if len(basic) == 2 {
				req.SetBasicAuth(basic[0], basic[1])
			}
			if body != nil {
				req.Header.Set("Content-Type", "application/json")
			}
			req.Header.Set("Accept", "application/json")
			res, err := c.Do(req)
			if err != nil {
				return err
			}
			defer res.Body.Close()
			_, _ = io.Copy(io.Discard, res.Body)
			if res.StatusCode/100 != 2 {
				return fmt.Errorf("%s %s: %s", method, target, res.Status)
			}
			return nil
		}
	}
	return []op{
		{"aad: client-credentials token", 2, func(c *http.Client) error { _, err := form(w.AADURL+"/"+tenant+"/oauth2/token", tokenForm); return err }},
		{"aad: discovery + JWKS", 1, func(c *http.Client) error {
			if err := call("GET", w.AADURL+"/"+tenant+"/.well-known/openid-configuration", "", nil)(c); err != nil {
				return err
			}
			return call("GET", w.AADURL+"/common/discovery/keys", "", nil)(c)
		}},
		{"snow: Table API incident list", 3, call("GET", w.SnowURL+"/api/now/table/incident?sysparm_limit=20&sysparm_fields=number,short_description,state", "", nil, "admin", "Snow-Admin-1!")},
		{"snow: app recommended solutions", 2, call("POST", w.SnowURL+"/api/x_mioms_m365_assis/v1/incidents/INC0010001/solutions", "", nil, "admin", "Snow-Admin-1!")},
		{"m365: connector solution search", 2, call("POST", w.M365URL+"/api/v1/repositories/contoso-snow/solutions/search", "Bearer "+appToken, []byte(`{"query":"teams meetings drop"}`))},
		{"snow: inbound ping (Microsoft)", 1, call("GET", w.SnowURL+"/api/x_mioms_m365_assis/v1/inbound/ping", "Bearer "+inboundToken, nil)},
	}, nil
}

type result struct {
	requests, errors int64
	all              []time.Duration
	byOp             map[string][]time.Duration
	firstErrors      []string
}

func (r *result) pct(p float64) time.Duration { return pct(r.all, p) }

func pct(d []time.Duration, p float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), d...)
	sort.Slice(s, func(a, b int) bool { return s[a] < s[b] })
	i := int(float64(len(s)-1) * p / 100)
	return s[i].Round(10 * time.Microsecond)
}

func load(ctx context.Context, c *http.Client, ops []op, d time.Duration, n int) *result {
	var schedule []int
	for i, o := range ops {
		for range o.weight {
			schedule = append(schedule, i)
		}
	}
	deadline := time.Now().Add(d)
	res := &result{byOp: map[string][]time.Duration{}}
	var mu sync.Mutex
	var next atomic.Int64
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			local := map[string][]time.Duration{}
			var errs []string
			var reqs, nerr int64
			for time.Now().Before(deadline) && ctx.Err() == nil {
				o := ops[schedule[int(next.Add(1))%len(schedule)]]
				start := time.Now()
				err := o.do(c)
				local[o.name] = append(local[o.name], time.Since(start))
				reqs++
				if err != nil {
					nerr++
					if len(errs) < 5 {
						errs = append(errs, o.name+": "+err.Error())
					}
				}
			}
			mu.Lock()
			defer mu.Unlock()
			res.requests += reqs
			res.errors += nerr
			for k, v := range local {
				res.byOp[k] = append(res.byOp[k], v...)
				res.all = append(res.all, v...)
			}
			if len(res.firstErrors) < 10 {
				res.firstErrors = append(res.firstErrors, errs...)
			}
		})
	}
	wg.Wait()
	return res
}

type usage struct {
	rssMiB     float64
	goroutines int
}

// reading is this process's resident set (the three fakes and the load
// generator share it) and goroutine count, after a GC so that garbage
// does not count.
func reading() usage {
	runtime.GC()
	u := usage{goroutines: runtime.NumGoroutine()}
	if b, err := os.ReadFile("/proc/self/status"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
				kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
				u.rssMiB = kb / 1024
			}
		}
	}
	return u
}

type adversarialResult struct {
	before, after usage
	statuses      map[int]int
	probe         []time.Duration
	baseline      time.Duration
	probeErrors   int
}

// adversarialPhase sends expensive requests as one non-admin user (issue
// 11 item 5's reproductions: huge sysparm_fields on 500-row reads, numbers
// like 1e99999, long LIKE chains, a huge query string) while a normal
// Table API read runs alongside and is timed.
func adversarialPhase(ctx context.Context, c *http.Client, w *world.World, n int) adversarialResult {
	probeErrors := 0
	probe := func() time.Duration {
		start := time.Now()
		req, _ := http.NewRequest("GET", w.SnowURL+"/api/now/table/incident?sysparm_limit=5&sysparm_fields=number", nil)
		req.SetBasicAuth("admin", "Snow-Admin-1!")
		res, err := c.Do(req)
		if err == nil {
			_, _ = io.Copy(io.Discard, res.Body)
			res.Body.Close()
		}
		if err != nil || res.StatusCode != 200 {
			probeErrors++
		}
		return time.Since(start)
	}
	var base []time.Duration
	for range 20 {
		base = append(base, probe())
	}
	fields := strings.TrimSuffix(strings.Repeat("number,short_description,caller_id.email,", 2500), ",")
	attacks := []string{
		"/api/now/table/incident?sysparm_limit=500&sysparm_fields=" + url.QueryEscape(fields),
		"/api/now/table/incident?sysparm_query=" + url.QueryEscape("sys_mod_count>1e99999^ORsys_mod_count<-1e99999^ORsys_mod_count=9e99999"),
		"/api/now/table/sys_user?sysparm_query=" + url.QueryEscape(strings.Repeat("nameLIKEa^OR", 300)+"nameLIKEb"),
		"/api/now/table/incident?sysparm_display_value=all&sysparm_limit=500&sysparm_query=ORDERBYDESCsys_created_on^ORDERBYnumber",
		"/api/now/table/incident?q=" + strings.Repeat("x", 60<<10),
	}
	out := adversarialResult{statuses: map[int]int{}, before: reading()}
	done := make(chan struct{})
	var probes []time.Duration
	var pw sync.WaitGroup
	pw.Go(func() {
		for {
			select {
			case <-done:
				return
			default:
			}
			probes = append(probes, probe())
		}
	})
	var mu sync.Mutex
	var wg sync.WaitGroup
	var next atomic.Int64
	for range 8 {
		wg.Go(func() {
			for ctx.Err() == nil {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				req, _ := http.NewRequest("GET", w.SnowURL+attacks[i%len(attacks)], nil)
				req.SetBasicAuth("abel.tuter", "Snow-Abel-1!")
				status := 0
				if res, err := c.Do(req); err == nil {
					_, _ = io.Copy(io.Discard, res.Body)
					res.Body.Close()
					status = res.StatusCode
				}
				mu.Lock()
				out.statuses[status]++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	close(done)
	pw.Wait()
	out.after = reading()
	out.probe, out.baseline, out.probeErrors = probes, pct(base, 50), probeErrors
	return out
}
