package collection

import (
	"cmp"
	"errors"
	"fmt"
	"slices"

	"github.com/shopspring/decimal"

	"github.com/fenqi/fenqi/calc"
)

// ErrInvalidInput is wrapped by the errors about instalments, amounts,
// dates or instants that cannot be used.
var ErrInvalidInput = errors.New("invalid collection input")

// Instalment is one instalment of the current schedule as the caller stores
// it: what it still owes and the penalty charged on it so far. The caller
// maps its store rows to it; Owed and AccruePenalty never change it.
//
// PenaltyAccrued is the penalty charged on the instalment through
// PenaltyThrough (paid or not; a penalty carried onto the row by a change
// with a zero PenaltyThrough), PenaltySettled the part of it paid or
// waived. New penalty accrues on the outstanding Principal for each day
// after PenaltyThrough, or after the due date when PenaltyThrough is zero
// or earlier; see AccruePenalty.
type Instalment struct {
	No             int             `json:"no"`
	DueDate        calc.Date       `json:"due_date"`
	Principal      decimal.Decimal `json:"principal"`
	Interest       decimal.Decimal `json:"interest"`
	Fee            decimal.Decimal `json:"fee"`
	PenaltyAccrued decimal.Decimal `json:"penalty_accrued"`
	PenaltySettled decimal.Decimal `json:"penalty_settled"`
	PenaltyThrough calc.Date       `json:"penalty_through,omitzero"`
	// Overdue is the store's mark: the instalment stayed unpaid beyond the
	// carry tolerance after the last debit inside grace. Owed also counts
	// an unmarked instalment overdue once grace is over (see Rules.Owed).
	Overdue bool `json:"overdue"`
}

// PenaltyAccrual is the penalty of one overdue instalment as of a date.
type PenaltyAccrual struct {
	// No is the instalment number.
	No int `json:"no"`
	// Total is the penalty charged on the instalment in all as of the date:
	// its PenaltyAccrued plus New.
	Total decimal.Decimal `json:"total"`
	// New is the penalty accrued after PenaltyThrough (or the due date).
	New decimal.Decimal `json:"new"`
	// Days is the number of days New is charged for.
	Days int `json:"days"`
}

// AccruePenalty returns the total penalty of each instalment marked
// Overdue as of asOf, in instalment order, computed when needed rather
// than day by day:
//
//	Total = PenaltyAccrued + rule.Interest(Principal, annualRate, days)
//
// where days counts the days from the later of the due date and
// PenaltyThrough to asOf (none when asOf is not after it). So penalty is
// charged per day past the due date, the days of grace included, but only
// on an instalment that is overdue: one paid within grace, or whose
// shortfall is carried, is charged nothing. The rule's rate cap
// (MaxAnnualRate) holds, interest is never compounded, and the result is
// rounded half-up to cents once per accrual.
//
// The function is pure, so it is idempotent, and Total never decreases as
// asOf moves on. Between two changes of an instalment's principal the
// caller need not store anything: computing from the same PenaltyAccrued
// and PenaltyThrough gives the same figure however often it is asked.
// When a payment is about to reduce the principal of an overdue
// instalment, store Total as PenaltyAccrued and the payment's date as
// PenaltyThrough first, so the days before it are charged on the
// principal they were overdue on.
func AccruePenalty(rows []Instalment, asOf calc.Date, annualRate decimal.Decimal, rule calc.PenaltyRule) ([]PenaltyAccrual, error) {
	fail := func(err error) ([]PenaltyAccrual, error) {
		return nil, fmt.Errorf("accrue penalty as of %s: %w", asOf, err)
	}
	if asOf.IsZero() {
		return fail(fmt.Errorf("%w: no date", ErrInvalidInput))
	}
	if _, err := rule.Interest(decimal.Zero, annualRate, 0); err != nil {
		return fail(err)
	}
	sorted, err := checkRows(rows)
	if err != nil {
		return fail(err)
	}
	var out []PenaltyAccrual
	for _, r := range sorted {
		if !r.Overdue {
			continue
		}
		if r.DueDate.After(asOf) {
			return fail(fmt.Errorf("%w: instalment %d is marked overdue but falls due on %s, after %s", ErrInvalidInput, r.No, r.DueDate, asOf))
		}
		from := r.DueDate
		if r.PenaltyThrough.After(from) {
			from = r.PenaltyThrough
		}
		days := max(asOf.DaysSince(from), 0)
		added, err := rule.Interest(r.Principal, annualRate, days)
		if err != nil {
			return fail(fmt.Errorf("instalment %d: %w", r.No, err))
		}
		out = append(out, PenaltyAccrual{No: r.No, Total: r.PenaltyAccrued.Add(added), New: added, Days: days})
	}
	return out, nil
}

// checkRows refuses unusable rows and returns a copy in instalment order.
func checkRows(rows []Instalment) ([]Instalment, error) {
	sorted := slices.Clone(rows)
	slices.SortStableFunc(sorted, func(a, b Instalment) int { return cmp.Compare(a.No, b.No) })
	for i, r := range sorted {
		if i > 0 && sorted[i-1].No == r.No {
			return nil, fmt.Errorf("%w: instalment %d is given twice", ErrInvalidInput, r.No)
		}
		if r.DueDate.IsZero() {
			return nil, fmt.Errorf("%w: instalment %d has no due date", ErrInvalidInput, r.No)
		}
		for _, f := range []struct {
			name string
			v    decimal.Decimal
		}{
			{"principal", r.Principal}, {"interest", r.Interest}, {"fee", r.Fee},
			{"penalty accrued", r.PenaltyAccrued}, {"penalty settled", r.PenaltySettled},
		} {
			if f.v.IsNegative() || !f.v.Equal(f.v.Round(calc.MoneyPlaces)) {
				return nil, fmt.Errorf("%w: instalment %d %s %s: want cents, not negative", ErrInvalidInput, r.No, f.name, f.v)
			}
		}
		if r.PenaltySettled.GreaterThan(r.PenaltyAccrued) {
			return nil, fmt.Errorf("%w: instalment %d penalty settled %s exceeds the penalty accrued %s", ErrInvalidInput, r.No, r.PenaltySettled, r.PenaltyAccrued)
		}
	}
	return sorted, nil
}

// InstalmentOwed is what one instalment due by the breakdown's date owes.
type InstalmentOwed struct {
	No          int          `json:"no"`
	DueDate     calc.Date    `json:"due_date"`
	Overdue     bool         `json:"overdue"`
	DaysPastDue int          `json:"days_past_due"`
	Owed        calc.Amounts `json:"owed"`
}

// Breakdown is what a plan owes on a date, by component, with penalty
// accrued through that date.
type Breakdown struct {
	// AsOf is the date the figures are computed for.
	AsOf calc.Date `json:"as_of"`
	// Due is everything due by AsOf and unpaid: the overdue instalments and
	// those still in grace or carrying a shortfall. Messages state it.
	Due calc.Amounts `json:"due"`
	// Overdue is the arrears: the part of Due on overdue instalments.
	Overdue calc.Amounts `json:"overdue"`
	// Remaining is everything the given instalments owe, due or not: the
	// balance recorded at a write-off.
	Remaining calc.Amounts `json:"remaining"`
	// OldestDue is the due date of the oldest overdue instalment; zero when
	// none is overdue.
	OldestDue calc.Date `json:"oldest_due,omitzero"`
	// DaysPastDue counts the days from OldestDue to AsOf (0 when none is
	// overdue), and Bucket is its bucket (calc.Bucket).
	DaysPastDue int    `json:"days_past_due"`
	Bucket      string `json:"bucket"`
	// PayBy is the date messages ask the debtor to pay by.
	PayBy calc.Date `json:"pay_by"`
	// Instalments are the instalments due by AsOf, in order.
	Instalments []InstalmentOwed `json:"instalments"`
	// Penalties are the penalty accruals of the overdue instalments, to be
	// stored when a payment is allocated (see AccruePenalty).
	Penalties []PenaltyAccrual `json:"penalties"`
}

// Owed returns what the instalments rows owe as of asOf under a contract
// annual rate (a fraction; the base of penalty interest).
//
// An instalment is overdue when marked Overdue, or when asOf is more than
// GraceDays after its due date and its principal, interest and fee still
// owe more than CarryTolerance. Penalty accrues on overdue instalments only
// (see AccruePenalty); a penalty carried onto an instalment that is not
// overdue is owed as it is. Days past due are counted from the due date of
// the oldest overdue instalment; the pay-by date is PayByDays after asOf.
func (r Rules) Owed(rows []Instalment, asOf calc.Date, annualRate decimal.Decimal) (Breakdown, error) {
	fail := func(err error) (Breakdown, error) {
		return Breakdown{}, fmt.Errorf("owed as of %s: %w", asOf, err)
	}
	if err := r.Validate(); err != nil {
		return fail(err)
	}
	if asOf.IsZero() {
		return fail(fmt.Errorf("%w: no date", ErrInvalidInput))
	}
	sorted, err := checkRows(rows)
	if err != nil {
		return fail(err)
	}
	for i, row := range sorted {
		if !row.Overdue && asOf.DaysSince(row.DueDate) > r.GraceDays &&
			row.Principal.Add(row.Interest).Add(row.Fee).GreaterThan(r.CarryTolerance) {
			sorted[i].Overdue = true
		}
	}
	acc, err := AccruePenalty(sorted, asOf, annualRate, r.Penalty.Calc())
	if err != nil {
		return fail(err)
	}
	total := make(map[int]decimal.Decimal, len(acc))
	for _, a := range acc {
		total[a.No] = a.Total
	}
	b := Breakdown{
		AsOf: asOf, PayBy: asOf.AddDays(r.PayByDays), Penalties: acc,
		Due: zeroAmounts(), Overdue: zeroAmounts(), Remaining: zeroAmounts(),
	}
	for _, row := range sorted {
		penalty := row.PenaltyAccrued
		if t, ok := total[row.No]; ok {
			penalty = t
		}
		owed := calc.Amounts{Penalty: penalty.Sub(row.PenaltySettled), Fee: row.Fee, Interest: row.Interest, Principal: row.Principal}
		b.Remaining = b.Remaining.Add(owed)
		if row.DueDate.After(asOf) {
			continue
		}
		io := InstalmentOwed{No: row.No, DueDate: row.DueDate, Overdue: row.Overdue, Owed: owed}
		b.Due = b.Due.Add(owed)
		if row.Overdue {
			io.DaysPastDue = asOf.DaysSince(row.DueDate)
			b.Overdue = b.Overdue.Add(owed)
			if b.OldestDue.IsZero() || row.DueDate.Before(b.OldestDue) {
				b.OldestDue = row.DueDate
			}
		}
		b.Instalments = append(b.Instalments, io)
	}
	if !b.OldestDue.IsZero() {
		b.DaysPastDue = asOf.DaysSince(b.OldestDue)
	}
	b.Bucket = calc.Bucket(b.DaysPastDue)
	return b, nil
}

// zeroAmounts is Amounts with every component an explicit zero.
func zeroAmounts() calc.Amounts {
	return calc.Amounts{Penalty: decimal.Zero, Fee: decimal.Zero, Interest: decimal.Zero, Principal: decimal.Zero}
}

// daysPastDue returns the days past due on day by b's oldest overdue
// instalment (0 when none).
func (b Breakdown) daysPastDue(day calc.Date) int {
	if b.OldestDue.IsZero() {
		return 0
	}
	return max(day.DaysSince(b.OldestDue), 0)
}
