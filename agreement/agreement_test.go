package agreement

import (
	"crypto/sha256"
	"encoding/hex"
	"regexp"
	"strings"
	"testing"

	"github.com/shopspring/decimal"

	"github.com/fenqi/fenqi/calc"
	"github.com/fenqi/fenqi/plan"
)

func dec(s string) decimal.Decimal { return decimal.RequireFromString(s) }

// offerOf computes an offer's disclosed figures with calc, as underwriting
// does, and the schedule starting on start.
func offerOf(t *testing.T, o plan.Offer, start calc.Date) (plan.Offer, calc.Schedule) {
	t.Helper()
	s, err := calc.BuildSchedule(o.CalcTerms(start))
	if err != nil {
		t.Fatal(err)
	}
	o.Instalment = s.Rows[0].Payment
	o.TotalCost = s.TotalInterest.Add(s.TotalFee)
	o.TotalPayment = s.TotalPayment
	o.APRNominal, o.APREffective = s.APRNominal, s.APREffective
	return o, s
}

func date(t *testing.T, s string) calc.Date {
	t.Helper()
	d, err := calc.ParseDate(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// baseInput is a 12-month annuity through a partner platform.
func baseInput(t *testing.T) Input {
	t.Helper()
	o, s := offerOf(t, plan.Offer{No: 1, Method: calc.MethodAnnuity, Amount: dec("50000"), Terms: 12,
		Frequency: calc.Monthly, AnnualRate: dec("0.072"), Label: "12 monthly instalments"}, date(t, "2026-01-31"))
	return Input{
		PlanID:       "plan-6f1c0a52-1f7b-5b0e-9d7e-000000000001",
		CustomerName: "张三 (demo)",
		Offer:        o,
		Schedule:     s,
		Origin: plan.Origin{Kind: "partner", Partner: "Demo Mall", PartnerFeeRate: dec("0.015"),
			PartnerFeePolicy: "paid by fenqi to the partner; not charged to the customer"},
		Penalty:    calc.DefaultPenaltyRule(),
		Settlement: calc.SettlementTerms{Policy: calc.SettleCurrentPeriod},
		GraceDays:  3,
		Currency:   "CNY",
		Version:    1,
	}
}

func mustRender(t *testing.T, in Input) Document {
	t.Helper()
	d, err := Render(in)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestSameInputSameBytes(t *testing.T) {
	a, b := mustRender(t, baseInput(t)), mustRender(t, baseInput(t))
	if a.Text != b.Text || a.SHA256 != b.SHA256 {
		t.Fatal("two renders of the same input differ")
	}
	sum := sha256.Sum256([]byte(a.Text))
	if a.SHA256 != hex.EncodeToString(sum[:]) || !regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(a.SHA256) {
		t.Errorf("hash %q is not the lower-case hex SHA-256 of the text", a.SHA256)
	}
	if !Verify(a) {
		t.Error("Verify rejects a fresh document")
	}
}

// Any change of a term changes the document and its hash.
func TestEveryTermChangesTheHash(t *testing.T) {
	base := mustRender(t, baseInput(t))
	tests := []struct {
		name   string
		change func(t *testing.T, in *Input)
	}{
		{"plan id", func(t *testing.T, in *Input) { in.PlanID = "plan-other" }},
		{"customer name", func(t *testing.T, in *Input) { in.CustomerName = "李四 (demo)" }},
		{"amount", func(t *testing.T, in *Input) {
			o := in.Offer
			o.Amount = dec("49000")
			in.Offer, in.Schedule = offerOf(t, o, date(t, "2026-01-31"))
		}},
		{"contract rate", func(t *testing.T, in *Input) {
			o := in.Offer
			o.AnnualRate = dec("0.108")
			in.Offer, in.Schedule = offerOf(t, o, date(t, "2026-01-31"))
		}},
		{"terms", func(t *testing.T, in *Input) {
			o := in.Offer
			o.Terms = 18
			in.Offer, in.Schedule = offerOf(t, o, date(t, "2026-01-31"))
		}},
		{"method", func(t *testing.T, in *Input) {
			o := in.Offer
			o.Method = calc.MethodEqualPrincipal
			in.Offer, in.Schedule = offerOf(t, o, date(t, "2026-01-31"))
		}},
		{"start date", func(t *testing.T, in *Input) { in.Offer, in.Schedule = offerOf(t, in.Offer, date(t, "2026-02-01")) }},
		{"penalty multiplier", func(t *testing.T, in *Input) { in.Penalty.Multiplier = dec("1.3") }},
		{"penalty cap", func(t *testing.T, in *Input) { in.Penalty.MaxAnnualRate = dec("0.18") }},
		{"penalty base rate", func(t *testing.T, in *Input) { in.PenaltyBaseRate = dec("0.1") }},
		{"settlement policy", func(t *testing.T, in *Input) { in.Settlement.Policy = calc.SettleAllRemaining }},
		{"settlement percent", func(t *testing.T, in *Input) {
			in.Settlement = calc.SettlementTerms{Policy: calc.SettlePercentage, Percent: dec("0.02")}
		}},
		{"grace days", func(t *testing.T, in *Input) { in.GraceDays = 5 }},
		{"partner", func(t *testing.T, in *Input) { in.Origin.Partner = "Other Mall" }},
		{"partner fee rate", func(t *testing.T, in *Input) { in.Origin.PartnerFeeRate = dec("0.02") }},
		{"partner fee policy", func(t *testing.T, in *Input) { in.Origin.PartnerFeePolicy = "shared" }},
		{"own platform", func(t *testing.T, in *Input) { in.Origin = plan.Origin{Kind: "own"} }},
		{"currency", func(t *testing.T, in *Input) { in.Currency = "HKD" }},
		{"version", func(t *testing.T, in *Input) { in.Version = 2 }},
	}
	seen := map[string]string{base.SHA256: "base"}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := baseInput(t)
			tt.change(t, &in)
			d := mustRender(t, in)
			if prev, dup := seen[d.SHA256]; dup {
				t.Errorf("hash equals the %s document's", prev)
			}
			seen[d.SHA256] = tt.name
			if !Verify(d) {
				t.Error("Verify rejects the changed document")
			}
		})
	}
}

func TestTextStatesTheTerms(t *testing.T) {
	in := baseInput(t)
	d := mustRender(t, in)
	for _, want := range []string{
		"Lender: fenqi",
		"Borrower: 张三 (demo)",
		"Amount lent: 50000.00 CNY",
		"equal instalments (等额本息)",
		"12 monthly instalments, one a month",
		"First due date: 2026-02-28",
		"Last due date: 2027-01-31",
		"Instalment: " + calc.FormatMoney(in.Offer.Instalment) + " CNY every period",
		"Total to repay: " + calc.FormatMoney(in.Schedule.TotalPayment) + " CNY",
		"Nominal annualised rate: " + in.Offer.APRNominal.StringFixed(4) + "% (IRR, PBoC 2021 No. 3)",
		"Effective annualised rate: " + in.Offer.APREffective.StringFixed(4) + "% (IRR, PBoC 2021 No. 3)",
		"Grace period: 3 days after each due date",
		"Penalty interest (罚息)",
		"at the annual rate / 360 x 1.5, never compounded, capped at 24.00% a year.",
		"penalty rate 10.8000% a year, 0.0300% of the overdue principal per day",
		"the remaining principal plus the interest and fee of the current period only",
		"You applied through the partner platform \"Demo Mall\".",
		"Partner fee: 1.50% of the amount, 750.00 CNY.",
		"Partner fee policy: paid by fenqi to the partner; not charged to the customer.",
		"(a) Electronic signature",
		"Consent: [ ] I agree",
		"Paper form reference:",
	} {
		if !strings.Contains(d.Text, want) {
			t.Errorf("text lacks %q", want)
		}
	}
	if in.Offer.APRNominal.Equal(in.Offer.APREffective) {
		t.Fatal("test needs distinct rates")
	}
	if strings.Contains(d.Text, "\r") || !strings.HasSuffix(d.Text, "\n") {
		t.Error("text must use \\n line ends and end with one")
	}
}

func TestSettlementAndChannelWording(t *testing.T) {
	tests := []struct {
		name   string
		change func(in *Input)
		want   []string
	}{
		{"all remaining", func(in *Input) { in.Settlement = calc.SettlementTerms{Policy: calc.SettleAllRemaining} },
			[]string{"every remaining scheduled interest and fee (policy: all remaining"}},
		{"percentage", func(in *Input) {
			in.Settlement = calc.SettlementTerms{Policy: calc.SettlePercentage, Percent: dec("0.02")}
		}, []string{"an early settlement charge of 2.00% of the remaining principal"}},
		{"default policy", func(in *Input) { in.Settlement = calc.SettlementTerms{} },
			[]string{"(policy: remaining", "principal + current-period fee)"}},
		{"own platform", func(in *Input) { in.Origin = plan.Origin{} },
			[]string{"You applied through fenqi's own platform. No partner is involved and no partner fee applies."}},
		{"partner without a policy", func(in *Input) { in.Origin.PartnerFeePolicy = "" },
			[]string{"Partner fee policy: paid by fenqi to the partner; not charged to you."}},
		{"no grace", func(in *Input) { in.GraceDays = 0 },
			[]string{"Grace period: none"}},
		{"zero penalty value means the default rule", func(in *Input) { in.Penalty = calc.PenaltyRule{} },
			[]string{"/ 360 x 1.5", "capped at 24.00% a year"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := baseInput(t)
			tt.change(&in)
			d := mustRender(t, in)
			for _, w := range tt.want {
				if !strings.Contains(d.Text, w) {
					t.Errorf("text lacks %q", w)
				}
			}
		})
	}
}

func TestFeeAndZeroPlans(t *testing.T) {
	start := date(t, "2026-03-15")
	in := baseInput(t)
	in.Offer, in.Schedule = offerOf(t, plan.Offer{Method: calc.MethodFee, Amount: dec("12000"), Terms: 4,
		Frequency: calc.Quarterly, MonthlyFeeRate: dec("0.006")}, start)
	d := mustRender(t, in)
	for _, w := range []string{"instalments with a fee (分期手续费)", "Instalment fee (分期手续费): 0.6000% of the amount per month",
		"4 quarterly instalments, one a quarter", "Contract interest rate: none", "no penalty interest accrues",
		"Partner fee: 1.50% of the amount, 180.00 CNY."} {
		if !strings.Contains(d.Text, w) {
			t.Errorf("fee plan text lacks %q", w)
		}
	}

	in.Offer, in.Schedule = offerOf(t, plan.Offer{Method: calc.MethodZero, Amount: dec("6000"), Terms: 6, Frequency: calc.Monthly}, start)
	in.PenaltyBaseRate = dec("0.12")
	d = mustRender(t, in)
	for _, w := range []string{"zero interest (免息)", "Nominal annualised rate: 0.0000% (IRR, PBoC 2021 No. 3)",
		"No instalment fee is charged.", "annual rate 12.0000%, penalty rate 18.0000% a year, 0.0500% of the overdue principal per day"} {
		if !strings.Contains(d.Text, w) {
			t.Errorf("zero plan text lacks %q", w)
		}
	}
}

func TestVerifyCatchesTampering(t *testing.T) {
	d := mustRender(t, baseInput(t))
	tests := []struct {
		name string
		doc  Document
	}{
		{"changed amount", Document{Text: strings.Replace(d.Text, "50000.00", "5000.00", 1), SHA256: d.SHA256}},
		{"one byte appended", Document{Text: d.Text + " ", SHA256: d.SHA256}},
		{"changed hash", Document{Text: d.Text, SHA256: Hash("something else")}},
		{"upper-case hash", Document{Text: d.Text, SHA256: strings.ToUpper(d.SHA256)}},
		{"truncated hash", Document{Text: d.Text, SHA256: d.SHA256[:63]}},
		{"empty", Document{}},
	}
	for _, tt := range tests {
		if Verify(tt.doc) {
			t.Errorf("%s: Verify accepted a tampered document", tt.name)
		}
	}
}

func TestRenderRefusesBadInput(t *testing.T) {
	tests := []struct {
		name   string
		change func(in *Input)
		want   string
	}{
		{"no customer name", func(in *Input) { in.CustomerName = " " }, "customer name is required"},
		{"name with a line break", func(in *Input) { in.CustomerName = "张三\nLender: someone" }, "control characters"},
		{"no plan id", func(in *Input) { in.PlanID = "" }, "plan id is required"},
		{"version 0", func(in *Input) { in.Version = 0 }, "version must be at least 1"},
		{"negative grace", func(in *Input) { in.GraceDays = -1 }, "grace days"},
		{"schedule of another offer", func(in *Input) { in.Schedule.Rows = in.Schedule.Rows[:11] }, "schedule has 11 rows"},
		{"disclosed figure differs", func(in *Input) { in.Offer.TotalPayment = in.Offer.TotalPayment.Add(dec("0.01")) }, "total payment"},
		{"unknown settlement policy", func(in *Input) { in.Settlement.Policy = "whatever" }, "settlement"},
		{"percentage without percent", func(in *Input) { in.Settlement = calc.SettlementTerms{Policy: calc.SettlePercentage} }, "settlement percent"},
		{"partner without a name", func(in *Input) { in.Origin.Partner = "" }, "origin partner is required"},
		{"unknown origin", func(in *Input) { in.Origin.Kind = "agent" }, "origin kind"},
		{"bad penalty", func(in *Input) { in.Penalty.DayBasis = 0 }, "penalty day basis"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := baseInput(t)
			tt.change(&in)
			_, err := Render(in)
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "render agreement for plan") {
				t.Errorf("error %v, want one naming the plan and %q", err, tt.want)
			}
		})
	}
}
