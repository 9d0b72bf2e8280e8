-- 007 collection: late charges accrued when needed, promises to pay, the
-- log of every collection step, an operator's legal-referral decisions,
-- hardship grace extensions and the write-off of a plan.
--
-- Promises and operator decisions (referral decisions, grace extensions,
-- write-offs) are keyed by (plan, request id): the request id of the
-- message that asked for them. They are not tied to a requests row, so a
-- caller may record the decision with or without saving the request.

-- The late charge of an instalment is computed when needed, not every day:
-- penalty_accrued is the total as of penalty_accrued_through (NULL: never
-- accrued here, e.g. a penalty carried into a new schedule version). Both
-- only ever move forward.
--
-- A written-off instalment is one that was still open when its plan was
-- written off; what it owed then is recorded in write_offs.
ALTER TABLE instalments
    ADD COLUMN penalty_accrued_through date,
    DROP CONSTRAINT instalments_status_check,
    ADD CONSTRAINT instalments_status_check CHECK (status IN
        ('pending', 'due', 'paid', 'partially_paid', 'overdue', 'waived', 'superseded', 'written_off'));

-- A promise to pay is a request of its own.
ALTER TABLE requests
    DROP CONSTRAINT requests_kind_check,
    ADD CONSTRAINT requests_kind_check CHECK (kind IN (
        -- origination
        'negotiate', 'choose_offer', 'sign_agreement', 'withdraw', 'review_decision',
        -- servicing requests
        'cancel', 'restructure', 'pause', 'resume', 'early_repayment', 'relief', 'complaint',
        'complaint_resolution', 'payment', 'contact_preferences', 'request_approval',
        -- collection
        'grace_extension', 'repayment_plan', 'legal_referral', 'write_off', 'promise_to_pay'));

-- Rows of a compliance record can be inserted, never changed or removed.
CREATE FUNCTION append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % rejected', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'FQ001', HINT = 'insert a new row instead';
END
$$;

-- The debtor's promise to pay amount by promised_date. Collection contact
-- pauses while a promise is open; the collection process resolves it: kept,
-- broken (the ladder resumes a step up) or cancelled.
CREATE TABLE promises (
    id            uuid          PRIMARY KEY DEFAULT gen_random_uuid(),
    plan_id       uuid          NOT NULL REFERENCES plans (id),
    request_id    text          NOT NULL,
    promised_date date          NOT NULL,
    amount        numeric(18,2) NOT NULL,
    currency      char(3)       NOT NULL DEFAULT 'CNY',
    made_at       timestamptz   NOT NULL,
    status        text          NOT NULL DEFAULT 'open',
    resolved_at   timestamptz,
    created_at    timestamptz   NOT NULL DEFAULT now(),
    CONSTRAINT promises_plan_request_key UNIQUE (plan_id, request_id),
    CONSTRAINT promises_request_id_check CHECK (request_id <> ''),
    CONSTRAINT promises_amount_check CHECK (amount > 0),
    CONSTRAINT promises_currency_check CHECK (currency ~ '^[A-Z]{3}$'),
    CONSTRAINT promises_status_check CHECK (status IN ('open', 'kept', 'broken', 'cancelled')),
    -- a resolved promise has its time
    CONSTRAINT promises_resolved_check CHECK ((status = 'open') = (resolved_at IS NULL))
);
CREATE INDEX promises_open_idx ON promises (plan_id, promised_date) WHERE status = 'open';

-- Every step of the collection ladder, as planned: the stage (M1..M7) it
-- belongs to, what it is, by which channel, and exactly what the debtor
-- owes by component and by when (owed: principal, interest, fee, penalty,
-- total, pay_by). Messages are also contacts (with the outbox); this is the
-- compliance record of the ladder itself, kept for good.
CREATE TABLE collection_actions (
    id          uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    plan_id     uuid        NOT NULL REFERENCES plans (id),
    action_key  text        NOT NULL,
    stage       text        NOT NULL,
    kind        text        NOT NULL,
    channel     text,
    owed        jsonb       NOT NULL,
    planned_for timestamptz NOT NULL,
    details     jsonb       NOT NULL DEFAULT '{}',
    created_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT collection_actions_action_key_key UNIQUE (action_key),
    CONSTRAINT collection_actions_action_key_check CHECK (action_key <> ''),
    CONSTRAINT collection_actions_stage_check CHECK (stage ~ '^M[1-7]$'),
    CONSTRAINT collection_actions_kind_check CHECK (kind IN ('message', 'call_task', 'notice', 'demand_letter',
        'restructure_offer', 'legal_referral', 'write_off')),
    CONSTRAINT collection_actions_channel_check CHECK (channel IN ('sms', 'email', 'push', 'phone', 'letter')),
    -- a contact with the debtor names its channel; an agent call is by phone
    CONSTRAINT collection_actions_contact_channel_check CHECK (
        (kind NOT IN ('message', 'call_task', 'notice', 'demand_letter') OR channel IS NOT NULL)
        AND (kind <> 'call_task' OR channel = 'phone')),
    CONSTRAINT collection_actions_owed_check CHECK (jsonb_typeof(owed) = 'object'
        AND owed ?& ARRAY['principal', 'interest', 'fee', 'penalty', 'total', 'pay_by']),
    CONSTRAINT collection_actions_details_check CHECK (jsonb_typeof(details) = 'object')
);
CREATE INDEX collection_actions_plan_idx ON collection_actions (plan_id, planned_for);
CREATE TRIGGER collection_actions_no_update_delete BEFORE UPDATE OR DELETE ON collection_actions
    FOR EACH ROW EXECUTE FUNCTION append_only();
CREATE TRIGGER collection_actions_no_truncate BEFORE TRUNCATE ON collection_actions
    FOR EACH STATEMENT EXECUTE FUNCTION append_only();

-- An operator's decision on a plan waiting for legal referral (M4 and
-- later): refer it, hold it, or negotiate with the debtor. The latest
-- decision of a plan is in force.
CREATE TABLE referral_decisions (
    id         uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    plan_id    uuid        NOT NULL REFERENCES plans (id),
    request_id text        NOT NULL,
    decision   text        NOT NULL,
    operator   text        NOT NULL,
    reason     text        NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT referral_decisions_plan_request_key UNIQUE (plan_id, request_id),
    CONSTRAINT referral_decisions_request_id_check CHECK (request_id <> ''),
    CONSTRAINT referral_decisions_decision_check CHECK (decision IN ('refer', 'hold', 'negotiate')),
    CONSTRAINT referral_decisions_operator_check CHECK (operator <> ''),
    CONSTRAINT referral_decisions_reason_check CHECK (reason <> '')
);
CREATE INDEX referral_decisions_plan_idx ON referral_decisions (plan_id, created_at);

-- A grace extension for sudden hardship, granted by an operator: the
-- collection process charges no late charge and makes no collection contact
-- until the date. The latest date of a plan's extensions is in force.
CREATE TABLE grace_extensions (
    id         uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    plan_id    uuid        NOT NULL REFERENCES plans (id),
    request_id text        NOT NULL,
    until      date        NOT NULL,
    operator   text        NOT NULL,
    reason     text        NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT grace_extensions_plan_request_key UNIQUE (plan_id, request_id),
    CONSTRAINT grace_extensions_request_id_check CHECK (request_id <> ''),
    CONSTRAINT grace_extensions_operator_check CHECK (operator <> ''),
    CONSTRAINT grace_extensions_reason_check CHECK (reason <> '')
);
CREATE INDEX grace_extensions_plan_idx ON grace_extensions (plan_id, until);

-- The write-off of a plan, decided by an operator: what the open
-- instalments of the current schedule still owed, by component (details:
-- the same per instalment, with the status each had). One per plan.
CREATE TABLE write_offs (
    id               uuid          PRIMARY KEY DEFAULT gen_random_uuid(),
    plan_id          uuid          NOT NULL,
    request_id       text          NOT NULL,
    schedule_version integer       NOT NULL,
    as_of            date          NOT NULL,
    principal        numeric(18,2) NOT NULL,
    interest         numeric(18,2) NOT NULL,
    fee              numeric(18,2) NOT NULL,
    penalty          numeric(18,2) NOT NULL,
    total            numeric(18,2) NOT NULL,
    currency         char(3)       NOT NULL DEFAULT 'CNY',
    operator         text          NOT NULL,
    reason           text          NOT NULL,
    details          jsonb         NOT NULL DEFAULT '{}',
    created_at       timestamptz   NOT NULL DEFAULT now(),
    CONSTRAINT write_offs_plan_key UNIQUE (plan_id),
    CONSTRAINT write_offs_plan_fkey FOREIGN KEY (plan_id) REFERENCES plans (id),
    CONSTRAINT write_offs_schedule_version_fkey FOREIGN KEY (plan_id, schedule_version)
        REFERENCES schedule_versions (plan_id, version),
    CONSTRAINT write_offs_request_id_check CHECK (request_id <> ''),
    CONSTRAINT write_offs_amounts_check CHECK (principal >= 0 AND interest >= 0 AND fee >= 0 AND penalty >= 0),
    CONSTRAINT write_offs_total_check CHECK (total = principal + interest + fee + penalty),
    CONSTRAINT write_offs_currency_check CHECK (currency ~ '^[A-Z]{3}$'),
    CONSTRAINT write_offs_operator_check CHECK (operator <> ''),
    CONSTRAINT write_offs_reason_check CHECK (reason <> ''),
    CONSTRAINT write_offs_details_check CHECK (jsonb_typeof(details) = 'object')
);

---- create above / drop below ----

-- Written-off instalments go back to the status they had when written off
-- (recorded in the write-off), or overdue.
UPDATE instalments i SET status = e->>'status', updated_at = now()
FROM write_offs w, jsonb_array_elements(w.details->'instalments') e
WHERE i.status = 'written_off' AND i.plan_id = w.plan_id AND i.schedule_version = w.schedule_version
    AND i.no = (e->>'no')::integer;
UPDATE instalments SET status = 'overdue', updated_at = now() WHERE status = 'written_off';

DROP TABLE write_offs;
DROP TABLE grace_extensions;
DROP TABLE referral_decisions;
DROP TABLE collection_actions;
DROP TABLE promises;
DROP FUNCTION append_only();

-- The older schema knows no promise requests: a promise is closest to a
-- repayment plan.
UPDATE requests SET kind = 'repayment_plan' WHERE kind = 'promise_to_pay';
ALTER TABLE requests
    DROP CONSTRAINT requests_kind_check,
    ADD CONSTRAINT requests_kind_check CHECK (kind IN (
        'negotiate', 'choose_offer', 'sign_agreement', 'withdraw', 'review_decision',
        'cancel', 'restructure', 'pause', 'resume', 'early_repayment', 'relief', 'complaint',
        'complaint_resolution', 'payment', 'contact_preferences', 'request_approval',
        'grace_extension', 'repayment_plan', 'legal_referral', 'write_off'));

ALTER TABLE instalments
    DROP CONSTRAINT instalments_status_check,
    ADD CONSTRAINT instalments_status_check CHECK (status IN
        ('pending', 'due', 'paid', 'partially_paid', 'overdue', 'waived', 'superseded')),
    DROP COLUMN penalty_accrued_through;
