package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// The console in a real browser: headless Chromium driven by chromedp,
// clicking as a person would (JavaScript on, forms posted by the browser).
// One browser serves the test; each walk runs in its own tab against its
// own sandbox. Screenshots of each page go to reports/console/.
//
// Chromium is $M365SNOW_CHROMIUM, else `chromium` on PATH (Debian's
// package; .ci/run installs it). Without it the test skips and says why;
// `make test` prints the same line, since go test hides a passing
// package's skips.

const chromiumEnv = "M365SNOW_CHROMIUM"

func chromiumPath() (string, error) {
	if p := os.Getenv(chromiumEnv); p != "" {
		return p, nil
	}
	p, err := exec.LookPath("chromium")
	if err != nil {
		return "", errors.New("no Chromium: apt-get install chromium, or set " + chromiumEnv + " to a Chrome or Chromium binary")
	}
	return p, nil
}

// browser starts one headless Chromium for t and returns its context.
func browser(t *testing.T) context.Context {
	t.Helper()
	path, err := chromiumPath()
	if err != nil {
		t.Skip("the console's browser tests: " + err.Error())
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		// This network is closed: without these Chromium's own calls
		// home hang and its connections are refused.
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1200, 900),
	)
	// A bound against a hung browser, not a performance assertion.
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	t.Cleanup(cancel)
	alloc, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	t.Cleanup(cancelAlloc)
	bctx, cancelBrowser := chromedp.NewContext(alloc)
	t.Cleanup(cancelBrowser)
	if err := chromedp.Do(bctx); err != nil {
		t.Fatalf("starting Chromium (%s): %v", path, err)
	}
	return bctx
}

// tab is a new tab of the browser, a page of t.
type tab struct {
	t   *testing.T
	ctx context.Context
	dir string
}

func newTab(t *testing.T, b context.Context) *tab {
	ctx, cancel := chromedp.NewContext(b)
	t.Cleanup(cancel)
	return &tab{t: t, ctx: ctx, dir: reportsDir(t)}
}

// reportsDir is reports/console/ at the repository's root.
func reportsDir(t *testing.T) string {
	dir, err := filepath.Abs(filepath.Join("..", "..", "reports", "console"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

func (p *tab) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	if err := chromedp.Do(p.ctx, steps...); err != nil {
		p.shot("failed-" + p.t.Name())
		p.t.Fatalf("%s: %v", what, err)
	}
}

// click clicks sel, which leads to another page (a link or a form's
// button), waits for that page to load and for next on it.
func (p *tab) click(sel, next string) {
	p.t.Helper()
	resp, err := chromedp.RunResponse(p.ctx, chromedp.Click(chromedp.CSS(sel)))
	if err != nil {
		p.shot("failed-" + p.t.Name())
		p.t.Fatalf("click %s: %v", sel, err)
	}
	if resp.Status != 200 {
		p.shot("failed-" + p.t.Name())
		p.t.Fatalf("click %s: the page answered %d", sel, resp.Status)
	}
	p.do("after "+sel+", wait for "+next, chromedp.WaitVisible(chromedp.CSS(next)))
}

func (p *tab) text(sel string) string {
	p.t.Helper()
	s, err := chromedp.Run(p.ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		p.t.Fatalf("text of %s: %v", sel, err)
	}
	return s
}

// shot writes a screenshot of the page as reports/console/<name>.png.
func (p *tab) shot(name string) {
	b, err := chromedp.Run(p.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		p.t.Logf("screenshot %s: %v", name, err)
		return
	}
	name = strings.NewReplacer("/", "-", " ", "-").Replace(name)
	if err := os.WriteFile(filepath.Join(p.dir, name+".png"), b, 0o644); err != nil {
		p.t.Logf("screenshot %s: %v", name, err)
	}
}

func TestConsoleInBrowser(t *testing.T) {
	b := browser(t)
	// Walk prerequisites-basic's Setup by clicks to the completion page
	// (the fields hold the integrated-basic choices), then complete it
	// in the admin center and select Next.
	t.Run("setup wizard", func(t *testing.T) {
		t.Parallel()
		_, out := start(t, "prerequisites-basic")
		p := newTab(t, b)
		p.do("open Setup", chromedp.Navigate(consoleOf(t, out)+"/setup"), chromedp.WaitVisible(chromedp.CSS(`form[action="/setup/scope"]`)))
		if got := p.text("#refusal"); !strings.Contains(got, "Global is the current application") {
			t.Errorf("before the switch: %q", got)
		}
		p.shot("setup-1-scope")
		p.click(`form[action="/setup/scope"] button`, `form[action="/setup/consent"]`)
		p.shot("setup-2-consent")
		for i, next := range []string{"outbound", "inbound", "user", "repository", "settings"} {
			prev := []string{"consent", "outbound", "inbound", "user", "repository"}[i]
			p.click(`form[action="/setup/`+prev+`"] button`, `form[action="/setup/`+next+`"]`)
			p.shot(fmt.Sprintf("setup-%d-%s", i+3, next))
		}
		p.click(`form[action="/setup/settings"] button`, `#completion`)
		p.shot("setup-8-complete")
		for sel, want := range map[string]string{
			"#completion tr:nth-child(1) td": "1f9c2e4a-6b8d-4f0e-a2c4-6e8a0c2e4f61",
			"#completion tr:nth-child(2) td": "contoso-snow",
			"#completion tr:nth-child(3) td": "https://dev12345.service-now.com/api/x_mioms_m365_assis/v1/inbound",
			"#completion tr:nth-child(4) td": "0c4f5a6b7d8e9f0a1b2c3d4e5f6a7b8c",
			"#completion tr:nth-child(5) td": "m365.integration",
		} {
			if got := p.text(sel); got != want {
				t.Errorf("completion page %s: %q, want %q", sel, got, want)
			}
		}
		// The Microsoft 365 admin's part, then Next.
		p.click(`a[href="/admin-center"]`, `form[action="/admin-center/basic"]`)
		p.click(`form[action="/admin-center/basic"] button`, `#appid`)
		p.click(`form[action="/admin-center/repository"] button`, `main td`)
		p.shot("admin-center-saved")
		p.do("back to Setup", chromedp.Navigate(consoleOf(t, out)+"/setup?step=complete"), chromedp.WaitVisible(chromedp.CSS(`#completion`)))
		p.click(`form[action="/setup/complete"] button`, `p.msg`)
		if got := p.text("#state"); got != "complete" {
			t.Errorf("after Next the state is %q, want complete", got)
		}
		p.shot("setup-9-completed")
		p.do("admin center", chromedp.Navigate(consoleOf(t, out)+"/admin-center"), chromedp.WaitVisible(chromedp.CSS(`#appid`)))
		if got := p.text("main table td:last-child"); !strings.Contains(got, "completed") {
			t.Errorf("the admin center's handshake: %q", got)
		}
		p.shot("admin-center-completed")
	})
	// The incident's Microsoft 365 Support tab: recommended solutions.
	t.Run("incident tab", func(t *testing.T) {
		t.Parallel()
		_, out := start(t, "integrated-basic")
		p := newTab(t, b)
		p.do("open the incident", chromedp.Navigate(consoleOf(t, out)+"/incident?as=david.miller"), chromedp.WaitVisible(chromedp.CSS(`#tab`)))
		// Keyboard first: Tab reaches the skip link before anything else.
		p.do("Tab", chromedp.KeyEvent("\t"))
		if got, err := chromedp.Run(p.ctx, chromedp.Evaluate[string](`document.activeElement.textContent`)); err != nil || got != "Skip to content" {
			t.Errorf("the first Tab focuses %q (%v), want the skip link", got, err)
		}
		p.click(`form:has(input[name=action][value=solutions]) button`, `#solutions`)
		sols := p.text(`ul[aria-labelledby=solutions]`)
		if sols == "" || strings.Contains(sols, "No solutions.") {
			t.Errorf("no recommended solutions: %q", sols)
		}
		if saved := p.text(`ul[aria-labelledby=saved]`); saved == "" || strings.Contains(saved, "None saved.") {
			t.Errorf("the reopened form keeps none: %q", saved)
		}
		p.shot("incident-solutions")
	})
	// Every page of the navigation: it loads without an error, every form
	// field has a label (the accessible basics), and its screenshot.
	t.Run("every page", func(t *testing.T) {
		t.Parallel()
		_, out := start(t, "integrated-basic")
		p := newTab(t, b)
		p.do("open the console", chromedp.Navigate(consoleOf(t, out)+"/"), chromedp.WaitVisible(chromedp.CSS(`h1`)))
		links, err := chromedp.Run(p.ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll('header nav a')].map(a => a.getAttribute('href'))`))
		if err != nil || len(links) < 9 {
			t.Fatalf("the navigation: %q (%v)", links, err)
		}
		for _, href := range links {
			p.do("open "+href, chromedp.Navigate(consoleOf(t, out)+href), chromedp.WaitVisible(chromedp.CSS(`h1`)))
			if errs, _ := chromedp.Run(p.ctx, chromedp.Evaluate[string](`[...document.querySelectorAll('.err')].map(e => e.textContent).join(' | ')`)); errs != "" {
				t.Errorf("%s shows an error: %s", href, errs)
			}
			unlabelled, err := chromedp.Run(p.ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll('input:not([type=hidden]), select, textarea')]
				.filter(e => e.labels.length === 0 && !e.getAttribute('aria-label')).map(e => e.outerHTML)`))
			if err != nil || len(unlabelled) > 0 {
				t.Errorf("%s: fields without a label: %q (%v)", href, unlabelled, err)
			}
			name := strings.Trim(strings.ReplaceAll(href, "/", "-"), "-")
			if name == "" {
				name = "world"
			}
			p.shot("page-" + name)
		}
	})
	// Troubleshooting row 9: induce it, see nothing show up, find the
	// token request's 401 in the outbound HTTP log and the app's entry in
	// System Logs.
	t.Run("troubleshooting row 9", func(t *testing.T) {
		t.Parallel()
		_, out := start(t, "integrated-basic")
		p := newTab(t, b)
		p.do("open Troubleshooting", chromedp.Navigate(consoleOf(t, out)+"/troubleshooting"), chromedp.WaitVisible(chromedp.CSS(`#r9`)))
		p.click(`#r9 form[action="/troubleshooting"] button`, `p.msg`)
		if got := p.text("p.msg"); !strings.Contains(got, "Induced the cause of row 9") {
			t.Errorf("after inducing: %q", got)
		}
		p.shot("troubleshooting")
		p.click(`#r9 form[action="/incident"] button`, `#outcome`)
		if got := p.text(`section[aria-labelledby=outcome]`); !strings.Contains(got, "nothing shows up") {
			t.Errorf("row 9's symptom: %q", got)
		}
		p.shot("troubleshooting-9-symptom")
		p.do("back", chromedp.Navigate(consoleOf(t, out)+"/troubleshooting"), chromedp.WaitVisible(chromedp.CSS(`#r9`)))
		p.click(`#r9 a[href="/outbound?host=login.microsoftonline.com"]`, `table[aria-label="Outbound HTTP requests"]`)
		if got := p.text("tbody"); !strings.Contains(got, "401") || !strings.Contains(got, "AADSTS7000215") {
			t.Errorf("row 9's outbound log entry: %q", got)
		}
		p.shot("troubleshooting-9-outbound-log")
		p.click(`a[href="/logs"]`, `table[aria-label="System log entries"]`)
		if got := p.text("tbody"); !strings.Contains(got, "returned nothing; see System Logs > Outbound HTTP Requests") {
			t.Errorf("row 9's System Logs entry: %q", got)
		}
		p.shot("troubleshooting-9-system-logs")
	})
}
