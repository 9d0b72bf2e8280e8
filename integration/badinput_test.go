package integration

import (
	"context"
	"encoding/json"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/fenqi/fenqi/collection"
	"github.com/fenqi/fenqi/frontdoor"
	"github.com/fenqi/fenqi/plan"
)

// badCase is one malformed input sent through one front-end: the CLI
// (the starter binary), the HTTP API, an Update or a Signal straight to
// the plan's workflow.
type badCase struct {
	front string
	name  string
	// phase 1 runs once the offered plan has moved on to signing.
	phase int
	// need prepares what the case refers to (a quote), before the
	// snapshot of what must not change.
	need func(*badFixture)
	run  func(*testing.T, *badFixture)
}

// say lists what an error message must mention.
func say(words ...string) []string { return words }

// viaCLI runs the starter with args: it must exit with exit, print
// nothing on stdout and one line on stderr, "starter <command>: ...",
// that mentions each of mentions.
func viaCLI(name string, exit int, mentions []string, args ...string) badCase {
	return badCase{front: "cli", name: name, run: func(t *testing.T, f *badFixture) {
		args := slices.Clone(args)
		for i := range args {
			args[i] = f.expand(args[i])
		}
		code, out, errOut := f.runCLI(args)
		if code != exit || out != "" || strings.Count(errOut, "\n") != 1 || !strings.HasSuffix(errOut, "\n") ||
			!strings.HasPrefix(errOut, "starter "+args[0]+": ") && !strings.HasPrefix(errOut, "starter: ") {
			t.Fatalf("exit %d, stdout %q, stderr %q; want exit %d, no stdout and one line on stderr", code, out, errOut, exit)
		}
		if strings.Contains(errOut, "panic") || strings.Contains(errOut, "goroutine") {
			t.Fatalf("the starter panicked: %s", errOut)
		}
		for _, m := range mentions {
			if m = f.expand(m); !strings.Contains(errOut, m) {
				t.Errorf("stderr %q does not mention %q", errOut, m)
			}
		}
	}}
}

// viaAPI sends body to the API with operator alice's token: the answer
// must be status, a JSON error with code and a message mentioning each
// of mentions.
func viaAPI(name, method, path, body string, status int, code string, mentions ...string) badCase {
	return viaAPIAs(name, "", method, path, body, status, code, mentions...)
}

// viaAPIAs is viaAPI with another bearer token ("-": none).
func viaAPIAs(name, token, method, path, body string, status int, code string, mentions ...string) badCase {
	return badCase{front: "api", name: name, run: func(t *testing.T, f *badFixture) {
		got, ctype, raw := f.callAPI(method, f.expand(path), token, f.expand(body))
		var e apiError
		if err := json.Unmarshal(raw, &e); err != nil || !strings.HasPrefix(ctype, "application/json") {
			t.Fatalf("status %d, %s %.300q: not a JSON error (%v)", got, ctype, raw, err)
		}
		if got != status || e.Error.Code != code || e.Error.Message == "" {
			t.Fatalf("status %d, code %q, message %q; want %d %q with a message", got, e.Error.Code, e.Error.Message, status, code)
		}
		for _, m := range mentions {
			if !strings.Contains(e.Error.Message, f.expand(m)) {
				t.Errorf("message %q does not mention %q", e.Error.Message, f.expand(m))
			}
		}
	}}
}

// viaUpdate sends an Update (through the front door or raw): it must be
// rejected with an error mentioning want.
func viaUpdate(name, want string, send func(*badFixture) (plan.Reply, error)) badCase {
	return badCase{front: "update", name: name, run: func(t *testing.T, f *badFixture) {
		reply, err := send(f)
		if err == nil {
			t.Fatalf("accepted with %+v; want a rejection mentioning %q", reply, want)
		}
		if !strings.Contains(err.Error(), f.expand(want)) {
			t.Fatalf("rejected with %q; want it to mention %q", err, f.expand(want))
		}
	}}
}

// viaUpdateRefused sends an Update the plan takes in and answers with a
// refusal mentioning want.
func viaUpdateRefused(name, want string, send func(*badFixture) (plan.Reply, error)) badCase {
	return badCase{front: "update", name: name, run: func(t *testing.T, f *badFixture) {
		reply, err := send(f)
		if err != nil || reply.Accepted || !strings.Contains(reply.Reason, want) {
			t.Fatalf("reply %+v, error %v; want a refusal mentioning %q", reply, err, want)
		}
	}}
}

// Outcomes of a Signal.
const (
	// dropped: the payload cannot be read; the plan ignores it (the SDK
	// logs it) and answers nothing.
	dropped = ""
)

// viaSignal sends Signal name with arg to plan on ("{O}", "{A}" or
// "{unknown}"): when want starts with "error: ", sending must fail with
// the rest; dropped, the plan must not answer; else the plan must answer
// it with a refusal mentioning want, shown in its recent replies.
func viaSignal(name, on, signal string, arg func(*badFixture) any, want string) badCase {
	return badCase{front: "signal", name: name, run: func(t *testing.T, f *badFixture) {
		id := f.expand(on)
		var before []plan.Reply
		if on != "{unknown}" {
			before = f.recent(id)
		}
		err := f.signal(id, signal, arg(f))
		if rest, ok := strings.CutPrefix(want, "error: "); ok {
			if err == nil || !strings.Contains(err.Error(), rest) {
				t.Fatalf("signal sent: %v; want an error mentioning %q", err, rest)
			}
			return
		}
		if err != nil {
			t.Fatalf("signal: %v", err)
		}
		deadline := time.Now().Add(5 * time.Second)
		for {
			after := f.recent(id)
			answered := len(after) > 0 && !reflect.DeepEqual(after, before)
			switch {
			case want == dropped && answered:
				t.Fatalf("the plan answered a signal it cannot read: %+v", after[len(after)-1])
			case want == dropped:
				return
			case answered:
				last := after[len(after)-1]
				if last.Accepted || !strings.Contains(last.Reason, f.expand(want)) {
					t.Fatalf("the plan answered %+v; want a refusal mentioning %q", last, f.expand(want))
				}
				return
			case time.Now().After(deadline):
				t.Fatalf("the plan did not answer the signal within 5s; want a refusal mentioning %q", want)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}}
}

func (c badCase) then(phase int) badCase              { c.phase = phase; return c }
func (c badCase) with(need func(*badFixture)) badCase { c.need = need; return c }

// door sends through the front door, with a deadline.
func door[R any](f *badFixture, send func(context.Context, string, R) (plan.Reply, error), id string, r R) (plan.Reply, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return send(ctx, f.expand(id), r)
}

func badInputCases() []badCase {
	long := strings.Repeat("投诉", 3000)          // 18,000 bytes: far over the 200 allowed
	huge := strings.Repeat("x", 2<<20)          // a 2 MB body
	megabyte := strings.Repeat("我被骚扰了", 70_000) // about 1 MB
	quarter := strings.Repeat("x", 256<<10)     // 256 KB, a Signal recorded in history
	sqlPath := url.PathEscape(sqlText)
	apply := func(fields string) string {
		return `{"customer":{"ref":"bad-api","name":"王五","age":30,"occupation":"engineer","monthly_income":"20000"}` + fields + `}`
	}
	cases := []badCase{
		// The CLI: exit 2 and one line naming the flag.
		viaCLI("negative amount", 2, say("--amount", "greater than 0", "-5"), "apply", "--customer", "{customer}", "--amount", "-5"),
		viaCLI("zero amount", 2, say("--amount", "greater than 0"), "apply", "--customer", "{customer}", "--amount", "0"),
		viaCLI("huge amount", 2, say("--amount", "at most 1000000"), "apply", "--customer", "{customer}", "--amount", "1e30"),
		viaCLI("NaN amount", 2, say("--amount", "must be a number", "NaN"), "apply", "--customer", "{customer}", "--amount", "NaN"),
		viaCLI("non-numeric amount", 2, say("--amount", "must be a number", "12,000"), "apply", "--customer", "{customer}", "--amount", "12,000"),
		viaCLI("1000 terms", 2, say("--terms", "between 1 and 360", "1000"), "apply", "--customer", "{customer}", "--amount", "5000", "--terms", "1000"),
		viaCLI("no amount", 2, say("--amount", "required"), "apply", "--customer", "{customer}"),
		viaCLI("no customer", 2, say("--customer", "required"), "apply", "--amount", "5000"),
		viaCLI("SQL for a number in the customer file", 2, say("--customer", "sql-customer.json", "age"), "apply", "--customer", "{dir}/sql-customer.json", "--amount", "5000"),
		viaCLI("invalid UTF-8 in the customer file", 2, say("--customer", "utf8-customer.json", "UTF-8"), "apply", "--customer", "{dir}/utf8-customer.json", "--amount", "5000"),
		viaCLI("NUL in the customer file", 2, say("--customer", "nul-customer.json", "NUL"), "apply", "--customer", "{dir}/nul-customer.json", "--amount", "5000"),
		viaCLI("invalid UTF-8 request id", 2, say("--request-id", "UTF-8"), "apply", "--customer", "{customer}", "--amount", "5000", "--request-id", "req-\xc3\x28"),
		viaCLI("NaN payment", 2, say("--amount", "must be a number"), "pay", "{A}", "--amount", "NaN"),
		viaCLI("negative payment", 2, say("--amount", "positive"), "pay", "{A}", "--amount", "-100"),
		viaCLI("payment with 3 decimals", 2, say("--amount", "2 decimals"), "pay", "{A}", "--amount", "10.001"),
		viaCLI("payment source SQL", 2, say("--source", sqlText), "pay", "{A}", "--amount", "10", "--source", sqlText),
		viaCLI("huge top-up", 2, say("--amount", "at most"), "fund", "{A}", "--amount", "1e30"),
		viaCLI("counter-offer NaN amount", 2, say("--amount", "must be a number"), "counter", "{O}", "--amount", "NaN"),
		viaCLI("counter-offer 1000 terms", 2, say("--terms", "1000"), "counter", "{O}", "--terms", "1000"),
		viaCLI("restructure to 1000 terms", 2, say("--terms", "1000"), "restructure", "{A}", "--terms", "1000", "--quote"),
		viaCLI("holiday of -1 periods", 2, say("--periods", "-1"), "holiday", "{A}", "--periods", "-1", "--quote"),
		viaCLI("unknown plan", 2, say("plan not found"), "status", "{unknown}"),
		viaCLI("SQL plan id", 2, say("PLAN", "not a plan id"), "status", sqlText),
		viaCLI("no plan id", 2, say("PLAN", "required"), "cancel", "--mode", "lump-sum", "--quote"),
		viaCLI("unknown command", 2, say("unknown command"), "drop-tables"),
		viaCLI("cancel during origination", 2, say("only while the plan is active", "offered"), "cancel", "{O}", "--mode", "lump-sum", "--quote"),
		viaCLI("sign before choosing", 2, say("offered", "no agreement to sign"), "sign", "{O}", "--name", "张三"),
		viaCLI("choose after signing", 2, say("only while the plan is offered", "active"), "choose", "{A}", "--offer", "1"),
		viaCLI("SQL request id in the wrong state", 2, say("only before it is active"), "withdraw", "{A}", "--request-id", sqlText),
		viaCLI("SQL complaint id", 2, say("no open complaint", sqlText), "resolve", "{A}", "--complaint", sqlText, "--resolution", "done", "--operator", "alice"),
		viaCLI("complaint of 18,000 bytes", 2, say("--text", "longer than 200"), "complain", "{A}", "--text", long),
		viaCLI("invalid UTF-8 complaint", 2, say("--text", "UTF-8"), "complain", "{A}", "--text", "bad \xff\xfe text"),
		viaCLI("empty complaint", 2, say("--text", "required"), "complain", "{A}", "--text", "  "),
		viaCLI("confirm a superseded quote", 2, say("no quote", "{dropped}"), "prepay", "{A}", "--confirm", "{dropped}").with((*badFixture).needDropped),
		// A confirmation the plan takes in and refuses exits 1 with the
		// reason (README: refusals exit 1, bad input 2).
		viaCLI("confirm a stale quote", 1, say("refused", "stale"), "prepay", "{A}", "--confirm", "{stale}").with((*badFixture).needStale),
		viaCLI("confirm an expired quote", 1, say("refused", "expired"), "prepay", "{A}", "--confirm", "{expired}").with((*badFixture).needExpired),
		viaCLI("quote and confirm at once", 2, say("--quote or --confirm"), "cancel", "{A}", "--mode", "lump-sum", "--quote", "--confirm", "q-1"),
		viaCLI("invalid UTF-8 signer name", 2, say("--name", "UTF-8"), "sign", "{O}", "--name", "\xff").then(1),

		// The HTTP API: a 4xx with a JSON error.
		viaAPI("negative amount", "POST", "/v1/applications", apply(`,"request_id":"api-neg","amount":"-5"`), 400, "invalid", "amount", "greater than 0"),
		viaAPI("zero amount", "POST", "/v1/applications", apply(`,"request_id":"api-zero","amount":"0"`), 400, "invalid", "amount"),
		viaAPI("huge amount", "POST", "/v1/applications", apply(`,"request_id":"api-huge","amount":1e300`), 400, "invalid", "amount", "at most"),
		viaAPI("NaN amount", "POST", "/v1/applications", apply(`,"request_id":"api-nan","amount":"NaN"`), 400, "bad_json", "NaN"),
		viaAPI("non-numeric amount", "POST", "/v1/applications", apply(`,"request_id":"api-abc","amount":"twelve"`), 400, "bad_json", "twelve"),
		viaAPI("boolean amount", "POST", "/v1/applications", apply(`,"request_id":"api-bool","amount":true`), 400, "bad_json"),
		viaAPI("1000 terms", "POST", "/v1/applications", apply(`,"request_id":"api-terms","amount":"5000","terms":1000`), 400, "invalid", "terms", "1000"),
		viaAPI("no request id", "POST", "/v1/applications", apply(`,"amount":"5000"`), 400, "invalid", "request_id", "required"),
		viaAPI("no amount", "POST", "/v1/applications", apply(`,"request_id":"api-noamount"`), 400, "invalid", "amount"),
		viaAPI("SQL name over 200 bytes", "POST", "/v1/applications",
			`{"request_id":"api-sql","amount":"5000","customer":{"ref":"bad-api","name":"`+strings.Repeat(sqlText, 12)+`","age":30,"occupation":"x","monthly_income":"20000"}}`,
			400, "invalid", "customer.name", "longer than 200"),
		viaAPI("empty body", "POST", "/v1/plans/{A}/cancel", "", 400, "bad_json", "empty"),
		viaAPI("malformed JSON", "POST", "/v1/plans/{A}/cancel", `{"request_id":"api-mal","mode":`, 400, "bad_json"),
		viaAPI("JSON array", "POST", "/v1/plans/{A}/complaints", `[{"request_id":"api-arr","text":"x"}]`, 400, "bad_json"),
		viaAPI("two JSON objects", "POST", "/v1/plans/{A}/complaints", `{"request_id":"api-two","text":"x"}{}`, 400, "bad_json", "exactly one"),
		viaAPI("unknown field", "POST", "/v1/plans/{A}/complaints", `{"request_id":"api-unk","text":"x","severity":"high"}`, 400, "bad_json", "severity"),
		viaAPI("2 MB body", "POST", "/v1/plans/{A}/complaints", `{"request_id":"api-big","text":"`+huge+`"}`, 413, "too_large"),
		viaAPI("complaint of 18,000 bytes", "POST", "/v1/plans/{A}/complaints", `{"request_id":"api-long","text":"`+long+`"}`, 400, "invalid", "text", "longer than 200"),
		viaAPI("invalid UTF-8 complaint", "POST", "/v1/plans/{A}/complaints", "{\"request_id\":\"api-utf8\",\"text\":\"bad \xff\xfe text\"}", 400, "bad_json", "UTF-8"),
		viaAPI("complaint without text", "POST", "/v1/plans/{A}/complaints", `{"request_id":"api-notext"}`, 400, "invalid", "text", "required"),
		viaAPI("NUL in a complaint", "POST", "/v1/plans/{A}/complaints", `{"request_id":"api-nul","text":"a\u0000b"}`, 400, "invalid", "text", "NUL"),
		viaAPI("NUL in a request id", "POST", "/v1/plans/{A}/complaints", `{"request_id":"api\u0000nul","text":"ab"}`, 400, "invalid", "request_id", "NUL"),
		viaAPI("restructure to 1000 terms", "POST", "/v1/plans/{A}/restructure", `{"request_id":"api-rs","terms":1000}`, 400, "invalid", "terms"),
		viaAPI("holiday of -2 periods", "POST", "/v1/plans/{A}/holiday", `{"request_id":"api-hol","periods":-2}`, 400, "invalid", "periods"),
		viaAPI("NaN payment", "POST", "/v1/plans/{A}/payments", `{"payment_id":"api-pay-nan","amount":"NaN"}`, 400, "invalid", "amount", "NaN"),
		viaAPI("negative payment", "POST", "/v1/plans/{A}/payments", `{"payment_id":"api-pay-neg","amount":-100}`, 400, "invalid", "amount"),
		viaAPI("payment with 3 decimals", "POST", "/v1/plans/{A}/payments", `{"payment_id":"api-pay-dec","amount":"10.001"}`, 400, "invalid", "2 decimals"),
		viaAPI("payment without an id", "POST", "/v1/plans/{A}/payments", `{"amount":"10.00"}`, 400, "invalid", "payment_id"),
		viaAPI("promise on 2026-13-45", "POST", "/v1/plans/{A}/promises", `{"request_id":"api-pr","date":"2026-13-45","amount":"100.00"}`, 400, "bad_json", "2026-13-45"),
		viaAPI("unknown plan", "GET", "/v1/plans/{unknown}", "", 404, "not_found"),
		viaAPI("request to an unknown plan", "POST", "/v1/plans/{unknown}/cancel", `{"request_id":"api-nop","mode":"lump-sum"}`, 404, "not_found"),
		viaAPI("SQL plan id", "POST", "/v1/plans/"+sqlPath+"/cancel", `{"request_id":"api-sqlid","mode":"lump-sum"}`, 400, "invalid", "plan"),
		viaAPI("SQL request id in the wrong state", "POST", "/v1/plans/{A}/withdraw", `{"request_id":"`+sqlText+`","reason":"`+sqlText+`"}`, 409, "conflict", "only before it is active"),
		viaAPI("SQL complaint id", "POST", "/v1/plans/{A}/complaints/"+sqlPath+"/resolve", `{"request_id":"api-rs-sql","resolution":"done"}`, 409, "conflict", "no open complaint"),
		viaAPIAs("no bearer token", "-", "POST", "/v1/plans/{A}/cancel", `{"request_id":"api-anon","mode":"lump-sum"}`, 401, "unauthorized"),
		viaAPI("cancel during origination", "POST", "/v1/plans/{O}/cancel", `{"request_id":"api-cancel-o","mode":"lump-sum"}`, 409, "conflict", "offered"),
		viaAPI("sign before choosing", "POST", "/v1/plans/{O}/sign", `{"request_id":"api-sign-o","document_hash":"`+strings.Repeat("ab", 32)+`","name":"张三","consent":true}`, 409, "conflict", "signing", "offered"),
		viaAPI("choose after signing", "POST", "/v1/plans/{A}/choose", `{"request_id":"api-choose-a","offer_set":1,"offer":1}`, 409, "conflict", "active"),
		viaAPI("write-off with nothing to decide", "POST", "/v1/plans/{A}/write-off", `{"request_id":"api-wo","decision":"approve","reason":"uncollectable"}`, 409, "conflict"),
		viaAPI("confirm a superseded quote", "POST", "/v1/plans/{A}/prepay", `{"request_id":"api-q-dropped","quote_id":"{dropped}"}`, 409, "conflict", "no quote {dropped}").with((*badFixture).needDropped),
		viaAPI("confirm a stale quote", "POST", "/v1/plans/{A}/prepay", `{"request_id":"api-q-stale","quote_id":"{stale}"}`, 422, "refused", "stale").with((*badFixture).needStale),
		viaAPI("confirm an expired quote", "POST", "/v1/plans/{A}/prepay", `{"request_id":"api-q-expired","quote_id":"{expired}"}`, 422, "refused", "expired").with((*badFixture).needExpired),
		viaAPI("confirm a quote of another kind", "POST", "/v1/plans/{A}/cancel", `{"request_id":"api-q-kind","quote_id":"{stale}"}`, 422, "refused", "for prepay, not cancel").with((*badFixture).needStale),
		viaAPI("forged agreement hash", "POST", "/v1/plans/{O}/sign", `{"request_id":"api-forged","document_hash":"`+strings.Repeat("0", 64)+`","name":"张三","consent":true}`, 409, "conflict", strings.Repeat("0", 64), "{hash}").then(1),
		viaAPI("hash that is not one", "POST", "/v1/plans/{O}/sign", `{"request_id":"api-nohash","document_hash":"`+sqlText+`","name":"张三","consent":true}`, 400, "invalid", "document_hash").then(1),

		// Updates, through the front door and raw (past the front
		// door's own checks): the workflow's validator rejects them.
		viaUpdate("negative payment", "amount: must be greater than 0", func(f *badFixture) (plan.Reply, error) {
			return f.update(f.active, plan.MsgPay, plan.PaymentRequest{RequestID: "u-neg", Amount: decimal.NewFromInt(-5)})
		}),
		viaUpdate("zero payment", "amount: must be greater than 0", func(f *badFixture) (plan.Reply, error) {
			return f.update(f.active, plan.MsgPay, plan.PaymentRequest{RequestID: "u-zero"})
		}),
		viaUpdate("huge payment", "amount: must be at most", func(f *badFixture) (plan.Reply, error) {
			return f.update(f.active, plan.MsgPay, plan.PaymentRequest{RequestID: "u-huge", Amount: decimal.RequireFromString("1e300")})
		}),
		viaUpdate("NaN payment", "unable to decode", func(f *badFixture) (plan.Reply, error) {
			return f.update(f.active, plan.MsgPay, rawJSON(`{"request_id":"u-nan","amount":"NaN"}`))
		}),
		viaUpdate("non-numeric payment", "unable to decode", func(f *badFixture) (plan.Reply, error) {
			return f.update(f.active, plan.MsgPay, rawJSON(`{"request_id":"u-abc","amount":{"value":"ten"}}`))
		}),
		viaUpdate("restructure to 1000 terms", "terms: must be between 1 and 360, got 1000", func(f *badFixture) (plan.Reply, error) {
			return f.update(f.active, plan.MsgRestructure, plan.RestructureRequest{RequestID: "u-terms", Terms: 1000})
		}),
		viaUpdate("counter-offer of 1000 terms (front door)", "terms: must be between 1 and 360", func(f *badFixture) (plan.Reply, error) {
			return door(f, f.s.door.CounterOffer, "{O}", plan.CounterOfferRequest{RequestID: "u-counter", Terms: 1000})
		}),
		viaUpdate("unknown plan (front door)", frontdoor.ErrNotFound.Error(), func(f *badFixture) (plan.Reply, error) {
			return door(f, f.s.door.Cancel, "{unknown}", plan.CancelRequest{RequestID: "u-nop", Mode: plan.CancelLumpSum})
		}),
		viaUpdate("cancel during origination (front door)", "only while the plan is active; it is offered", func(f *badFixture) (plan.Reply, error) {
			return door(f, f.s.door.Cancel, "{O}", plan.CancelRequest{RequestID: "u-cancel-o", Mode: plan.CancelLumpSum})
		}),
		viaUpdate("sign before choosing (front door)", "only while the plan is signing; it is offered", func(f *badFixture) (plan.Reply, error) {
			return door(f, f.s.door.Sign, "{O}", plan.SignRequest{RequestID: "u-sign-o", DocumentHash: strings.Repeat("ab", 32), Name: "张三", Consent: true})
		}),
		viaUpdate("choose after signing (front door)", "only while the plan is offered; it is active", func(f *badFixture) (plan.Reply, error) {
			return door(f, f.s.door.Choose, "{A}", plan.ChooseRequest{RequestID: "u-choose-a", OfferSet: 1, Offer: 1})
		}),
		viaUpdate("write-off with nothing to decide (front door)", "write-off", func(f *badFixture) (plan.Reply, error) {
			return door(f, f.s.door.WriteOff, "{A}", plan.WriteOffRequest{RequestID: "u-wo", Decision: collection.ApproveWriteOff, Operator: "alice", Reason: "uncollectable"})
		}),
		viaUpdate("confirm a superseded quote (front door)", "no quote {dropped}", func(f *badFixture) (plan.Reply, error) {
			return door(f, f.s.door.Prepay, "{A}", plan.PrepayRequest{RequestID: "u-q-dropped", QuoteID: f.dropped})
		}).with((*badFixture).needDropped),
		viaUpdateRefused("confirm a stale quote (front door)", "stale", func(f *badFixture) (plan.Reply, error) {
			return door(f, f.s.door.Prepay, "{A}", plan.PrepayRequest{RequestID: "u-q-stale", QuoteID: f.stale})
		}).with((*badFixture).needStale),
		viaUpdateRefused("confirm an expired quote (front door)", "expired", func(f *badFixture) (plan.Reply, error) {
			return door(f, f.s.door.Prepay, "{A}", plan.PrepayRequest{RequestID: "u-q-expired", QuoteID: f.expired})
		}).with((*badFixture).needExpired),
		viaUpdate("request id reused for another payment", "already used for a different request", func(f *badFixture) (plan.Reply, error) {
			return f.update(f.active, plan.MsgPay, plan.PaymentRequest{RequestID: f.stalePayment, Amount: decimal.NewFromInt(2), Source: "manual"})
		}).with((*badFixture).needStale),
		viaUpdate("complaint of 1 MB", "text: is longer than 200", func(f *badFixture) (plan.Reply, error) {
			return f.update(f.active, plan.MsgComplain, plan.ComplaintRequest{RequestID: "u-mb", Text: megabyte})
		}),
		viaUpdate("SQL request id in the wrong state", "only before it is active", func(f *badFixture) (plan.Reply, error) {
			return f.update(f.active, plan.MsgWithdraw, plan.WithdrawRequest{RequestID: sqlText, Reason: sqlText})
		}),
		viaUpdate("SQL complaint id", "no open complaint", func(f *badFixture) (plan.Reply, error) {
			return f.update(f.active, plan.MsgResolve, plan.ResolveRequest{RequestID: "u-rs-sql", Complaint: sqlText, Resolution: "done", Operator: "alice"})
		}),
		viaUpdate("invalid UTF-8 complaint (front door)", "text: is not valid UTF-8", func(f *badFixture) (plan.Reply, error) {
			return door(f, f.s.door.Complain, "{A}", plan.ComplaintRequest{RequestID: "u-utf8", Text: "bad \xff\xfe text"})
		}),
		viaUpdate("payload not UTF-8 JSON", "unable to decode", func(f *badFixture) (plan.Reply, error) {
			return f.update(f.active, plan.MsgComplain, rawJSON("\xff\xfe{\"request_id\":\"u-raw\"}"))
		}),
		viaUpdate("NUL in a complaint", "text: must not contain a NUL", func(f *badFixture) (plan.Reply, error) {
			return f.update(f.active, plan.MsgComplain, plan.ComplaintRequest{RequestID: "u-nul", Text: "a\x00b"})
		}),
		viaUpdate("payload a string", "unable to decode", func(f *badFixture) (plan.Reply, error) {
			return f.update(f.active, plan.MsgCancel, "lump-sum please")
		}),
		viaUpdate("no payload", "request_id: is required", func(f *badFixture) (plan.Reply, error) {
			return f.update(f.active, plan.MsgCancel)
		}),
		viaUpdate("unknown update", "unknown update", func(f *badFixture) (plan.Reply, error) {
			return f.update(f.active, "drop-table", plan.CancelRequest{RequestID: "u-unknown", Mode: plan.CancelLumpSum})
		}),
		viaUpdate("forged application fingerprint", "already used for a different application", func(f *badFixture) (plan.Reply, error) {
			return f.update(f.offered, plan.UpdateAwaitDecision, strings.Repeat("f", 40))
		}),
		viaUpdate("forged agreement hash (front door)", "quotes document "+strings.Repeat("0", 64), func(f *badFixture) (plan.Reply, error) {
			return door(f, f.s.door.Sign, "{O}", plan.SignRequest{RequestID: "u-forged", DocumentHash: strings.Repeat("0", 64), Name: "张三", Consent: true})
		}).then(1),
		viaUpdate("forged agreement hash (raw)", "the agreement to sign is {hash}", func(f *badFixture) (plan.Reply, error) {
			return f.update(f.offered, plan.MsgSign, plan.SignRequest{RequestID: "u-forged-raw", DocumentHash: strings.Repeat("e", 64), PaperRef: "SCAN-" + sqlText})
		}).then(1),

		// Signals: refused and shown in the recent replies, or (when they
		// cannot be read) dropped; never applied.
		viaSignal("negative payment", "{A}", plan.MsgPay, func(*badFixture) any {
			return plan.PaymentRequest{RequestID: "s-neg", Amount: decimal.NewFromInt(-5)}
		}, "amount: must be greater than 0"),
		viaSignal("choose after signing", "{A}", plan.MsgChoose, func(*badFixture) any {
			return plan.ChooseRequest{RequestID: "s-choose-a", OfferSet: 1, Offer: 1}
		}, "only while the plan is offered"),
		viaSignal("cancel during origination", "{O}", plan.MsgCancel, func(*badFixture) any {
			return plan.CancelRequest{RequestID: "s-cancel-o", Mode: plan.CancelLumpSum}
		}, "only while the plan is active; it is offered"),
		viaSignal("sign before choosing", "{O}", plan.MsgSign, func(*badFixture) any {
			return plan.SignRequest{RequestID: "s-sign-o", DocumentHash: strings.Repeat("ab", 32), Name: "张三", Consent: true}
		}, "only while the plan is signing"),
		viaSignal("complaint of 256 KB", "{A}", plan.MsgComplain, func(*badFixture) any {
			return plan.ComplaintRequest{RequestID: "s-big", Text: quarter}
		}, "text: is longer than 200"),
		viaSignal("NUL in a request id", "{A}", plan.MsgComplain, func(*badFixture) any {
			return plan.ComplaintRequest{RequestID: "s\x00nul", Text: "called at night"}
		}, "request_id: must not contain a NUL"),
		viaSignal("SQL request id in the wrong state", "{A}", plan.MsgWithdraw, func(*badFixture) any {
			return plan.WithdrawRequest{RequestID: sqlText, Reason: sqlText}
		}, "only before it is active"),
		viaSignal("restructure to 1000 terms", "{A}", plan.MsgRestructure, func(*badFixture) any {
			return plan.RestructureRequest{RequestID: "s-terms", Terms: 1000}
		}, "terms: must be between 1 and 360"),
		viaSignal("no payload", "{A}", plan.MsgCancel, func(*badFixture) any { return nil }, "request_id: is required"),
		viaSignal("payload a string", "{A}", plan.MsgCancel, func(*badFixture) any { return "lump-sum please" }, dropped),
		viaSignal("NaN payment", "{A}", plan.MsgPay, func(*badFixture) any {
			return rawJSON(`{"request_id":"s-nan","amount":"NaN"}`)
		}, dropped),
		viaSignal("unknown signal", "{A}", "drop-table", func(*badFixture) any { return sqlText }, dropped),
		viaSignal("unknown plan", "{unknown}", plan.MsgCancel, func(*badFixture) any {
			return plan.CancelRequest{RequestID: "s-nop", Mode: plan.CancelLumpSum}
		}, "error: not found"),
		viaSignal("confirm a superseded quote", "{A}", plan.MsgPrepay, func(f *badFixture) any {
			return plan.PrepayRequest{RequestID: "s-q-dropped", QuoteID: f.dropped}
		}, "no quote {dropped}").with((*badFixture).needDropped),
		viaSignal("confirm a stale quote", "{A}", plan.MsgPrepay, func(f *badFixture) any {
			return plan.PrepayRequest{RequestID: "s-q-stale", QuoteID: f.stale}
		}, "stale").with((*badFixture).needStale),
		viaSignal("forged agreement hash", "{O}", plan.MsgSign, func(*badFixture) any {
			return plan.SignRequest{RequestID: "s-forged", DocumentHash: strings.Repeat("1", 64), Name: "张三", Consent: true}
		}, "the agreement to sign is {hash}").then(1),
	}
	slices.SortStableFunc(cases, func(a, b badCase) int { return a.phase - b.phase })
	return cases
}

// TestBadInput sends malformed input through every front-end, at two
// shared plans (one in origination, one active): each is refused with a
// clear error (the CLI exits 2 naming the flag, the API answers a 4xx
// JSON error, an Update is rejected by its validator, a Signal is
// refused in the plan's recent replies or dropped), nothing panics, no
// workflow task fails, nothing is written to any table and neither plan's
// status changes.
func TestBadInput(t *testing.T) {
	start := time.Now()
	f := newBadFixture(t)
	parent := f.t
	t.Logf("system and plans ready in %s", time.Since(start).Round(time.Millisecond))
	counts := map[string]int{}
	phase := 0
	for _, c := range badInputCases() {
		if c.phase > phase {
			f.t = parent
			f.choose()
			phase = c.phase
		}
		counts[c.front]++
		t.Run(c.front+"/"+c.name, func(t *testing.T) {
			f.t = t
			defer func() { f.t = parent }()
			if c.need != nil {
				c.need(f)
			}
			rows := f.snapshot()
			offered, active := f.view(f.offered), f.view(f.active)
			c.run(t, f)
			if t.Failed() {
				return
			}
			after := f.snapshot()
			for _, table := range f.tables {
				if rows[table] != after[table] {
					t.Errorf("table %s changed: %s before, %s after", table, rows[table], after[table])
				}
			}
			if got := f.view(f.offered); got != offered {
				t.Errorf("the offered plan changed: %+v, was %+v", got, offered)
			}
			if got := f.view(f.active); got != active {
				t.Errorf("the active plan changed: %+v, was %+v", got, active)
			}
			f.healthy(t)
		})
	}
	// The worker's log is watched: the signals it could not read are in it.
	if counts["signal"] > 0 && !f.logged.saw("Corrupted signal") {
		t.Errorf("the worker logged nothing about the signals it could not read: is its log watched for panics?")
	}
	t.Logf("the table: %d cases (%d CLI, %d API, %d Update, %d Signal); all run in %s", counts["cli"]+counts["api"]+counts["update"]+counts["signal"],
		counts["cli"], counts["api"], counts["update"], counts["signal"], time.Since(start).Round(time.Millisecond))
}
