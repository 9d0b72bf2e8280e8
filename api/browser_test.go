package api_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	"github.com/fenqi/fenqi/plan"
)

// chromiumPath finds headless Chromium: $FENQI_CHROMIUM, else the first of
// the usual names on $PATH. `.ci/run` installs Debian's chromium package
// when it is missing.
func chromiumPath(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("FENQI_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Fatal("no Chromium for the browser tests: install it (sudo apt-get install -y chromium) or set FENQI_CHROMIUM to its path")
	return ""
}

// browser is a headless Chromium tab on the system's API. It records what
// the page logs as an error (console errors, uncaught exceptions, failed
// loads, CSP violations) and saves screenshots as test artifacts.
type browser struct {
	t      *testing.T
	ctx    context.Context
	base   string
	shots  string
	mu     sync.Mutex
	errors []string
}

func newBrowser(t *testing.T, base string) *browser {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath(t)),
		chromedp.NoSandbox, // CI runs as root
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.WindowSize(1280, 900),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelTab := chromedp.NewContext(actx)
	b := &browser{t: t, ctx: ctx, base: base, shots: t.ArtifactDir()}
	t.Cleanup(func() {
		cancelTab()
		cancelAlloc()
	})
	chromedp.ListenTarget(ctx, func(ev any) {
		var msg string
		switch e := ev.(type) {
		case *runtime.EventConsoleAPICalled:
			if e.Type == runtime.APITypeError || e.Type == runtime.APITypeAssert {
				var parts []string
				for _, a := range e.Args {
					parts = append(parts, string(a.Value))
				}
				msg = "console." + string(e.Type) + ": " + strings.Join(parts, " ")
			}
		case *runtime.EventExceptionThrown:
			msg = "exception: " + e.ExceptionDetails.Error()
		case *cdplog.EventEntryAdded:
			if e.Entry.Level == cdplog.LevelError {
				msg = fmt.Sprintf("%s: %s (%s)", e.Entry.Source, e.Entry.Text, e.Entry.URL)
			}
		}
		if msg != "" {
			b.mu.Lock()
			b.errors = append(b.errors, msg)
			b.mu.Unlock()
		}
	})
	// The first run starts the browser, which lives as long as the
	// context of that run: no timeout on it.
	if err := chromedp.Run(ctx, cdplog.Enable(), runtime.Enable()); err != nil {
		t.Fatalf("start %s: %v", chromiumPath(t), err)
	}
	return b
}

// run runs actions, failing the test with what on error.
func (b *browser) run(what string, actions ...chromedp.Action) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 60*time.Second)
	defer cancel()
	if err := chromedp.Run(ctx, actions...); err != nil {
		b.t.Fatalf("%s: %v", what, err)
	}
}

// open loads path and waits for its body.
func (b *browser) open(path string) {
	b.t.Helper()
	b.run("open "+path, chromedp.Navigate(b.base+path), chromedp.WaitReady("body"))
}

// submit clicks a button that posts a form and waits for the next page.
func (b *browser) submit(what, button string) {
	b.t.Helper()
	var before string
	b.run(what, chromedp.Evaluate(`location.href + "#" + performance.timeOrigin`, &before))
	b.run(what, chromedp.Click(button, chromedp.ByQuery))
	b.waitFor(what, func() bool {
		var now string
		_ = chromedp.Run(b.ctx, chromedp.Evaluate(`document.readyState === "complete" ? location.href + "#" + performance.timeOrigin : ""`, &now))
		return now != "" && now != before
	})
}

// waitFor polls cond until it holds (30 s at most).
func (b *browser) waitFor(what string, cond func() bool) {
	b.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			b.screenshot("timeout")
			b.t.Fatalf("%s: timed out", what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// attr is an attribute of the first element matching sel.
func (b *browser) attr(sel, name string) string {
	b.t.Helper()
	var v string
	var ok bool
	b.run("read "+sel+"@"+name, chromedp.AttributeValue(sel, name, &v, &ok, chromedp.ByQuery))
	if !ok {
		b.t.Fatalf("%s has no attribute %s", sel, name)
	}
	return v
}

// text is the text of the first element matching sel.
func (b *browser) text(sel string) string {
	b.t.Helper()
	var v string
	b.run("read "+sel, chromedp.Text(sel, &v, chromedp.ByQuery))
	return strings.TrimSpace(v)
}

func (b *browser) count(sel string) int {
	b.t.Helper()
	var n int
	b.run("count "+sel, chromedp.Evaluate(fmt.Sprintf(`document.querySelectorAll(%q).length`, sel), &n))
	return n
}

func (b *browser) path() string {
	b.t.Helper()
	var p string
	b.run("location", chromedp.Evaluate(`location.pathname`, &p))
	return p
}

// screenshot saves the whole page as <name>.png among the test's
// artifacts.
func (b *browser) screenshot(name string) {
	b.t.Helper()
	var png []byte
	b.run("screenshot "+name, chromedp.FullScreenshot(&png, 100))
	file := filepath.Join(b.shots, name+".png")
	if err := os.WriteFile(file, png, 0o644); err != nil {
		b.t.Fatalf("save screenshot %s: %v", name, err)
	}
	b.t.Logf("screenshot %s (%d bytes)", file, len(png))
}

// noErrors fails the test if the page logged an error so far but for
// those expected: an error status the test provoked on purpose (a
// re-rendered form answered 400 is logged as a failed load), each
// expected exactly once.
func (b *browser) noErrors(where string, expected ...string) {
	b.t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	seen := make([]bool, len(expected))
next:
	for _, e := range b.errors {
		for i, x := range expected {
			if !seen[i] && strings.Contains(e, x) {
				seen[i] = true
				continue next
			}
		}
		b.t.Errorf("%s: the page logged an error: %s", where, e)
	}
	for i, x := range expected {
		if !seen[i] {
			b.t.Errorf("%s: the page did not log the expected %q", where, x)
		}
	}
	b.errors = nil
}

// fitsWidth reports whether the page fits its window's width (nothing to
// scroll sideways but inside the schedule's own scroller).
func (b *browser) fitsWidth() (scroll, width int) {
	b.t.Helper()
	b.run("page width", chromedp.Evaluate(`document.documentElement.scrollWidth`, &scroll), chromedp.Evaluate(`window.innerWidth`, &width))
	return scroll, width
}

// TestCustomerPageInABrowser drives the customer's page in headless
// Chromium against the whole system (a real PostgreSQL, a real Temporal
// dev server, the worker and the API): sign in, apply, choose an offer,
// sign, see the schedule, have the first instalment paid and see the
// progress bar move, ask for a cancellation quote and confirm it, on a
// desktop and a phone-sized window, in Chinese and in English. Each main
// screen is saved as a screenshot (go test -artifacts keeps them) and the
// page must log no error.
func TestCustomerPageInABrowser(t *testing.T) {
	s := startSystem(t)
	b := newBrowser(t, s.http.URL)

	// Signed out: the sign-in page.
	b.open("/app")
	if p := b.path(); p != "/app/login" {
		t.Fatalf("signed out, /app went to %s, want /app/login", p)
	}
	b.screenshot("01-login")
	b.run("type a wrong token", chromedp.SendKeys(`#token`, "not-a-token", chromedp.ByQuery))
	b.submit("sign in with a wrong token", `#login-form button[type=submit]`)
	if got := b.text(`#flash`); !strings.Contains(got, "访问令牌无效") {
		t.Errorf("a wrong token: the page says %q", got)
	}
	b.run("type the token", chromedp.SetValue(`#token`, strongToken, chromedp.ByQuery))
	b.submit("sign in", `#login-form button[type=submit]`)
	if p := b.path(); p != "/app" {
		t.Fatalf("signed in, at %s, want /app", p)
	}
	if b.count(`[data-test=no-plans]`) != 1 {
		t.Error("a new customer's list does not say there are no plans")
	}
	b.screenshot("02-no-plans")
	b.noErrors("sign-in", "status of 401 (Unauthorized) ("+s.http.URL+"/app/login)")

	// Apply: the customer has never applied, so they fill the form in;
	// a missing consent is named and nothing is started.
	b.run("open the form", chromedp.Click(`#apply-link`, chromedp.ByQuery), chromedp.WaitVisible(`#apply-form`, chromedp.ByQuery))
	c := customer(t, "strong")
	b.run("fill the form",
		chromedp.SendKeys(`#apply-amount`, "6000", chromedp.ByQuery),
		chromedp.SetValue(`#apply-terms`, "6", chromedp.ByQuery),
		chromedp.SendKeys(`#apply-name`, c.Name, chromedp.ByQuery),
		chromedp.SendKeys(`#apply-age`, strconv.Itoa(c.Age), chromedp.ByQuery),
		chromedp.SendKeys(`#apply-occupation`, c.Occupation, chromedp.ByQuery),
		chromedp.SendKeys(`#apply-phone`, c.Phone, chromedp.ByQuery),
		chromedp.SendKeys(`#apply-email`, c.Email, chromedp.ByQuery),
		chromedp.SendKeys(`#apply-income`, c.MonthlyIncome.String(), chromedp.ByQuery),
		chromedp.SendKeys(`#apply-debts`, c.MonthlyDebtPayments.String(), chromedp.ByQuery),
		chromedp.SendKeys(`#apply-spend`, c.MonthlySpend.String(), chromedp.ByQuery),
		chromedp.SendKeys(`#apply-assets`, c.Assets.String(), chromedp.ByQuery),
		chromedp.SendKeys(`#apply-liabilities`, c.Liabilities.String(), chromedp.ByQuery),
	)
	b.screenshot("03-apply")
	b.submit("apply without consent", `#apply-submit`)
	if got := b.text(`#flash`); !strings.Contains(got, "请勾选同意") {
		t.Errorf("an application without consent: the page says %q", got)
	}
	if n := s.count(`SELECT count(*) FROM plans p JOIN customers c ON c.id = p.customer_id WHERE c.external_ref = $1`, strongRef); n != 0 {
		t.Fatalf("an application without consent started %d plans", n)
	}
	if got := b.attr(`#apply-name`, "value"); got != c.Name {
		t.Errorf("after the error the form lost the name: %q", got)
	}
	b.run("consent", chromedp.Click(`#apply-consent`, chromedp.ByQuery))
	b.submit("apply", `#apply-submit`)
	if !strings.HasPrefix(b.path(), "/app/plans/") {
		t.Fatalf("after applying, at %s", b.path())
	}
	id := b.attr(`#summary`, "data-plan-id")
	if st := b.attr(`#summary`, "data-state"); st != string(plan.StateOffered) {
		t.Fatalf("the new plan is %s, want offered; reasons: %q", st, b.text(`#summary`))
	}
	if n := b.count(`[data-test=offer]`); n == 0 {
		t.Fatal("no offers shown")
	}
	b.screenshot("04-offers")
	b.noErrors("apply", "status of 400 (Bad Request) ("+s.http.URL+"/app/apply)")

	// Choose the first offer, then read and sign the agreement.
	b.submit("choose", `[data-test=offer][data-terms="6"] button`)
	if st := b.attr(`#summary`, "data-state"); st != string(plan.StateSigning) {
		t.Fatalf("after choosing, the plan is %s, want signing", st)
	}
	if got := b.text(`[data-test=agreement-text]`); !strings.Contains(got, "6,000.00") && !strings.Contains(got, "6000.00") {
		t.Errorf("the agreement does not state the amount: %.200q", got)
	}
	b.screenshot("05-agreement")
	b.run("sign", chromedp.SendKeys(`#sign-name`, c.Name, chromedp.ByQuery), chromedp.Click(`#sign-consent`, chromedp.ByQuery))
	b.submit("sign", `#sign-submit`)
	b.waitFor("the plan to be active", func() bool {
		b.open("/app/plans/" + id)
		return b.attr(`#summary`, "data-state") == string(plan.StateActive)
	})

	// The schedule, and the progress bar at 0 of 6.
	if n := b.count(`tr[data-test=instalment]`); n != 6 {
		t.Errorf("the schedule shows %d instalments, want 6", n)
	}
	if got := b.attr(`[data-test=progress]`, "data-paid-instalments") + "/" + b.attr(`[data-test=progress]`, "data-total-instalments"); got != "0/6" {
		t.Errorf("progress before paying: %s, want 0/6", got)
	}
	if got := b.text(`[data-test=progress-instalments]`); got != "已还 0/6 期" {
		t.Errorf("progress before paying reads %q", got)
	}
	st := s.planStatus(id)
	if next := b.text(`#next-due`); !strings.Contains(next, st.NextDueDate.String()) {
		t.Errorf("next due reads %q, want the date %s", next, st.NextDueDate)
	}
	b.screenshot("06-schedule")
	b.noErrors("choose and sign")

	// The first instalment is paid (the gateway reports a transfer; a
	// customer cannot mark money as received): the progress bar moves.
	first := st.Schedule[0].Payment
	var paid plan.Reply
	if code := s.call("POST", "/v1/plans/"+id+"/payments", "", map[string]any{"payment_id": "browser-pay-1", "amount": first.StringFixed(2), "source": "external"}, &paid); code != http.StatusOK || !paid.Accepted {
		t.Fatalf("pay the first instalment: %d %+v", code, paid)
	}
	b.open("/app/plans/" + id)
	if got := b.attr(`[data-test=progress]`, "data-paid-instalments"); got != "1" {
		t.Errorf("progress after paying: %s instalments paid, want 1", got)
	}
	paidAmount := decimal.RequireFromString(b.attr(`[data-test=progress]`, "data-paid-amount"))
	if !paidAmount.Equal(first) {
		t.Errorf("progress after paying: %s paid, want %s", paidAmount, first)
	}
	var barValue string
	b.run("the bar", chromedp.Evaluate(`document.querySelector("[data-test=progress] progress").value.toFixed(2)`, &barValue))
	if barValue != first.StringFixed(2) {
		t.Errorf("the progress bar stands at %s, want %s", barValue, first.StringFixed(2))
	}
	if got := b.attr(`tr[data-no="1"]`, "data-status"); got != string(plan.InstalmentPaid) {
		t.Errorf("instalment 1 is %s after paying, want paid", got)
	}
	b.screenshot("07-paid")

	// The list shows the plan with its progress too.
	b.open("/app")
	if got := b.attr(`[data-test=plan][data-plan-id="`+id+`"] [data-test=progress]`, "data-paid-instalments"); got != "1" {
		t.Errorf("the list shows %s instalments paid, want 1", got)
	}
	b.screenshot("08-list")

	// On a phone: the page fits the screen's width.
	b.run("phone size", chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2), chromedp.EmulateMobile))
	b.open("/app/plans/" + id)
	if scroll, width := b.fitsWidth(); scroll > width {
		t.Errorf("on a phone the plan page is %d px wide for a %d px screen", scroll, width)
	}
	b.screenshot("09-phone")
	b.run("desktop size", chromedp.EmulateViewport(1280, 900))

	// English.
	b.run("switch to English", chromedp.Click(`#lang-switch`, chromedp.ByQuery), chromedp.WaitReady(`body[data-lang=en]`, chromedp.ByQuery))
	if got := b.text(`[data-test=progress-instalments]`); got != "1/6 instalments paid" {
		t.Errorf("in English the progress reads %q", got)
	}
	b.screenshot("10-english")
	b.noErrors("paid")

	// Cancel: a lump-sum quote, shown, then confirmed: the plan is repaid
	// from the customer's account, which they have topped up, and closed.
	s.fund(id, "10000.00")
	b.run("open cancel", chromedp.Click(`#cancel summary`, chromedp.ByQuery), chromedp.WaitVisible(`#cancel-quote`, chromedp.ByQuery))
	b.submit("ask for a quote", `#cancel-quote`)
	if b.count(`#quote`) != 1 {
		t.Fatalf("no quote shown: %q", b.text(`main`))
	}
	dueNow := b.text(`[data-test=quote-due-now]`)
	quoteID := b.attr(`#quote`, "data-quote-id")
	b.screenshot("11-quote")
	if n := s.count(`SELECT count(*) FROM payments WHERE plan_id = $1`, uuid.MustParse(id)); n != 1 {
		t.Errorf("a quote changed the payments: %d, want 1", n)
	}
	b.submit("confirm", `#confirm`)
	if got := b.text(`[data-test=request-done]`); got == "" {
		t.Fatalf("no confirmation shown: %q", b.text(`main`))
	}
	b.screenshot("12-confirmed")
	b.waitFor("the plan to close", func() bool {
		b.open("/app/plans/" + id)
		return b.attr(`#summary`, "data-state") == string(plan.StateClosed)
	})
	if got := b.attr(`[data-test=progress]`, "data-percent"); got != "100" {
		t.Errorf("a repaid plan's progress is %s%%, want 100", got)
	}
	b.screenshot("13-closed")
	b.noErrors("cancel")

	// The books: the quote's amount was collected once.
	var collected decimal.Decimal
	if err := s.store.Pool().QueryRow(context.Background(), `SELECT coalesce(sum(amount), 0) FROM payments WHERE plan_id = $1`, uuid.MustParse(id)).Scan(&collected); err != nil {
		t.Fatal(err)
	}
	want := first.Add(decimal.RequireFromString(strings.ReplaceAll(dueNow, ",", "")))
	if !collected.Equal(want) {
		t.Errorf("collected %s in all, want the first instalment plus the quote's %s = %s (quote %s)", collected, dueNow, want, quoteID)
	}

	// A second application starts from the details of the first, read
	// back (and unsealed) from the database.
	b.open("/app/apply")
	for sel, want := range map[string]string{
		`#apply-name`: c.Name, `#apply-phone`: c.Phone, `#apply-age`: strconv.Itoa(c.Age),
		`#apply-income`: c.MonthlyIncome.StringFixed(2), `#apply-liabilities`: c.Liabilities.StringFixed(2),
	} {
		if got := b.attr(sel, "value"); got != want {
			t.Errorf("the second application's %s is %q, want %q", sel, got, want)
		}
	}
	b.noErrors("second application")
}
