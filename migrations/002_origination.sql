-- 002 origination: application -> assessment -> offers -> plan -> agreement.
--
-- Methods and rates follow package calc: method is one of calc.Methods;
-- contract rates (annual_rate, fee_rate = monthly fee rate) are fractions
-- (0.24 = 24%); disclosed annualised rates (apr_*) are percentages with 4
-- places (13.5800 = 13.58%).

-- An application for credit, keyed by the front-end's request id so a
-- retried submission finds the same row.
CREATE TABLE applications (
    id                 uuid          PRIMARY KEY DEFAULT gen_random_uuid(),
    request_id         text          NOT NULL,
    customer_id        uuid          NOT NULL REFERENCES customers (id),
    amount             numeric(18,2) NOT NULL,
    currency           char(3)       NOT NULL DEFAULT 'CNY',
    -- terms and frequency asked for; NULL lets the offers choose
    terms              integer,
    frequency          text,
    -- monthly/quarterly, shorter/longer, lowest total cost/lowest instalment
    preferences        jsonb         NOT NULL DEFAULT '{}',
    -- the data assessed: occupation, income, credit record, existing debt ...
    applicant          jsonb         NOT NULL DEFAULT '{}',
    channel            text          NOT NULL DEFAULT 'own',
    partner_name       text,
    partner_fee_policy jsonb,
    created_at         timestamptz   NOT NULL DEFAULT now(),
    CONSTRAINT applications_request_id_key UNIQUE (request_id),
    -- lets plans check that they belong to the application's customer
    CONSTRAINT applications_id_customer_key UNIQUE (id, customer_id),
    CONSTRAINT applications_request_id_check CHECK (request_id <> ''),
    CONSTRAINT applications_amount_check CHECK (amount > 0),
    CONSTRAINT applications_currency_check CHECK (currency ~ '^[A-Z]{3}$'),
    CONSTRAINT applications_terms_check CHECK (terms IS NULL OR terms BETWEEN 1 AND 360),
    CONSTRAINT applications_frequency_check CHECK (frequency IS NULL OR frequency IN ('monthly', 'quarterly')),
    CONSTRAINT applications_preferences_check CHECK (jsonb_typeof(preferences) = 'object'),
    CONSTRAINT applications_applicant_check CHECK (jsonb_typeof(applicant) = 'object'),
    CONSTRAINT applications_channel_check CHECK (channel IN ('own', 'partner')),
    -- a partner application names its partner; an own-platform one has none
    CONSTRAINT applications_partner_check CHECK (
        (channel = 'partner' AND partner_name IS NOT NULL AND partner_name <> '')
        OR (channel = 'own' AND partner_name IS NULL AND partner_fee_policy IS NULL))
);
CREATE INDEX applications_customer_idx ON applications (customer_id, created_at);

-- A credit decision. Round 1 is the automatic assessment; a 'review'
-- decision is followed by an operator's decision in round 2 (and so on).
CREATE TABLE assessments (
    id             uuid          PRIMARY KEY DEFAULT gen_random_uuid(),
    application_id uuid          NOT NULL REFERENCES applications (id),
    round          integer       NOT NULL DEFAULT 1,
    score          integer       NOT NULL,
    -- NULL for a decline, which has no tier
    tier           text,
    credit_limit   numeric(18,2) NOT NULL DEFAULT 0,
    currency       char(3)       NOT NULL DEFAULT 'CNY',
    decision       text          NOT NULL,
    reasons        text[]        NOT NULL DEFAULT '{}',
    decided_by     text          NOT NULL,
    policy_version text          NOT NULL DEFAULT '',
    -- factor breakdown, market adjustment, pricing chosen for the tier
    details        jsonb         NOT NULL DEFAULT '{}',
    created_at     timestamptz   NOT NULL DEFAULT now(),
    CONSTRAINT assessments_application_round_key UNIQUE (application_id, round),
    CONSTRAINT assessments_round_check CHECK (round >= 1),
    CONSTRAINT assessments_score_check CHECK (score >= 0),
    CONSTRAINT assessments_tier_check CHECK (tier <> '' OR (tier IS NULL AND decision = 'declined')),
    CONSTRAINT assessments_credit_limit_check CHECK (credit_limit >= 0),
    CONSTRAINT assessments_currency_check CHECK (currency ~ '^[A-Z]{3}$'),
    CONSTRAINT assessments_decision_check CHECK (decision IN ('approved', 'declined', 'review')),
    -- a decline always says why
    CONSTRAINT assessments_reasons_check CHECK (decision <> 'declined' OR cardinality(reasons) > 0),
    CONSTRAINT assessments_decided_by_check CHECK (decided_by <> ''),
    CONSTRAINT assessments_details_check CHECK (jsonb_typeof(details) = 'object')
);

-- The options put to the customer. Each negotiation round is a new offer
-- set (round); offers within a set are numbered from 1.
CREATE TABLE offers (
    id             uuid          PRIMARY KEY DEFAULT gen_random_uuid(),
    application_id uuid          NOT NULL REFERENCES applications (id),
    round          integer       NOT NULL DEFAULT 1,
    no             integer       NOT NULL,
    method         text          NOT NULL,
    amount         numeric(18,2) NOT NULL,
    currency       char(3)       NOT NULL DEFAULT 'CNY',
    terms          integer       NOT NULL,
    frequency      text          NOT NULL DEFAULT 'monthly',
    annual_rate    numeric(9,6)  NOT NULL DEFAULT 0,
    fee_rate       numeric(9,6)  NOT NULL DEFAULT 0,
    fee_upfront    boolean       NOT NULL DEFAULT false,
    instalment     numeric(18,2) NOT NULL,
    total_cost     numeric(18,2) NOT NULL,
    apr_nominal    numeric(9,4)  NOT NULL,
    apr_effective  numeric(9,4)  NOT NULL,
    expires_at     timestamptz   NOT NULL,
    -- schedule preview and disclosures shown with the offer
    details        jsonb         NOT NULL DEFAULT '{}',
    created_at     timestamptz   NOT NULL DEFAULT now(),
    CONSTRAINT offers_application_round_no_key UNIQUE (application_id, round, no),
    -- lets plans check that the chosen offer is one of their application's
    CONSTRAINT offers_id_application_key UNIQUE (id, application_id),
    CONSTRAINT offers_round_check CHECK (round >= 1),
    CONSTRAINT offers_no_check CHECK (no >= 1),
    CONSTRAINT offers_method_check
        CHECK (method IN ('annuity', 'equal-principal', 'interest-only', 'fee', 'zero')),
    CONSTRAINT offers_amount_check CHECK (amount > 0),
    CONSTRAINT offers_currency_check CHECK (currency ~ '^[A-Z]{3}$'),
    CONSTRAINT offers_terms_check CHECK (terms BETWEEN 1 AND 360),
    CONSTRAINT offers_frequency_check CHECK (frequency IN ('monthly', 'quarterly')),
    CONSTRAINT offers_rates_check CHECK (annual_rate >= 0 AND fee_rate >= 0),
    CONSTRAINT offers_costs_check CHECK (instalment >= 0 AND total_cost >= 0),
    CONSTRAINT offers_apr_check CHECK (apr_nominal >= 0 AND apr_effective >= 0),
    CONSTRAINT offers_details_check CHECK (jsonb_typeof(details) = 'object')
);

-- One plan per application; its id is the workflow id's suffix (plan-<id>).
-- Terms are filled in when an offer is chosen; an active plan has them all.
CREATE TABLE plans (
    id                 uuid          PRIMARY KEY DEFAULT gen_random_uuid(),
    application_id     uuid          NOT NULL,
    customer_id        uuid          NOT NULL REFERENCES customers (id),
    offer_id           uuid,
    funding_account_id uuid,
    state              text          NOT NULL DEFAULT 'assessing',
    state_reason       text          NOT NULL DEFAULT '',
    principal          numeric(18,2),
    currency           char(3)       NOT NULL DEFAULT 'CNY',
    method             text,
    terms              integer,
    frequency          text,
    annual_rate        numeric(9,6),
    fee_rate           numeric(9,6),
    fee_upfront        boolean       NOT NULL DEFAULT false,
    start_date         date,
    -- current schedule version; NULL until the first schedule is saved
    -- (foreign key to schedule_versions added by migration 003)
    schedule_version   integer,
    credit_limit       numeric(18,2),
    created_at         timestamptz   NOT NULL DEFAULT now(),
    updated_at         timestamptz   NOT NULL DEFAULT now(),
    closed_at          timestamptz,
    CONSTRAINT plans_application_key UNIQUE (application_id),
    CONSTRAINT plans_application_customer_fkey FOREIGN KEY (application_id, customer_id)
        REFERENCES applications (id, customer_id),
    CONSTRAINT plans_offer_fkey FOREIGN KEY (offer_id, application_id)
        REFERENCES offers (id, application_id),
    CONSTRAINT plans_funding_account_fkey FOREIGN KEY (funding_account_id, customer_id)
        REFERENCES funding_accounts (id, customer_id),
    CONSTRAINT plans_state_check CHECK (state IN ('assessing', 'review', 'offered', 'signing',
        'active', 'closed', 'declined', 'expired', 'withdrawn', 'written_off')),
    CONSTRAINT plans_principal_check CHECK (principal > 0),
    CONSTRAINT plans_currency_check CHECK (currency ~ '^[A-Z]{3}$'),
    CONSTRAINT plans_method_check
        CHECK (method IN ('annuity', 'equal-principal', 'interest-only', 'fee', 'zero')),
    CONSTRAINT plans_terms_check CHECK (terms BETWEEN 1 AND 360),
    CONSTRAINT plans_frequency_check CHECK (frequency IN ('monthly', 'quarterly')),
    CONSTRAINT plans_rates_check CHECK (annual_rate >= 0 AND fee_rate >= 0),
    CONSTRAINT plans_schedule_version_check CHECK (schedule_version >= 1),
    CONSTRAINT plans_credit_limit_check CHECK (credit_limit >= 0),
    CONSTRAINT plans_active_terms_check CHECK (state <> 'active' OR (
        principal IS NOT NULL AND method IS NOT NULL AND terms IS NOT NULL AND frequency IS NOT NULL
        AND annual_rate IS NOT NULL AND fee_rate IS NOT NULL AND start_date IS NOT NULL)),
    -- closed_at is set exactly when the plan reaches a final state
    CONSTRAINT plans_closed_at_check CHECK (
        (state IN ('closed', 'declined', 'expired', 'withdrawn', 'written_off')) = (closed_at IS NOT NULL))
);
CREATE INDEX plans_customer_idx ON plans (customer_id, created_at);
CREATE INDEX plans_state_idx ON plans (state);
CREATE INDEX plans_funding_account_idx ON plans (funding_account_id);

-- The agreement rendered from the chosen terms. The document is archived with
-- its SHA-256 (lower-case hex, of the UTF-8 text); a signature must quote that
-- hash. Document, hash and a given signature never change (trigger below).
CREATE TABLE agreements (
    id              uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    plan_id         uuid        NOT NULL REFERENCES plans (id),
    version         integer     NOT NULL,
    offer_id        uuid        REFERENCES offers (id),
    document        text        NOT NULL,
    sha256          char(64)    NOT NULL,
    status          text        NOT NULL DEFAULT 'pending',
    expires_at      timestamptz,
    signed_at       timestamptz,
    signature_kind  text,
    signer_name     text,
    paper_reference text,
    consent         boolean     NOT NULL DEFAULT false,
    signed_hash     char(64),
    -- channel, device, IP ... of an electronic signature
    signature_meta  jsonb       NOT NULL DEFAULT '{}',
    created_at      timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT agreements_plan_version_key UNIQUE (plan_id, version),
    CONSTRAINT agreements_version_check CHECK (version >= 1),
    CONSTRAINT agreements_sha256_check CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    CONSTRAINT agreements_sha256_document_check
        CHECK (sha256 = encode(sha256(convert_to(document, 'UTF8')), 'hex')),
    CONSTRAINT agreements_status_check CHECK (status IN ('pending', 'signed', 'expired', 'superseded')),
    CONSTRAINT agreements_signature_kind_check CHECK (signature_kind IN ('electronic', 'paper')),
    -- a signature quotes the document's hash, with consent and a signer
    CONSTRAINT agreements_signed_check CHECK (
        (signed_at IS NULL AND signed_hash IS NULL AND signature_kind IS NULL)
        OR (signed_at IS NOT NULL AND signed_hash = sha256 AND consent
            AND signature_kind IS NOT NULL AND signer_name IS NOT NULL AND signer_name <> '')),
    CONSTRAINT agreements_status_signed_check CHECK (status <> 'signed' OR signed_at IS NOT NULL),
    CONSTRAINT agreements_paper_check CHECK (signature_kind IS DISTINCT FROM 'paper'
        OR (paper_reference IS NOT NULL AND paper_reference <> '')),
    CONSTRAINT agreements_signature_meta_check CHECK (jsonb_typeof(signature_meta) = 'object')
);

-- Archived agreements are immutable: the document and its hash never change,
-- and once signed the signature never changes (only status may move on, to
-- 'superseded').
CREATE FUNCTION agreements_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.plan_id <> OLD.plan_id OR NEW.version <> OLD.version
       OR NEW.document <> OLD.document OR NEW.sha256 <> OLD.sha256 THEN
        RAISE EXCEPTION 'agreement % v%: document is immutable', OLD.plan_id, OLD.version
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF OLD.signed_at IS NOT NULL AND (
        NEW.signed_at IS DISTINCT FROM OLD.signed_at
        OR NEW.signed_hash IS DISTINCT FROM OLD.signed_hash
        OR NEW.signature_kind IS DISTINCT FROM OLD.signature_kind
        OR NEW.signer_name IS DISTINCT FROM OLD.signer_name
        OR NEW.paper_reference IS DISTINCT FROM OLD.paper_reference
        OR NEW.consent IS DISTINCT FROM OLD.consent) THEN
        RAISE EXCEPTION 'agreement % v%: signature is immutable', OLD.plan_id, OLD.version
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER agreements_guard BEFORE UPDATE ON agreements
    FOR EACH ROW EXECUTE FUNCTION agreements_guard();
CREATE INDEX agreements_pending_idx ON agreements (expires_at) WHERE status = 'pending';

---- create above / drop below ----

DROP TABLE agreements;
DROP FUNCTION agreements_guard();
DROP TABLE plans;
DROP TABLE offers;
DROP TABLE assessments;
DROP TABLE applications;
