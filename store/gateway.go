package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"
)

// Account is a customer's funding account in the simulated payment
// gateway: auto-debit draws from it. Its balance never goes negative.
type Account struct {
	// ID is assigned by the database unless given (then it is the key).
	ID uuid.UUID
	// CustomerID owns the account.
	CustomerID uuid.UUID
	// Label is a display name ("" allowed).
	Label string
	// Balance is the money on the account, in Currency (default CNY).
	Balance  decimal.Decimal
	Currency string
	// CreatedAt and UpdatedAt are set by the database.
	CreatedAt, UpdatedAt time.Time
}

// Entry kinds of the gateway ledger.
const (
	EntryDebit  = "debit"
	EntryCredit = "credit"
)

// Entry is one movement in the gateway ledger.
type Entry struct {
	// ID is assigned by the database.
	ID uuid.UUID
	// Seq orders the ledger: increasing in the order money moved.
	Seq int64
	// AccountID is the account moved; IdempotencyKey the request's key.
	AccountID      uuid.UUID
	IdempotencyKey string
	// Kind is debit or credit; Amount > 0 in Currency.
	Kind     string
	Amount   decimal.Decimal
	Currency string
	// BalanceAfter is the account balance right after this entry.
	BalanceAfter decimal.Decimal
	// CreatedAt is when the money moved.
	CreatedAt time.Time
}

const accountColumns = `id, customer_id, label, balance, currency, created_at, updated_at`

func accountTargets(a *Account) []any {
	return []any{&a.ID, &a.CustomerID, &a.Label, &a.Balance, &a.Currency, &a.CreatedAt, &a.UpdatedAt}
}

const entryColumns = `id, seq, account_id, idempotency_key, kind, amount, currency, balance_after, created_at`

func entryTargets(e *Entry) []any {
	return []any{&e.ID, &e.Seq, &e.AccountID, &e.IdempotencyKey, &e.Kind, &e.Amount, &e.Currency, &e.BalanceAfter, &e.CreatedAt}
}

// CreateAccount opens a funding account with a zero balance (money arrives
// with Fund). With a given ID a repeat returns the stored account; a
// different customer or currency under that ID is ErrConflict.
func (s *Store) CreateAccount(ctx context.Context, a Account) (Account, error) {
	a.Currency = currencyOr(a.Currency)
	var out Account
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		id := a.ID
		if id == uuid.Nil {
			id = uuid.New()
		}
		err := tx.QueryRow(ctx, `INSERT INTO funding_accounts (id, customer_id, label, currency) VALUES ($1, $2, $3, $4)
			ON CONFLICT (id) DO NOTHING RETURNING `+accountColumns, id, a.CustomerID, a.Label, a.Currency).
			Scan(accountTargets(&out)...)
		if err == nil {
			return audit(ctx, tx, uuid.Nil, out.CustomerID, ActorSystem, "account.created", map[string]any{
				"account_id": out.ID, "currency": out.Currency})
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return classify(err)
		}
		if err := tx.QueryRow(ctx, `SELECT `+accountColumns+` FROM funding_accounts WHERE id = $1`, id).
			Scan(accountTargets(&out)...); err != nil {
			return classify(err)
		}
		var d diff
		d.id("customer", out.CustomerID, a.CustomerID)
		d.str("currency", out.Currency, a.Currency)
		d.str("label", out.Label, a.Label)
		return d.err()
	})
	if err != nil {
		return Account{}, fmt.Errorf("create account %s for customer %s: %w", a.ID, a.CustomerID, err)
	}
	return out, nil
}

// GetAccount returns the funding account with id.
func (s *Store) GetAccount(ctx context.Context, id uuid.UUID) (Account, error) {
	var a Account
	if err := s.db().QueryRow(ctx, `SELECT `+accountColumns+` FROM funding_accounts WHERE id = $1`, id).
		Scan(accountTargets(&a)...); err != nil {
		return Account{}, fmt.Errorf("get account %s: %w", id, classify(err))
	}
	return a, nil
}

// Entries returns the ledger of an account, oldest first.
func (s *Store) Entries(ctx context.Context, accountID uuid.UUID) ([]Entry, error) {
	rows, err := s.db().Query(ctx, `SELECT `+entryColumns+` FROM account_entries WHERE account_id = $1
		ORDER BY seq`, accountID)
	if err != nil {
		return nil, fmt.Errorf("entries account %s: %w", accountID, err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Entry, error) {
		var e Entry
		err := r.Scan(entryTargets(&e)...)
		return e, err
	})
	if err != nil {
		return nil, fmt.Errorf("entries account %s: %w", accountID, err)
	}
	return out, nil
}

// Fund credits amount to an account (a top-up in the simulated gateway).
// The same key credits once: a repeat returns the first entry; the key
// reused for another account, amount or kind is ErrConflict.
func (s *Store) Fund(ctx context.Context, accountID uuid.UUID, amount decimal.Decimal, key string) (Entry, error) {
	e, err := s.move(ctx, accountID, EntryCredit, amount, key)
	if err != nil {
		return Entry{}, fmt.Errorf("fund account %s key %s: %w", accountID, key, err)
	}
	return e, nil
}

// Debit charges amount to an account: balance check, decrement and ledger
// entry in one transaction. The same key charges at most once: a repeat
// returns the first result, the entry of a debit that went through or
// ErrInsufficientFunds again for one that was declined (a declined key
// stays declined; a retry needs a new key). A balance below amount is
// ErrInsufficientFunds, recorded in account_declines without touching the
// balance or the ledger. The key reused for another account, amount or
// kind is ErrConflict.
func (s *Store) Debit(ctx context.Context, accountID uuid.UUID, amount decimal.Decimal, key string) (Entry, error) {
	e, err := s.move(ctx, accountID, EntryDebit, amount, key)
	if err != nil {
		return Entry{}, fmt.Errorf("debit account %s key %s: %w", accountID, key, err)
	}
	return e, nil
}

// move applies a debit or credit keyed by key.
func (s *Store) move(ctx context.Context, accountID uuid.UUID, kind string, amount decimal.Decimal, key string) (Entry, error) {
	if key == "" {
		return Entry{}, invalid("idempotency key is required")
	}
	if err := money("amount", amount, true); err != nil {
		return Entry{}, err
	}
	var (
		out      Entry
		declined *decline
	)
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		declined = nil
		// Every movement of an account holds its row lock: balance checks
		// and decrements of one account run one at a time, and a request
		// that waited sees the entries committed before it.
		var acct Account
		if err := tx.QueryRow(ctx, `SELECT `+accountColumns+` FROM funding_accounts WHERE id = $1 FOR UPDATE`, accountID).
			Scan(accountTargets(&acct)...); err != nil {
			return classify(err)
		}
		// A repeated key returns the first result.
		err := tx.QueryRow(ctx, `SELECT `+entryColumns+` FROM account_entries WHERE idempotency_key = $1`, key).
			Scan(entryTargets(&out)...)
		if err == nil {
			return sameRequest(out.AccountID, out.Kind, out.Amount, accountID, kind, amount)
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		var (
			declinedAccount uuid.UUID
			declinedAmount  decimal.Decimal
			declinedBalance decimal.Decimal
		)
		err = tx.QueryRow(ctx, `SELECT account_id, amount, balance FROM account_declines WHERE idempotency_key = $1`, key).
			Scan(&declinedAccount, &declinedAmount, &declinedBalance)
		if err == nil {
			if err := sameRequest(declinedAccount, EntryDebit, declinedAmount, accountID, kind, amount); err != nil {
				return err
			}
			return fmt.Errorf("%w: balance was %s, asked %s (declined before under this key)",
				ErrInsufficientFunds, declinedBalance, declinedAmount)
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return err
		}

		balance := acct.Balance.Add(amount)
		if kind == EntryDebit {
			if acct.Balance.LessThan(amount) {
				tag, err := tx.Exec(ctx, `INSERT INTO account_declines (account_id, idempotency_key, amount, currency, reason, balance)
					VALUES ($1, $2, $3, $4, 'insufficient_funds', $5) ON CONFLICT (idempotency_key) DO NOTHING`,
					accountID, key, amount, acct.Currency, acct.Balance)
				if err != nil {
					return classify(err)
				}
				if tag.RowsAffected() == 0 {
					return errRetry // the same key was declined on another account meanwhile
				}
				if err := audit(ctx, tx, uuid.Nil, acct.CustomerID, ActorSystem, "gateway.declined", map[string]any{
					"account_id": accountID, "key": key, "amount": amount, "balance": acct.Balance,
					"reason": "insufficient_funds"}); err != nil {
					return err
				}
				// Commit the decline, then report it.
				declined = &decline{balance: acct.Balance, amount: amount}
				return nil
			}
			balance = acct.Balance.Sub(amount)
		}
		err = tx.QueryRow(ctx, `INSERT INTO account_entries (account_id, idempotency_key, kind, amount, currency, balance_after)
			VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (idempotency_key) DO NOTHING RETURNING `+entryColumns,
			accountID, key, kind, amount, acct.Currency, balance).Scan(entryTargets(&out)...)
		if errors.Is(err, pgx.ErrNoRows) {
			return errRetry // the same key moved another account meanwhile
		}
		if err != nil {
			return classify(err)
		}
		if _, err := tx.Exec(ctx, `UPDATE funding_accounts SET balance = $2, updated_at = now() WHERE id = $1`,
			accountID, balance); err != nil {
			return classify(err)
		}
		return audit(ctx, tx, uuid.Nil, acct.CustomerID, ActorSystem, "gateway."+kind, map[string]any{
			"account_id": accountID, "key": key, "amount": amount, "balance_after": balance, "entry_id": out.ID})
	})
	if err != nil {
		return Entry{}, err
	}
	if declined != nil {
		return Entry{}, fmt.Errorf("%w: balance %s is less than %s", ErrInsufficientFunds, declined.balance, declined.amount)
	}
	return out, nil
}

// decline carries a committed decline out of the transaction closure.
type decline struct{ balance, amount decimal.Decimal }

// sameRequest checks that a stored gateway result answers this request.
func sameRequest(storedAccount uuid.UUID, storedKind string, storedAmount decimal.Decimal,
	account uuid.UUID, kind string, amount decimal.Decimal) error {
	var d diff
	d.id("account", storedAccount, account)
	d.str("kind", storedKind, kind)
	d.dec("amount", storedAmount, amount)
	return d.err()
}
