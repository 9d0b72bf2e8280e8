package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// Customer is a borrower. The identifying fields (Name, Phone, Email,
// IDNumber) are plain text for now; a later change encrypts them.
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

func customerTargets(c *Customer) []any {
	return []any{&c.ID, &c.ExternalRef, str(&c.Name), str(&c.Phone), str(&c.Email), str(&c.IDNumber),
		str(&c.PushID), &c.Profile, &c.PreferredChannel, &c.TimeZone, &c.CreatedAt, &c.UpdatedAt}
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
	var out Customer
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		id := c.ID
		if id == uuid.Nil {
			id = uuid.New()
		}
		err := tx.QueryRow(ctx, `INSERT INTO customers (id, external_ref, name, phone, email, id_number, push_id,
				profile, preferred_channel, time_zone)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
			ON CONFLICT (external_ref) DO NOTHING
			RETURNING `+customerColumns,
			id, c.ExternalRef, nullString(c.Name), nullString(c.Phone), nullString(c.Email), nullString(c.IDNumber),
			nullString(c.PushID), []byte(c.Profile), c.PreferredChannel, c.TimeZone).Scan(customerTargets(&out)...)
		if err == nil {
			return audit(ctx, tx, uuid.Nil, out.ID, ActorSystem, "customer.created", map[string]any{"external_ref": out.ExternalRef})
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return classify(err)
		}
		if err := tx.QueryRow(ctx, `SELECT `+customerColumns+` FROM customers WHERE external_ref = $1`, c.ExternalRef).
			Scan(customerTargets(&out)...); err != nil {
			return classify(err)
		}
		return customerDiff(out, c).err()
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
	d.str("name", stored.Name, given.Name)
	d.str("phone", stored.Phone, given.Phone)
	d.str("email", stored.Email, given.Email)
	d.str("id number", stored.IDNumber, given.IDNumber)
	d.str("push id", stored.PushID, given.PushID)
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
	var out Customer
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var before Customer
		if err := tx.QueryRow(ctx, `SELECT `+customerColumns+` FROM customers WHERE external_ref = $1 FOR UPDATE`,
			c.ExternalRef).Scan(customerTargets(&before)...); err != nil {
			return classify(err)
		}
		c.ID = uuid.Nil
		changed := customerDiff(before, c)
		if len(changed) == 0 {
			out = before
			return nil
		}
		if err := tx.QueryRow(ctx, `UPDATE customers SET name = $2, phone = $3, email = $4, id_number = $5,
				push_id = $6, profile = $7, preferred_channel = $8, time_zone = $9, updated_at = now()
			WHERE external_ref = $1 RETURNING `+customerColumns,
			c.ExternalRef, nullString(c.Name), nullString(c.Phone), nullString(c.Email), nullString(c.IDNumber),
			nullString(c.PushID), []byte(c.Profile), c.PreferredChannel, c.TimeZone).Scan(customerTargets(&out)...); err != nil {
			return classify(err)
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
	if err := s.pool.QueryRow(ctx, `SELECT `+customerColumns+` FROM customers WHERE id = $1`, id).
		Scan(customerTargets(&c)...); err != nil {
		return Customer{}, fmt.Errorf("get customer %s: %w", id, classify(err))
	}
	return c, nil
}

// GetCustomerByRef returns the customer with the external ref.
func (s *Store) GetCustomerByRef(ctx context.Context, externalRef string) (Customer, error) {
	var c Customer
	if err := s.pool.QueryRow(ctx, `SELECT `+customerColumns+` FROM customers WHERE external_ref = $1`, externalRef).
		Scan(customerTargets(&c)...); err != nil {
		return Customer{}, fmt.Errorf("get customer %s: %w", externalRef, classify(err))
	}
	return c, nil
}
