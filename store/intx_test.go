package store

import (
	"context"
	"errors"
	"testing"
)

// TestInTx checks what an activity relies on when it makes its writes in
// one transaction: all or none of them, the audit entries in the order
// they were made, and an answer (ErrCreditLine) that undoes only its own
// writes.
func TestInTx(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)

	t.Run("a failure rolls back every write", func(t *testing.T) {
		f := newFixture(t, s)
		auditBefore := count(t, s, `SELECT count(*) FROM audit_log WHERE plan_id = $1`, f.plan.ID)
		boom := errors.New("boom")
		err := s.InTx(ctx, func(tx *Store) error {
			if _, err := tx.SetPlanState(ctx, f.plan.ID, StateChange{From: StateAssessing, To: StateOffered}); err != nil {
				return err
			}
			if _, err := tx.SetCreditLimit(ctx, f.plan.ID, dec("4000")); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("InTx = %v, want boom", err)
		}
		p, err := s.GetPlan(ctx, f.plan.ID)
		if err != nil {
			t.Fatal(err)
		}
		if p.State != StateAssessing || p.CreditLimit != f.plan.CreditLimit {
			t.Errorf("after the rollback the plan is %s with credit limit %v, want %s with %v", p.State, p.CreditLimit, StateAssessing, f.plan.CreditLimit)
		}
		if n := count(t, s, `SELECT count(*) FROM audit_log WHERE plan_id = $1`, f.plan.ID); n != auditBefore {
			t.Errorf("audit entries of the plan: %d after the rollback, want %d", n, auditBefore)
		}
	})

	t.Run("a commit keeps the writes and their audit entries in order", func(t *testing.T) {
		f := newFixture(t, s)
		var inside []AuditEntry
		err := s.InTx(ctx, func(tx *Store) error {
			if _, err := tx.SetPlanState(ctx, f.plan.ID, StateChange{From: StateAssessing, To: StateOffered}); err != nil {
				return err
			}
			if _, err := tx.SetCreditLimit(ctx, f.plan.ID, dec("4000")); err != nil {
				return err
			}
			if _, err := tx.SetPlanState(ctx, f.plan.ID, StateChange{From: StateOffered, To: StateSigning}); err != nil {
				return err
			}
			var err error
			inside, err = tx.AuditLog(ctx, f.plan.ID) // sees what the transaction holds back
			return err
		})
		if err != nil {
			t.Fatalf("InTx: %v", err)
		}
		after, err := s.AuditLog(ctx, f.plan.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(inside) != len(after) || len(after) < 3 {
			t.Fatalf("audit entries: %d read inside the transaction, %d after it, want the same and at least 3", len(inside), len(after))
		}
		var actions []string
		for _, e := range after[len(after)-3:] {
			actions = append(actions, e.Action)
		}
		want := []string{"plan.state", "plan.credit_limit", "plan.state"}
		for i := range want {
			if actions[i] != want[i] {
				t.Fatalf("the last audit actions are %v, want %v", actions, want)
			}
		}
		p, err := s.GetPlan(ctx, f.plan.ID)
		if err != nil {
			t.Fatal(err)
		}
		if p.State != StateSigning || !p.CreditLimit.Valid || !p.CreditLimit.Decimal.Equal(dec("4000")) {
			t.Errorf("plan is %s with credit limit %v, want signing with 4000", p.State, p.CreditLimit)
		}
	})

	t.Run("a refused activation undoes its own writes only", func(t *testing.T) {
		f := newFixture(t, s)
		if _, err := s.SetPlanTerms(ctx, f.plan.ID, f.plan.OfferID, PlanTerms{Principal: dec("3000"), Method: "annuity",
			Terms: 3, AnnualRate: dec("0.12"), StartDate: day(2025, 1, 1)}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.SetPlanState(ctx, f.plan.ID, StateChange{From: StateAssessing, To: StateSigning}); err != nil {
			t.Fatal(err)
		}
		err := s.InTx(ctx, func(tx *Store) error {
			if _, err := tx.SetFundingAccount(ctx, f.plan.ID, f.account.ID); err != nil {
				return err
			}
			_, err := tx.ActivatePlan(ctx, Activation{PlanID: f.plan.ID, CreditLimit: dec("1000"), Principal: dec("3000"),
				StartDate: day(2025, 1, 1), Version: ScheduleVersion{Version: 1, Reason: "initial"}, Rows: threeRows()})
			if !errors.Is(err, ErrCreditLine) {
				t.Errorf("ActivatePlan over the credit line = %v, want ErrCreditLine", err)
			}
			return nil // the refusal is an answer: the transaction goes on
		})
		if err != nil {
			t.Fatalf("InTx: %v", err)
		}
		p, err := s.GetPlan(ctx, f.plan.ID)
		if err != nil {
			t.Fatal(err)
		}
		if p.FundingAccountID != f.account.ID {
			t.Errorf("the write before the refusal was lost: funding account %s, want %s", p.FundingAccountID, f.account.ID)
		}
		if p.State != StateSigning {
			t.Errorf("plan is %s, want signing", p.State)
		}
		if n := count(t, s, `SELECT count(*) FROM credit_lines WHERE customer_id = $1`, f.customer.ID); n != 0 {
			t.Errorf("the refused activation left %d credit line rows, want 0", n)
		}
		if n := count(t, s, `SELECT count(*) FROM instalments WHERE plan_id = $1`, f.plan.ID); n != 0 {
			t.Errorf("the refused activation left %d instalments, want 0", n)
		}
	})
}
