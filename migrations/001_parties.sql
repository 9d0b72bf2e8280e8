-- 001 parties: customers, their funding accounts and the ledger of the
-- simulated payment gateway.
--
-- Conventions for every table in this schema:
--   * uuid primary keys (gen_random_uuid(), built into PostgreSQL 13+);
--   * timestamptz for instants, date for civil due dates;
--   * money is NUMERIC(18,2) next to currency CHAR(3) (ISO 4217 shape);
--   * enumerations are text + CHECK (not PostgreSQL enums) so a later
--     migration can extend them by replacing the named constraint.

-- A customer (borrower). The identifying columns (name, phone, email,
-- id_number) will be encrypted by a later migration; they are nullable text
-- now. profile holds non-identifying attributes (age band, occupation,
-- income band, ...) as a JSON object.
CREATE TABLE customers (
    id                uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    external_ref      text        NOT NULL,
    name              text,
    phone             text,
    email             text,
    id_number         text,
    push_id           text,
    profile           jsonb       NOT NULL DEFAULT '{}',
    preferred_channel text        NOT NULL DEFAULT 'sms',
    time_zone         text        NOT NULL DEFAULT 'Asia/Shanghai',
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT customers_external_ref_key UNIQUE (external_ref),
    CONSTRAINT customers_external_ref_check CHECK (external_ref <> ''),
    CONSTRAINT customers_profile_check CHECK (jsonb_typeof(profile) = 'object'),
    CONSTRAINT customers_preferred_channel_check
        CHECK (preferred_channel IN ('sms', 'email', 'push', 'phone', 'letter')),
    CONSTRAINT customers_time_zone_check CHECK (time_zone <> '')
);

-- The customer's designated account that auto-debit draws from. The balance
-- lives in the simulated gateway; it can never go negative.
CREATE TABLE funding_accounts (
    id          uuid          PRIMARY KEY DEFAULT gen_random_uuid(),
    customer_id uuid          NOT NULL REFERENCES customers (id),
    label       text          NOT NULL DEFAULT '',
    balance     numeric(18,2) NOT NULL DEFAULT 0,
    currency    char(3)       NOT NULL DEFAULT 'CNY',
    created_at  timestamptz   NOT NULL DEFAULT now(),
    updated_at  timestamptz   NOT NULL DEFAULT now(),
    -- lets plans check that the account they debit is their customer's
    CONSTRAINT funding_accounts_id_customer_key UNIQUE (id, customer_id),
    CONSTRAINT funding_accounts_balance_check CHECK (balance >= 0),
    CONSTRAINT funding_accounts_currency_check CHECK (currency ~ '^[A-Z]{3}$')
);
CREATE INDEX funding_accounts_customer_idx ON funding_accounts (customer_id);

-- Ledger of the simulated gateway: one row per balance movement. A request
-- key (idempotency_key) moves money at most once. seq orders the ledger
-- (entries of one account are written under its row lock, so seq follows
-- balance_after); created_at is the clock time of the movement.
CREATE TABLE account_entries (
    id              uuid          PRIMARY KEY DEFAULT gen_random_uuid(),
    seq             bigint        GENERATED ALWAYS AS IDENTITY,
    account_id      uuid          NOT NULL REFERENCES funding_accounts (id),
    idempotency_key text          NOT NULL,
    kind            text          NOT NULL,
    amount          numeric(18,2) NOT NULL,
    currency        char(3)       NOT NULL DEFAULT 'CNY',
    balance_after   numeric(18,2) NOT NULL,
    created_at      timestamptz   NOT NULL DEFAULT clock_timestamp(),
    CONSTRAINT account_entries_seq_key UNIQUE (seq),
    CONSTRAINT account_entries_idempotency_key_key UNIQUE (idempotency_key),
    CONSTRAINT account_entries_idempotency_key_check CHECK (idempotency_key <> ''),
    CONSTRAINT account_entries_kind_check CHECK (kind IN ('debit', 'credit')),
    CONSTRAINT account_entries_amount_check CHECK (amount > 0),
    CONSTRAINT account_entries_balance_after_check CHECK (balance_after >= 0),
    CONSTRAINT account_entries_currency_check CHECK (currency ~ '^[A-Z]{3}$')
);
CREATE INDEX account_entries_account_idx ON account_entries (account_id, seq);

-- Debits the gateway declined (no money moved, so not in the ledger). The key
-- is remembered so that repeating a declined request returns the decline.
CREATE TABLE account_declines (
    id              uuid          PRIMARY KEY DEFAULT gen_random_uuid(),
    account_id      uuid          NOT NULL REFERENCES funding_accounts (id),
    idempotency_key text          NOT NULL,
    amount          numeric(18,2) NOT NULL,
    currency        char(3)       NOT NULL DEFAULT 'CNY',
    reason          text          NOT NULL,
    balance         numeric(18,2) NOT NULL,
    created_at      timestamptz   NOT NULL DEFAULT now(),
    CONSTRAINT account_declines_idempotency_key_key UNIQUE (idempotency_key),
    CONSTRAINT account_declines_idempotency_key_check CHECK (idempotency_key <> ''),
    CONSTRAINT account_declines_amount_check CHECK (amount > 0),
    CONSTRAINT account_declines_balance_check CHECK (balance >= 0),
    CONSTRAINT account_declines_reason_check CHECK (reason IN ('insufficient_funds')),
    CONSTRAINT account_declines_currency_check CHECK (currency ~ '^[A-Z]{3}$')
);
CREATE INDEX account_declines_account_idx ON account_declines (account_id, created_at);

-- The customer's revolving credit line: plans consume it, repayments restore
-- it, a cancellation adjusts it. used may exceed credit_limit only when a
-- policy change lowers the limit.
CREATE TABLE credit_lines (
    customer_id  uuid          PRIMARY KEY REFERENCES customers (id),
    credit_limit numeric(18,2) NOT NULL DEFAULT 0,
    used         numeric(18,2) NOT NULL DEFAULT 0,
    currency     char(3)       NOT NULL DEFAULT 'CNY',
    updated_at   timestamptz   NOT NULL DEFAULT now(),
    CONSTRAINT credit_lines_credit_limit_check CHECK (credit_limit >= 0),
    CONSTRAINT credit_lines_used_check CHECK (used >= 0),
    CONSTRAINT credit_lines_currency_check CHECK (currency ~ '^[A-Z]{3}$')
);

---- create above / drop below ----

DROP TABLE credit_lines;
DROP TABLE account_declines;
DROP TABLE account_entries;
DROP TABLE funding_accounts;
DROP TABLE customers;
