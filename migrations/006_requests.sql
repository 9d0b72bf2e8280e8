-- 006 requests of an active plan: schedule changes confirmed by the customer
-- (cancel, restructure, payment holiday, early repayment), waivers granted by
-- an operator, complaints that pause collection contact for a while, and
-- operator approval of requests that need one.

-- The plan's share of the customer's credit line in use. A schedule change
-- moves it (and credit_lines.used by the same difference); closing the plan
-- releases it. NULL means the principal (plans activated before this
-- migration).
ALTER TABLE plans
    ADD COLUMN credit_in_use numeric(18,2),
    ADD CONSTRAINT plans_credit_in_use_check CHECK (credit_in_use >= 0);

-- An open complaint pauses collection contact until pause_until (NULL: for
-- as long as it is open), unless it is resolved first.
ALTER TABLE complaints ADD COLUMN pause_until timestamptz;

-- A confirmed request that needs an operator's approval is a task of its own
-- and the operator's answer a request of its own.
ALTER TABLE tasks
    DROP CONSTRAINT tasks_kind_check,
    ADD CONSTRAINT tasks_kind_check CHECK (kind IN
        ('review', 'early_warning', 'collection_call', 'legal_referral', 'write_off', 'complaint',
         'request_approval'));

ALTER TABLE requests
    DROP CONSTRAINT requests_kind_check,
    ADD CONSTRAINT requests_kind_check CHECK (kind IN (
        -- origination
        'negotiate', 'choose_offer', 'sign_agreement', 'withdraw', 'review_decision',
        -- servicing requests
        'cancel', 'restructure', 'pause', 'resume', 'early_repayment', 'relief', 'complaint',
        'complaint_resolution', 'payment', 'contact_preferences', 'request_approval',
        -- collection
        'grace_extension', 'repayment_plan', 'legal_referral', 'write_off'));

-- Money forgiven on one component of one instalment, granted by an operator
-- through a request. The key makes granting a waiver idempotent; the amounts
-- are added to the instalment's waived_* columns, whose check refuses more
-- than is owed.
CREATE TABLE waivers (
    id               uuid          PRIMARY KEY DEFAULT gen_random_uuid(),
    plan_id          uuid          NOT NULL,
    request_id       text          NOT NULL,
    schedule_version integer       NOT NULL,
    instalment_no    integer       NOT NULL,
    component        text          NOT NULL,
    amount           numeric(18,2) NOT NULL,
    currency         char(3)       NOT NULL DEFAULT 'CNY',
    reason           text          NOT NULL,
    operator         text          NOT NULL,
    created_at       timestamptz   NOT NULL DEFAULT now(),
    CONSTRAINT waivers_key UNIQUE (plan_id, request_id, schedule_version, instalment_no, component),
    CONSTRAINT waivers_instalment_fkey FOREIGN KEY (plan_id, schedule_version, instalment_no)
        REFERENCES instalments (plan_id, schedule_version, no),
    CONSTRAINT waivers_request_id_check CHECK (request_id <> ''),
    CONSTRAINT waivers_component_check CHECK (component IN ('penalty', 'fee', 'interest')),
    CONSTRAINT waivers_amount_check CHECK (amount > 0),
    CONSTRAINT waivers_currency_check CHECK (currency ~ '^[A-Z]{3}$'),
    CONSTRAINT waivers_reason_check CHECK (reason <> ''),
    CONSTRAINT waivers_operator_check CHECK (operator <> '')
);
CREATE INDEX waivers_instalment_idx ON waivers (plan_id, schedule_version, instalment_no);

---- create above / drop below ----

DROP TABLE waivers;

-- The older schema knows no approval kinds: an operator's approval is closest
-- to a review decision, and its task to a review.
UPDATE requests SET kind = 'review_decision' WHERE kind = 'request_approval';
ALTER TABLE requests
    DROP CONSTRAINT requests_kind_check,
    ADD CONSTRAINT requests_kind_check CHECK (kind IN (
        'negotiate', 'choose_offer', 'sign_agreement', 'withdraw', 'review_decision',
        'cancel', 'restructure', 'pause', 'resume', 'early_repayment', 'relief', 'complaint',
        'complaint_resolution', 'payment', 'contact_preferences',
        'grace_extension', 'repayment_plan', 'legal_referral', 'write_off'));

UPDATE tasks SET kind = 'review' WHERE kind = 'request_approval';
ALTER TABLE tasks
    DROP CONSTRAINT tasks_kind_check,
    ADD CONSTRAINT tasks_kind_check CHECK (kind IN
        ('review', 'early_warning', 'collection_call', 'legal_referral', 'write_off', 'complaint'));

ALTER TABLE complaints DROP COLUMN pause_until;

-- The older schema releases an active plan's principal when it closes: put
-- the difference a schedule change made back on the credit line first.
UPDATE credit_lines l SET used = GREATEST(l.used + d.diff, 0), updated_at = now()
FROM (SELECT customer_id, sum(principal - credit_in_use) AS diff FROM plans
      WHERE state = 'active' AND credit_in_use IS NOT NULL AND principal IS NOT NULL
      GROUP BY customer_id) d
WHERE l.customer_id = d.customer_id AND d.diff <> 0;
ALTER TABLE plans DROP COLUMN credit_in_use;
