package calc

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/shopspring/decimal"
)

// arrearsPosition returns a position of a monthly or quarterly annuity plan
// whose cadence starts on start, as of asOf, with past due and future rows.
func arrearsPosition(asOf, start string, f Frequency, past Amounts, future ...Row) Position {
	return Position{
		Terms:   Terms{Method: MethodAnnuity, AnnualRate: dec("0.12"), Frequency: f},
		Cadence: Cadence{Start: mustDate(start), Frequency: f},
		AsOf:    mustDate(asOf),
		PastDue: past,
		Future:  future,
		FirstNo: 4,
	}
}

// due returns a scheduled row due on date.
func due(date, principal, interest, fee string) Row {
	return newRow(mustDate(date), dec(principal), dec(interest), dec(fee))
}

// paused returns a holiday row due on date.
func paused(date string) Row {
	r := newRow(mustDate(date), decimal.Zero, decimal.Zero, decimal.Zero)
	r.Holiday = true
	return r
}

// rowString formats r as "date principal+interest+fee", " holiday" added
// for a holiday row.
func rowString(r Row) string {
	s := fmt.Sprintf("%s %s+%s+%s", r.DueDate, FormatMoney(r.Principal), FormatMoney(r.Interest), FormatMoney(r.Fee))
	if r.Holiday {
		s += " holiday"
	}
	return s
}

// checkArrearsPlan reports the first way c, the arrears plan of k
// instalments on pos, breaks what ArrearsPlan documents.
func checkArrearsPlan(pos Position, k int, c Change) error {
	if err := c.Check(pos); err != nil {
		return err
	}
	past := pos.pastDue()
	if c.Kind != ChangeArrearsPlan || !c.Fee.IsZero() || !c.Capitalised.IsZero() || !c.Penalty.Equal(past.Penalty) || c.Cadence != pos.cadence() {
		return fmt.Errorf("kind %s, fee %s, capitalised %s, penalty %s (past due %s), cadence %+v (plan %+v)", c.Kind, c.Fee, c.Capitalised, c.Penalty, past.Penalty, c.Cadence, pos.cadence())
	}
	// every column holds the Future rows and the arrears, nothing more
	columns := []struct {
		name string
		of   func(Row) decimal.Decimal
		past decimal.Decimal
	}{
		{"principal", func(r Row) decimal.Decimal { return r.Principal }, past.Principal},
		{"interest", func(r Row) decimal.Decimal { return r.Interest }, past.Interest},
		{"fee", func(r Row) decimal.Decimal { return r.Fee }, past.Fee},
		{"payment", func(r Row) decimal.Decimal { return r.Payment }, past.Principal.Add(past.Interest).Add(past.Fee)},
	}
	for _, col := range columns {
		if got, want := sumRows(c.Rows, col.of), sumRows(pos.Future, col.of).Add(col.past); !got.Equal(want) {
			return fmt.Errorf("the %s column sums to %s, want %s scheduled + %s past due", col.name, got, sumRows(pos.Future, col.of), col.past)
		}
	}
	payable := len(payableRows(pos.Future))
	if want := len(pos.Future) + max(0, k-payable); len(c.Rows) != want {
		return fmt.Errorf("%d rows, want %d", len(c.Rows), want)
	}
	// the parts, by component: round(C/k), at most what is left, the last
	// the rest
	var parts [][3]decimal.Decimal
	level, rest := [3]decimal.Decimal{}, [3]decimal.Decimal{past.Principal, past.Interest, past.Fee}
	for j := range 3 {
		level[j] = RoundMoney(rest[j].Div(decimal.NewFromInt(int64(k))))
	}
	for i := range k {
		var p [3]decimal.Decimal
		for j := range 3 {
			p[j] = decimal.Min(level[j], rest[j])
			if i == k-1 {
				p[j] = rest[j]
			}
			rest[j] = rest[j].Sub(p[j])
		}
		parts = append(parts, p)
	}
	placed := 0
	for i, f := range pos.Future {
		r := c.Rows[i]
		if r.DueDate != f.DueDate || r.Holiday != f.Holiday {
			return fmt.Errorf("row %d: %s, want on the Future row %s", r.No, rowString(r), rowString(f))
		}
		var p [3]decimal.Decimal
		if !f.Holiday && placed < k {
			p = parts[placed]
			placed++
		}
		if !r.Principal.Equal(f.Principal.Add(p[0])) || !r.Interest.Equal(f.Interest.Add(p[1])) || !r.Fee.Equal(f.Fee.Add(p[2])) {
			return fmt.Errorf("row %d: %s, want %s plus %v", r.No, rowString(r), rowString(f), p)
		}
	}
	added := c.Rows[len(pos.Future):]
	if len(added) == 0 {
		return nil
	}
	after := pos.AsOf
	if n := len(pos.Future); n > 0 {
		after = pos.Future[n-1].DueDate
	}
	j, ok := c.Cadence.IndexOf(added[0].DueDate)
	if !ok || !added[0].DueDate.After(after) || (j > 1 && c.Cadence.Due(j-1).After(after)) {
		return fmt.Errorf("the first new row is due %s, want the first due date of the cadence after %s", added[0].DueDate, after)
	}
	if err := onCadence(c.Cadence, added); err != nil {
		return err
	}
	for i, r := range added {
		p := parts[placed+i]
		if r.Holiday || !r.Principal.Equal(p[0]) || !r.Interest.Equal(p[1]) || !r.Fee.Equal(p[2]) {
			return fmt.Errorf("new row %d: %s, want the part %v", r.No, rowString(r), p)
		}
	}
	return nil
}

func TestArrearsPlan(t *testing.T) {
	ahead := func(pos Position, amount string) Position {
		pos.PaidAhead = dec(amount)
		return pos
	}
	tests := []struct {
		name   string
		pos    Position
		k      int
		want   []string
		dueNow string
	}{
		{
			"even split",
			arrearsPosition("2026-03-05", "2025-12-31", Monthly, owed("0", "6", "30", "300"),
				due("2026-03-31", "100", "10", "2"), due("2026-04-30", "100", "10", "2"), due("2026-05-31", "100", "10", "2"), due("2026-06-30", "100", "10", "2")),
			3,
			[]string{"2026-03-31 200.00+20.00+4.00", "2026-04-30 200.00+20.00+4.00", "2026-05-31 200.00+20.00+4.00", "2026-06-30 100.00+10.00+2.00"},
			"0",
		},
		{
			"cents to the last part",
			arrearsPosition("2026-03-05", "2025-12-31", Monthly, owed("0", "0.05", "0.10", "100"),
				due("2026-03-31", "50", "5", "0"), due("2026-04-30", "50", "5", "0"), due("2026-05-31", "50", "5", "0"), due("2026-06-30", "50", "5", "0")),
			3,
			// 100.00/3 = 33.33 33.33 33.34; 0.10/3 = 0.03 0.03 0.04; 0.05/3 = 0.02 0.02 0.01
			[]string{"2026-03-31 83.33+5.03+0.02", "2026-04-30 83.33+5.03+0.02", "2026-05-31 83.34+5.04+0.01", "2026-06-30 50.00+5.00+0.00"},
			"0",
		},
		{
			"a few cents over many parts",
			arrearsPosition("2026-03-05", "2025-12-31", Monthly, owed("0", "0", "0", "0.05"),
				due("2026-03-31", "50", "5", "0")),
			10,
			// 0.05/10 rounds up to 0.01: five parts of 0.01, then nothing
			[]string{
				"2026-03-31 50.01+5.00+0.00", "2026-04-30 0.01+0.00+0.00", "2026-05-31 0.01+0.00+0.00", "2026-06-30 0.01+0.00+0.00", "2026-07-31 0.01+0.00+0.00",
				"2026-08-31 0.00+0.00+0.00", "2026-09-30 0.00+0.00+0.00", "2026-10-31 0.00+0.00+0.00", "2026-11-30 0.00+0.00+0.00", "2026-12-31 0.00+0.00+0.00",
			},
			"0",
		},
		{
			"more parts than rows, on month ends through a leap February",
			arrearsPosition("2027-12-10", "2027-10-31", Monthly, owed("0", "0", "4", "40"),
				due("2027-12-31", "100", "1", "0"), due("2028-01-31", "100", "1", "0")),
			4,
			[]string{"2027-12-31 110.00+2.00+0.00", "2028-01-31 110.00+2.00+0.00", "2028-02-29 10.00+1.00+0.00", "2028-03-31 10.00+1.00+0.00"},
			"0",
		},
		{
			"holiday rows at the head are skipped",
			arrearsPosition("2026-04-05", "2025-12-31", Monthly, owed("0", "0", "2", "20"),
				paused("2026-04-30"), paused("2026-05-31"), due("2026-06-30", "100", "1", "0"), due("2026-07-31", "100", "1", "0"), due("2026-08-31", "100", "1", "0")),
			2,
			[]string{"2026-04-30 0.00+0.00+0.00 holiday", "2026-05-31 0.00+0.00+0.00 holiday", "2026-06-30 110.00+2.00+0.00", "2026-07-31 110.00+2.00+0.00", "2026-08-31 100.00+1.00+0.00"},
			"0",
		},
		{
			"holiday rows between and last",
			arrearsPosition("2026-04-05", "2025-12-31", Monthly, owed("0", "0", "0", "40"),
				due("2026-04-30", "100", "1", "0"), paused("2026-05-31"), due("2026-06-30", "100", "1", "0"), paused("2026-07-31")),
			4,
			[]string{"2026-04-30 110.00+1.00+0.00", "2026-05-31 0.00+0.00+0.00 holiday", "2026-06-30 110.00+1.00+0.00", "2026-07-31 0.00+0.00+0.00 holiday", "2026-08-31 10.00+0.00+0.00", "2026-09-30 10.00+0.00+0.00"},
			"0",
		},
		{
			"no future rows",
			arrearsPosition("2026-05-10", "2025-12-31", Monthly, owed("1.50", "0.30", "3", "90")),
			3,
			[]string{"2026-05-31 30.00+1.00+0.10", "2026-06-30 30.00+1.00+0.10", "2026-07-31 30.00+1.00+0.10"},
			"0",
		},
		{
			"no future rows, as of a due date",
			arrearsPosition("2026-05-31", "2025-12-31", Monthly, owed("0", "0", "0", "50")),
			2,
			[]string{"2026-06-30 25.00+0.00+0.00", "2026-07-31 25.00+0.00+0.00"},
			"0",
		},
		{
			"quarterly, after a row off the cadence",
			arrearsPosition("2026-03-20", "2025-11-30", Quarterly, owed("0", "0", "0", "60"),
				due("2026-04-15", "300", "9", "0")),
			3,
			[]string{"2026-04-15 320.00+9.00+0.00", "2026-05-30 20.00+0.00+0.00", "2026-08-30 20.00+0.00+0.00"},
			"0",
		},
		{
			"due today, penalty carried",
			arrearsPosition("2026-03-31", "2025-12-31", Monthly, owed("7.50", "1", "5", "50"),
				due("2026-03-31", "100", "10", "2"), due("2026-04-30", "100", "10", "2")),
			2,
			[]string{"2026-03-31 125.00+12.50+2.50", "2026-04-30 125.00+12.50+2.50"},
			"147.50", // 140.00 + the penalty
		},
		{
			"due today, part paid ahead",
			ahead(arrearsPosition("2026-03-31", "2025-12-31", Monthly, owed("7.50", "1", "5", "50"),
				due("2026-03-31", "100", "10", "2"), due("2026-04-30", "100", "10", "2")), "20"),
			2,
			[]string{"2026-03-31 125.00+12.50+2.50", "2026-04-30 125.00+12.50+2.50"},
			"127.50",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := checked(t, tc.pos, func(p Position) (Change, error) { return ArrearsPlan(p, tc.k) })
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for i, r := range c.Rows {
				got = append(got, rowString(r))
				if r.No != tc.pos.FirstNo+i {
					t.Errorf("row %d numbered %d", i, r.No)
				}
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("rows\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
			if !c.DueNow.Equal(dec(tc.dueNow)) {
				t.Errorf("due now %s, want %s", c.DueNow, tc.dueNow)
			}
			past := tc.pos.pastDue()
			if !c.Penalty.Equal(past.Penalty) {
				t.Errorf("penalty %s, want the past-due %s", c.Penalty, past.Penalty)
			}
			scheduled := sumRows(tc.pos.Future, func(r Row) decimal.Decimal { return r.Payment })
			if want := scheduled.Add(past.Total()); !c.TotalPayable.Equal(want) {
				t.Errorf("total payable %s, want scheduled %s + past due %s", c.TotalPayable, scheduled, past.Total())
			}
			if !c.Instalment.Equal(maxPayment(c.Rows)) {
				t.Errorf("instalment %s, want %s", c.Instalment, maxPayment(c.Rows))
			}
			if err := checkArrearsPlan(tc.pos, tc.k, c); err != nil {
				t.Error(err)
			}
		})
	}
}

func TestArrearsPlanRejects(t *testing.T) {
	future := []Row{due("2026-03-31", "100", "10", "2"), due("2026-04-30", "100", "10", "2")}
	pos := arrearsPosition("2026-03-05", "2025-12-31", Monthly, owed("1.50", "1", "5", "50"), future...)
	upToDate := arrearsPosition("2026-03-05", "2025-12-31", Monthly, Amounts{}, future...)
	penaltyOnly := arrearsPosition("2026-03-05", "2025-12-31", Monthly, owed("4.50", "0", "0", "0"), future...)
	tests := []struct {
		name string
		pos  Position
		k    int
		text string
	}{
		{"one instalment", pos, 1, "must be between 2 and 360"},
		{"no instalment", pos, 0, "must be between 2 and 360"},
		{"negative", pos, -2, "must be between 2 and 360"},
		{"more than MaxTerms", pos, MaxTerms + 1, "must be between 2 and 360"},
		{"nothing past due", upToDate, 2, "nothing is past due: the plan is up to date"},
		{"only a penalty past due", penaltyOnly, 2, "nothing is past due but a penalty of 4.50, which is paid, not split"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := checked(t, tc.pos, func(p Position) (Change, error) { return ArrearsPlan(p, tc.k) })
			wantInputError(t, err, FieldInstalments, tc.text)
			if prefix := fmt.Sprintf("arrears plan of %d instalments on %s: ", tc.k, tc.pos.AsOf); !strings.HasPrefix(err.Error(), prefix) {
				t.Errorf("error %q, want it to start %q", err, prefix)
			}
		})
	}
	// an inconsistent position is the caller's fault: a plain error
	bad := pos
	bad.PastDue.Interest = dec("-1")
	noDate := pos
	noDate.AsOf = Date{}
	for _, p := range []Position{bad, noDate} {
		_, err := ArrearsPlan(p, 2)
		var ie *InputError
		if err == nil || errors.As(err, &ie) {
			t.Errorf("inconsistent position %+v: error %v, want a plain error", p, err)
		}
	}
	// MaxTerms instalments are allowed: the rest become new rows
	c, err := checked(t, pos, func(p Position) (Change, error) { return ArrearsPlan(p, MaxTerms) })
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Rows) != MaxTerms {
		t.Errorf("%d rows, want %d", len(c.Rows), MaxTerms)
	}
	if err := checkArrearsPlan(pos, MaxTerms, c); err != nil {
		t.Error(err)
	}
}

// TestArrearsPlanOnSchedules runs the arrears plan on every plan and
// scenario of the other changes.
func TestArrearsPlanOnSchedules(t *testing.T) {
	for _, fx := range changeFixtures(t) {
		left := len(payableRows(fx.pos.Future))
		for _, k := range []int{2, 3, left + 2} {
			t.Run(fmt.Sprintf("%s/%d", fx.name, k), func(t *testing.T) {
				c, err := checked(t, fx.pos, func(p Position) (Change, error) { return ArrearsPlan(p, k) })
				past := fx.pos.pastDue()
				if !past.Principal.Add(past.Interest).Add(past.Fee).IsPositive() {
					wantInputError(t, err, FieldInstalments, "nothing is past due")
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				if err := checkArrearsPlan(fx.pos, k, c); err != nil {
					t.Error(err)
				}
				if want := expectedDueNow(fx.pos, c); !c.DueNow.Equal(want) {
					t.Errorf("due now %s, want %s", c.DueNow, want)
				}
			})
		}
	}
}

// FuzzArrearsPlan runs the arrears plan on plans from fuzzTerms after any
// number of paid and past-due instalments, with some Future rows paused and
// part paid ahead: each result keeps the invariants (Check) and what
// ArrearsPlan documents (checkArrearsPlan), and the only refusal is nothing
// but a penalty past due.
func FuzzArrearsPlan(f *testing.F) {
	f.Add(uint8(0), int64(1000000), uint16(12), uint16(2400), uint16(0), false, false, uint16(30), uint16(3), uint8(2), false, uint8(0), uint16(1), uint16(0))
	f.Add(uint8(1), int64(1234567), uint16(23), uint16(1800), uint16(0), false, true, uint16(59), uint16(5), uint8(1), true, uint8(3), uint16(40), uint16(100))
	f.Add(uint8(3), int64(600000), uint16(12), uint16(0), uint16(60), true, false, uint16(30), uint16(4), uint8(1), false, uint8(0b1010), uint16(7), uint16(65535))
	f.Add(uint8(4), int64(7), uint16(35), uint16(0), uint16(0), false, false, uint16(400), uint16(2), uint8(3), false, uint8(0), uint16(357), uint16(0))
	f.Add(uint8(0), int64(99999999999), uint16(359), uint16(999), uint16(0), false, false, uint16(1000), uint16(300), uint8(59), false, uint8(255), uint16(100), uint16(3))
	// every instalment past due: no Future rows
	f.Add(uint8(2), int64(500000), uint16(6), uint16(1800), uint16(0), false, false, uint16(19), uint16(0), uint8(6), false, uint8(0), uint16(4), uint16(0))
	f.Fuzz(func(t *testing.T, method uint8, cents int64, terms uint16, rateBP uint16, feeBP uint16, upfront bool, quarterly bool, startDay uint16, paid uint16, arrears uint8, dueToday bool, holidays uint8, instalments uint16, aheadShare uint16) {
		plan := fuzzTerms(method, cents, terms, rateBP, feeBP, upfront, quarterly, startDay)
		s, err := BuildSchedule(plan)
		if err != nil {
			t.Fatal(err)
		}
		p := int(paid) % plan.Terms
		a := int(arrears) % (plan.Terms - p + 1)
		dueToday = dueToday && p+a < plan.Terms
		pos, _ := positionAfter(plan, s, p, a, dueToday, decimal.Zero)
		// pause the Future rows of the set bits: at the head, between, last
		for i := range min(8, len(pos.Future)) {
			if holidays&(1<<i) != 0 {
				pos.Future[i] = Row{No: pos.Future[i].No, DueDate: pos.Future[i].DueDate, Principal: decimal.Zero, Interest: decimal.Zero, Fee: decimal.Zero, Payment: decimal.Zero, Balance: pos.Future[i].Balance, Holiday: true}
			}
		}
		scheduled := sumRows(pos.Future, func(r Row) decimal.Decimal { return r.Payment })
		pos.PaidAhead = scheduled.Mul(decimal.NewFromInt(int64(aheadShare))).Div(decimal.NewFromInt(65535)).RoundDown(2)
		k := 2 + int(instalments)%(MaxTerms-1)
		c, err := ArrearsPlan(pos, k)
		if pos.validate() != nil {
			if err == nil {
				t.Fatalf("inconsistent position %+v accepted", pos)
			}
			return // nothing owed at all after the pauses
		}
		past := pos.pastDue()
		if !past.Principal.Add(past.Interest).Add(past.Fee).IsPositive() {
			var ie *InputError
			if !errors.As(err, &ie) || ie.Field != FieldInstalments {
				t.Fatalf("nothing but a penalty %s past due: %v, want an *InputError on %s", past.Penalty, err, FieldInstalments)
			}
			return
		}
		if err != nil {
			t.Fatalf("%d instalments on %+v after %d paid, %d past due: %v", k, plan, p, a, err)
		}
		if err := checkArrearsPlan(pos, k, c); err != nil {
			t.Fatalf("%d instalments on %+v after %d paid, %d past due: %v", k, plan, p, a, err)
		}
		if want := expectedDueNow(pos, c); !c.DueNow.Equal(want) {
			t.Fatalf("due now %s, want %s", c.DueNow, want)
		}
	})
}
