package store

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"
)

// TestDebitSameKeyConcurrentlyChargesOnce fires 50 debits with one key at
// once: exactly one charge, and every caller gets that same entry.
func TestDebitSameKeyConcurrentlyChargesOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newStore(t)
	f := newFixture(t, s)
	must(s.Fund(ctx, f.account.ID, dec("1000"), "fund"))(t)

	const n = 50
	entries := make([]Entry, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			entries[i], errs[i] = s.Debit(ctx, f.account.ID, dec("123.45"), "instalment-1-attempt-1")
		}()
	}
	close(start)
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("debit #%d: %v", i, errs[i])
		}
		if entries[i].ID != entries[0].ID || !entries[i].BalanceAfter.Equal(dec("876.55")) {
			t.Fatalf("debit #%d returned entry %+v, want the first one %+v", i, entries[i], entries[0])
		}
	}
	acct := must(s.GetAccount(ctx, f.account.ID))(t)
	if !acct.Balance.Equal(dec("876.55")) {
		t.Fatalf("balance %s, want 876.55 (charged once)", acct.Balance)
	}
	if got := count(t, s, `SELECT count(*) FROM account_entries WHERE account_id = $1 AND kind = 'debit'`, f.account.ID); got != 1 {
		t.Fatalf("%d debit entries, want 1", got)
	}
}

// TestConcurrentDebitsNeverOverdraw fires 50 debits of 10.00 with distinct
// keys at an account holding 200.00: exactly 20 go through, 30 are declined
// as insufficient funds, the balance ends at exactly 0.00 and the ledger
// never shows a negative balance.
func TestConcurrentDebitsNeverOverdraw(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newStore(t)
	f := newFixture(t, s)
	must(s.Fund(ctx, f.account.ID, dec("200"), "fund"))(t)

	const n = 50
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			_, errs[i] = s.Debit(ctx, f.account.ID, dec("10"), fmt.Sprintf("debit-%02d", i))
		}()
	}
	close(start)
	wg.Wait()
	succeeded, declined := 0, 0
	for i, err := range errs {
		switch {
		case err == nil:
			succeeded++
		case errors.Is(err, ErrInsufficientFunds):
			declined++
		default:
			t.Fatalf("debit #%d: unexpected error %v", i, err)
		}
	}
	if succeeded != 20 || declined != 30 {
		t.Fatalf("%d succeeded and %d declined, want 20 and 30", succeeded, declined)
	}
	acct := must(s.GetAccount(ctx, f.account.ID))(t)
	if !acct.Balance.Equal(decimal.Zero) {
		t.Fatalf("balance %s, want 0.00", acct.Balance)
	}
	entries := must(s.Entries(ctx, f.account.ID))(t)
	if len(entries) != 21 {
		t.Fatalf("%d ledger entries, want 21 (1 credit, 20 debits)", len(entries))
	}
	// Replaying the ledger gives every balance_after, never below zero.
	running := decimal.Zero
	for _, e := range entries {
		if e.Kind == EntryCredit {
			running = running.Add(e.Amount)
		} else {
			running = running.Sub(e.Amount)
		}
		if !e.BalanceAfter.Equal(running) || e.BalanceAfter.IsNegative() {
			t.Fatalf("entry %s balance_after %s, replayed %s", e.IdempotencyKey, e.BalanceAfter, running)
		}
	}
	if got := count(t, s, `SELECT count(*) FROM account_declines WHERE account_id = $1`, f.account.ID); got != 30 {
		t.Fatalf("%d declines recorded, want 30", got)
	}
}

// TestDebitInsufficientFunds checks the typed decline, that it moves no
// money, that its key stays declined and that a new key can succeed.
func TestDebitInsufficientFunds(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newStore(t)
	f := newFixture(t, s)
	must(s.Fund(ctx, f.account.ID, dec("50"), "fund"))(t)

	_, err := s.Debit(ctx, f.account.ID, dec("50.01"), "try-1")
	wantIs(t, err, ErrInsufficientFunds)
	if acct := must(s.GetAccount(ctx, f.account.ID))(t); !acct.Balance.Equal(dec("50")) {
		t.Fatalf("a declined debit changed the balance to %s", acct.Balance)
	}
	if got := count(t, s, `SELECT count(*) FROM account_entries WHERE account_id = $1`, f.account.ID); got != 1 {
		t.Fatalf("a declined debit wrote a ledger entry (%d entries)", got)
	}
	must(s.Fund(ctx, f.account.ID, dec("100"), "fund-2"))(t)
	_, err = s.Debit(ctx, f.account.ID, dec("50.01"), "try-1")
	wantIs(t, err, ErrInsufficientFunds) // the first result, not a second try
	e := must(s.Debit(ctx, f.account.ID, dec("50.01"), "try-2"))(t)
	if !e.BalanceAfter.Equal(dec("99.99")) {
		t.Fatalf("balance after the new key %s, want 99.99", e.BalanceAfter)
	}
}

// TestGatewayRejectsMisuse covers bad amounts, key reuse and unknown
// accounts.
func TestGatewayRejectsMisuse(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newStore(t)
	f := newFixture(t, s)
	must(s.Fund(ctx, f.account.ID, dec("100"), "fund"))(t)
	must(s.Debit(ctx, f.account.ID, dec("10"), "d1"))(t)
	other := newFixture(t, s)
	must(s.Fund(ctx, other.account.ID, dec("100"), "fund-other"))(t)

	cases := []struct {
		name string
		call func() error
		want error
	}{
		{"zero amount", func() error { _, err := s.Debit(ctx, f.account.ID, dec("0"), "z"); return err }, ErrInvalid},
		{"negative amount", func() error { _, err := s.Fund(ctx, f.account.ID, dec("-1"), "n"); return err }, ErrInvalid},
		{"three decimal places", func() error { _, err := s.Debit(ctx, f.account.ID, dec("1.005"), "p"); return err }, ErrInvalid},
		{"empty key", func() error { _, err := s.Debit(ctx, f.account.ID, dec("1"), ""); return err }, ErrInvalid},
		{"key reused for another amount", func() error { _, err := s.Debit(ctx, f.account.ID, dec("11"), "d1"); return err }, ErrConflict},
		{"debit key reused as a credit", func() error { _, err := s.Fund(ctx, f.account.ID, dec("10"), "d1"); return err }, ErrConflict},
		{"key reused on another account", func() error { _, err := s.Debit(ctx, other.account.ID, dec("10"), "d1"); return err }, ErrConflict},
		{"unknown account", func() error { _, err := s.Debit(ctx, uuid.New(), dec("1"), "u"); return err }, ErrNotFound},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			wantIs(t, c.call(), c.want)
		})
	}
	if acct := must(s.GetAccount(ctx, f.account.ID))(t); !acct.Balance.Equal(dec("90")) {
		t.Fatalf("balance %s after refused calls, want 90", acct.Balance)
	}
	if acct := must(s.GetAccount(ctx, other.account.ID))(t); !acct.Balance.Equal(dec("100")) {
		t.Fatalf("other balance %s after refused calls, want 100", acct.Balance)
	}
}

// TestDebitAttemptFlow records an attempt as pending, debits the gateway,
// settles the attempt with the entry and records the auto-debit payment.
func TestDebitAttemptFlow(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newStore(t)
	f := newFixture(t, s)
	f.activate(t)
	must(s.Fund(ctx, f.account.ID, dec("1500"), "fund"))(t)
	a := DebitAttempt{PlanID: f.plan.ID, ScheduleVersion: 1, InstalmentNo: 1, Attempt: 1,
		IdempotencyKey: "plan-1-v1-1-a1", AccountID: f.account.ID, Amount: dec("1030")}
	pending := must(s.RecordDebitAttempt(ctx, a))(t)
	if pending.Outcome != DebitPending || pending.Currency != "CNY" {
		t.Fatalf("recorded attempt %+v", pending)
	}
	entry := must(s.Debit(ctx, f.account.ID, a.Amount, a.IdempotencyKey))(t)
	a.Outcome, a.AccountEntryID = DebitSucceeded, entry.ID
	settled := must(s.RecordDebitAttempt(ctx, a))(t)
	if settled.ID != pending.ID || settled.Outcome != DebitSucceeded || settled.AccountEntryID != entry.ID {
		t.Fatalf("settled attempt %+v", settled)
	}
	// A late repeat of the pending record changes nothing; another outcome conflicts.
	a2 := a
	a2.Outcome, a2.AccountEntryID = DebitPending, uuid.Nil
	if got := must(s.RecordDebitAttempt(ctx, a2))(t); got.Outcome != DebitSucceeded {
		t.Fatalf("pending repeat changed the attempt to %s", got.Outcome)
	}
	a2.Outcome = DebitFailed
	_, err := s.RecordDebitAttempt(ctx, a2)
	wantIs(t, err, ErrConflict)
	// The same attempt under another key is refused.
	a3 := a
	a3.IdempotencyKey, a3.Outcome, a3.AccountEntryID = "other-key", DebitPending, uuid.Nil
	_, err = s.RecordDebitAttempt(ctx, a3)
	wantIs(t, err, ErrConflict)
	// An attempt of an instalment that does not exist.
	a4 := a3
	a4.IdempotencyKey, a4.InstalmentNo = "k-99", 99
	_, err = s.RecordDebitAttempt(ctx, a4)
	wantIs(t, err, ErrNotFound)

	p := must(s.RecordPayment(ctx, Payment{PlanID: f.plan.ID, PaymentID: a.IdempotencyKey, Source: SourceAutoDebit,
		DebitAttemptID: settled.ID, Amount: entry.Amount, ReceivedAt: entry.CreatedAt, Allocations: []Allocation{
			{ScheduleVersion: 1, InstalmentNo: 1, Component: ComponentInterest, Amount: dec("30")},
			{ScheduleVersion: 1, InstalmentNo: 1, Component: ComponentPrincipal, Amount: dec("1000")},
		}}))(t)
	if !p.Unallocated().IsZero() {
		t.Fatalf("unallocated %s", p.Unallocated())
	}
	inst := must(s.GetInstalment(ctx, f.plan.ID, 1, 1))(t)
	if inst.Status != InstalmentPaid || !inst.PaidAt.Equal(entry.CreatedAt) || !inst.Outstanding().IsZero() {
		t.Fatalf("instalment after the auto-debit %+v", inst)
	}
	attempts := must(s.DebitAttempts(ctx, f.plan.ID, 1, 1))(t)
	if len(attempts) != 1 || attempts[0].ID != settled.ID {
		t.Fatalf("attempts %+v", attempts)
	}
}
