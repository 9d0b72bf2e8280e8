package calc

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/shopspring/decimal"
)

// Component is one kind of money owed on an instalment.
type Component string

// The components of an instalment.
const (
	ComponentPenalty   Component = "penalty"
	ComponentFee       Component = "fee"
	ComponentInterest  Component = "interest"
	ComponentPrincipal Component = "principal"
)

// Components lists the components in the default allocation order.
var Components = []Component{ComponentPenalty, ComponentFee, ComponentInterest, ComponentPrincipal}

// Amounts is money split by component.
type Amounts struct {
	Penalty, Fee, Interest, Principal decimal.Decimal
}

// Total returns the sum of the components.
func (a Amounts) Total() decimal.Decimal {
	return a.Penalty.Add(a.Fee).Add(a.Interest).Add(a.Principal)
}

// Get returns the amount of component c (zero for an unknown component).
func (a Amounts) Get(c Component) decimal.Decimal {
	switch c {
	case ComponentPenalty:
		return a.Penalty
	case ComponentFee:
		return a.Fee
	case ComponentInterest:
		return a.Interest
	case ComponentPrincipal:
		return a.Principal
	}
	return decimal.Zero
}

// Add returns a + b component by component.
func (a Amounts) Add(b Amounts) Amounts {
	return Amounts{
		Penalty:   a.Penalty.Add(b.Penalty),
		Fee:       a.Fee.Add(b.Fee),
		Interest:  a.Interest.Add(b.Interest),
		Principal: a.Principal.Add(b.Principal),
	}
}

// with returns a with component c set to v.
func (a Amounts) with(c Component, v decimal.Decimal) Amounts {
	switch c {
	case ComponentPenalty:
		a.Penalty = v
	case ComponentFee:
		a.Fee = v
	case ComponentInterest:
		a.Interest = v
	case ComponentPrincipal:
		a.Principal = v
	}
	return a
}

// OpenInstalment is an instalment with money still owed.
type OpenInstalment struct {
	// No is the instalment number.
	No int
	// DueDate is the day it fell or falls due.
	DueDate Date
	// Owed is what is still outstanding, by component.
	Owed Amounts
}

// OpenFromRows returns the rows of a schedule as open instalments owing
// their principal, interest and fee (no penalty). Holiday rows, which owe
// nothing, are skipped.
func OpenFromRows(rows []Row) []OpenInstalment {
	open := make([]OpenInstalment, 0, len(rows))
	for _, r := range rows {
		if r.Holiday {
			continue
		}
		open = append(open, OpenInstalment{
			No:      r.No,
			DueDate: r.DueDate,
			Owed:    Amounts{Penalty: decimal.Zero, Fee: r.Fee, Interest: r.Interest, Principal: r.Principal},
		})
	}
	return open
}

// AllocationMode says which loop of the waterfall is the outer one.
type AllocationMode string

// The allocation modes.
const (
	// InstalmentFirst settles the oldest instalment completely, in component
	// order, before touching the next one (the default).
	InstalmentFirst AllocationMode = "instalment-first"
	// ComponentFirst settles the first component across all instalments,
	// oldest first, before the next component.
	ComponentFirst AllocationMode = "component-first"
)

// Waterfall is the payment allocation policy.
type Waterfall struct {
	// Order is the component order: a permutation of Components. Empty
	// means the default penalty, fee, interest, principal.
	Order []Component
	// Mode is InstalmentFirst or ComponentFirst; empty means InstalmentFirst.
	Mode AllocationMode
}

// DefaultWaterfall returns oldest instalment first, penalty, fee, interest,
// principal.
func DefaultWaterfall() Waterfall {
	return Waterfall{Order: slices.Clone(Components), Mode: InstalmentFirst}
}

// InstalmentAllocation is what a payment settles on one instalment.
type InstalmentAllocation struct {
	// No is the instalment number.
	No int
	// DueDate is the instalment's due date.
	DueDate Date
	// Allocated is the amount applied to each component.
	Allocated Amounts
	// Remaining is what the instalment still owes afterwards.
	Remaining Amounts
}

// Allocation is the result of applying a payment.
type Allocation struct {
	// Instalments has one entry per open instalment, oldest first.
	Instalments []InstalmentAllocation
	// Allocated is the total applied; Allocated + Unallocated = the payment.
	Allocated decimal.Decimal
	// Unallocated is the overpayment left once everything owed is settled.
	Unallocated decimal.Decimal
}

// Validate reports an invalid order or mode.
func (w Waterfall) Validate() error {
	if w.Mode != "" && w.Mode != InstalmentFirst && w.Mode != ComponentFirst {
		return fmt.Errorf("waterfall: mode must be %s or %s, got %q", InstalmentFirst, ComponentFirst, w.Mode)
	}
	if len(w.Order) == 0 {
		return nil
	}
	if len(w.Order) != len(Components) {
		return fmt.Errorf("waterfall: order must list each of %s once, got %v", joinNames(Components), w.Order)
	}
	for _, c := range Components {
		if !slices.Contains(w.Order, c) {
			return fmt.Errorf("waterfall: order must list each of %s once, got %v (missing %s)", joinNames(Components), w.Order, c)
		}
	}
	return nil
}

// Allocate applies paid to the open instalments: oldest due date first (ties
// by number), and within each instalment the components in w.Order; in
// ComponentFirst mode the first component is settled on every instalment
// before the next component. Amounts must be non-negative with at most two
// decimals. It never applies more than was paid nor more than a component
// owes; the rest is returned as Unallocated.
func (w Waterfall) Allocate(paid decimal.Decimal, open []OpenInstalment) (Allocation, error) {
	if err := w.Validate(); err != nil {
		return Allocation{}, fmt.Errorf("allocate %s: %w", paid, err)
	}
	if paid.IsNegative() || !isCents(paid) {
		return Allocation{}, fmt.Errorf("allocate %s: the amount paid must be non-negative with at most 2 decimals", paid)
	}
	order := w.Order
	if len(order) == 0 {
		order = Components
	}
	items := make([]InstalmentAllocation, len(open))
	for i, o := range open {
		for _, c := range Components {
			if v := o.Owed.Get(c); v.IsNegative() || !isCents(v) {
				return Allocation{}, fmt.Errorf("allocate %s: instalment %d owes %s %s; amounts owed must be non-negative with at most 2 decimals", paid, o.No, c, v)
			}
		}
		items[i] = InstalmentAllocation{No: o.No, DueDate: o.DueDate, Allocated: zeroAmounts(), Remaining: o.Owed}
	}
	slices.SortStableFunc(items, func(a, b InstalmentAllocation) int {
		return cmp.Or(a.DueDate.Compare(b.DueDate), cmp.Compare(a.No, b.No))
	})
	left := paid
	apply := func(it *InstalmentAllocation, c Component) {
		take := decimal.Min(left, it.Remaining.Get(c))
		if !take.IsPositive() {
			return
		}
		it.Allocated = it.Allocated.with(c, it.Allocated.Get(c).Add(take))
		it.Remaining = it.Remaining.with(c, it.Remaining.Get(c).Sub(take))
		left = left.Sub(take)
	}
	if w.Mode == ComponentFirst {
		for _, c := range order {
			for i := range items {
				apply(&items[i], c)
			}
		}
	} else {
		for i := range items {
			for _, c := range order {
				apply(&items[i], c)
			}
		}
	}
	return Allocation{Instalments: items, Allocated: paid.Sub(left), Unallocated: left}, nil
}

// zeroAmounts returns Amounts with every component 0.
func zeroAmounts() Amounts {
	return Amounts{Penalty: decimal.Zero, Fee: decimal.Zero, Interest: decimal.Zero, Principal: decimal.Zero}
}
