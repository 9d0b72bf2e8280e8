package calc

import (
	"fmt"

	"github.com/shopspring/decimal"
)

// SettlementPolicy is what a product charges to settle (or cancel) a plan
// before its term.
type SettlementPolicy string

// The settlement policies.
const (
	// SettleCurrentPeriod charges the remaining principal plus the current
	// period's interest and fee, and no later interest or fee (the default).
	SettleCurrentPeriod SettlementPolicy = "current-period"
	// SettleAllRemaining charges the remaining principal plus every remaining
	// scheduled interest and fee.
	SettleAllRemaining SettlementPolicy = "all-remaining"
	// SettlePercentage charges the remaining principal plus
	// SettlementTerms.Percent x the remaining principal, no interest or fee
	// of periods not yet due.
	SettlePercentage SettlementPolicy = "percentage"
)

// SettlementPolicies lists every policy.
var SettlementPolicies = []SettlementPolicy{SettleCurrentPeriod, SettleAllRemaining, SettlePercentage}

// ParseSettlementPolicy returns the policy named s.
func ParseSettlementPolicy(s string) (SettlementPolicy, error) {
	for _, p := range SettlementPolicies {
		if string(p) == s {
			return p, nil
		}
	}
	return "", fmt.Errorf("settlement policy must be one of %s, got %q", joinNames(SettlementPolicies), s)
}

// SettlementTerms is a product's early settlement policy.
type SettlementTerms struct {
	// Policy; empty means SettleCurrentPeriod.
	Policy SettlementPolicy
	// Percent is the charge rate of SettlePercentage as a fraction
	// (0.02 = 2% of the remaining principal); must be zero otherwise.
	Percent decimal.Decimal
}

// SettlementQuote is the itemised amount that settles a plan on a date.
// Principal, Interest, Fee and Penalty include the past-due amounts, which
// PastDue repeats on their own.
type SettlementQuote struct {
	// Policy is the policy applied.
	Policy SettlementPolicy
	// AsOf is the settlement date.
	AsOf Date
	// Principal is every unpaid principal (past due and not yet due).
	Principal decimal.Decimal
	// Interest is the past-due interest plus the interest the policy charges
	// on the current and later periods.
	Interest decimal.Decimal
	// Fee is the past-due fee plus the fee the policy charges on the current
	// and later periods.
	Fee decimal.Decimal
	// Penalty is every penalty owed (normally only on past-due instalments).
	Penalty decimal.Decimal
	// Charge is the early settlement charge (SettlePercentage only).
	Charge decimal.Decimal
	// Total is Principal + Interest + Fee + Penalty + Charge.
	Total decimal.Decimal
	// PastDue is what was already due before AsOf and is unpaid.
	PastDue Amounts
	// RemainingPrincipal is the principal of instalments not yet past due.
	RemainingPrincipal decimal.Decimal
}

// QuoteSettlement returns what settles the open instalments on asOf.
// Instalments due before asOf are past due: everything they owe, penalty
// included, is always charged. The current period is the earliest open
// instalment due on or after asOf; it and later instalments make up the
// remaining principal, charged in full, with interest and fee per policy.
func QuoteSettlement(open []OpenInstalment, asOf Date, terms SettlementTerms) (SettlementQuote, error) {
	policy := terms.Policy
	if policy == "" {
		policy = SettleCurrentPeriod
	}
	if _, err := ParseSettlementPolicy(string(policy)); err != nil {
		return SettlementQuote{}, fmt.Errorf("quote settlement on %s: %w", asOf, err)
	}
	if terms.Percent.IsNegative() || (policy != SettlePercentage && !terms.Percent.IsZero()) {
		return SettlementQuote{}, fmt.Errorf("quote settlement on %s: percent must be 0 or more and is only used by policy %s, got %s under %s", asOf, SettlePercentage, terms.Percent, policy)
	}
	if asOf.IsZero() {
		return SettlementQuote{}, fmt.Errorf("quote settlement: the settlement date is required")
	}
	q := SettlementQuote{Policy: policy, AsOf: asOf, PastDue: zeroAmounts(), RemainingPrincipal: decimal.Zero}
	var current *OpenInstalment
	future := zeroAmounts()
	for i, o := range open {
		for _, c := range Components {
			if v := o.Owed.Get(c); v.IsNegative() || !isCents(v) {
				return SettlementQuote{}, fmt.Errorf("quote settlement on %s: instalment %d owes %s %s; amounts owed must be non-negative with at most 2 decimals", asOf, o.No, c, v)
			}
		}
		if o.DueDate.Before(asOf) {
			q.PastDue = q.PastDue.Add(o.Owed)
			continue
		}
		future = future.Add(o.Owed)
		if current == nil || o.DueDate.Before(current.DueDate) || (o.DueDate == current.DueDate && o.No < current.No) {
			current = &open[i]
		}
	}
	q.RemainingPrincipal = future.Principal
	charged := zeroAmounts()
	charged.Penalty = future.Penalty
	q.Charge = decimal.Zero
	switch policy {
	case SettleCurrentPeriod:
		if current != nil {
			charged.Interest, charged.Fee = current.Owed.Interest, current.Owed.Fee
		}
	case SettleAllRemaining:
		charged.Interest, charged.Fee = future.Interest, future.Fee
	case SettlePercentage:
		q.Charge = RoundMoney(terms.Percent.Mul(future.Principal))
	}
	q.Principal = q.PastDue.Principal.Add(future.Principal)
	q.Interest = q.PastDue.Interest.Add(charged.Interest)
	q.Fee = q.PastDue.Fee.Add(charged.Fee)
	q.Penalty = q.PastDue.Penalty.Add(charged.Penalty)
	q.Total = q.Principal.Add(q.Interest).Add(q.Fee).Add(q.Penalty).Add(q.Charge)
	return q, nil
}
