-- 003 servicing: versioned schedules, instalments, auto-debit attempts,
-- payments and their allocation to instalment components.

-- Every schedule a plan has had. Version 1 is the schedule generated at
-- activation; cancellation, restructuring, a payment holiday, early
-- repayment ... each save a new version. Old versions are kept.
CREATE TABLE schedule_versions (
    plan_id    uuid        NOT NULL REFERENCES plans (id),
    version    integer     NOT NULL,
    reason     text        NOT NULL,
    -- the customer/operator request that caused it, if any
    request_id text,
    -- the terms the schedule was computed from
    params     jsonb       NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (plan_id, version),
    CONSTRAINT schedule_versions_version_check CHECK (version >= 1),
    CONSTRAINT schedule_versions_reason_check CHECK (reason <> ''),
    CONSTRAINT schedule_versions_params_check CHECK (jsonb_typeof(params) = 'object')
);

-- The plan's current schedule must exist.
ALTER TABLE plans ADD CONSTRAINT plans_schedule_version_fkey
    FOREIGN KEY (id, schedule_version) REFERENCES schedule_versions (plan_id, version);

-- One instalment of one schedule version. Rows of a replaced version stay,
-- marked 'superseded' unless they were already settled (paid/waived).
CREATE TABLE instalments (
    plan_id          uuid          NOT NULL,
    schedule_version integer       NOT NULL,
    no               integer       NOT NULL,
    due_date         date          NOT NULL,
    currency         char(3)       NOT NULL DEFAULT 'CNY',
    principal        numeric(18,2) NOT NULL,
    interest         numeric(18,2) NOT NULL DEFAULT 0,
    fee              numeric(18,2) NOT NULL DEFAULT 0,
    payment          numeric(18,2) NOT NULL,
    -- principal outstanding after this instalment
    balance_after    numeric(18,2) NOT NULL,
    -- a paused instalment (payment holiday): nothing is collected
    holiday          boolean       NOT NULL DEFAULT false,
    penalty_accrued  numeric(18,2) NOT NULL DEFAULT 0,
    paid_principal   numeric(18,2) NOT NULL DEFAULT 0,
    paid_interest    numeric(18,2) NOT NULL DEFAULT 0,
    paid_fee         numeric(18,2) NOT NULL DEFAULT 0,
    paid_penalty     numeric(18,2) NOT NULL DEFAULT 0,
    waived_interest  numeric(18,2) NOT NULL DEFAULT 0,
    waived_fee       numeric(18,2) NOT NULL DEFAULT 0,
    waived_penalty   numeric(18,2) NOT NULL DEFAULT 0,
    status           text          NOT NULL DEFAULT 'pending',
    paid_at          timestamptz,
    created_at       timestamptz   NOT NULL DEFAULT now(),
    updated_at       timestamptz   NOT NULL DEFAULT now(),
    PRIMARY KEY (plan_id, schedule_version, no),
    CONSTRAINT instalments_plan_fkey FOREIGN KEY (plan_id) REFERENCES plans (id),
    CONSTRAINT instalments_schedule_version_fkey FOREIGN KEY (plan_id, schedule_version)
        REFERENCES schedule_versions (plan_id, version),
    CONSTRAINT instalments_no_check CHECK (no >= 1),
    CONSTRAINT instalments_currency_check CHECK (currency ~ '^[A-Z]{3}$'),
    CONSTRAINT instalments_amounts_check CHECK (
        principal >= 0 AND interest >= 0 AND fee >= 0 AND balance_after >= 0 AND penalty_accrued >= 0
        AND paid_principal >= 0 AND paid_interest >= 0 AND paid_fee >= 0 AND paid_penalty >= 0
        AND waived_interest >= 0 AND waived_fee >= 0 AND waived_penalty >= 0),
    CONSTRAINT instalments_payment_check CHECK (payment = principal + interest + fee),
    CONSTRAINT instalments_holiday_check CHECK (NOT holiday OR payment = 0),
    -- nothing is paid or waived beyond what is due, component by component
    CONSTRAINT instalments_paid_check CHECK (
        paid_principal <= principal
        AND paid_interest + waived_interest <= interest
        AND paid_fee + waived_fee <= fee
        AND paid_penalty + waived_penalty <= penalty_accrued),
    CONSTRAINT instalments_status_check CHECK (status IN
        ('pending', 'due', 'paid', 'partially_paid', 'overdue', 'waived', 'superseded')),
    CONSTRAINT instalments_paid_at_check CHECK (status <> 'paid' OR paid_at IS NOT NULL)
);
-- instalments still to collect, by due date (reminders, debits, overdue scans)
CREATE INDEX instalments_open_due_idx ON instalments (due_date)
    WHERE status IN ('pending', 'due', 'partially_paid', 'overdue');

-- One auto-debit attempt of one instalment. The unique key makes a second
-- debit of the same attempt impossible to store; retries are attempt 2, 3 ...
-- with keys of their own.
CREATE TABLE debit_attempts (
    id               uuid          PRIMARY KEY DEFAULT gen_random_uuid(),
    plan_id          uuid          NOT NULL,
    schedule_version integer       NOT NULL,
    instalment_no    integer       NOT NULL,
    attempt          integer       NOT NULL,
    idempotency_key  text          NOT NULL,
    account_id       uuid          NOT NULL REFERENCES funding_accounts (id),
    amount           numeric(18,2) NOT NULL,
    currency         char(3)       NOT NULL DEFAULT 'CNY',
    outcome          text          NOT NULL DEFAULT 'pending',
    -- the gateway ledger entry of a succeeded debit
    account_entry_id uuid          REFERENCES account_entries (id),
    error            text          NOT NULL DEFAULT '',
    created_at       timestamptz   NOT NULL DEFAULT now(),
    updated_at       timestamptz   NOT NULL DEFAULT now(),
    CONSTRAINT debit_attempts_attempt_key UNIQUE (plan_id, schedule_version, instalment_no, attempt),
    CONSTRAINT debit_attempts_idempotency_key_key UNIQUE (idempotency_key),
    CONSTRAINT debit_attempts_account_entry_key UNIQUE (account_entry_id),
    -- lets payments check that their debit attempt is one of their plan's
    CONSTRAINT debit_attempts_id_plan_key UNIQUE (id, plan_id),
    CONSTRAINT debit_attempts_instalment_fkey FOREIGN KEY (plan_id, schedule_version, instalment_no)
        REFERENCES instalments (plan_id, schedule_version, no),
    CONSTRAINT debit_attempts_attempt_check CHECK (attempt >= 1),
    CONSTRAINT debit_attempts_idempotency_key_check CHECK (idempotency_key <> ''),
    CONSTRAINT debit_attempts_amount_check CHECK (amount > 0),
    CONSTRAINT debit_attempts_currency_check CHECK (currency ~ '^[A-Z]{3}$'),
    CONSTRAINT debit_attempts_outcome_check
        CHECK (outcome IN ('pending', 'succeeded', 'insufficient_funds', 'failed')),
    -- a succeeded debit names the money it moved, and only then
    CONSTRAINT debit_attempts_entry_check CHECK ((outcome = 'succeeded') = (account_entry_id IS NOT NULL))
);

-- Money received for a plan, keyed by the business payment id. Auto-debit
-- payments point at their debit attempt.
CREATE TABLE payments (
    id               uuid          PRIMARY KEY DEFAULT gen_random_uuid(),
    plan_id          uuid          NOT NULL REFERENCES plans (id),
    payment_id       text          NOT NULL,
    source           text          NOT NULL,
    amount           numeric(18,2) NOT NULL,
    currency         char(3)       NOT NULL DEFAULT 'CNY',
    received_at      timestamptz   NOT NULL,
    debit_attempt_id uuid,
    details          jsonb         NOT NULL DEFAULT '{}',
    created_at       timestamptz   NOT NULL DEFAULT now(),
    CONSTRAINT payments_plan_payment_id_key UNIQUE (plan_id, payment_id),
    -- lets allocations check that they belong to the payment's plan
    CONSTRAINT payments_id_plan_key UNIQUE (id, plan_id),
    CONSTRAINT payments_debit_attempt_key UNIQUE (debit_attempt_id),
    CONSTRAINT payments_debit_attempt_fkey FOREIGN KEY (debit_attempt_id, plan_id)
        REFERENCES debit_attempts (id, plan_id),
    CONSTRAINT payments_payment_id_check CHECK (payment_id <> ''),
    CONSTRAINT payments_source_check CHECK (source IN ('auto_debit', 'external', 'manual')),
    CONSTRAINT payments_amount_check CHECK (amount > 0),
    CONSTRAINT payments_currency_check CHECK (currency ~ '^[A-Z]{3}$'),
    CONSTRAINT payments_debit_attempt_check CHECK ((source = 'auto_debit') = (debit_attempt_id IS NOT NULL)),
    CONSTRAINT payments_details_check CHECK (jsonb_typeof(details) = 'object')
);
CREATE INDEX payments_plan_idx ON payments (plan_id, received_at);

-- How a payment was applied: one row per instalment component. The sum of a
-- payment's allocations never exceeds its amount (checked by the store);
-- the remainder is unallocated (overpayment, carried as credit).
CREATE TABLE payment_allocations (
    id               uuid          PRIMARY KEY DEFAULT gen_random_uuid(),
    payment_id       uuid          NOT NULL,
    plan_id          uuid          NOT NULL,
    schedule_version integer       NOT NULL,
    instalment_no    integer       NOT NULL,
    component        text          NOT NULL,
    amount           numeric(18,2) NOT NULL,
    created_at       timestamptz   NOT NULL DEFAULT now(),
    CONSTRAINT payment_allocations_key UNIQUE (payment_id, schedule_version, instalment_no, component),
    CONSTRAINT payment_allocations_payment_fkey FOREIGN KEY (payment_id, plan_id)
        REFERENCES payments (id, plan_id),
    CONSTRAINT payment_allocations_instalment_fkey FOREIGN KEY (plan_id, schedule_version, instalment_no)
        REFERENCES instalments (plan_id, schedule_version, no),
    CONSTRAINT payment_allocations_component_check
        CHECK (component IN ('penalty', 'fee', 'interest', 'principal')),
    CONSTRAINT payment_allocations_amount_check CHECK (amount > 0)
);
CREATE INDEX payment_allocations_instalment_idx
    ON payment_allocations (plan_id, schedule_version, instalment_no);

---- create above / drop below ----

DROP TABLE payment_allocations;
DROP TABLE payments;
DROP TABLE debit_attempts;
DROP TABLE instalments;
ALTER TABLE plans DROP CONSTRAINT plans_schedule_version_fkey;
DROP TABLE schedule_versions;
