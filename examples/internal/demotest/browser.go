package demotest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/gosess/sess/examples/internal/demo"
)

// chromiumPath is where Debian's chromium package installs the browser.
const chromiumPath = "/usr/bin/chromium"

// findChromium returns the Chromium binary: env SESS_CHROMIUM if set,
// else Debian's path, else chromium on PATH. Without one the test is
// skipped with a one-line hint, except under CI=true, where it fails.
// (SESS_CHROMIUM=none simulates a machine without a browser.)
func findChromium(t *testing.T) string {
	t.Helper()
	path := chromiumPath
	env := os.Getenv("SESS_CHROMIUM")
	if env != "" {
		path = env
	}
	if _, err := os.Stat(path); err != nil {
		if p, lerr := exec.LookPath("chromium"); lerr == nil && env == "" {
			path = p
		} else {
			const msg = "chromium not found; install it with: apt-get install -y chromium"
			if os.Getenv("CI") == "true" {
				t.Fatal(msg + " (CI=true: the browser test must run)")
			}
			t.Skip(msg)
		}
	}
	return path
}

// newBrowser starts the headless Chromium at path with a fresh profile and
// returns a chromedp context for its first tab. The browser stops when the
// test ends.
func newBrowser(t *testing.T, path string) context.Context {
	t.Helper()
	// chromedp reports protocol errors from its own goroutines; log them
	// with the test, but never after it has ended (cleanups run last-in
	// first-out, so this one runs after the browser has stopped).
	var (
		mu    sync.Mutex
		ended bool
	)
	logf := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		if !ended {
			t.Logf("chromedp: "+format, args...)
		}
	}
	t.Cleanup(func() {
		mu.Lock()
		ended = true
		mu.Unlock()
	})
	profile := t.TempDir() // removed after the browser has exited
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(profile),
		chromedp.WindowSize(800, 600),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancelAlloc) // waits for the browser process to exit
	ctx, cancel := chromedp.NewContext(allocCtx, chromedp.WithErrorf(logf))
	t.Cleanup(cancel)
	// Start the browser without a deadline: a deadline on the first run
	// would bound the browser's whole life.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("starting chromium (%s): %v", path, err)
	}
	return ctx
}

// tab runs browser actions in one chromedp context, failing the test on
// error. Each step has its own deadline so that a hung browser fails the
// test instead of blocking it.
type tab struct {
	t    *testing.T
	ctx  context.Context
	base string
}

const stepTimeout = 30 * time.Second

func (b tab) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		b.t.Fatalf("%s: %v", what, err)
	}
}

func run[T any](b tab, what string, a chromedp.Action[T]) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		b.t.Fatalf("%s: %v", what, err)
	}
	return v
}

// open loads the demo page and waits until its script is ready.
func (b tab) open() {
	b.t.Helper()
	b.do("open the page", chromedp.Navigate(b.base+"/"), chromedp.WaitVisible(chromedp.ID("logout")))
}

func (b tab) reload() {
	b.t.Helper()
	b.do("reload the page", chromedp.Reload(), chromedp.WaitVisible(chromedp.ID("logout")))
}

func (b tab) text(id string) string {
	b.t.Helper()
	return run(b, "read #"+id, chromedp.TextContent(chromedp.ID(id)))
}

// waitText waits until element #id shows want; the page updates it when
// its fetch() completes.
func (b tab) waitText(id, want string) {
	b.t.Helper()
	expr := fmt.Sprintf(`document.getElementById(%q).textContent === %q`, id, want)
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	if _, err := chromedp.Run(ctx, chromedp.Poll[chromedp.Void](expr, chromedp.WithPollingInterval(20*time.Millisecond))); err != nil {
		got, _ := chromedp.Run(b.ctx, chromedp.TextContent(chromedp.ID(id)))
		status, _ := chromedp.Run(b.ctx, chromedp.TextContent(chromedp.ID("status")))
		b.t.Fatalf("#%s shows %q, want %q (status line %q): %v", id, got, want, status, err)
	}
}

// click clicks #id and waits until #id2 shows want.
func (b tab) click(id, waitID, want string) {
	b.t.Helper()
	b.do("click #"+id, chromedp.Click(chromedp.ID(id)))
	b.waitText(waitID, want)
}

// cookies returns the cookies the browser holds for the server, read
// through the DevTools protocol (which, unlike document.cookie, also sees
// HttpOnly cookies).
func (b tab) cookies() []*network.Cookie {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	res, err := chromedp.Call(ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{b.base + "/"}})
	if err != nil {
		b.t.Fatalf("Network.getCookies: %v", err)
	}
	return res.Cookies
}

// sessionCookie returns the browser's session cookie, or nil.
func (b tab) sessionCookie() *network.Cookie {
	b.t.Helper()
	var found *network.Cookie
	for _, c := range b.cookies() {
		if c.Name != CookieName {
			continue
		}
		if found != nil {
			b.t.Errorf("browser holds two %q cookies", CookieName)
		}
		found = c
	}
	return found
}

// Browser starts the example with serve and drives headless Chromium
// against it: the counter survives reloads, scripts cannot read the
// HttpOnly session cookie, login changes the cookie, logout removes it, a
// second browser context does not share the session, two more contexts
// logged in as one user are two devices listing and logging out each
// other (twoDevices), and the page runs
// without console errors (such as Content-Security-Policy violations). It
// saves a screenshot of the page after login to
// examples/artifacts/<screenshot>. Without Chromium the test is skipped,
// or fails under CI=true.
func Browser(t *testing.T, serve demo.ServeFunc, screenshot string) {
	path := findChromium(t)
	base := Start(t, serve, demo.Options{})
	// Cleanups run last-in first-out: the browser closes its connections
	// before the server shuts down, so the shutdown waits for nothing.
	ctx := newBrowser(t, path)
	b := tab{t: t, ctx: ctx, base: base}
	problems := watchConsole(ctx)
	defer func() {
		for _, m := range problems() {
			t.Errorf("browser console %s: %s (%s)", m.Type, m.Text, m.URL)
		}
	}()

	b.open()
	// The stylesheet ran under the page's Content-Security-Policy (the
	// script evidently does: the buttons work).
	if w := run(b, "read the counter's style", chromedp.Evaluate[string](`getComputedStyle(document.getElementById("counter")).fontWeight`)); w != "700" {
		t.Errorf("#counter has font-weight %q, want 700: the page's style did not apply", w)
	}
	if got := b.text("counter"); got != "0" {
		t.Fatalf("fresh page shows counter %q, want 0", got)
	}
	if c := b.sessionCookie(); c != nil {
		t.Fatalf("loading the page set a session cookie (%s)", c.Name)
	}

	// The counter counts, and survives reloads: the browser keeps the
	// cookie the server set and sends it back.
	for i := 1; i <= 3; i++ {
		b.click("inc", "counter", strconv.Itoa(i))
	}
	first := b.sessionCookie()
	if first == nil {
		t.Fatal("the browser kept no session cookie after incrementing")
	}
	checkBrowserCookie(t, first)
	for range 2 {
		b.reload()
		if got := b.text("counter"); got != "3" {
			t.Fatalf("after reload the page shows counter %q, want 3", got)
		}
	}
	b.click("inc", "counter", "4")
	if c := b.sessionCookie(); c == nil || c.Value != first.Value {
		t.Errorf("incrementing changed the session cookie")
	}

	// HttpOnly: page scripts cannot see the session cookie.
	jsCookies := run(b, "read document.cookie", chromedp.Evaluate[string](`document.cookie`))
	if jsCookies != "" {
		t.Errorf("document.cookie = %q, want \"\" (the session cookie is HttpOnly)", jsCookies)
	}
	visible := run(b, "probe document.cookie", chromedp.Evaluate[bool](`document.cookie.split("; ").some(c => c.startsWith("`+CookieName+`="))`))
	if visible {
		t.Errorf("document.cookie shows the session cookie")
	}

	// Login gives the session a new ID and keeps the counter.
	b.do("type the name", chromedp.SendKeys(chromedp.ID("name"), "alice"))
	b.click("login", "user", "alice")
	loggedIn := b.sessionCookie()
	switch {
	case loggedIn == nil:
		t.Fatal("no session cookie after login")
	case loggedIn.Value == first.Value:
		t.Error("login kept the session cookie value; want a new session ID")
	case sessionID(loggedIn.Value) == sessionID(first.Value):
		t.Error("login kept the session ID")
	}
	checkBrowserCookie(t, loggedIn)
	b.reload()
	if got, user := b.text("counter"), b.text("user"); got != "4" || user != "alice" {
		t.Errorf("after login and reload the page shows counter %q, user %q; want 4, alice", got, user)
	}
	// The page lists the user's one session once its fetch completes.
	b.waitText("session-count", "1")
	saveScreenshot(t, run(b, "screenshot", chromedp.FullScreenshot(100)), screenshot)

	// A second browser context (like an incognito window) has its own
	// cookies: it does not share the session.
	t.Run("SecondBrowserContext", func(t *testing.T) {
		o := newContextTab(t, ctx, base)
		o.open()
		if got, user := o.text("counter"), o.text("user"); got != "0" || user != "" {
			t.Errorf("second context shows counter %q, user %q; want 0 and nobody", got, user)
		}
		if c := o.sessionCookie(); c != nil {
			t.Errorf("second context holds a session cookie before any request")
		}
		o.click("inc", "counter", "1")
		oc := o.sessionCookie()
		if oc == nil || sessionID(oc.Value) == sessionID(loggedIn.Value) {
			t.Errorf("second context did not get a session of its own")
		}
		// The first context is unaffected.
		b := tab{t: t, ctx: ctx, base: base}
		b.reload()
		if got, user := b.text("counter"), b.text("user"); got != "4" || user != "alice" {
			t.Errorf("first context shows counter %q, user %q after the second one worked; want 4, alice", got, user)
		}
	})

	// Logout destroys the session and the browser drops the cookie.
	b.click("logout", "counter", "0")
	if got := b.text("user"); got != "" {
		t.Errorf("after logout #user shows %q", got)
	}
	if c := b.sessionCookie(); c != nil {
		t.Errorf("the browser still holds the session cookie after logout")
	}
	b.reload()
	if got, user := b.text("counter"), b.text("user"); got != "0" || user != "" {
		t.Errorf("after logout and reload the page shows counter %q, user %q; want 0 and nobody", got, user)
	}
	// A name the server refuses shows the error and changes nothing.
	b.do("clear the name", chromedp.Clear(chromedp.ID("name")))
	b.do("click login", chromedp.Click(chromedp.ID("login")))
	b.waitText("status", "user name is empty")
	if c := b.sessionCookie(); c != nil {
		t.Errorf("a refused login set a session cookie")
	}

	t.Run("TwoDevices", func(t *testing.T) { twoDevices(t, ctx, base) })
}

// openDevice opens a tab in a new browser context of the browser behind
// ctx (its own cookies, like another device) that sends userAgent, loads
// the page and logs in as user, with "remember me" if remember. The
// context's console errors fail the test.
func openDevice(t *testing.T, ctx context.Context, base, userAgent, user string, remember bool) tab {
	t.Helper()
	d := newContextTab(t, ctx, base)
	problems := watchConsole(d.ctx)
	t.Cleanup(func() {
		for _, m := range problems() {
			t.Errorf("browser console (%s) %s: %s (%s)", userAgent, m.Type, m.Text, m.URL)
		}
	})
	sctx, cancel := context.WithTimeout(d.ctx, stepTimeout)
	defer cancel()
	if _, err := chromedp.Call(sctx, emulation.SetUserAgentOverride, emulation.SetUserAgentOverrideParams{UserAgent: userAgent}); err != nil {
		t.Fatalf("Emulation.setUserAgentOverride: %v", err)
	}
	d.open()
	if !d.sessionsHidden() {
		t.Error("the sessions panel shows before login")
	}
	d.do("type the name", chromedp.SendKeys(chromedp.ID("name"), user))
	if remember {
		d.do("check remember me", chromedp.Click(chromedp.ID("remember")))
	}
	d.click("login", "user", user)
	return d
}

// rows returns the cells' texts of the tab's list of sessions.
func (b tab) rows() [][]string {
	b.t.Helper()
	return run(b, "read the list of sessions", chromedp.Evaluate[[][]string](
		`Array.from(document.querySelectorAll("#session-list tr"), (r) => Array.from(r.cells, (c) => c.textContent))`))
}

// wantRows checks the tab's list of sessions: one row per user agent in
// uas, the row of here marked "this device" and every other one with a
// "Log out" button, and the persistence ("yes"/"no") of each.
func (b tab) wantRows(here string, uas map[string]string) {
	b.t.Helper()
	b.waitText("session-count", strconv.Itoa(len(uas)))
	rows := b.rows()
	if len(rows) != len(uas) {
		b.t.Fatalf("the list shows %d rows, want %d: %q", len(rows), len(uas), rows)
	}
	for _, r := range rows {
		if len(r) != 5 {
			b.t.Fatalf("row %q has %d cells, want 5", r, len(r))
		}
		ua, last := r[0], r[4]
		persistent, ok := uas[ua]
		switch {
		case !ok:
			b.t.Errorf("row %q: unexpected user agent", r)
		case r[3] != persistent:
			b.t.Errorf("row %q: remembered %q, want %q", r, r[3], persistent)
		case ua == here && last != "this device":
			b.t.Errorf("row %q of this device lacks the marker", r)
		case ua != here && last != "Log out":
			b.t.Errorf("row %q of another device lacks the log out button", r)
		}
	}
	buttons := run(b, "count the log out buttons", chromedp.Evaluate[int](`document.querySelectorAll("#session-list button.revoke").length`))
	if buttons != len(uas)-1 {
		b.t.Errorf("the list has %d log out buttons, want %d", buttons, len(uas)-1)
	}
}

// wantLoggedOut reloads the tab and checks that the page shows nobody and
// no sessions panel.
func (b tab) wantLoggedOut() {
	b.t.Helper()
	b.reload()
	if user := b.text("user"); user != "" {
		b.t.Errorf("after the revocation and a reload the page shows user %q, want nobody", user)
	}
	if !b.sessionsHidden() {
		b.t.Error("after the revocation the sessions panel still shows")
	}
}

// sessionsHidden reports whether the page hides its sessions panel.
func (b tab) sessionsHidden() bool {
	b.t.Helper()
	return run(b, "read #sessions.hidden", chromedp.Evaluate[bool](`document.getElementById("sessions").hidden`))
}

// newContextTab opens a tab in a new browser context (its own cookies,
// like an incognito window or another device) of the browser behind ctx;
// it closes when the test ends.
func newContextTab(t *testing.T, ctx context.Context, base string) tab {
	t.Helper()
	tctx, cancel := chromedp.NewContext(ctx, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	// Open the tab without a deadline: the first run on a context binds
	// the tab's life to the context of that run.
	if err := chromedp.Do(tctx); err != nil {
		t.Fatalf("opening a tab in a new browser context: %v", err)
	}
	return tab{t: t, ctx: tctx, base: base}
}

// twoDevices drives two browser contexts of the browser behind ctx as two
// devices of one user: each lists both sessions, "log out everywhere else"
// on one logs the other out, and so does the other's "Log out" button.
func twoDevices(t *testing.T, ctx context.Context, base string) {
	// Device B's user agent is markup: the list must show it as text.
	const uaA, uaB = "sess-demotest device A", `sess-demotest device B <b id="injected">x</b>`
	a := openDevice(t, ctx, base, uaA, "nora", true)
	a.wantRows(uaA, map[string]string{uaA: "yes"})
	if got := a.text("this-persistent"); got != "yes" {
		t.Errorf("with remember me the page says persistent %q, want yes", got)
	}
	if got := a.text("this-cookie"); got == "when the browser closes" || got == "" {
		t.Errorf("with remember me the page says the cookie expires %q, want a date", got)
	}
	for _, id := range []string{"this-idle", "this-absolute"} {
		if got := a.text(id); got == "" || got == "unknown" {
			t.Errorf("#%s shows %q, want a date", id, got)
		}
	}
	switch c := a.sessionCookie(); {
	case c == nil:
		t.Fatal("device A holds no session cookie after login")
	case c.Session || c.Expires < float64(time.Now().Unix()):
		t.Errorf("with remember me the browser's cookie is a browser-session cookie (session %v, expires %v); want persistent", c.Session, c.Expires)
	}

	b := openDevice(t, ctx, base, uaB, "nora", false)
	b.wantRows(uaB, map[string]string{uaA: "yes", uaB: "no"})
	if got, cookie := b.text("this-persistent"), b.text("this-cookie"); got != "no" || cookie != "when the browser closes" {
		t.Errorf("without remember me the page says persistent %q, cookie expires %q", got, cookie)
	}
	if c := b.sessionCookie(); c == nil || !c.Session {
		t.Errorf("without remember me the browser's cookie is %+v, want a browser-session cookie", c)
	}
	if n := run(b, "look for injected markup", chromedp.Evaluate[int](`document.querySelectorAll("#injected").length`)); n != 0 {
		t.Error("the user agent was inserted as HTML")
	}

	// Device A sees B after a refresh, and logs out everywhere else.
	a.do("click refresh", chromedp.Click(chromedp.ID("refresh")))
	a.wantRows(uaA, map[string]string{uaA: "yes", uaB: "no"})
	a.do("click log out everywhere else", chromedp.Click(chromedp.ID("revoke-others")))
	a.wantRows(uaA, map[string]string{uaA: "yes"})
	b.wantLoggedOut()
	a.reload()
	if user := a.text("user"); user != "nora" {
		t.Errorf("device A shows user %q after logging out everywhere else, want nora", user)
	}
	a.wantRows(uaA, map[string]string{uaA: "yes"})

	// B logs in again; A ends B's session with its row's "Log out" button.
	b.do("type the name", chromedp.SendKeys(chromedp.ID("name"), "nora"))
	b.click("login", "user", "nora")
	b.wantRows(uaB, map[string]string{uaA: "yes", uaB: "no"})
	a.do("click refresh", chromedp.Click(chromedp.ID("refresh")))
	a.wantRows(uaA, map[string]string{uaA: "yes", uaB: "no"})
	a.do("click log out on device B's row", chromedp.Click(chromedp.CSS("#session-list button.revoke")))
	a.wantRows(uaA, map[string]string{uaA: "yes"})
	b.wantLoggedOut()
	if got := a.text("status"); got != "" {
		t.Errorf("device A's status line shows %q", got)
	}
}

// watchConsole collects the page's console errors and uncaught exceptions,
// such as Content-Security-Policy violations, until ctx ends. The returned
// function lists those seen so far, except the browser's report of the 400
// answer that the refused login provokes on purpose.
func watchConsole(ctx context.Context) func() []chromedp.ConsoleMessage {
	var (
		mu   sync.Mutex
		seen []chromedp.ConsoleMessage
	)
	messages := chromedp.Console(ctx)
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			if m.Type != chromedp.ConsoleError && m.Type != chromedp.ConsoleException {
				continue
			}
			if strings.Contains(m.Text, "status of 400") {
				continue
			}
			mu.Lock()
			seen = append(seen, m)
			mu.Unlock()
		}
	}()
	return func() []chromedp.ConsoleMessage {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(seen)
	}
}

// checkBrowserCookie checks the session cookie as the browser stored it.
func checkBrowserCookie(t *testing.T, c *network.Cookie) {
	t.Helper()
	if !c.HTTPOnly {
		t.Error("the browser's session cookie is not HttpOnly")
	}
	if c.Secure {
		t.Error("the browser's session cookie is Secure; the demo serves plain HTTP")
	}
	if !c.Session {
		t.Errorf("the browser's session cookie is persistent (expires %v); want a browser-session cookie", c.Expires)
	}
	if c.SameSite != network.CookieSameSiteLax {
		t.Errorf("the browser's session cookie has SameSite %q, want Lax", c.SameSite)
	}
	if c.Path != "/" {
		t.Errorf("the browser's session cookie has Path %q, want /", c.Path)
	}
}

// saveScreenshot writes png to the module's artifacts folder (git-ignored).
func saveScreenshot(t *testing.T, png []byte, name string) {
	t.Helper()
	root, err := moduleRoot()
	if err != nil {
		t.Errorf("screenshot not saved: %v", err)
		return
	}
	dir := filepath.Join(root, "artifacts")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Errorf("screenshot not saved: %v", err)
		return
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Errorf("screenshot not saved: %v", err)
		return
	}
	t.Logf("screenshot after login: %s", path)
}

// moduleRoot returns the directory of the nearest go.mod above the working
// directory: go test runs in the package's directory.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory")
		}
		dir = parent
	}
}
