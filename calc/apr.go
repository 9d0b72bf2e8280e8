package calc

import (
	"errors"
	"fmt"
	"math"

	"github.com/shopspring/decimal"
)

// Rate precisions, in decimal places of a percentage.
const (
	// RatePlaces is the precision of the nominal and effective rates.
	RatePlaces = 4
	// PeriodicRatePlaces is the precision of the periodic IRR.
	PeriodicRatePlaces = 7
)

// AnnualisedRate is the cost of a credit expressed, per PBoC announcement
// 〔2021〕 No. 3, from the internal rate of return of its cash flows.
type AnnualisedRate struct {
	// Periodic is the periodic IRR i in percent with 7 decimals
	// (1.0669835 = 1.0669835% per period).
	Periodic decimal.Decimal
	// Nominal is i x periods per year in percent with 4 decimals.
	Nominal decimal.Decimal
	// Effective is (1+i)^(periods per year) - 1 in percent with 4 decimals.
	Effective decimal.Decimal
}

// AnnualisedIRR returns the annualised rate of a credit of which the
// borrower received netReceived at time 0 (the amount lent less any fee
// deducted at disbursement) and repays payments[k-1] at the end of period k
// (every fee included; a zero payment is a period with nothing due).
// periodsPerYear is 12 for monthly and 4 for quarterly periods.
//
// The IRR is solved in float64 to full double precision; only the rounded
// percentages leave this function. A plan whose payments sum exactly to
// netReceived has a rate of exactly 0.
func AnnualisedIRR(netReceived decimal.Decimal, payments []decimal.Decimal, periodsPerYear int) (AnnualisedRate, error) {
	if err := checkCashFlows(netReceived, payments, periodsPerYear); err != nil {
		return AnnualisedRate{}, fmt.Errorf("annualised rate of %s received against %d payments: %w", netReceived, len(payments), err)
	}
	if decimal.Sum(decimal.Zero, payments...).Equal(netReceived) {
		return AnnualisedRate{Periodic: decimal.Zero, Nominal: decimal.Zero, Effective: decimal.Zero}, nil
	}
	flows := make([]float64, len(payments))
	for k, p := range payments {
		flows[k] = p.InexactFloat64()
	}
	i, err := solveIRR(netReceived.InexactFloat64(), flows)
	if err != nil {
		return AnnualisedRate{}, fmt.Errorf("annualised rate of %s received against %d payments: %w", netReceived, len(payments), err)
	}
	ppy := float64(periodsPerYear)
	return AnnualisedRate{
		Periodic:  decimal.NewFromFloat(i * 100).Round(PeriodicRatePlaces),
		Nominal:   decimal.NewFromFloat(i * ppy * 100).Round(RatePlaces),
		Effective: decimal.NewFromFloat(math.Expm1(ppy*math.Log1p(i)) * 100).Round(RatePlaces),
	}, nil
}

// checkCashFlows validates the inputs of AnnualisedIRR.
func checkCashFlows(net decimal.Decimal, payments []decimal.Decimal, ppy int) error {
	if !net.IsPositive() {
		return fmt.Errorf("net amount received must be greater than 0, got %s", net)
	}
	if len(payments) == 0 {
		return errors.New("at least one payment is required")
	}
	if ppy < 1 {
		return fmt.Errorf("periods per year must be at least 1, got %d", ppy)
	}
	positive := false
	for k, p := range payments {
		if p.IsNegative() {
			return fmt.Errorf("payment %d must not be negative, got %s", k+1, p)
		}
		positive = positive || p.IsPositive()
	}
	if !positive {
		return errors.New("at least one payment must be greater than 0")
	}
	return nil
}

// npv returns f(i) = -net + sum payments[k-1] (1+i)^-k and its derivative.
func npv(net float64, payments []float64, i float64) (f, df float64) {
	v := 1 / (1 + i)
	disc := 1.0
	f = -net
	for k, p := range payments {
		disc *= v
		if p == 0 {
			continue
		}
		f += p * disc
		df -= float64(k+1) * p * disc * v
	}
	return f, df
}

// irrTolerance is the step, relative to 1+|i|, at which the solver stops:
// far below the 1e-6 of a periodic rate that a 4-decimal percentage can
// show, and above the float64 noise of a 360-term NPV.
const irrTolerance = 1e-14

// solveIRR finds the periodic rate i > -1 where the NPV is zero. With a
// positive outlay and non-negative payments the NPV falls strictly with i,
// so the root is unique: it is bracketed, then refined by Newton steps that
// fall back to bisection whenever a step leaves the bracket.
func solveIRR(net float64, payments []float64) (float64, error) {
	lo, hi := -0.999999, 1.0
	for f, _ := npv(net, payments, lo); f < 0; f, _ = npv(net, payments, lo) {
		if lo = -1 + (1+lo)/1e3; lo <= -1 {
			return 0, errors.New("no rate above -100% balances the cash flows")
		}
	}
	for f, _ := npv(net, payments, hi); f > 0; f, _ = npv(net, payments, hi) {
		if lo, hi = hi, hi*2; hi > 1e9 {
			return 0, errors.New("the rate balancing the cash flows exceeds 1e11% per period")
		}
	}
	x := (lo + hi) / 2
	for range 200 {
		f, df := npv(net, payments, x)
		if f == 0 {
			return x, nil
		}
		if f > 0 {
			lo = x
		} else {
			hi = x
		}
		next := x - f/df
		if df == 0 || math.IsNaN(next) || next <= lo || next >= hi {
			next = (lo + hi) / 2
		}
		if math.Abs(next-x) <= irrTolerance*(1+math.Abs(x)) {
			return next, nil
		}
		x = next
	}
	return x, nil
}
