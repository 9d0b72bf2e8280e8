package calc

import (
	"errors"
	"fmt"
	"math/big"
	"slices"
	"strings"
	"testing"

	"github.com/shopspring/decimal"
)

// changePlans are the plans every change is tried on.
var changePlans = []struct {
	name string
	plan Terms
}{
	{"annuity", Terms{Method: MethodAnnuity, Principal: dec("10000"), Terms: 12, AnnualRate: dec("0.24"), Start: mustDate("2026-01-15")}},
	{"annuity from Jan 31", Terms{Method: MethodAnnuity, Principal: dec("10000"), Terms: 12, AnnualRate: dec("0.24"), Frequency: Monthly, Start: mustDate("2026-01-31")}},
	{"equal principal", Terms{Method: MethodEqualPrincipal, Principal: dec("12000"), Terms: 12, AnnualRate: dec("0.18"), Start: mustDate("2026-03-10")}},
	{"interest only", Terms{Method: MethodInterestOnly, Principal: dec("5000"), Terms: 6, AnnualRate: dec("0.18"), Start: mustDate("2026-01-20")}},
	{"fee per period", Terms{Method: MethodFee, Principal: dec("6000"), Terms: 12, MonthlyFeeRate: dec("0.006"), Start: mustDate("2026-02-28")}},
	{"fee up front", Terms{Method: MethodFee, Principal: dec("6000"), Terms: 12, MonthlyFeeRate: dec("0.006"), FeeUpfront: true, Start: mustDate("2026-01-31")}},
	{"zero", Terms{Method: MethodZero, Principal: dec("1200"), Terms: 12, Start: mustDate("2026-01-15")}},
	{"quarterly annuity from Jan 31", Terms{Method: MethodAnnuity, Principal: dec("8000"), Terms: 8, AnnualRate: dec("0.12"), Frequency: Quarterly, Start: mustDate("2026-01-31")}},
	{"quarterly equal principal", Terms{Method: MethodEqualPrincipal, Principal: dec("9000"), Terms: 8, AnnualRate: dec("0.10"), Frequency: Quarterly, Start: mustDate("2026-02-15")}},
}

// changeScenarios are the states a plan is in when the customer asks.
var changeScenarios = []struct {
	name      string
	paid      int  // instalments paid; negative counts from the end
	arrears   int  // unpaid instalments after them, past due with a penalty
	dueToday  bool // AsOf is the next instalment's due date
	paidAhead string
}{
	{"new plan", 0, 0, false, "0"},
	{"after 3 paid", 3, 0, false, "0"},
	{"2 past due", 3, 2, false, "0"},
	{"due today, part paid ahead", 3, 0, true, "50"},
	{"past due and due today", 2, 1, true, "0"},
	{"one left", -1, 0, false, "0"},
	{"all past due", -2, 2, false, "0"},
}

// changeFixture is a plan, its schedule and where it stands in a scenario.
type changeFixture struct {
	name  string
	plan  Terms
	sched Schedule
	pos   Position
	// open are the unpaid instalments one by one, the past-due ones with a
	// penalty: what the position aggregates.
	open []OpenInstalment
	// next is the index in sched.Rows of the first Future row.
	next int
}

// positionAfter returns the position of plan (schedule s) when its first
// paid instalments are paid and the next arrears ones are past due with a
// penalty of 1.50 each; AsOf is the next due date when dueToday, else a few
// days after the last due date passed.
func positionAfter(plan Terms, s Schedule, paid, arrears int, dueToday bool, paidAhead decimal.Decimal) (Position, []OpenInstalment) {
	rows := s.Rows
	next := paid + arrears
	var asOf Date
	switch {
	case dueToday:
		asOf = rows[next].DueDate
	case arrears > 0:
		asOf = rows[next-1].DueDate.AddDays(10)
	case paid > 0:
		asOf = rows[paid-1].DueDate.AddDays(5)
	default:
		asOf = plan.Start.AddDays(5)
	}
	open := OpenFromRows(rows[paid:])
	past := zeroAmounts()
	for i := range arrears {
		open[i].Owed.Penalty = dec("1.50")
		past = past.Add(open[i].Owed)
	}
	return Position{
		Terms:     plan,
		Cadence:   Cadence{Start: plan.Start, Frequency: plan.Frequency},
		AsOf:      asOf,
		PastDue:   past,
		Future:    slices.Clone(rows[next:]),
		PaidAhead: paidAhead,
		FirstNo:   next + 1,
	}, open
}

// changeFixtures returns every plan in every scenario that applies to it.
func changeFixtures(t *testing.T) []changeFixture {
	t.Helper()
	var out []changeFixture
	for _, p := range changePlans {
		s, err := BuildSchedule(p.plan)
		if err != nil {
			t.Fatal(err)
		}
		for _, sc := range changeScenarios {
			paid := sc.paid
			if paid < 0 {
				paid += p.plan.Terms
			}
			next := paid + sc.arrears
			if next > p.plan.Terms || (sc.dueToday && next >= p.plan.Terms) {
				continue
			}
			pos, open := positionAfter(p.plan, s, paid, sc.arrears, sc.dueToday, dec(sc.paidAhead))
			out = append(out, changeFixture{name: p.name + "/" + sc.name, plan: p.plan, sched: s, pos: pos, open: open, next: next})
		}
	}
	return out
}

// settlementCases are the policies every settlement is tried with.
var settlementCases = []struct {
	name  string
	terms SettlementTerms
}{
	{"current period", SettlementTerms{}},
	{"all remaining", SettlementTerms{Policy: SettleAllRemaining}},
	{"3 percent", SettlementTerms{Policy: SettlePercentage, Percent: dec("0.03")}},
}

// checked runs a change on a copy of pos, verifies that pos is left as it
// was and that the change keeps every invariant.
func checked(t *testing.T, pos Position, run func(Position) (Change, error)) (Change, error) {
	t.Helper()
	before := slices.Clone(pos.Future)
	c, err := run(pos)
	if !slices.EqualFunc(before, pos.Future, func(a, b Row) bool { return fmt.Sprint(a) == fmt.Sprint(b) }) {
		t.Fatal("the change modified the position's Future rows")
	}
	if err != nil {
		return c, err
	}
	if err := c.Check(pos); err != nil {
		t.Fatalf("invariant: %v", err)
	}
	if len(c.Rows) > 0 && !c.Cadence.Start.IsZero() && c.Cadence.Frequency == "" {
		t.Fatal("the cadence of the change has no frequency")
	}
	return c, nil
}

// wantInputError fails unless err is an *InputError on field whose message
// contains text.
func wantInputError(t *testing.T, err error, field, text string) {
	t.Helper()
	var ie *InputError
	if !errors.As(err, &ie) {
		t.Fatalf("error %v, want an *InputError on %q", err, field)
	}
	if ie.Field != field || !strings.Contains(err.Error(), text) {
		t.Fatalf("error %v (field %q), want field %q saying %q", err, ie.Field, field, text)
	}
}

// payableRows returns the rows that are not holiday rows.
func payableRows(rows []Row) []Row {
	var out []Row
	for _, r := range rows {
		if !r.Holiday {
			out = append(out, r)
		}
	}
	return out
}

// expectedDueNow is what the customer pays at confirmation: the payments
// due on AsOf and the penalty, less what was paid ahead.
func expectedDueNow(pos Position, c Change) decimal.Decimal {
	if len(c.Rows) == 0 || c.Rows[0].DueDate != pos.AsOf {
		return decimal.Zero
	}
	due := c.Penalty
	for _, r := range c.Rows {
		if r.DueDate == pos.AsOf {
			due = due.Add(r.Payment)
		}
	}
	return decimal.Max(decimal.Zero, due.Sub(pos.PaidAhead))
}

// reamortisedRef is the big.Rat reference of balance re-amortised over n
// rows with plan's method and rates (no fee again when it was up front),
// months apart, row k due due(k).
func reamortisedRef(plan Terms, balance decimal.Decimal, n, months int, due func(k int) Date) []refRow {
	fee := plan.MonthlyFeeRate
	if plan.FeeUpfront {
		fee = decimal.Zero
	}
	return refSchedule(refPlan{method: plan.Method, principal: balance, n: n, annual: plan.AnnualRate, monthlyFee: fee, months: months, due: due})
}

// refMaxPayment returns the largest payment of reference rows.
func refMaxPayment(rows []refRow) decimal.Decimal {
	highest := decimal.Zero
	for _, r := range rows {
		highest = decimal.Max(highest, dec(r.payment))
	}
	return highest
}

// refCost returns the interest and fee of reference rows.
func refCost(rows []refRow) decimal.Decimal {
	sum := decimal.Zero
	for _, r := range rows {
		sum = sum.Add(dec(r.interest)).Add(dec(r.fee))
	}
	return sum
}

// onCadence reports rows that are not due on consecutive rows of c.
func onCadence(c Cadence, rows []Row) error {
	if len(rows) == 0 {
		return nil
	}
	j, ok := c.IndexOf(rows[0].DueDate)
	if !ok {
		return fmt.Errorf("row %d due %s is not on the cadence %s from %s", rows[0].No, rows[0].DueDate, c.Frequency, c.Start)
	}
	for i, r := range rows {
		if want := c.Due(j + i); r.DueDate != want {
			return fmt.Errorf("row %d due %s, want %s (cadence row %d)", r.No, r.DueDate, want, j+i)
		}
	}
	return nil
}

// monthsOf returns the months per period of plan.
func monthsOf(plan Terms) int { return plan.normalised().Frequency.MonthsPerPeriod() }

func TestCancelLumpSum(t *testing.T) {
	for _, fx := range changeFixtures(t) {
		for _, sc := range settlementCases {
			for _, atNextDue := range []bool{false, true} {
				t.Run(fmt.Sprintf("%s/%s/next due %v", fx.name, sc.name, atNextDue), func(t *testing.T) {
					c, err := checked(t, fx.pos, func(p Position) (Change, error) { return CancelLumpSum(p, sc.terms, atNextDue) })
					if err != nil {
						t.Fatal(err)
					}
					// the quote of the instalments one by one
					q, err := QuoteSettlement(fx.open, fx.pos.AsOf, sc.terms)
					if err != nil {
						t.Fatal(err)
					}
					if len(c.Rows) != 1 || c.Kind != ChangeCancelLumpSum {
						t.Fatalf("%d rows of kind %s", len(c.Rows), c.Kind)
					}
					r := c.Rows[0]
					got := [...]string{FormatMoney(r.Principal), FormatMoney(r.Interest), FormatMoney(r.Fee), FormatMoney(c.Penalty), FormatMoney(c.TotalPayable)}
					want := [...]string{FormatMoney(q.Principal), FormatMoney(q.Interest), FormatMoney(q.Fee.Add(q.Charge)), FormatMoney(q.Penalty), FormatMoney(q.Total)}
					if got != want {
						t.Errorf("row and totals %v, want the quote's %v", got, want)
					}
					if c.Settlement == nil || !c.Settlement.Total.Equal(q.Total) {
						t.Errorf("settlement %+v, want total %s", c.Settlement, q.Total)
					}
					past := fx.pos.PastDue
					if fee := q.Total.Sub(q.Principal).Sub(past.Interest).Sub(past.Fee).Sub(past.Penalty); !c.Fee.Equal(fee) {
						t.Errorf("fee %s, want %s", c.Fee, fee)
					}
					due := fx.pos.AsOf
					if atNextDue && len(fx.pos.Future) > 0 {
						due = fx.pos.Future[0].DueDate
					}
					if r.DueDate != due {
						t.Errorf("due %s, want %s", r.DueDate, due)
					}
					if want := expectedDueNow(fx.pos, c); !c.DueNow.Equal(want) {
						t.Errorf("due now %s, want %s", c.DueNow, want)
					}
					if !c.Instalment.Equal(r.Payment) || c.Cadence != fx.pos.cadence() || c.Method != fx.plan.Method {
						t.Errorf("instalment %s, cadence %+v, method %s", c.Instalment, c.Cadence, c.Method)
					}
					full, err := checked(t, fx.pos, func(p Position) (Change, error) { return PrepayFull(p, sc.terms) })
					if err != nil {
						t.Fatal(err)
					}
					if full.Kind != ChangePrepayFull || !full.TotalPayable.Equal(q.Total) || full.Rows[0].DueDate != fx.pos.AsOf {
						t.Errorf("prepay in full: kind %s, total %s due %s", full.Kind, full.TotalPayable, full.Rows[0].DueDate)
					}
				})
			}
		}
	}
}

// TestCancelFigures pins worked figures: 10000 at 24% over 12 after 3 paid
// leaves 7718.17; the current period's interest is 2% of it, 154.36.
func TestCancelFigures(t *testing.T) {
	plan := changePlans[0].plan
	s, err := BuildSchedule(plan)
	if err != nil {
		t.Fatal(err)
	}
	pos, _ := positionAfter(plan, s, 3, 0, false, decimal.Zero)
	tests := []struct {
		name  string
		terms SettlementTerms
		// principal, interest, fee of the row; the cancellation fee; total
		want [5]string
	}{
		{"current period", SettlementTerms{}, [5]string{"7718.17", "154.36", "0.00", "154.36", "7872.53"}},
		// 3% of 7718.17 = 231.5451
		{"percentage", SettlementTerms{Policy: SettlePercentage, Percent: dec("0.03")}, [5]string{"7718.17", "0.00", "231.55", "231.55", "7949.72"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := CancelLumpSum(pos, tc.terms, false)
			if err != nil {
				t.Fatal(err)
			}
			r := c.Rows[0]
			if got := [5]string{FormatMoney(r.Principal), FormatMoney(r.Interest), FormatMoney(r.Fee), FormatMoney(c.Fee), FormatMoney(c.TotalPayable)}; got != tc.want {
				t.Errorf("got %v, want %v", got, tc.want)
			}
			if !c.DueNow.Equal(c.TotalPayable) {
				t.Errorf("due now %s, want the total %s", c.DueNow, c.TotalPayable)
			}
		})
	}
}

func TestCancelFewerTerms(t *testing.T) {
	for _, fx := range changeFixtures(t) {
		left := payableRows(fx.pos.Future)
		for _, sc := range settlementCases {
			t.Run(fx.name+"/"+sc.name, func(t *testing.T) {
				lump, err := CancelLumpSum(fx.pos, sc.terms, false)
				if err != nil {
					t.Fatal(err)
				}
				for n := 1; n < len(left); n++ {
					c, err := checked(t, fx.pos, func(p Position) (Change, error) { return CancelFewerTerms(p, sc.terms, n) })
					if err != nil {
						t.Fatalf("%d terms: %v", n, err)
					}
					if len(c.Rows) != n || c.Kind != ChangeCancelFewerTerms {
						t.Fatalf("%d terms: %d rows of kind %s", n, len(c.Rows), c.Kind)
					}
					if !c.TotalPayable.Equal(lump.TotalPayable) || !c.Fee.Equal(lump.Fee) || c.Settlement == nil || !c.Settlement.Total.Equal(lump.TotalPayable) {
						t.Errorf("%d terms: total %s fee %s, want the lump sum's %s and %s", n, c.TotalPayable, c.Fee, lump.TotalPayable, lump.Fee)
					}
					level := ratCents(new(big.Rat).Quo(ratOf(lump.Rows[0].Principal), ratInt(int64(n))))
					for i, r := range c.Rows {
						if r.DueDate != left[i].DueDate {
							t.Errorf("%d terms: row %d due %s, want %s", n, r.No, r.DueDate, left[i].DueDate)
						}
						if i > 0 && (!r.Interest.IsZero() || !r.Fee.IsZero()) {
							t.Errorf("%d terms: row %d charges interest %s fee %s", n, r.No, r.Interest, r.Fee)
						}
						if i < n-1 && FormatMoney(r.Principal) != ratString(ratMin(level, ratOf(r.Principal.Add(r.Balance)))) {
							t.Errorf("%d terms: row %d principal %s, want %s", n, r.No, r.Principal, ratString(level))
						}
					}
					first, l := c.Rows[0], lump.Rows[0]
					if !first.Interest.Equal(l.Interest) || !first.Fee.Equal(l.Fee) {
						t.Errorf("%d terms: first row interest %s fee %s, want %s %s", n, first.Interest, first.Fee, l.Interest, l.Fee)
					}
					if want := expectedDueNow(fx.pos, c); !c.DueNow.Equal(want) {
						t.Errorf("%d terms: due now %s, want %s", n, c.DueNow, want)
					}
				}
				for _, n := range []int{0, -1, len(left), len(left) + 3} {
					_, err := CancelFewerTerms(fx.pos, sc.terms, n)
					wantInputError(t, err, FieldTerms, fmt.Sprintf("fewer than the %d instalments left", len(left)))
				}
			})
		}
	}
}

func TestPrepayPart(t *testing.T) {
	for _, fx := range changeFixtures(t) {
		remaining := fx.pos.FuturePrincipal()
		if remaining.LessThanOrEqual(dec("0.01")) {
			continue
		}
		left := payableRows(fx.pos.Future)
		current := refMaxPayment(refRowsOf(left))
		months := monthsOf(fx.plan)
		i0 := fx.next + 1
		due := func(k int) Date { return fx.plan.Start.AddMonths((i0 + k - 1) * months) }
		amounts := []decimal.Decimal{dec("0.01"), remaining.Sub(dec("0.01")), RoundMoney(remaining.Div(decimal.NewFromInt(3)))}
		if remaining.GreaterThan(dec("1000")) {
			amounts = append(amounts, dec("1000"))
		}
		for _, sc := range settlementCases {
			for _, reduce := range []bool{false, true} {
				for _, amount := range amounts {
					t.Run(fmt.Sprintf("%s/%s/reduce %v/%s", fx.name, sc.name, reduce, amount), func(t *testing.T) {
						c, err := checked(t, fx.pos, func(p Position) (Change, error) { return PrepayPart(p, sc.terms, amount, reduce) })
						if err != nil {
							t.Fatal(err)
						}
						balance := remaining.Sub(amount)
						n := len(left)
						if reduce {
							for k := 1; k < len(left); k++ {
								if !refMaxPayment(reamortisedRef(fx.plan, balance, k, months, due)).GreaterThan(current) {
									n = k
									break
								}
							}
						}
						ref := reamortisedRef(fx.plan, balance, n, months, due)
						if err := compareRows(c.Rows[1:], ref); err != nil {
							t.Errorf("re-amortised rows against big.Rat: %v", err)
						}
						charge := decimal.Zero
						switch sc.terms.Policy {
						case SettlePercentage:
							charge = dec(ratString(ratCents(new(big.Rat).Mul(ratOf(sc.terms.Percent), ratOf(amount)))))
						case SettleAllRemaining:
							charge = decimal.Max(decimal.Zero, cost(fx.pos.Future).Sub(refCost(ref)))
						}
						past := fx.pos.PastDue
						s := c.Rows[0]
						got := [...]string{s.DueDate.String(), FormatMoney(s.Principal), FormatMoney(s.Interest), FormatMoney(s.Fee), FormatMoney(c.Fee), FormatMoney(c.Penalty)}
						want := [...]string{fx.pos.AsOf.String(), FormatMoney(past.Principal.Add(amount)), FormatMoney(past.Interest), FormatMoney(past.Fee.Add(charge)), FormatMoney(charge), FormatMoney(past.Penalty)}
						if got != want {
							t.Errorf("settlement row %v, want %v", got, want)
						}
						if sc.terms.Policy == SettleAllRemaining {
							// the interest and fees agreed, no more, no less
							agreed := past.Interest.Add(past.Fee).Add(cost(fx.pos.Future))
							if paid := cost(c.Rows); charge.IsPositive() && !paid.Equal(agreed) || paid.LessThan(agreed) {
								t.Errorf("interest and fees %s, want the %s agreed", paid, agreed)
							}
						}
						if !c.Instalment.Equal(maxPayment(c.Rows[1:])) || (reduce && c.Instalment.GreaterThan(current) && n < len(left)) {
							t.Errorf("instalment %s (current %s)", c.Instalment, current)
						}
						if c.Cadence != fx.pos.cadence() {
							t.Errorf("cadence %+v, want the plan's", c.Cadence)
						}
						if err := onCadence(c.Cadence, c.Rows[1:]); err != nil {
							t.Error(err)
						}
						if want := expectedDueNow(fx.pos, c); !c.DueNow.Equal(want) || c.DueNow.IsZero() {
							t.Errorf("due now %s, want %s", c.DueNow, want)
						}
						if c.Settlement == nil || !c.Settlement.Total.Equal(s.Payment.Add(c.Penalty)) || !c.Settlement.RemainingPrincipal.Equal(amount) {
							t.Errorf("settlement %+v", c.Settlement)
						}
						if fx.plan.FeeUpfront && !c.MonthlyFeeRate.IsZero() {
							t.Errorf("up-front fee charged again at %s", c.MonthlyFeeRate)
						}
					})
				}
			}
		}
		t.Run(fx.name+"/refusals", func(t *testing.T) {
			for _, amount := range []string{"0", "-1", "0.001"} {
				_, err := PrepayPart(fx.pos, SettlementTerms{}, dec(amount), false)
				wantInputError(t, err, FieldAmount, "")
			}
			for _, amount := range []decimal.Decimal{remaining, remaining.Add(dec("0.01"))} {
				_, err := PrepayPart(fx.pos, SettlementTerms{}, amount, true)
				wantInputError(t, err, FieldAmount, "must be less than the remaining principal "+FormatMoney(remaining)+"; to repay everything leave the amount out")
			}
			if _, err := PrepayPart(fx.pos, SettlementTerms{Policy: "free"}, dec("0.01"), false); err == nil {
				t.Error("unknown policy accepted")
			}
		})
	}
}

// refRowsOf turns rows into reference rows (for refMaxPayment).
func refRowsOf(rows []Row) []refRow {
	out := make([]refRow, len(rows))
	for i, r := range rows {
		out[i] = refRow{due: r.DueDate, principal: FormatMoney(r.Principal), interest: FormatMoney(r.Interest), fee: FormatMoney(r.Fee), payment: FormatMoney(r.Payment), balance: FormatMoney(r.Balance)}
	}
	return out
}

// TestPrepayPartReduceTerm pins a worked case: 10000 at 24% over 12, 3
// paid, 7718.17 left at 945.60; repaying 2000 keeps 9 terms at a lower
// instalment, or keeps the instalment over fewer terms.
func TestPrepayPartReduceTerm(t *testing.T) {
	plan := changePlans[0].plan
	s, err := BuildSchedule(plan)
	if err != nil {
		t.Fatal(err)
	}
	pos, _ := positionAfter(plan, s, 3, 0, false, decimal.Zero)
	keep, err := PrepayPart(pos, SettlementTerms{}, dec("2000"), false)
	if err != nil {
		t.Fatal(err)
	}
	// 5718.17 over 9 at 2%: A = 5718.17 x 0.02 x 1.02^9 / (1.02^9 - 1) = 700.589...
	if len(keep.Rows) != 10 || FormatMoney(keep.Instalment) != "700.59" || FormatMoney(keep.DueNow) != "2000.00" || !keep.Fee.IsZero() {
		t.Errorf("keep the term: %d rows, instalment %s, due now %s, fee %s", len(keep.Rows), keep.Instalment, keep.DueNow, keep.Fee)
	}
	shorter, err := PrepayPart(pos, SettlementTerms{}, dec("2000"), true)
	if err != nil {
		t.Fatal(err)
	}
	// 5718.17 at no more than 945.60: 6 terms give 1020.85, 7 terms 883.53
	if len(shorter.Rows) != 8 || FormatMoney(shorter.Instalment) != "883.53" {
		t.Errorf("reduce the term: %d rows, instalment %s", len(shorter.Rows), shorter.Instalment)
	}
	if shorter.Rows[len(shorter.Rows)-1].DueDate.String() != "2026-11-15" {
		t.Errorf("last due %s, want 2026-11-15", shorter.Rows[len(shorter.Rows)-1].DueDate)
	}
}

func TestRestructure(t *testing.T) {
	for _, fx := range changeFixtures(t) {
		plan := fx.plan.normalised()
		left := payableRows(fx.pos.Future)
		past := fx.pos.PastDue
		capitalised := past.Interest.Add(past.Fee)
		balance := past.Principal.Add(capitalised).Add(fx.pos.FuturePrincipal())
		other := Quarterly
		if plan.Frequency == Quarterly {
			other = Monthly
		}
		current := maxPayment(left)
		if current.IsZero() {
			current = dec("200")
		}
		tests := []struct {
			name string
			r    RestructureTerms
		}{
			{"3 more terms", RestructureTerms{Terms: len(left) + 3}},
			{"70% of the instalment", RestructureTerms{MaxInstalment: RoundMoney(current.Mul(dec("0.7"))), MaxTerms: 60}},
			{"new frequency", RestructureTerms{Frequency: other}},
			{"new frequency over 5", RestructureTerms{Frequency: other, Terms: 5}},
			{"new frequency and instalment", RestructureTerms{Frequency: other, MaxInstalment: current, MaxTerms: 40}},
			{"same frequency named", RestructureTerms{Frequency: plan.Frequency, Terms: len(left) + 1}},
		}
		for _, tc := range tests {
			t.Run(fx.name+"/"+tc.name, func(t *testing.T) {
				f := cmpOr(tc.r.Frequency, plan.Frequency)
				same := f == plan.Frequency
				mOld, mNew := plan.Frequency.MonthsPerPeriod(), f.MonthsPerPeriod()
				due := func(k int) Date { return fx.pos.AsOf.AddMonths(k * mNew) }
				if len(left) > 0 {
					i0 := fx.next + 1
					due = func(k int) Date { return plan.Start.AddMonths(i0*mOld + (k-1)*mNew) }
				}
				ref := func(n int) []refRow { return reamortisedRef(plan, balance, n, mNew, due) }
				var n int
				switch {
				case tc.r.Terms > 0:
					n = tc.r.Terms
				case tc.r.MaxInstalment.IsPositive():
					from := 1
					if same {
						from = len(left) + 1
					}
					for k := from; k <= tc.r.MaxTerms; k++ {
						if !refMaxPayment(ref(k)).GreaterThan(tc.r.MaxInstalment) {
							n = k
							break
						}
					}
				default:
					n = max(1, (len(left)*mOld+mNew-1)/mNew)
				}
				c, err := checked(t, fx.pos, func(p Position) (Change, error) { return Restructure(p, tc.r) })
				if n == 0 {
					wantInputError(t, err, FieldMaxInstalment, "lowest instalment reachable over")
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				if err := compareRows(c.Rows, ref(n)); err != nil {
					t.Errorf("rows against big.Rat: %v", err)
				}
				if !c.Capitalised.Equal(capitalised) || !c.Penalty.Equal(past.Penalty) || !c.Fee.IsZero() || c.Kind != ChangeRestructure {
					t.Errorf("capitalised %s penalty %s fee %s kind %s", c.Capitalised, c.Penalty, c.Fee, c.Kind)
				}
				if c.Cadence.Frequency != f {
					t.Errorf("cadence frequency %s, want %s", c.Cadence.Frequency, f)
				}
				if same && len(left) > 0 && c.Cadence != fx.pos.cadence() {
					t.Errorf("cadence %+v, want the plan's", c.Cadence)
				}
				if err := onCadence(c.Cadence, c.Rows); err != nil {
					t.Error(err)
				}
				if want := expectedDueNow(fx.pos, c); !c.DueNow.Equal(want) {
					t.Errorf("due now %s, want %s", c.DueNow, want)
				}
				if !c.Instalment.Equal(maxPayment(c.Rows)) {
					t.Errorf("instalment %s, want %s", c.Instalment, maxPayment(c.Rows))
				}
			})
		}
	}
}

// cmpOr returns f, or def when f is empty.
func cmpOr(f, def Frequency) Frequency {
	if f == "" {
		return def
	}
	return f
}

// TestRestructureMonthEnd: a plan due on the 31st keeps its month ends
// through a change of frequency, whichever month the next row falls in.
func TestRestructureMonthEnd(t *testing.T) {
	plan := changePlans[1].plan // from 2026-01-31
	s, err := BuildSchedule(plan)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		paid int
		r    RestructureTerms
		due  []string
	}{
		{"quarterly from February", 0, RestructureTerms{Frequency: Quarterly}, []string{"2026-02-28", "2026-05-31", "2026-08-31", "2026-11-30"}},
		{"quarterly from April", 2, RestructureTerms{Frequency: Quarterly, Terms: 5}, []string{"2026-04-30", "2026-07-31", "2026-10-31", "2027-01-31", "2027-04-30"}},
		{"monthly, longer", 0, RestructureTerms{Terms: 14}, []string{"2026-02-28", "2026-03-31", "2026-04-30", "2026-05-31"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			pos, _ := positionAfter(plan, s, tc.paid, 0, false, decimal.Zero)
			c, err := checked(t, pos, func(p Position) (Change, error) { return Restructure(p, tc.r) })
			if err != nil {
				t.Fatal(err)
			}
			for i, want := range tc.due {
				if got := c.Rows[i].DueDate.String(); got != want {
					t.Errorf("row %d due %s, want %s", c.Rows[i].No, got, want)
				}
			}
			if c.Cadence.Start.Day() != 31 {
				t.Errorf("cadence starts %s, want a 31st", c.Cadence.Start)
			}
			// a later change on the new cadence finds its rows
			next := pos
			next.Future, next.Cadence, next.Terms.Frequency, next.PastDue = c.Rows, c.Cadence, c.Cadence.Frequency, zeroAmounts()
			h, err := checked(t, next, func(p Position) (Change, error) { return Holiday(p, 1, HolidayWaive) })
			if err != nil {
				t.Fatal(err)
			}
			if err := onCadence(c.Cadence, h.Rows); err != nil {
				t.Errorf("holiday after the restructure: %v", err)
			}
		})
	}
}

// TestRestructureSameTermsReproduces: re-amortising the remaining principal
// over the instalments left, on the plan's cadence (the path Restructure
// takes, below its lengthening rule), gives back the rows of the schedule:
// exactly for equal principal, interest-only and zero plans; for an annuity
// the level payment of the rounded balance may differ by a cent, and fee
// plans charge the fee on the new balance, so they are not expected to.
func TestRestructureSameTermsReproduces(t *testing.T) {
	for _, fx := range changeFixtures(t) {
		if fx.plan.Method == MethodFee || !fx.pos.PastDue.Total().IsZero() || len(fx.pos.Future) == 0 {
			continue
		}
		t.Run(fx.name, func(t *testing.T) {
			f := fx.pos.cadence().Frequency
			cad, j := fx.pos.placement(fx.pos.Future[0].DueDate, f)
			rows, err := amortiseOn(fx.pos.newTerms(f), fx.pos.FuturePrincipal(), len(fx.pos.Future), cad, j)
			if err != nil {
				t.Fatal(err)
			}
			want := fx.sched.Rows[fx.next:]
			if fx.plan.Method != MethodAnnuity {
				if err := compareRows(rows, refRowsOf(want)); err != nil {
					t.Error(err)
				}
				return
			}
			for i, r := range rows {
				// the last row absorbs the cents the level payment moved
				tolerance := dec("0.01").Mul(decimal.NewFromInt(int64(1 + (len(rows)-1)*btoi(i == len(rows)-1))))
				if r.DueDate != want[i].DueDate || r.Payment.Sub(want[i].Payment).Abs().GreaterThan(tolerance) {
					t.Errorf("row %d: due %s paying %s, the schedule %s paying %s", r.No, r.DueDate, r.Payment, want[i].DueDate, want[i].Payment)
				}
			}
		})
	}
}

// btoi returns 1 for true and 0 for false.
func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

func TestRestructureRejects(t *testing.T) {
	plan := changePlans[0].plan
	s, err := BuildSchedule(plan)
	if err != nil {
		t.Fatal(err)
	}
	pos, _ := positionAfter(plan, s, 3, 0, false, decimal.Zero) // 9 left
	quarterly := changePlans[7].plan
	qs, err := BuildSchedule(quarterly)
	if err != nil {
		t.Fatal(err)
	}
	qpos, _ := positionAfter(quarterly, qs, 1, 0, false, decimal.Zero) // 7 quarters left
	tests := []struct {
		name  string
		pos   Position
		r     RestructureTerms
		field string
		text  string
	}{
		{"as many terms", pos, RestructureTerms{Terms: 9}, FieldTerms, "a restructure lengthens the plan; to shorten it prepay or cancel to fewer terms"},
		{"fewer terms", pos, RestructureTerms{Terms: 3}, FieldTerms, "more than the 9 instalments left"},
		{"beyond the maximum", pos, RestructureTerms{Terms: 361}, FieldTerms, "at most 360"},
		{"beyond the product's maximum", pos, RestructureTerms{Terms: 20, MaxTerms: 15}, FieldTerms, "at most 15"},
		{"negative terms", pos, RestructureTerms{Terms: -1}, FieldTerms, "negative"},
		{"negative max terms", pos, RestructureTerms{Terms: 12, MaxTerms: -1}, FieldMaxTerms, ""},
		{"max terms too high", pos, RestructureTerms{Terms: 12, MaxTerms: 361}, FieldMaxTerms, ""},
		{"negative instalment", pos, RestructureTerms{MaxInstalment: dec("-1")}, FieldMaxInstalment, ""},
		{"instalment in mills", pos, RestructureTerms{MaxInstalment: dec("100.001")}, FieldMaxInstalment, ""},
		// 7718.17 at 2% a month: the interest alone is 154.36
		{"instalment out of reach", pos, RestructureTerms{MaxInstalment: dec("150")}, FieldMaxInstalment, "lowest instalment reachable over 360 terms, 154.49"},
		{"instalment out of reach of the product", pos, RestructureTerms{MaxInstalment: dec("500"), MaxTerms: 12}, FieldMaxInstalment, "lowest instalment reachable over 12 terms, 729.83"},
		{"no longer plan allowed", pos, RestructureTerms{MaxInstalment: dec("500"), MaxTerms: 9}, FieldMaxInstalment, "already has 9 instalments left"},
		{"terms and a lower instalment", pos, RestructureTerms{Terms: 12, MaxInstalment: dec("500")}, FieldMaxInstalment, "instalment over 12 terms, 729.83"},
		{"nothing asked", pos, RestructureTerms{}, FieldTerms, "give the new number of terms"},
		{"nothing new", pos, RestructureTerms{Frequency: Monthly}, FieldTerms, "give the new number of terms"},
		{"unknown frequency", pos, RestructureTerms{Frequency: "weekly", Terms: 12}, FieldFrequency, ""},
		{"too many months", qpos, RestructureTerms{Frequency: Monthly, MaxTerms: 20}, FieldFrequency, "21 instalments to cover the 21 months left"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Restructure(tc.pos, tc.r)
			wantInputError(t, err, tc.field, tc.text)
		})
	}
	// Only a penalty left: nothing to re-amortise.
	onlyPenalty := pos
	onlyPenalty.Future, onlyPenalty.PastDue = nil, Amounts{Penalty: dec("3.00")}
	_, err = Restructure(onlyPenalty, RestructureTerms{Terms: 3})
	wantInputError(t, err, FieldTerms, "nothing to restructure: only a penalty of 3.00 is owed")
}

func TestHoliday(t *testing.T) {
	for _, fx := range changeFixtures(t) {
		for _, policy := range []HolidayPolicy{HolidayCapitalise, HolidayWaive} {
			for _, periods := range []int{1, 3} {
				t.Run(fmt.Sprintf("%s/%s/%d", fx.name, policy, periods), func(t *testing.T) {
					c, err := checked(t, fx.pos, func(p Position) (Change, error) { return Holiday(p, periods, policy) })
					if past := fx.pos.PastDue.Total(); past.IsPositive() {
						wantInputError(t, err, FieldPeriods, "clear the "+FormatMoney(past)+" past due first")
						return
					}
					if len(fx.pos.Future) == 0 {
						wantInputError(t, err, FieldPeriods, "no instalment")
						return
					}
					if err != nil {
						t.Fatal(err)
					}
					plan := fx.plan
					if plan.FeeUpfront {
						plan.FeeUpfront, plan.MonthlyFeeRate = false, decimal.Zero
					}
					want, err := ApplyHoliday(HolidayRequest{Plan: plan, Paid: fx.next, Balance: fx.pos.FuturePrincipal(), Periods: periods, Policy: policy})
					if err != nil {
						t.Fatal(err)
					}
					if err := compareRows(c.Rows, refRowsOf(want.Schedule.Rows)); err != nil {
						t.Errorf("against ApplyHoliday: %v", err)
					}
					for i, r := range c.Rows {
						if r.Holiday != (i < periods) {
							t.Errorf("row %d holiday %v", r.No, r.Holiday)
						}
					}
					if !c.Capitalised.Equal(want.Capitalised) || c.Kind != ChangeHoliday || !c.Fee.IsZero() {
						t.Errorf("capitalised %s, want %s; kind %s fee %s", c.Capitalised, want.Capitalised, c.Kind, c.Fee)
					}
					if c.Cadence != fx.pos.cadence() {
						t.Errorf("cadence %+v, want the plan's", c.Cadence)
					}
					if err := onCadence(c.Cadence, c.Rows); err != nil {
						t.Error(err)
					}
					if !c.Instalment.Equal(maxPayment(c.Rows)) || c.Instalment.IsZero() {
						t.Errorf("instalment %s", c.Instalment)
					}
				})
			}
		}
	}
}

// TestHolidayAgain: a second pause during the first keeps the first's
// holiday rows and follows them.
func TestHolidayAgain(t *testing.T) {
	plan := changePlans[1].plan
	s, err := BuildSchedule(plan)
	if err != nil {
		t.Fatal(err)
	}
	pos, _ := positionAfter(plan, s, 3, 0, false, decimal.Zero)
	first, err := checked(t, pos, func(p Position) (Change, error) { return Holiday(p, 2, HolidayCapitalise) })
	if err != nil {
		t.Fatal(err)
	}
	again := pos
	again.Future = first.Rows
	second, err := checked(t, again, func(p Position) (Change, error) { return Holiday(p, 1, HolidayCapitalise) })
	if err != nil {
		t.Fatal(err)
	}
	// 9 instalments left after 2 + 1 paused: the plan ends in 2027-04
	if len(second.Rows) != 12 || second.Rows[len(second.Rows)-1].DueDate.String() != "2027-04-30" {
		t.Fatalf("%d rows, last due %s", len(second.Rows), second.Rows[len(second.Rows)-1].DueDate)
	}
	for i, r := range second.Rows {
		if r.Holiday != (i < 3) {
			t.Errorf("row %d holiday %v", r.No, r.Holiday)
		}
	}
	// the second pause capitalises one more period on the balance carried
	carried := pos.FuturePrincipal().Add(first.Capitalised)
	if want := RoundMoney(carried.Mul(dec("0.02"))); !second.Capitalised.Equal(want) {
		t.Errorf("capitalised %s, want %s", second.Capitalised, want)
	}
	if err := onCadence(pos.cadence(), second.Rows); err != nil {
		t.Error(err)
	}
}

func TestHolidayRejects(t *testing.T) {
	plan := changePlans[0].plan
	s, err := BuildSchedule(plan)
	if err != nil {
		t.Fatal(err)
	}
	pos, _ := positionAfter(plan, s, 3, 0, false, decimal.Zero)
	tests := []struct {
		name    string
		periods int
		policy  HolidayPolicy
		field   string
	}{
		{"no period", 0, HolidayWaive, FieldPeriods},
		{"too many periods", 361, HolidayWaive, FieldPeriods},
		{"no policy", 1, "", FieldPolicy},
		{"unknown policy", 1, "forgive", FieldPolicy},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Holiday(pos, tc.periods, tc.policy)
			wantInputError(t, err, tc.field, "")
		})
	}
	offCadence := pos
	offCadence.Cadence.Start = pos.Cadence.Start.AddDays(1)
	if _, err := Holiday(offCadence, 1, HolidayWaive); err == nil || !strings.Contains(err.Error(), "not on the cadence") {
		t.Errorf("off the cadence: %v", err)
	}
}

// TestChangePositionRejects: an inconsistent position is the caller's data
// fault, reported by every change as a plain error (invalid plan terms keep
// the *InputError of Terms.Validate).
func TestChangePositionRejects(t *testing.T) {
	plan := changePlans[0].plan
	s, err := BuildSchedule(plan)
	if err != nil {
		t.Fatal(err)
	}
	ok, _ := positionAfter(plan, s, 3, 1, false, decimal.Zero)
	tests := []struct {
		name string
		edit func(p *Position)
	}{
		{"no date", func(p *Position) { p.AsOf = Date{} }},
		{"terms: unknown method", func(p *Position) { p.Terms.Method = "gift" }},
		{"terms: fee on an annuity", func(p *Position) { p.Terms.MonthlyFeeRate = dec("0.01") }},
		{"cadence of another frequency", func(p *Position) { p.Cadence.Frequency = Quarterly }},
		{"cadence without start", func(p *Position) { p.Cadence.Start = Date{} }},
		{"negative past due", func(p *Position) { p.PastDue.Interest = dec("-1") }},
		{"past due in mills", func(p *Position) { p.PastDue.Penalty = dec("0.001") }},
		{"future row before AsOf", func(p *Position) { p.Future[0].DueDate = p.AsOf.AddDays(-1) }},
		{"future rows out of order", func(p *Position) { p.Future[1].DueDate = p.Future[0].DueDate.AddDays(-1) }},
		{"future payment wrong", func(p *Position) { p.Future[2].Payment = p.Future[2].Payment.Add(dec("0.01")) }},
		{"holiday row charging", func(p *Position) { p.Future[0].Holiday = true }},
		{"paid ahead more than scheduled", func(p *Position) { p.PaidAhead = dec("100000") }},
		{"negative paid ahead", func(p *Position) { p.PaidAhead = dec("-1") }},
		{"first number 0", func(p *Position) { p.FirstNo = 0 }},
		{"nothing owed", func(p *Position) { p.Future, p.PastDue = nil, Amounts{} }},
	}
	runs := []struct {
		name string
		run  func(Position) (Change, error)
	}{
		{"lump sum", func(p Position) (Change, error) { return CancelLumpSum(p, SettlementTerms{}, false) }},
		{"fewer terms", func(p Position) (Change, error) { return CancelFewerTerms(p, SettlementTerms{}, 2) }},
		{"prepay part", func(p Position) (Change, error) { return PrepayPart(p, SettlementTerms{}, dec("10"), false) }},
		{"restructure", func(p Position) (Change, error) { return Restructure(p, RestructureTerms{Terms: 20}) }},
		{"holiday", func(p Position) (Change, error) { return Holiday(p, 1, HolidayWaive) }},
	}
	for _, tc := range tests {
		for _, r := range runs {
			t.Run(tc.name+"/"+r.name, func(t *testing.T) {
				p := ok
				p.Future = slices.Clone(ok.Future)
				tc.edit(&p)
				_, err := r.run(p)
				var ie *InputError
				if err == nil || (errors.As(err, &ie) && !strings.HasPrefix(tc.name, "terms:")) {
					t.Errorf("error %v, want a plain error", err)
				}
			})
		}
	}
}

// TestChangeCheck: Check notices every kind of broken change.
func TestChangeCheck(t *testing.T) {
	plan := changePlans[0].plan
	s, err := BuildSchedule(plan)
	if err != nil {
		t.Fatal(err)
	}
	pos, _ := positionAfter(plan, s, 3, 2, false, decimal.Zero)
	good, err := PrepayPart(pos, SettlementTerms{Policy: SettlePercentage, Percent: dec("0.01")}, dec("1000"), false)
	if err != nil {
		t.Fatal(err)
	}
	if err := good.Check(pos); err != nil {
		t.Fatal(err)
	}
	cent := dec("0.01")
	tests := []struct {
		name string
		edit func(c *Change)
	}{
		{"no rows", func(c *Change) { c.Rows = nil }},
		{"payment off", func(c *Change) { c.Rows[2].Payment = c.Rows[2].Payment.Add(cent) }},
		{"principal moved", func(c *Change) {
			c.Rows[1].Principal, c.Rows[1].Payment = c.Rows[1].Principal.Add(cent), c.Rows[1].Payment.Add(cent)
		}},
		{"balance off", func(c *Change) { c.Rows[3].Balance = c.Rows[3].Balance.Add(cent) }},
		{"negative interest", func(c *Change) {
			c.Rows[4].Interest, c.Rows[4].Payment = c.Rows[4].Interest.Neg(), c.Rows[4].Principal.Add(c.Rows[4].Fee).Sub(c.Rows[4].Interest)
		}},
		{"mills", func(c *Change) {
			c.Rows[4].Fee, c.Rows[4].Payment = c.Rows[4].Fee.Add(dec("0.001")), c.Rows[4].Payment.Add(dec("0.001"))
		}},
		{"numbering", func(c *Change) { c.Rows[5].No++ }},
		{"order", func(c *Change) { c.Rows[5].DueDate = c.Rows[4].DueDate.AddDays(-1) }},
		{"before AsOf", func(c *Change) { c.Rows[0].DueDate = pos.AsOf.AddDays(-1) }},
		{"holiday charging", func(c *Change) { c.Rows[3].Holiday = true }},
		{"penalty", func(c *Change) { c.Penalty = c.Penalty.Add(cent) }},
		{"total", func(c *Change) { c.TotalPayable = c.TotalPayable.Sub(cent) }},
		{"due now", func(c *Change) { c.DueNow = c.DueNow.Add(cent) }},
		{"instalment", func(c *Change) { c.Instalment = c.Rows[0].Payment }},
		{"capitalised", func(c *Change) { c.Capitalised = cent }},
		{"negative fee", func(c *Change) { c.Fee = cent.Neg() }},
		{"settlement total", func(c *Change) { q := *c.Settlement; q.Total = q.Total.Add(cent); c.Settlement = &q }},
		{"cadence", func(c *Change) { c.Cadence = Cadence{} }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := good
			c.Rows = slices.Clone(good.Rows)
			tc.edit(&c)
			if err := c.Check(pos); err == nil {
				t.Error("Check found nothing wrong")
			}
		})
	}
}

func TestWaiveOldestFirst(t *testing.T) {
	// out of order on purpose: no 4 is the oldest, no 6 and 7 share a date
	open := []OpenInstalment{
		{No: 7, DueDate: mustDate("2026-06-15"), Owed: owed("2.00", "0", "30.00", "500")},
		{No: 4, DueDate: mustDate("2026-03-15"), Owed: owed("1.50", "12.00", "40.00", "500")},
		{No: 6, DueDate: mustDate("2026-06-15"), Owed: owed("0", "12.00", "0", "500")},
		{No: 5, DueDate: mustDate("2026-04-15"), Owed: owed("0.75", "12.00", "35.50", "500")},
	}
	tests := []struct {
		name      string
		component Component
		amount    string
		want      string // no:amount ...
	}{
		{"part of the oldest", ComponentInterest, "10", "4:10.00"},
		{"oldest then next", ComponentInterest, "50", "4:40.00 5:10.00"},
		{"skips what owes none", ComponentInterest, "105.50", "4:40.00 5:35.50 7:30.00"},
		{"ties by number", ComponentFee, "30", "4:12.00 5:12.00 6:6.00"},
		{"all penalty", ComponentPenalty, "4.25", "4:1.50 5:0.75 7:2.00"},
		{"a cent", ComponentPenalty, "0.01", "4:0.01"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			parts, err := WaiveOldestFirst(open, tc.component, dec(tc.amount))
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			sum := decimal.Zero
			for _, p := range parts {
				got = append(got, fmt.Sprintf("%d:%s", p.No, FormatMoney(p.Amount)))
				sum = sum.Add(p.Amount)
			}
			if strings.Join(got, " ") != tc.want || !sum.Equal(dec(tc.amount)) {
				t.Errorf("parts %v (sum %s), want %s", got, sum, tc.want)
			}
		})
	}
	rejects := []struct {
		name      string
		component Component
		amount    string
		field     string
		text      string
	}{
		{"principal", ComponentPrincipal, "10", FieldComponent, "principal is never waived"},
		{"unknown component", "tip", "10", FieldComponent, "penalty, fee or interest"},
		{"zero", ComponentInterest, "0", FieldAmount, "greater than 0"},
		{"negative", ComponentInterest, "-5", FieldAmount, "greater than 0"},
		{"mills", ComponentInterest, "1.005", FieldAmount, "2 decimal places"},
		{"more than owed", ComponentInterest, "105.51", FieldAmount, "only 105.50 of interest is owed"},
		{"nothing owed", ComponentPenalty, "4.26", FieldAmount, "only 4.25 of penalty is owed"},
	}
	for _, tc := range rejects {
		t.Run(tc.name, func(t *testing.T) {
			_, err := WaiveOldestFirst(open, tc.component, dec(tc.amount))
			wantInputError(t, err, tc.field, tc.text)
		})
	}
	if _, err := WaiveOldestFirst([]OpenInstalment{{No: 1, Owed: owed("0", "0", "-1", "0")}}, ComponentInterest, dec("1")); err == nil {
		t.Error("negative amount owed accepted")
	}
}

// FuzzChange runs every change on plans from fuzzTerms after any number of
// paid and past-due instalments: each result keeps the invariants (Check)
// and every refusal is an *InputError.
func FuzzChange(f *testing.F) {
	f.Add(uint8(0), int64(1000000), uint16(12), uint16(2400), uint16(0), false, false, uint16(30), uint16(3), uint8(0), uint16(20000), true, uint8(3), false)
	f.Add(uint8(0), int64(1000000), uint16(12), uint16(2400), uint16(0), false, false, uint16(30), uint16(3), uint8(2), uint16(60000), false, uint8(0), true)
	f.Add(uint8(1), int64(1234567), uint16(23), uint16(1800), uint16(0), false, true, uint16(59), uint16(5), uint8(1), uint16(1), true, uint8(7), true)
	f.Add(uint8(2), int64(500000), uint16(6), uint16(1800), uint16(0), false, false, uint16(19), uint16(0), uint8(0), uint16(30000), true, uint8(1), false)
	f.Add(uint8(3), int64(600000), uint16(12), uint16(0), uint16(60), true, false, uint16(30), uint16(4), uint8(1), uint16(40000), true, uint8(2), true)
	f.Add(uint8(3), int64(600000), uint16(12), uint16(0), uint16(60), false, true, uint16(30), uint16(1), uint8(0), uint16(65535), false, uint8(9), false)
	f.Add(uint8(4), int64(120000), uint16(12), uint16(0), uint16(0), false, false, uint16(14), uint16(11), uint8(0), uint16(100), true, uint8(0), true)
	f.Add(uint8(0), int64(7), uint16(35), uint16(20000), uint16(0), false, false, uint16(400), uint16(2), uint8(3), uint16(5), true, uint8(200), false)
	f.Add(uint8(1), int64(99999999999), uint16(359), uint16(999), uint16(0), false, false, uint16(1000), uint16(300), uint8(5), uint16(777), true, uint8(250), true)
	// only a penalty left after every instalment fell past due
	f.Add(uint8(0), int64(-83), uint16(30), uint16(20029), uint16(100), false, true, uint16(429), uint16(28), uint8(70), uint16(5), false, uint8(224), true)
	f.Fuzz(func(t *testing.T, method uint8, cents int64, terms uint16, rateBP uint16, feeBP uint16, upfront bool, quarterly bool, startDay uint16, paid uint16, arrears uint8, share uint16, reduce bool, extra uint8, switchFreq bool) {
		plan := fuzzTerms(method, cents, terms, rateBP, feeBP, upfront, quarterly, startDay)
		s, err := BuildSchedule(plan)
		if err != nil {
			t.Fatal(err)
		}
		p := int(paid) % plan.Terms
		a := int(arrears) % (plan.Terms - p + 1)
		pos, _ := positionAfter(plan, s, p, a, false, decimal.Zero)
		if !pos.PastDue.Total().Add(sumRows(pos.Future, func(r Row) decimal.Decimal { return r.Payment })).IsPositive() {
			return // an earlier row already repaid everything
		}
		// run runs a change that must succeed or be refused on one of the
		// fields named.
		run := func(name string, do func(Position) (Change, error), fields ...string) {
			t.Helper()
			c, err := do(pos)
			var ie *InputError
			if err != nil {
				if !errors.As(err, &ie) || !slices.Contains(fields, ie.Field) {
					t.Fatalf("%s on %+v after %d paid, %d past due: %v", name, plan, p, a, err)
				}
				return
			}
			if err := c.Check(pos); err != nil {
				t.Fatalf("%s on %+v after %d paid, %d past due: %v", name, plan, p, a, err)
			}
		}
		left := len(payableRows(pos.Future))
		run("lump sum", func(p Position) (Change, error) { return CancelLumpSum(p, SettlementTerms{}, reduce) })
		run("fewer terms", func(p Position) (Change, error) {
			return CancelFewerTerms(p, SettlementTerms{Policy: SettleAllRemaining}, 1+int(extra)%max(1, left-1))
		}, fieldIf(left < 2, FieldTerms))
		remaining := pos.FuturePrincipal()
		if remaining.GreaterThan(dec("0.01")) {
			amount := decimal.Max(dec("0.01"), remaining.Sub(dec("0.01")).Mul(decimal.NewFromInt(int64(share))).Div(decimal.NewFromInt(65535)).RoundDown(2))
			run("prepay part", func(p Position) (Change, error) {
				return PrepayPart(p, SettlementTerms{Policy: SettleAllRemaining}, amount, reduce)
			})
		}
		r := RestructureTerms{Terms: left + 1 + int(extra)%24}
		if switchFreq {
			r = RestructureTerms{Frequency: Monthly, Terms: 1 + int(extra)%24}
			if pos.cadence().Frequency == Monthly {
				r.Frequency = Quarterly
			}
		}
		// refused: more than MaxTerms, only a penalty left, or past MaxPrincipal
		// with the arrears capitalised
		run("restructure", func(p Position) (Change, error) { return Restructure(p, r) }, FieldTerms, FieldPrincipal)
		if left < 60 {
			c, err := Restructure(pos, r)
			if err == nil {
				// asking for the instalment of that plan gives it or a shorter one
				m := RestructureTerms{MaxInstalment: c.Instalment, Frequency: r.Frequency, MaxTerms: r.Terms}
				run("restructure by instalment", func(p Position) (Change, error) { return Restructure(p, m) })
			}
		}
		if a == 0 {
			policy := HolidayWaive
			if reduce {
				policy = HolidayCapitalise
			}
			run("holiday", func(p Position) (Change, error) { return Holiday(p, 1+int(extra)%6, policy) }, fieldIf(!pos.FuturePrincipal().IsPositive(), FieldPeriods))
		}
	})
}

// TestChangeOffCadence: when the next instalment is not on the cadence (a
// schedule moved by hand), re-amortised rows follow it month by month on its
// own day, and the Cadence of the change says so.
func TestChangeOffCadence(t *testing.T) {
	plan := changePlans[1].plan // from 2026-01-31
	s, err := BuildSchedule(plan)
	if err != nil {
		t.Fatal(err)
	}
	pos, _ := positionAfter(plan, s, 3, 0, false, decimal.Zero)
	pos.Cadence.Start = mustDate("2026-01-20") // the rows, from 2026-05-31, stay on month ends
	tests := []struct {
		name string
		run  func(Position) (Change, error)
		skip int // leading rows not on the cadence
		due  []string
	}{
		{"prepay part", func(p Position) (Change, error) { return PrepayPart(p, SettlementTerms{}, dec("1000"), false) }, 1, []string{"2026-05-31", "2026-06-30", "2026-07-31"}},
		{"restructure", func(p Position) (Change, error) { return Restructure(p, RestructureTerms{Terms: 12}) }, 0, []string{"2026-05-31", "2026-06-30", "2026-07-31"}},
		{"restructure quarterly", func(p Position) (Change, error) { return Restructure(p, RestructureTerms{Frequency: Quarterly}) }, 0, []string{"2026-05-31", "2026-08-31", "2026-11-30"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := checked(t, pos, tc.run)
			if err != nil {
				t.Fatal(err)
			}
			for i, want := range tc.due {
				if got := c.Rows[tc.skip+i].DueDate.String(); got != want {
					t.Errorf("row %d due %s, want %s", c.Rows[tc.skip+i].No, got, want)
				}
			}
			if err := onCadence(c.Cadence, c.Rows[tc.skip:]); err != nil {
				t.Error(err)
			}
		})
	}
}

// fieldIf returns field when cond holds, else "" (no field allowed).
func fieldIf(cond bool, field string) string {
	if cond {
		return field
	}
	return ""
}
