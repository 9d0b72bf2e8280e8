package calc

import (
	"fmt"

	"github.com/shopspring/decimal"
)

// ArrearsPlan splits what is past due into k parts added to the next k due
// dates: a negotiated arrears plan, k between 2 and MaxTerms.
//
// The arrears are the past-due principal, interest and fee. Each is split
// into k parts of round(component/k), half-up to cents (never more than is
// left of it), the last part taking the rest, so the parts sum exactly to
// the component: 100.00 over 3 is 33.33, 33.33 and 33.34; with arrears of a
// few cents some parts are zero. Nothing new is charged: no interest, no fee
// (Fee and Capitalised are zero). The past-due penalty is never split: it is
// carried as Penalty, owed with Rows[0]. A penalty alone is paid, not
// split: with nothing but a penalty past due the plan is refused.
//
// The Future rows are kept in order. Holiday rows stay as they are and take
// no part (nothing is charged on a holiday row); every other row, from the
// first, takes the next part on its principal, interest and fee until the k
// parts are placed, and the rows after that are unchanged. When fewer than k
// rows can take a part, the remaining parts are new rows on the plan's
// cadence, on its due dates strictly after the last Future row (with no
// Future rows, strictly after AsOf), so month ends stay month ends. A part
// on a row due on AsOf is due now (DueNow). The Cadence is the plan's and
// Method and rates are the plan's (as in PrepayPart for fees).
//
// k outside 2..MaxTerms, or nothing but a penalty past due, is refused with
// an *InputError on FieldInstalments; an inconsistent position with a plain
// error.
func ArrearsPlan(pos Position, k int) (Change, error) {
	c, err := arrearsPlan(pos, k)
	if err != nil {
		return Change{}, fmt.Errorf("arrears plan of %d instalments on %s: %w", k, pos.AsOf, err)
	}
	return c, nil
}

// arrearsPlan is ArrearsPlan without the error context.
func arrearsPlan(pos Position, k int) (Change, error) {
	if err := pos.validate(); err != nil {
		return Change{}, err
	}
	if k < 2 || k > MaxTerms {
		return Change{}, &InputError{Field: FieldInstalments, Value: fmt.Sprint(k), Reason: fmt.Sprintf("must be between 2 and %d; to clear the arrears at once pay them", MaxTerms)}
	}
	past := pos.pastDue()
	if arrears := past.Principal.Add(past.Interest).Add(past.Fee); !arrears.IsPositive() {
		reason := "nothing is past due: the plan is up to date"
		if past.Penalty.IsPositive() {
			reason = fmt.Sprintf("nothing is past due but a penalty of %s, which is paid, not split", FormatMoney(past.Penalty))
		}
		return Change{}, &InputError{Field: FieldInstalments, Value: fmt.Sprint(k), Reason: reason}
	}
	principal := splitCents(past.Principal, k)
	interest := splitCents(past.Interest, k)
	fee := splitCents(past.Fee, k)
	rows := make([]Row, 0, len(pos.Future)+k)
	placed := 0
	for _, r := range pos.Future {
		if !r.Holiday && placed < k {
			r.Principal = r.Principal.Add(principal[placed])
			r.Interest = r.Interest.Add(interest[placed])
			r.Fee = r.Fee.Add(fee[placed])
			r.Payment = r.Principal.Add(r.Interest).Add(r.Fee)
			placed++
		}
		rows = append(rows, r)
	}
	cad := pos.cadence()
	if placed < k {
		after := pos.AsOf
		if n := len(pos.Future); n > 0 {
			after = pos.Future[n-1].DueDate
		}
		for j := firstDueAfter(cad, after); placed < k; j, placed = j+1, placed+1 {
			rows = append(rows, newRow(cad.Due(j), principal[placed], interest[placed], fee[placed]))
		}
	}
	c := Change{Kind: ChangeArrearsPlan, Rows: rows, Fee: decimal.Zero, Capitalised: decimal.Zero}
	return pos.finish(c, pos.newTerms(pos.plan().Frequency), cad)
}

// splitCents splits amount, in cents and non-negative, into k >= 1 parts of
// round(amount/k), each at most what is left, the last taking the rest.
func splitCents(amount decimal.Decimal, k int) []decimal.Decimal {
	level := divRoundCents(amount, decimal.NewFromInt(int64(k)))
	parts := make([]decimal.Decimal, k)
	rest := amount
	for i := range parts {
		part := decimal.Min(level, rest)
		if i == k-1 {
			part = rest
		}
		parts[i] = part
		rest = rest.Sub(part)
	}
	return parts
}

// firstDueAfter returns the smallest j >= 1 with cad.Due(j) after d.
func firstDueAfter(cad Cadence, d Date) int {
	m := cad.frequency().MonthsPerPeriod()
	months := (d.Year()-cad.Start.Year())*12 + int(d.Month()) - int(cad.Start.Month())
	// Due(j) falls in the month months - m or earlier for this j, so before
	// d: the loop takes a few steps at most.
	j := max(1, months/m-1)
	for !cad.Due(j).After(d) {
		j++
	}
	return j
}
