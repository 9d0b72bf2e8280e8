package agreement

import (
	"fmt"
	"strings"

	"github.com/shopspring/decimal"

	"github.com/fenqi/fenqi/calc"
)

var hundred = decimal.NewFromInt(100)

// doc accumulates the text; every line ends with "\n".
type doc struct{ b strings.Builder }

func (d *doc) line(format string, args ...any) {
	fmt.Fprintf(&d.b, format, args...)
	d.b.WriteByte('\n')
}

func (d *doc) blank() { d.b.WriteByte('\n') }

func (d *doc) heading(n int, title string) {
	d.blank()
	d.line("%d. %s", n, title)
}

// render writes the agreement of a normalised input.
func render(in Input) string {
	var d doc
	o, s := in.Offer, in.Schedule
	money := func(x decimal.Decimal) string { return calc.FormatMoney(x) + " " + in.Currency }

	d.line("INSTALMENT CREDIT AGREEMENT (分期付款合同)")
	d.line("Plan: %s", in.PlanID)
	d.line("Agreement version: %d", in.Version)

	d.heading(1, "PARTIES")
	d.line("Lender: %s", Lender)
	d.line("Borrower: %s", in.CustomerName)

	d.heading(2, "THE CREDIT")
	d.line("Amount lent: %s", money(o.Amount))
	d.line("Repayment method: %s", methodWords(o.Method))
	d.line("Instalments: %s", instalmentCount(o.Terms, o.Frequency))
	switch o.Method {
	case calc.MethodAnnuity, calc.MethodEqualPrincipal, calc.MethodInterestOnly:
		d.line("Contract interest rate: %s a year (%s a %s), on the outstanding principal",
			pct(o.AnnualRate, 4), pct(o.AnnualRate.Div(decimal.NewFromInt(int64(o.Frequency.PeriodsPerYear()))), 4), periodWords(o.Frequency))
	default:
		d.line("Contract interest rate: none")
	}

	d.heading(3, "REPAYMENT SCHEDULE")
	first, last := s.Rows[0], s.Rows[len(s.Rows)-1]
	d.line("First due date: %s", first.DueDate)
	d.line("Last due date: %s", last.DueDate)
	d.line("Instalment: %s", instalmentWords(s, in.Currency))
	d.line("Total principal: %s", money(s.TotalPrincipal))
	d.line("Total interest: %s", money(s.TotalInterest))
	d.line("Total fees: %s", money(s.TotalFee))
	d.line("Total to repay: %s", money(s.TotalPayment))
	d.line("Total cost of the credit (interest and fees): %s", money(s.TotalInterest.Add(s.TotalFee)))
	d.blank()
	d.line("%4s  %-10s  %12s  %10s  %10s  %12s  %12s", "No", "Due date", "Principal", "Interest", "Fee", "Instalment", "Balance")
	for _, r := range s.Rows {
		d.line("%4d  %-10s  %12s  %10s  %10s  %12s  %12s", r.No, r.DueDate, calc.FormatMoney(r.Principal),
			calc.FormatMoney(r.Interest), calc.FormatMoney(r.Fee), calc.FormatMoney(r.Payment), calc.FormatMoney(r.Balance))
	}

	d.heading(4, "ANNUALISED RATE")
	d.line("Nominal annualised rate: %s%% (IRR, PBoC 2021 No. 3)", s.APRNominal.StringFixed(calc.RatePlaces))
	d.line("Effective annualised rate: %s%% (IRR, PBoC 2021 No. 3)", s.APREffective.StringFixed(calc.RatePlaces))
	d.line("Both rates are the internal rate of return of the amount you receive against every payment you")
	d.line("make, all interest and fees included, per the People's Bank of China announcement 〔2021〕 No. 3:")
	d.line("nominal = periodic rate x periods a year; effective = (1 + periodic rate)^(periods a year) - 1.")

	d.heading(5, "FEES")
	switch {
	case o.Method == calc.MethodFee && o.FeeUpfront:
		d.line("Instalment fee (分期手续费): %s of the amount per month, %s in all, charged with the first instalment.",
			pct(o.MonthlyFeeRate, 4), money(s.TotalFee))
	case o.Method == calc.MethodFee:
		d.line("Instalment fee (分期手续费): %s of the amount per month, charged with every instalment, %s in all.",
			pct(o.MonthlyFeeRate, 4), money(s.TotalFee))
	default:
		d.line("No instalment fee is charged.")
	}
	d.line("No other fee is charged, except the late charges of section 6 and the settlement terms of section 7.")

	d.heading(6, "LATE PAYMENT")
	writeLate(&d, in)

	d.heading(7, "EARLY REPAYMENT AND CANCELLATION (提前还款 / 取消分期)")
	writeSettlement(&d, in)

	d.heading(8, "CHANNEL AND PARTNER DISCLOSURE")
	writeChannel(&d, in)

	d.heading(9, "SIGNATURE")
	d.line("The borrower signs in one of two ways; either way the signature is recorded with the SHA-256 of")
	d.line("this document, so the document signed can always be proven unchanged.")
	d.line("(a) Electronic signature: type your full name and give your consent: \"I have read this agreement")
	d.line("    and I agree to its terms.\"")
	d.line("    Name: ______________________________    Consent: [ ] I agree")
	d.line("(b) Paper signature: sign the printed agreement; the reference of the signed paper form is")
	d.line("    recorded with this document.")
	d.line("    Paper form reference: ______________________________")
	d.line("An agreement that is not signed before its offer expires lapses and binds neither party.")
	return d.b.String()
}

// writeLate states the grace period and the penalty rule.
func writeLate(d *doc, in Input) {
	if in.GraceDays > 0 {
		d.line("Grace period: %s after each due date; an instalment paid within it is not late.", days(in.GraceDays))
	} else {
		d.line("Grace period: none; an instalment not paid on its due date is late.")
	}
	p := in.Penalty
	base := in.PenaltyBaseRate
	if !base.IsPositive() {
		base = in.Offer.AnnualRate
	}
	capped := "not capped"
	if p.MaxAnnualRate.IsPositive() {
		capped = "capped at " + pct(p.MaxAnnualRate, 2) + " a year"
	}
	d.line("Penalty interest (罚息): once an instalment is overdue (still unpaid when the grace period ends),")
	d.line("on its overdue principal only, for each day from its due date until it is paid,")
	d.line("at the annual rate / %d x %s, never compounded, %s.", p.DayBasis, p.Multiplier.String(), capped)
	if annual := p.AnnualRate(base); annual.IsPositive() {
		daily := annual.DivRound(decimal.NewFromInt(int64(p.DayBasis)), 10)
		d.line("For this plan: annual rate %s, penalty rate %s a year, %s of the overdue principal per day.",
			pct(base, 4), pct(annual, 4), pct(daily, 4))
	} else {
		d.line("For this plan: no contract interest rate applies, so no penalty interest accrues.")
	}
	if p.MaxAnnualRate.IsPositive() {
		d.line("The cap keeps overdue charges within the legal limit on the cost of credit.")
	}
	d.line("A payment settles the oldest amount due first.")
}

// writeSettlement states the early settlement policy in words.
func writeSettlement(d *doc, in Input) {
	d.line("You may repay early, in full or in part, or cancel the instalment arrangement at any time and")
	d.line("settle in one payment or over fewer instalments. Anything already past due, penalty included, is")
	d.line("always paid in full. For the rest, settling costs:")
	switch in.Settlement.Policy {
	case calc.SettleAllRemaining:
		d.line("  the remaining principal plus every remaining scheduled interest and fee (policy: all remaining")
		d.line("  fees); repaying early does not reduce the interest or fees.")
	case calc.SettlePercentage:
		d.line("  the remaining principal plus an early settlement charge of %s of the remaining principal", pct(in.Settlement.Percent, 2))
		d.line("  (policy: a percentage of remaining principal); no interest or fee of later periods.")
	default:
		d.line("  the remaining principal plus the interest and fee of the current period only (policy: remaining")
		d.line("  principal + current-period fee); no interest or fee of later periods is charged.")
	}
	d.line("Before you confirm, we quote the exact amount, itemised; the settlement takes effect when paid.")
}

// writeChannel discloses the channel and the partner's fee.
func writeChannel(d *doc, in Input) {
	o := in.Origin
	if o.Kind != "partner" {
		d.line("You applied through %s's own platform. No partner is involved and no partner fee applies.", Lender)
		return
	}
	fee := calc.RoundMoney(in.Offer.Amount.Mul(o.PartnerFeeRate))
	policy := o.PartnerFeePolicy
	if policy == "" {
		policy = "paid by " + Lender + " to the partner; not charged to you"
	}
	d.line("You applied through the partner platform \"%s\".", o.Partner)
	d.line("Partner fee: %s of the amount, %s %s.", pct(o.PartnerFeeRate, 2), calc.FormatMoney(fee), in.Currency)
	d.line("Partner fee policy: %s.", strings.TrimSuffix(policy, "."))
	d.line("The partner fee is disclosed for transparency; you pay only the amounts of sections 3 to 7.")
}

// pct formats a fraction as a percentage with the given decimals:
// pct(0.072, 4) = "7.2000%".
func pct(fraction decimal.Decimal, places int32) string {
	return fraction.Mul(hundred).StringFixed(places) + "%"
}

func days(n int) string {
	if n == 1 {
		return "1 day"
	}
	return fmt.Sprintf("%d days", n)
}
