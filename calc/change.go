package calc

import (
	"cmp"
	"errors"
	"fmt"
	"slices"

	"github.com/shopspring/decimal"
)

// Input field names of the customer requests on an active plan, carried by
// *InputError (FieldTerms and FieldFrequency name the new number of terms and
// the new frequency).
const (
	FieldAmount        = "amount"
	FieldPeriods       = "periods"
	FieldPolicy        = "policy"
	FieldMaxInstalment = "max_instalment"
	FieldMaxTerms      = "max_terms"
	FieldComponent     = "component"
	FieldInstalments   = "instalments"
)

// ChangeKind names the customer request a Change results from.
type ChangeKind string

// The kinds of change.
const (
	// ChangeCancelLumpSum cancels the instalments: everything in one payment.
	ChangeCancelLumpSum ChangeKind = "cancel-lump-sum"
	// ChangeCancelFewerTerms cancels the instalments: the settlement amount
	// over fewer instalments, with no further interest.
	ChangeCancelFewerTerms ChangeKind = "cancel-fewer-terms"
	// ChangePrepayFull repays everything early, now.
	ChangePrepayFull ChangeKind = "prepay-full"
	// ChangePrepayPart repays part of the principal early, now, and
	// re-amortises the rest.
	ChangePrepayPart ChangeKind = "prepay-part"
	// ChangeRestructure spreads what is owed over a longer plan or a new
	// frequency.
	ChangeRestructure ChangeKind = "restructure"
	// ChangeHoliday pauses the next instalments.
	ChangeHoliday ChangeKind = "holiday"
	// ChangeArrearsPlan spreads what is past due over the next instalments.
	ChangeArrearsPlan ChangeKind = "arrears-plan"
)

// Position is where an active plan stands on AsOf, the input of every
// change. Its amounts must be non-negative with at most two decimals.
type Position struct {
	// Terms gives the Method, AnnualRate, MonthlyFeeRate, FeeUpfront and
	// Frequency of the plan; its Principal, Terms and Start are ignored.
	Terms Terms
	// Cadence of the current schedule's due dates; its frequency must be the
	// plan's.
	Cadence Cadence
	// AsOf is the date of the request.
	AsOf Date
	// PastDue is what the instalments due before AsOf still owe, by
	// component.
	PastDue Amounts
	// Future are the current schedule's instalments due on or after AsOf,
	// oldest first, as scheduled: full amounts, holiday rows included (with
	// Holiday set and zero amounts).
	Future []Row
	// PaidAhead is money already paid on Future rows. The store re-applies
	// it to the new schedule (oldest row first; penalty, fee, interest,
	// principal), so every figure of a Change is computed on Future as
	// scheduled and only DueNow is reduced by it.
	PaidAhead decimal.Decimal
	// FirstNo numbers the first row of the new schedule, >= 1.
	FirstNo int
}

// FuturePrincipal returns the principal of the Future rows as scheduled.
func (p Position) FuturePrincipal() decimal.Decimal {
	return sumRows(p.Future, func(r Row) decimal.Decimal { return r.Principal })
}

// Change is what a customer request does to an active plan: the schedule
// that replaces the Future rows and the figures to quote.
type Change struct {
	// Kind is the request the change results from.
	Kind ChangeKind
	// Rows is the new schedule, numbered from Position.FirstNo, in due-date
	// order, none due before Position.AsOf. Balance is the principal still
	// owed after each row and ends at 0.00.
	Rows []Row
	// Penalty is the penalty carried (Position.PastDue.Penalty), owed with
	// Rows[0]; it is not part of any row.
	Penalty decimal.Decimal
	// Settlement itemises the settlement (cancellation and prepayment, nil
	// otherwise).
	Settlement *SettlementQuote
	// Fee is the charge of the change: for a cancellation or full
	// prepayment what is charged beyond the principal and the arrears, for a
	// partial prepayment the early repayment charge, zero otherwise.
	Fee decimal.Decimal
	// Capitalised is what is added to the principal: the past-due interest
	// and fee of a restructure, the interest of a capitalised holiday.
	Capitalised decimal.Decimal
	// DueNow is collected at confirmation: the payments of the rows due on
	// Position.AsOf plus Penalty, less Position.PaidAhead (not below zero);
	// zero when no row is due on AsOf.
	DueNow decimal.Decimal
	// Cadence gives the due dates of the new schedule's regular rows.
	Cadence Cadence
	// Instalment is the new regular instalment: the largest payment among
	// the rows that are neither holiday rows nor the settlement row of a
	// partial prepayment (Rows[0]).
	Instalment decimal.Decimal
	// TotalPayable is the sum of the row payments plus Penalty.
	TotalPayable decimal.Decimal
	// APRNominal and APREffective are the annualised rates of the new
	// schedule, in percent with 4 decimals: the IRR of the principal of Rows
	// received one period before the first row against the row payments
	// (penalty excluded); zero when the schedule charges nothing.
	APRNominal, APREffective decimal.Decimal
	// Method, AnnualRate and MonthlyFeeRate are the terms of the new rows (a
	// fee charged up front is never charged again: MonthlyFeeRate is then 0).
	Method                     Method
	AnnualRate, MonthlyFeeRate decimal.Decimal
}

// RestructureTerms is what a customer asks of a restructure. Give Terms, or
// MaxInstalment, or only a new Frequency.
type RestructureTerms struct {
	// Terms is the new number of instalments; 0 to derive it. With the
	// plan's frequency it must exceed the instalments left.
	Terms int
	// MaxInstalment asks for the fewest instalments whose regular instalment
	// (the largest payment) is at most this; zero when not given. With Terms
	// it is a limit the result must respect.
	MaxInstalment decimal.Decimal
	// Frequency is the new frequency; empty keeps the plan's.
	Frequency Frequency
	// MaxTerms is the product's largest number of instalments, 0..MaxTerms;
	// 0 means MaxTerms.
	MaxTerms int
}

// WaivedPart is the part of a waiver applied to one instalment.
type WaivedPart struct {
	// No is the instalment number.
	No int
	// Amount is waived from the instalment's component.
	Amount decimal.Decimal
}

// CancelLumpSum cancels the instalments in one payment: the settlement
// quote of the position (QuoteSettlement on the past-due amounts and the
// Future rows) as a single row due on AsOf or, atNextDue, on the next
// instalment's due date (AsOf when none is left). The row carries the
// quote's principal, interest and fee plus its charge; Penalty is the
// quote's penalty, so TotalPayable is the quote's Total. The cadence and the
// plan's terms are unchanged.
func CancelLumpSum(pos Position, terms SettlementTerms, atNextDue bool) (Change, error) {
	c, err := lumpSum(pos, terms, atNextDue, ChangeCancelLumpSum)
	if err != nil {
		return Change{}, fmt.Errorf("cancel in one lump sum on %s (at next due %v): %w", pos.AsOf, atNextDue, err)
	}
	return c, nil
}

// PrepayFull repays everything now: CancelLumpSum due on AsOf, with Kind
// ChangePrepayFull.
func PrepayFull(pos Position, terms SettlementTerms) (Change, error) {
	c, err := lumpSum(pos, terms, false, ChangePrepayFull)
	if err != nil {
		return Change{}, fmt.Errorf("prepay in full on %s: %w", pos.AsOf, err)
	}
	return c, nil
}

// lumpSum is CancelLumpSum with the kind of change.
func lumpSum(pos Position, terms SettlementTerms, atNextDue bool, kind ChangeKind) (Change, error) {
	if err := pos.validate(); err != nil {
		return Change{}, err
	}
	q, err := pos.quote(terms)
	if err != nil {
		return Change{}, err
	}
	due := pos.AsOf
	if next := pos.payable(); atNextDue && len(next) > 0 {
		due = next[0].DueDate
	}
	row := newRow(due, q.Principal, q.Interest, q.Fee.Add(q.Charge))
	c := Change{Kind: kind, Rows: []Row{row}, Settlement: &q, Fee: pos.cancellationFee(q), Capitalised: decimal.Zero}
	return pos.finish(c, pos.plan(), pos.cadence())
}

// CancelFewerTerms cancels the instalments and spreads the settlement quote
// over n instalments, 1 <= n < the Future instalments left (holiday rows
// not counted). The quote's principal is split as equal principal
// (round(P/n), the last row the rest) with no further interest, due on the
// due dates of the next n instalments; the first row also carries the
// quote's interest, fee and charge. TotalPayable is the quote's Total.
func CancelFewerTerms(pos Position, terms SettlementTerms, n int) (Change, error) {
	c, err := cancelFewerTerms(pos, terms, n)
	if err != nil {
		return Change{}, fmt.Errorf("cancel over %d terms on %s: %w", n, pos.AsOf, err)
	}
	return c, nil
}

// cancelFewerTerms is CancelFewerTerms without the error context.
func cancelFewerTerms(pos Position, terms SettlementTerms, n int) (Change, error) {
	if err := pos.validate(); err != nil {
		return Change{}, err
	}
	left := pos.payable()
	if n < 1 || n >= len(left) {
		return Change{}, &InputError{Field: FieldTerms, Value: fmt.Sprint(n), Reason: fmt.Sprintf("must be at least 1 and fewer than the %d instalments left; to repay everything at once cancel in one lump sum", len(left))}
	}
	q, err := pos.quote(terms)
	if err != nil {
		return Change{}, err
	}
	level := divRoundCents(q.Principal, decimal.NewFromInt(int64(n)))
	rest := q.Principal
	rows := make([]Row, n)
	for i := range rows {
		principal := decimal.Min(level, rest)
		if i == n-1 {
			principal = rest
		}
		rest = rest.Sub(principal)
		interest, fee := decimal.Zero, decimal.Zero
		if i == 0 {
			interest, fee = q.Interest, q.Fee.Add(q.Charge)
		}
		rows[i] = newRow(left[i].DueDate, principal, interest, fee)
	}
	c := Change{Kind: ChangeCancelFewerTerms, Rows: rows, Settlement: &q, Fee: pos.cancellationFee(q), Capitalised: decimal.Zero}
	return pos.finish(c, pos.plan(), pos.cadence())
}

// PrepayPart repays amount of the principal early, 0 < amount < the Future
// principal. Rows[0] is the settlement row, due on AsOf: the past-due
// principal plus amount, the past-due interest, and the past-due fee plus
// the charge; Penalty is the past-due penalty. The remaining principal is
// re-amortised with the plan's method and rates (a fee plan's fee on the new
// balance, and no fee again when it was charged up front) from the next
// instalment's due date along the plan's cadence, over as many instalments
// as are left or, reduceTerm, over the fewest whose largest payment is at
// most the current instalment (the largest Future payment; as many as are
// left when none is). The charge, Fee, is by policy: current-period none,
// percentage round(Percent x amount), all-remaining the scheduled Future
// interest and fee less those of the new rows (not below zero), so the
// customer pays the interest and fees agreed. Settlement itemises the
// settlement row; its RemainingPrincipal is amount.
func PrepayPart(pos Position, terms SettlementTerms, amount decimal.Decimal, reduceTerm bool) (Change, error) {
	c, err := prepayPart(pos, terms, amount, reduceTerm)
	if err != nil {
		return Change{}, fmt.Errorf("prepay %s of the principal on %s (reduce term %v): %w", amount, pos.AsOf, reduceTerm, err)
	}
	return c, nil
}

// prepayPart is PrepayPart without the error context.
func prepayPart(pos Position, terms SettlementTerms, amount decimal.Decimal, reduceTerm bool) (Change, error) {
	if err := pos.validate(); err != nil {
		return Change{}, err
	}
	policy, err := settlementPolicy(terms)
	if err != nil {
		return Change{}, err
	}
	remaining := pos.FuturePrincipal()
	switch {
	case !amount.IsPositive():
		return Change{}, &InputError{Field: FieldAmount, Value: amount.String(), Reason: "must be greater than 0"}
	case !isCents(amount):
		return Change{}, &InputError{Field: FieldAmount, Value: amount.String(), Reason: "must have at most 2 decimal places"}
	case !amount.LessThan(remaining):
		return Change{}, &InputError{Field: FieldAmount, Value: amount.String(), Reason: fmt.Sprintf("must be less than the remaining principal %s; to repay everything leave the amount out", FormatMoney(remaining))}
	}
	left := pos.payable() // not empty: the remaining principal is positive
	t := pos.newTerms(pos.plan().Frequency)
	cad, j := pos.placement(left[0].DueDate, t.Frequency)
	balance := remaining.Sub(amount)
	n := len(left)
	if reduceTerm {
		current := maxPayment(left)
		for k := 1; k < n; k++ {
			rows, err := amortiseOn(t, balance, k, cad, j)
			if err != nil {
				return Change{}, err
			}
			if !maxPayment(rows).GreaterThan(current) {
				n = k
				break
			}
		}
	}
	rows, err := amortiseOn(t, balance, n, cad, j)
	if err != nil {
		return Change{}, err
	}
	charge := decimal.Zero
	switch policy {
	case SettlePercentage:
		charge = RoundMoney(terms.Percent.Mul(amount))
	case SettleAllRemaining:
		charge = decimal.Max(decimal.Zero, cost(pos.Future).Sub(cost(rows)))
	}
	past := pos.pastDue()
	settle := newRow(pos.AsOf, past.Principal.Add(amount), past.Interest, past.Fee.Add(charge))
	q := SettlementQuote{
		Policy: policy, AsOf: pos.AsOf,
		Principal: settle.Principal, Interest: settle.Interest, Fee: past.Fee, Penalty: past.Penalty, Charge: charge,
		Total:   settle.Payment.Add(past.Penalty),
		PastDue: past, RemainingPrincipal: amount,
	}
	c := Change{Kind: ChangePrepayPart, Rows: append([]Row{settle}, rows...), Settlement: &q, Fee: charge, Capitalised: decimal.Zero}
	return pos.finish(c, t, cad)
}

// Restructure spreads what is owed over a new plan: the balance B = past-due
// principal, interest and fee + the Future principal (the past-due interest
// and fee are Capitalised; the past-due penalty is carried as Penalty, never
// capitalised) is re-amortised with the plan's method and rates (as in
// PrepayPart for fees) at r.Frequency (empty: the plan's).
//
// The first row is due on the next instalment's due date (none left: AsOf
// plus one new period). With the plan's frequency the rows follow the plan's
// cadence; with another the new Cadence passes through the first due date
// on the day of the month of the plan's cadence, so month ends stay month
// ends.
//
// The number of instalments is r.Terms (with the plan's frequency more than
// are left, and at most r.MaxTerms); else the fewest, from one more than are
// left (any, with another frequency) to r.MaxTerms, whose largest payment
// is at most r.MaxInstalment; else, for a new frequency only, as many new
// periods as cover the time left, rounded up.
func Restructure(pos Position, r RestructureTerms) (Change, error) {
	c, err := restructure(pos, r)
	if err != nil {
		return Change{}, fmt.Errorf("restructure on %s (terms %d, instalment at most %s, frequency %q): %w", pos.AsOf, r.Terms, r.MaxInstalment, r.Frequency, err)
	}
	return c, nil
}

// restructure is Restructure without the error context.
func restructure(pos Position, r RestructureTerms) (Change, error) {
	if err := pos.validate(); err != nil {
		return Change{}, err
	}
	plan := pos.plan()
	f := cmp.Or(r.Frequency, plan.Frequency)
	if err := f.Validate(); err != nil {
		return Change{}, err
	}
	maxTerms := cmp.Or(r.MaxTerms, MaxTerms)
	if maxTerms < 1 || maxTerms > MaxTerms {
		return Change{}, &InputError{Field: FieldMaxTerms, Value: fmt.Sprint(r.MaxTerms), Reason: fmt.Sprintf("must be between 1 and %d, or 0 for %d", MaxTerms, MaxTerms)}
	}
	if r.Terms < 0 {
		return Change{}, &InputError{Field: FieldTerms, Value: fmt.Sprint(r.Terms), Reason: "must not be negative"}
	}
	if r.MaxInstalment.IsNegative() || !isCents(r.MaxInstalment) {
		return Change{}, &InputError{Field: FieldMaxInstalment, Value: r.MaxInstalment.String(), Reason: "must be non-negative with at most 2 decimal places"}
	}
	past := pos.pastDue()
	capitalised := past.Interest.Add(past.Fee)
	balance := past.Principal.Add(capitalised).Add(pos.FuturePrincipal())
	if !balance.IsPositive() {
		return Change{}, &InputError{Field: FieldTerms, Value: fmt.Sprint(r.Terms), Reason: fmt.Sprintf("nothing to restructure: only a penalty of %s is owed; pay it instead", FormatMoney(past.Penalty))}
	}
	left := pos.payable()
	same := f == plan.Frequency
	t := pos.newTerms(f)
	var cad Cadence
	var j int
	if len(left) > 0 {
		cad, j = pos.placement(left[0].DueDate, f)
	} else {
		cad, j = cadenceThrough(pos.AsOf, f.MonthsPerPeriod(), f)
	}
	amortise := func(n int) ([]Row, error) { return amortiseOn(t, balance, n, cad, j) }
	from := 1
	if same {
		from = len(left) + 1
	}
	var n int
	switch {
	case r.Terms > 0:
		if r.Terms > maxTerms {
			return Change{}, &InputError{Field: FieldTerms, Value: fmt.Sprint(r.Terms), Reason: fmt.Sprintf("must be at most %d", maxTerms)}
		}
		if r.Terms < from {
			return Change{}, &InputError{Field: FieldTerms, Value: fmt.Sprint(r.Terms), Reason: fmt.Sprintf("must be more than the %d instalments left: a restructure lengthens the plan; to shorten it prepay or cancel to fewer terms", len(left))}
		}
		n = r.Terms
	case r.MaxInstalment.IsPositive():
		if from > maxTerms {
			return Change{}, &InputError{Field: FieldMaxInstalment, Value: r.MaxInstalment.String(), Reason: fmt.Sprintf("cannot be met: the plan already has %d instalments left and at most %d are allowed", len(left), maxTerms)}
		}
		var lowest decimal.Decimal
		for k := from; k <= maxTerms && n == 0; k++ {
			rows, err := amortise(k)
			if err != nil {
				return Change{}, err
			}
			if lowest = maxPayment(rows); !lowest.GreaterThan(r.MaxInstalment) {
				n = k
			}
		}
		if n == 0 {
			return Change{}, &InputError{Field: FieldMaxInstalment, Value: r.MaxInstalment.String(), Reason: fmt.Sprintf("is below the lowest instalment reachable over %d terms, %s", maxTerms, FormatMoney(lowest))}
		}
	case !same:
		months := len(left) * plan.Frequency.MonthsPerPeriod()
		per := f.MonthsPerPeriod()
		n = max(1, (months+per-1)/per)
		if n > maxTerms {
			return Change{}, &InputError{Field: FieldFrequency, Value: string(f), Reason: fmt.Sprintf("would need %d instalments to cover the %d months left, more than the %d allowed", n, months, maxTerms)}
		}
	default:
		return Change{}, &InputError{Field: FieldTerms, Value: "0", Reason: "give the new number of terms, the highest instalment or a new frequency"}
	}
	rows, err := amortise(n)
	if err != nil {
		return Change{}, err
	}
	if highest := maxPayment(rows); r.MaxInstalment.IsPositive() && highest.GreaterThan(r.MaxInstalment) {
		return Change{}, &InputError{Field: FieldMaxInstalment, Value: r.MaxInstalment.String(), Reason: fmt.Sprintf("is below the instalment over %d terms, %s", n, FormatMoney(highest))}
	}
	c := Change{Kind: ChangeRestructure, Rows: rows, Fee: decimal.Zero, Capitalised: capitalised}
	return pos.finish(c, t, cad)
}

// Holiday pauses the next periods instalments (1..MaxTerms) by ApplyHoliday
// on the plan's cadence: holiday rows on the next periods due dates, then as
// many instalments as are left, re-amortised on the Future principal (plus
// the interest of the pause when policy capitalises it, Capitalised) with
// the plan's method and rates (as in PrepayPart for fees). Holiday rows
// already at the head of Future are kept and the new pause follows them.
// The plan must be up to date: nothing past due. The cadence is unchanged.
func Holiday(pos Position, periods int, policy HolidayPolicy) (Change, error) {
	c, err := holiday(pos, periods, policy)
	if err != nil {
		return Change{}, fmt.Errorf("payment holiday of %d periods (%s) on %s: %w", periods, policy, pos.AsOf, err)
	}
	return c, nil
}

// holiday is Holiday without the error context.
func holiday(pos Position, periods int, policy HolidayPolicy) (Change, error) {
	if err := pos.validate(); err != nil {
		return Change{}, err
	}
	if periods < 1 || periods > MaxTerms {
		return Change{}, &InputError{Field: FieldPeriods, Value: fmt.Sprint(periods), Reason: fmt.Sprintf("must be between 1 and %d", MaxTerms)}
	}
	if policy != HolidayCapitalise && policy != HolidayWaive {
		return Change{}, &InputError{Field: FieldPolicy, Value: string(policy), Reason: fmt.Sprintf("must be %s or %s", HolidayCapitalise, HolidayWaive)}
	}
	if past := pos.PastDue.Total(); past.IsPositive() {
		return Change{}, &InputError{Field: FieldPeriods, Value: fmt.Sprint(periods), Reason: fmt.Sprintf("a payment holiday needs the plan up to date: clear the %s past due first", FormatMoney(past))}
	}
	left := pos.payable()
	balance := pos.FuturePrincipal()
	if len(left) == 0 || !balance.IsPositive() {
		return Change{}, &InputError{Field: FieldPeriods, Value: fmt.Sprint(periods), Reason: "no instalment with principal is left to pause"}
	}
	i0, ok := pos.Cadence.IndexOf(left[0].DueDate)
	if !ok {
		return Change{}, fmt.Errorf("the next instalment, due %s, is not on the cadence of %s from %s", left[0].DueDate, pos.cadence().Frequency, pos.Cadence.Start)
	}
	t := pos.newTerms(pos.plan().Frequency)
	// The plan handed to ApplyHoliday starts on the cadence's day as close
	// before the next instalment as it can, so that it never exceeds
	// MaxTerms however long the plan has run.
	through, j := cadenceThrough(pos.Cadence.Start, i0*t.Frequency.MonthsPerPeriod(), t.Frequency)
	t.Principal, t.Terms, t.Start = balance, j-1+len(left), through.Start
	res, err := ApplyHoliday(HolidayRequest{Plan: t, Paid: j - 1, Balance: balance, Periods: periods, Policy: policy})
	if err != nil {
		return Change{}, err
	}
	var rows []Row
	for _, r := range pos.Future {
		if !r.Holiday {
			break
		}
		rows = append(rows, r)
	}
	rows = append(rows, res.Schedule.Rows...)
	c := Change{Kind: ChangeHoliday, Rows: rows, Fee: decimal.Zero, Capitalised: res.Capitalised}
	return pos.finish(c, t, pos.cadence())
}

// WaiveOldestFirst spreads a waiver of amount of one component (penalty,
// fee or interest; principal is never waived) over the open instalments
// owing it, oldest due date first (ties by number). It refuses more than is
// owed. Only instalments with a positive part are returned, oldest first.
func WaiveOldestFirst(open []OpenInstalment, component Component, amount decimal.Decimal) ([]WaivedPart, error) {
	parts, err := waiveOldestFirst(open, component, amount)
	if err != nil {
		return nil, fmt.Errorf("waive %s of %s over %d instalments: %w", amount, component, len(open), err)
	}
	return parts, nil
}

// waiveOldestFirst is WaiveOldestFirst without the error context.
func waiveOldestFirst(open []OpenInstalment, component Component, amount decimal.Decimal) ([]WaivedPart, error) {
	switch component {
	case ComponentPenalty, ComponentFee, ComponentInterest:
	case ComponentPrincipal:
		return nil, &InputError{Field: FieldComponent, Value: string(component), Reason: "principal is never waived: only penalty, fee or interest"}
	default:
		return nil, &InputError{Field: FieldComponent, Value: string(component), Reason: "must be penalty, fee or interest"}
	}
	if !amount.IsPositive() || !isCents(amount) {
		return nil, &InputError{Field: FieldAmount, Value: amount.String(), Reason: "must be greater than 0 with at most 2 decimal places"}
	}
	sorted := slices.Clone(open)
	slices.SortStableFunc(sorted, func(a, b OpenInstalment) int {
		return cmp.Or(a.DueDate.Compare(b.DueDate), cmp.Compare(a.No, b.No))
	})
	owed := decimal.Zero
	for _, o := range sorted {
		v := o.Owed.Get(component)
		if !validAmount(v) {
			return nil, fmt.Errorf("instalment %d owes %s %s; amounts owed must be non-negative with at most 2 decimals", o.No, component, v)
		}
		owed = owed.Add(v)
	}
	if amount.GreaterThan(owed) {
		return nil, &InputError{Field: FieldAmount, Value: amount.String(), Reason: fmt.Sprintf("only %s of %s is owed", FormatMoney(owed), component)}
	}
	var parts []WaivedPart
	rest := amount
	for _, o := range sorted {
		if !rest.IsPositive() {
			break
		}
		if take := decimal.Min(rest, o.Owed.Get(component)); take.IsPositive() {
			parts = append(parts, WaivedPart{No: o.No, Amount: take})
			rest = rest.Sub(take)
		}
	}
	return parts, nil
}

// Check reports the first invariant c breaks as the result of a request on
// pos: rows numbered from pos.FirstNo, in due-date order, none due before
// pos.AsOf; amounts non-negative in cents with Payment = Principal +
// Interest + Fee and nothing charged on a holiday row; Balance the principal
// still owed, ending at 0.00; the principal column summing to the past-due
// and Future principal plus Capitalised; Penalty the past-due penalty; and
// DueNow, Instalment, TotalPayable and the settlement total as documented
// on Change.
func (c Change) Check(pos Position) error {
	if len(c.Rows) == 0 {
		return errors.New("the new schedule has no rows")
	}
	if err := c.Cadence.validate(); err != nil {
		return err
	}
	total := sumRows(c.Rows, func(r Row) decimal.Decimal { return r.Principal })
	past := pos.pastDue()
	if want := past.Principal.Add(pos.FuturePrincipal()).Add(c.Capitalised); !total.Equal(want) {
		return fmt.Errorf("the principal column sums to %s, want past due %s + future %s + capitalised %s = %s", total, past.Principal, pos.FuturePrincipal(), c.Capitalised, want)
	}
	balance, prev := total, pos.AsOf
	for i, r := range c.Rows {
		if err := checkRow(r); err != nil {
			return err
		}
		if r.No != pos.FirstNo+i {
			return fmt.Errorf("row %d is numbered %d, want %d", i, r.No, pos.FirstNo+i)
		}
		if r.DueDate.Before(prev) {
			return fmt.Errorf("row %d is due %s, before %s", r.No, r.DueDate, prev)
		}
		prev = r.DueDate
		balance = balance.Sub(r.Principal)
		if !r.Balance.Equal(balance) {
			return fmt.Errorf("row %d: balance %s, want %s", r.No, r.Balance, balance)
		}
	}
	if last := c.Rows[len(c.Rows)-1]; !last.Balance.IsZero() {
		return fmt.Errorf("the last row %d leaves a balance of %s", last.No, last.Balance)
	}
	for _, v := range []struct {
		name string
		v    decimal.Decimal
	}{{"fee", c.Fee}, {"capitalised", c.Capitalised}, {"penalty", c.Penalty}, {"due now", c.DueNow}} {
		if !validAmount(v.v) {
			return fmt.Errorf("%s %s must be non-negative with at most 2 decimals", v.name, v.v)
		}
	}
	if !c.Penalty.Equal(past.Penalty) {
		return fmt.Errorf("penalty %s, want the past-due penalty %s", c.Penalty, past.Penalty)
	}
	checks := []struct {
		name      string
		got, want decimal.Decimal
	}{
		{"total payable", c.TotalPayable, c.totalPayable()},
		{"due now", c.DueNow, c.dueNow(pos)},
		{"instalment", c.Instalment, c.instalment()},
	}
	if q := c.Settlement; q != nil {
		want := c.TotalPayable
		if c.Kind == ChangePrepayPart {
			want = c.Rows[0].Payment.Add(c.Penalty)
		}
		checks = append(checks, struct {
			name      string
			got, want decimal.Decimal
		}{"settlement total", q.Total, want})
	}
	for _, ch := range checks {
		if !ch.got.Equal(ch.want) {
			return fmt.Errorf("%s %s, want %s", ch.name, ch.got, ch.want)
		}
	}
	return nil
}

// finish numbers c.Rows from pos.FirstNo, sets their balances, fills the
// figures every change derives the same way and checks the result.
func (pos Position) finish(c Change, t Terms, cad Cadence) (Change, error) {
	total := sumRows(c.Rows, func(r Row) decimal.Decimal { return r.Principal })
	balance := total
	for i := range c.Rows {
		c.Rows[i].No = pos.FirstNo + i
		balance = balance.Sub(c.Rows[i].Principal)
		c.Rows[i].Balance = balance
	}
	c.Penalty = pos.pastDue().Penalty
	c.Cadence = cad
	c.Method, c.AnnualRate, c.MonthlyFeeRate = t.Method, t.AnnualRate, t.MonthlyFeeRate
	c.DueNow = c.dueNow(pos)
	c.Instalment = c.instalment()
	c.TotalPayable = c.totalPayable()
	c.APRNominal, c.APREffective = decimal.Zero, decimal.Zero
	if total.IsPositive() {
		s, err := newSchedule(total, total, c.Rows, cad.frequency().PeriodsPerYear())
		if err != nil {
			return Change{}, err
		}
		c.APRNominal, c.APREffective = s.APRNominal, s.APREffective
	}
	if err := c.Check(pos); err != nil {
		return Change{}, fmt.Errorf("the new schedule breaks an invariant: %w", err)
	}
	return c, nil
}

// dueNow returns what is collected at confirmation: the payments due on
// pos.AsOf plus the penalty, less what was paid ahead.
func (c Change) dueNow(pos Position) decimal.Decimal {
	due, found := decimal.Zero, false
	for _, r := range c.Rows {
		if r.DueDate == pos.AsOf {
			due, found = due.Add(r.Payment), true
		}
	}
	if !found {
		return decimal.Zero
	}
	return decimal.Max(decimal.Zero, due.Add(c.Penalty).Sub(pos.PaidAhead))
}

// instalment returns the largest payment among the rows that are neither
// holiday rows nor the settlement row of a partial prepayment.
func (c Change) instalment() decimal.Decimal {
	rows := c.Rows
	if c.Kind == ChangePrepayPart && len(rows) > 1 {
		rows = rows[1:]
	}
	if len(rows) == 1 {
		return rows[0].Payment
	}
	return maxPayment(rows)
}

// totalPayable returns the row payments plus the penalty.
func (c Change) totalPayable() decimal.Decimal {
	return sumRows(c.Rows, func(r Row) decimal.Decimal { return r.Payment }).Add(c.Penalty)
}

// validate reports a position that is inconsistent (a fault of the caller's
// data, not of the customer's request): a missing date, invalid plan terms,
// a cadence of another frequency, amounts negative or not in cents, Future
// rows out of order or before AsOf, more paid ahead than scheduled, or
// nothing owed at all.
func (p Position) validate() error {
	if p.AsOf.IsZero() {
		return errors.New("position: the date is required")
	}
	t := p.plan()
	t.Principal, t.Terms, t.Start = decimal.NewFromInt(1), 1, p.AsOf
	if err := t.Validate(); err != nil {
		return fmt.Errorf("position: terms of the plan: %w", err)
	}
	if err := p.Cadence.validate(); err != nil {
		return fmt.Errorf("position: %w", err)
	}
	if f := p.Cadence.frequency(); f != t.Frequency {
		return fmt.Errorf("position: the cadence is %s but the plan is %s", f, t.Frequency)
	}
	for _, c := range Components {
		if v := p.PastDue.Get(c); !validAmount(v) {
			return fmt.Errorf("position: past-due %s %s must be non-negative with at most 2 decimals", c, v)
		}
	}
	prev := p.AsOf
	for _, r := range p.Future {
		if err := checkRow(r); err != nil {
			return fmt.Errorf("position: future %w", err)
		}
		if r.DueDate.Before(prev) {
			return fmt.Errorf("position: future row %d is due %s, before %s: future rows are due on or after %s, oldest first", r.No, r.DueDate, prev, p.AsOf)
		}
		prev = r.DueDate
	}
	scheduled := sumRows(p.Future, func(r Row) decimal.Decimal { return r.Payment })
	if !validAmount(p.PaidAhead) || p.PaidAhead.GreaterThan(scheduled) {
		return fmt.Errorf("position: paid ahead %s must be non-negative with at most 2 decimals and at most the %s scheduled", p.PaidAhead, scheduled)
	}
	if p.FirstNo < 1 {
		return fmt.Errorf("position: the first new row number must be at least 1, got %d", p.FirstNo)
	}
	if !p.PastDue.Total().Add(scheduled).IsPositive() {
		return fmt.Errorf("position: nothing is owed on %s", p.AsOf)
	}
	return nil
}

// plan returns the plan's terms with the defaults filled in.
func (p Position) plan() Terms { return p.Terms.normalised() }

// cadence returns the position's cadence with the defaults filled in.
func (p Position) cadence() Cadence {
	return Cadence{Start: p.Cadence.Start, Frequency: p.Cadence.frequency()}
}

// pastDue returns PastDue with every component set (a zero Decimal as 0).
func (p Position) pastDue() Amounts { return zeroAmounts().Add(p.PastDue) }

// payable returns the Future rows that are not holiday rows.
func (p Position) payable() []Row {
	rows := make([]Row, 0, len(p.Future))
	for _, r := range p.Future {
		if !r.Holiday {
			rows = append(rows, r)
		}
	}
	return rows
}

// quote returns the settlement quote of the position: the past-due amounts
// as one instalment due the day before AsOf, and the Future rows.
func (p Position) quote(terms SettlementTerms) (SettlementQuote, error) {
	open := OpenFromRows(p.Future)
	if p.PastDue.Total().IsPositive() {
		open = append([]OpenInstalment{{No: 0, DueDate: p.AsOf.AddDays(-1), Owed: p.pastDue()}}, open...)
	}
	return QuoteSettlement(open, p.AsOf, terms)
}

// cancellationFee returns what q charges beyond the principal and the
// arrears.
func (p Position) cancellationFee(q SettlementQuote) decimal.Decimal {
	past := p.pastDue()
	return q.Total.Sub(q.Principal).Sub(past.Interest).Sub(past.Fee).Sub(past.Penalty)
}

// newTerms returns the plan's terms for re-amortised rows of frequency f: a
// fee charged up front is not charged again.
func (p Position) newTerms(f Frequency) Terms {
	t := p.plan()
	if t.FeeUpfront {
		t.FeeUpfront, t.MonthlyFeeRate = false, decimal.Zero
	}
	t.Frequency = f
	return t
}

// placement returns the cadence of new rows of frequency f whose first row
// is due on first, and the index of that row: the plan's cadence when f is
// its frequency and first is on it; a cadence on the plan cadence's day of
// the month when only the frequency changes; otherwise a cadence on first's
// day.
func (p Position) placement(first Date, f Frequency) (Cadence, int) {
	old := p.cadence()
	i0, ok := old.IndexOf(first)
	switch {
	case ok && f == old.Frequency:
		return old, i0
	case ok:
		return cadenceThrough(old.Start, i0*old.Frequency.MonthsPerPeriod(), f)
	default:
		return cadenceThrough(first, 0, f)
	}
}

// amortiseOn amortises balance over n rows with the method and rates of t,
// the first due cad.Due(j), the next ones on the following due dates of
// cad.
func amortiseOn(t Terms, balance decimal.Decimal, n int, cad Cadence, j int) ([]Row, error) {
	t.Principal, t.Terms, t.Start, t.Frequency = balance, n, cad.Due(j), cad.frequency()
	if err := t.Validate(); err != nil {
		return nil, fmt.Errorf("re-amortise %s over %d terms from %s: %w", balance, n, t.Start, err)
	}
	return newAmortisation(t, balance, n, func(k int) Date { return cad.Due(j + k - 1) }).rows(), nil
}

// settlementPolicy validates terms as QuoteSettlement does and returns the
// policy, the default filled in.
func settlementPolicy(terms SettlementTerms) (SettlementPolicy, error) {
	policy := cmp.Or(terms.Policy, SettleCurrentPeriod)
	if _, err := ParseSettlementPolicy(string(policy)); err != nil {
		return "", err
	}
	if terms.Percent.IsNegative() || (policy != SettlePercentage && !terms.Percent.IsZero()) {
		return "", fmt.Errorf("settlement percent must be 0 or more and is only used by policy %s, got %s under %s", SettlePercentage, terms.Percent, policy)
	}
	return policy, nil
}

// newRow returns a row with its payment; No and Balance are set by finish.
func newRow(due Date, principal, interest, fee decimal.Decimal) Row {
	return Row{DueDate: due, Principal: principal, Interest: interest, Fee: fee, Payment: principal.Add(interest).Add(fee)}
}

// checkRow reports an amount of r that is negative or not in cents, a
// payment other than principal + interest + fee, or a holiday row that
// charges something.
func checkRow(r Row) error {
	for _, v := range []struct {
		name string
		v    decimal.Decimal
	}{{"principal", r.Principal}, {"interest", r.Interest}, {"fee", r.Fee}, {"payment", r.Payment}, {"balance", r.Balance}} {
		if !validAmount(v.v) {
			return fmt.Errorf("row %d: %s %s must be non-negative with at most 2 decimals", r.No, v.name, v.v)
		}
	}
	if !r.Payment.Equal(r.Principal.Add(r.Interest).Add(r.Fee)) {
		return fmt.Errorf("row %d: payment %s is not principal %s + interest %s + fee %s", r.No, r.Payment, r.Principal, r.Interest, r.Fee)
	}
	if r.Holiday && !r.Payment.IsZero() {
		return fmt.Errorf("row %d: a holiday row charges %s", r.No, r.Payment)
	}
	return nil
}

// validAmount reports whether v is a non-negative amount in cents.
func validAmount(v decimal.Decimal) bool { return !v.IsNegative() && isCents(v) }

// sumRows returns the sum of f over rows.
func sumRows(rows []Row, f func(Row) decimal.Decimal) decimal.Decimal {
	sum := decimal.Zero
	for _, r := range rows {
		sum = sum.Add(f(r))
	}
	return sum
}

// cost returns the interest and fee of rows.
func cost(rows []Row) decimal.Decimal {
	return sumRows(rows, func(r Row) decimal.Decimal { return r.Interest.Add(r.Fee) })
}

// maxPayment returns the largest payment of the rows that are not holiday
// rows (zero when there is none).
func maxPayment(rows []Row) decimal.Decimal {
	highest := decimal.Zero
	for _, r := range rows {
		if !r.Holiday {
			highest = decimal.Max(highest, r.Payment)
		}
	}
	return highest
}
