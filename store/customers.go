package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/fenqi/fenqi/pii"
)

// Customer is a borrower. The identifying fields (Name, Phone, Email,
// IDNumber, PushID) are plaintext here and sealed in the database (see
// seal.go); LogValue masks them.
type Customer struct {
	// ID is assigned by the database unless given.
	ID uuid.UUID
	// ExternalRef is the customer's id in the front-end; the business key.
	ExternalRef string
	// Identifying and contact details; "" means not given.
	Name, Phone, Email, IDNumber, PushID string
	// Profile holds non-identifying attributes as a JSON object.
	Profile json.RawMessage
	// PreferredChannel is sms (default), email, push, phone or letter.
	PreferredChannel string
	// TimeZone is an IANA zone name; default Asia/Shanghai.
	TimeZone string
	// CreatedAt and UpdatedAt are set by the database.
	CreatedAt, UpdatedAt time.Time
}

const customerColumns = `id, external_ref, name, phone, email, id_number, push_id, profile,
	preferred_channel, time_zone, created_at, updated_at`

// customerTargets scans a row as stored: the personal fields sealed
// (openCustomer decrypts them).
func customerTargets(c *Customer) []any {
	return []any{&c.ID, &c.ExternalRef, str(&c.Name), str(&c.Phone), str(&c.Email), str(&c.IDNumber),
		str(&c.PushID), &c.Profile, &c.PreferredChannel, &c.TimeZone, &c.CreatedAt, &c.UpdatedAt}
}

// personal lists a customer's personal fields with their columns.
func (c *Customer) personal() []struct {
	column string
	p      *string
} {
	return []struct {
		column string
		p      *string
	}{{"customers.name", &c.Name}, {"customers.phone", &c.Phone}, {"customers.email", &c.Email},
		{"customers.id_number", &c.IDNumber}, {"customers.push_id", &c.PushID}}
}

// sealCustomer is c with its personal fields sealed, for a write.
func (s *Store) sealCustomer(c Customer) (Customer, error) {
	for _, f := range c.personal() {
		v, err := s.seal(f.column, *f.p)
		if err != nil {
			return Customer{}, err
		}
		*f.p = v
	}
	return c, nil
}

// openCustomer decrypts a scanned customer in place and reports whether
// a field was plaintext or sealed with a key other than the active one
// (the row should be resealed).
func (s *Store) openCustomer(c *Customer) (stale bool, err error) {
	for _, f := range c.personal() {
		if !s.fresh(*f.p) {
			stale = true
		}
		if *f.p, err = s.open(f.column, *f.p); err != nil {
			return false, fmt.Errorf("customer %s: %w", c.ExternalRef, err)
		}
	}
	return stale, nil
}

// scanCustomer scans and opens a customer row.
func (s *Store) scanCustomer(row pgx.Row, c *Customer) (stale bool, err error) {
	if err := row.Scan(customerTargets(c)...); err != nil {
		return false, classify(err)
	}
	return s.openCustomer(c)
}

// LogValue shows the customer in logs with its personal fields masked.
func (c Customer) LogValue() slog.Value {
	return slog.GroupValue(slog.String("id", c.ID.String()), slog.String("external_ref", c.ExternalRef),
		slog.String("name", pii.MaskName(c.Name)), slog.String("phone", pii.MaskPhone(c.Phone)),
		slog.String("email", pii.MaskEmail(c.Email)), slog.String("id_number", pii.MaskIDNumber(c.IDNumber)),
		slog.String("push_id", pii.MaskPushID(c.PushID)), slog.String("preferred_channel", c.PreferredChannel))
}

func (c *Customer) normalise() error {
	if c.ExternalRef == "" {
		return invalid("external ref is required")
	}
	c.PreferredChannel = orDefault(c.PreferredChannel, "sms")
	c.TimeZone = orDefault(c.TimeZone, "Asia/Shanghai")
	if _, err := time.LoadLocation(c.TimeZone); err != nil {
		return invalid("time zone %q: %v", c.TimeZone, err)
	}
	profile, err := object("profile", c.Profile)
	if err != nil {
		return err
	}
	c.Profile = profile
	return nil
}

// UpsertCustomer stores a customer keyed by ExternalRef. A repeat with the
// same details returns the stored customer; different details are
// ErrConflict (use UpdateCustomer to change them).
func (s *Store) UpsertCustomer(ctx context.Context, c Customer) (Customer, error) {
	if err := c.normalise(); err != nil {
		return Customer{}, fmt.Errorf("upsert customer %s: %w", c.ExternalRef, err)
	}
	sealed, err := s.sealCustomer(c)
	if err != nil {
		return Customer{}, fmt.Errorf("upsert customer %s: %w", c.ExternalRef, err)
	}
	var out Customer
	err = s.inTx(ctx, func(tx pgx.Tx) error {
		id := c.ID
		if id == uuid.Nil {
			id = uuid.New()
		}
		_, err := s.scanCustomer(tx.QueryRow(ctx, `INSERT INTO customers (id, external_ref, name, phone, email, id_number, push_id,
				profile, preferred_channel, time_zone)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
			ON CONFLICT (external_ref) DO NOTHING
			RETURNING `+customerColumns,
			id, c.ExternalRef, nullString(sealed.Name), nullString(sealed.Phone), nullString(sealed.Email), nullString(sealed.IDNumber),
			nullString(sealed.PushID), []byte(c.Profile), c.PreferredChannel, c.TimeZone), &out)
		if err == nil {
			return audit(ctx, tx, uuid.Nil, out.ID, ActorSystem, "customer.created", map[string]any{"external_ref": out.ExternalRef})
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		stale, err := s.scanCustomer(tx.QueryRow(ctx, `SELECT `+customerColumns+` FROM customers WHERE external_ref = $1 FOR UPDATE`,
			c.ExternalRef), &out)
		if err != nil {
			return err
		}
		if err := customerDiff(out, c).err(); err != nil {
			return err
		}
		if stale {
			// Written before encryption, or under an older key: reseal.
			return s.resealCustomer(ctx, tx, out)
		}
		return nil
	})
	if err != nil {
		return Customer{}, fmt.Errorf("upsert customer %s: %w", c.ExternalRef, err)
	}
	return out, nil
}

func customerDiff(stored, given Customer) diff {
	var d diff
	if given.ID != uuid.Nil {
		d.id("id", stored.ID, given.ID)
	}
	// Personal values are masked: the error reaches logs and Temporal.
	d.masked("name", pii.Name, stored.Name, given.Name)
	d.masked("phone", pii.Phone, stored.Phone, given.Phone)
	d.masked("email", pii.Email, stored.Email, given.Email)
	d.masked("id number", pii.IDNumber, stored.IDNumber, given.IDNumber)
	d.masked("push id", pii.PushID, stored.PushID, given.PushID)
	d.json("profile", stored.Profile, given.Profile)
	d.str("preferred channel", stored.PreferredChannel, given.PreferredChannel)
	d.str("time zone", stored.TimeZone, given.TimeZone)
	return d
}

// UpdateCustomer replaces the details of the customer with c.ExternalRef
// (ID and CreatedAt are kept) and records the change in the audit log.
func (s *Store) UpdateCustomer(ctx context.Context, c Customer) (Customer, error) {
	if err := c.normalise(); err != nil {
		return Customer{}, fmt.Errorf("update customer %s: %w", c.ExternalRef, err)
	}
	sealed, err := s.sealCustomer(c)
	if err != nil {
		return Customer{}, fmt.Errorf("update customer %s: %w", c.ExternalRef, err)
	}
	var out Customer
	err = s.inTx(ctx, func(tx pgx.Tx) error {
		var before Customer
		stale, err := s.scanCustomer(tx.QueryRow(ctx, `SELECT `+customerColumns+` FROM customers WHERE external_ref = $1 FOR UPDATE`,
			c.ExternalRef), &before)
		if err != nil {
			return err
		}
		c.ID = uuid.Nil
		changed := customerDiff(before, c)
		if len(changed) == 0 {
			out = before
			if stale {
				return s.resealCustomer(ctx, tx, before)
			}
			return nil
		}
		if _, err := s.scanCustomer(tx.QueryRow(ctx, `UPDATE customers SET name = $2, phone = $3, email = $4, id_number = $5,
				push_id = $6, profile = $7, preferred_channel = $8, time_zone = $9, updated_at = now()
			WHERE external_ref = $1 RETURNING `+customerColumns,
			c.ExternalRef, nullString(sealed.Name), nullString(sealed.Phone), nullString(sealed.Email), nullString(sealed.IDNumber),
			nullString(sealed.PushID), []byte(c.Profile), c.PreferredChannel, c.TimeZone), &out); err != nil {
			return err
		}
		// The audit names the fields changed, never their (identifying) values.
		fields := []string{}
		for _, f := range []struct {
			name    string
			changed bool
		}{
			{"name", before.Name != out.Name}, {"phone", before.Phone != out.Phone},
			{"email", before.Email != out.Email}, {"id_number", before.IDNumber != out.IDNumber},
			{"push_id", before.PushID != out.PushID}, {"profile", !jsonEqual(before.Profile, out.Profile)},
			{"preferred_channel", before.PreferredChannel != out.PreferredChannel},
			{"time_zone", before.TimeZone != out.TimeZone},
		} {
			if f.changed {
				fields = append(fields, f.name)
			}
		}
		return audit(ctx, tx, uuid.Nil, out.ID, ActorSystem, "customer.updated", map[string]any{"fields": fields})
	})
	if err != nil {
		return Customer{}, fmt.Errorf("update customer %s: %w", c.ExternalRef, err)
	}
	return out, nil
}

// GetCustomer returns the customer with id.
func (s *Store) GetCustomer(ctx context.Context, id uuid.UUID) (Customer, error) {
	var c Customer
	if _, err := s.scanCustomer(s.db().QueryRow(ctx, `SELECT `+customerColumns+` FROM customers WHERE id = $1`, id), &c); err != nil {
		return Customer{}, fmt.Errorf("get customer %s: %w", id, err)
	}
	return c, nil
}

// GetCustomerByRef returns the customer with the external ref.
func (s *Store) GetCustomerByRef(ctx context.Context, externalRef string) (Customer, error) {
	var c Customer
	if _, err := s.scanCustomer(s.db().QueryRow(ctx, `SELECT `+customerColumns+` FROM customers WHERE external_ref = $1`,
		externalRef), &c); err != nil {
		return Customer{}, fmt.Errorf("get customer %s: %w", externalRef, err)
	}
	return c, nil
}

// resealCustomer writes c's personal fields sealed with the active key
// (c is opened; its row is locked by the caller's transaction).
func (s *Store) resealCustomer(ctx context.Context, tx pgx.Tx, c Customer) error {
	sealed, err := s.sealCustomer(c)
	if err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `UPDATE customers SET name = $2, phone = $3, email = $4, id_number = $5, push_id = $6
		WHERE id = $1`, c.ID, nullString(sealed.Name), nullString(sealed.Phone), nullString(sealed.Email),
		nullString(sealed.IDNumber), nullString(sealed.PushID)); err != nil {
		return classify(err)
	}
	return nil
}

// ResealCustomers seals, with the active key, every customer's personal
// fields that are plaintext (rows written before encryption) or sealed
// with another key (after a rotation), and returns how many customers it
// rewrote. Run it after adding a key to the ring; a key can leave the
// ring once no value sealed with it is kept (agreements are immutable:
// their text keeps the key it was sealed with).
func (s *Store) ResealCustomers(ctx context.Context) (int, error) {
	rows, err := s.db().Query(ctx, `SELECT id FROM customers ORDER BY id`)
	if err != nil {
		return 0, fmt.Errorf("reseal customers: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
	if err != nil {
		return 0, fmt.Errorf("reseal customers: %w", err)
	}
	n := 0
	for _, id := range ids {
		err := s.inTx(ctx, func(tx pgx.Tx) error {
			var c Customer
			stale, err := s.scanCustomer(tx.QueryRow(ctx, `SELECT `+customerColumns+` FROM customers WHERE id = $1 FOR UPDATE`, id), &c)
			if err != nil || !stale {
				return err
			}
			n++
			return s.resealCustomer(ctx, tx, c)
		})
		if err != nil {
			return n, fmt.Errorf("reseal customer %s: %w", id, err)
		}
	}
	return n, nil
}
