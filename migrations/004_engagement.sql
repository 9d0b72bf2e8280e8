-- 004 engagement: customer/operator requests, contacts and the outbox,
-- complaints, operator tasks and the append-only audit log.

-- Every message sent to a plan by a customer, an operator or the system,
-- keyed by its request id: a repeated request id is answered from here.
-- payload_hash is the SHA-256 (hex) of the payload's canonical jsonb text.
CREATE TABLE requests (
    id           uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    plan_id      uuid        NOT NULL REFERENCES plans (id),
    request_id   text        NOT NULL,
    kind         text        NOT NULL,
    actor        text        NOT NULL,
    actor_id     text        NOT NULL DEFAULT '',
    payload      jsonb       NOT NULL DEFAULT '{}',
    payload_hash char(64)    NOT NULL,
    status       text        NOT NULL DEFAULT 'received',
    result       jsonb,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    completed_at timestamptz,
    CONSTRAINT requests_plan_request_id_key UNIQUE (plan_id, request_id),
    CONSTRAINT requests_request_id_check CHECK (request_id <> ''),
    CONSTRAINT requests_kind_check CHECK (kind IN (
        -- origination
        'negotiate', 'choose_offer', 'sign_agreement', 'withdraw', 'review_decision',
        -- servicing requests
        'cancel', 'restructure', 'pause', 'resume', 'early_repayment', 'relief', 'complaint',
        'complaint_resolution', 'payment', 'contact_preferences',
        -- collection
        'grace_extension', 'repayment_plan', 'legal_referral', 'write_off')),
    CONSTRAINT requests_actor_check CHECK (actor IN ('customer', 'operator', 'system')),
    CONSTRAINT requests_payload_hash_check CHECK (payload_hash ~ '^[0-9a-f]{64}$'),
    CONSTRAINT requests_status_check
        CHECK (status IN ('received', 'accepted', 'rejected', 'completed', 'failed')),
    -- a final request has its answer and completion time
    CONSTRAINT requests_completed_check CHECK (
        (status IN ('rejected', 'completed', 'failed')) = (completed_at IS NOT NULL))
);

-- Every contact attempt with the debtor (reminders, notices, collection
-- calls and letters), kept for compliance. contact_key makes recording one
-- attempt idempotent.
CREATE TABLE contacts (
    id               uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    plan_id          uuid        NOT NULL REFERENCES plans (id),
    contact_key      text        NOT NULL,
    purpose          text        NOT NULL,
    channel          text        NOT NULL,
    schedule_version integer,
    instalment_no    integer,
    -- days-past-due bucket at the time of the contact (M0 .. M7)
    stage            text,
    scheduled_for    timestamptz NOT NULL,
    sent_at          timestamptz,
    outcome          text,
    body             text        NOT NULL DEFAULT '',
    details          jsonb       NOT NULL DEFAULT '{}',
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT contacts_contact_key_key UNIQUE (contact_key),
    CONSTRAINT contacts_instalment_fkey FOREIGN KEY (plan_id, schedule_version, instalment_no)
        REFERENCES instalments (plan_id, schedule_version, no),
    CONSTRAINT contacts_contact_key_check CHECK (contact_key <> ''),
    CONSTRAINT contacts_purpose_check
        CHECK (purpose IN ('reminder', 'schedule_notice', 'collection', 'notice', 'alert', 'check_in')),
    CONSTRAINT contacts_channel_check CHECK (channel IN ('sms', 'email', 'push', 'phone', 'letter')),
    CONSTRAINT contacts_stage_check CHECK (stage ~ '^M[0-7]$'),
    CONSTRAINT contacts_outcome_check
        CHECK (outcome IN ('sent', 'delivered', 'failed', 'connected', 'no_answer', 'deferred')),
    -- an attempt that happened has a time
    CONSTRAINT contacts_sent_check CHECK (outcome IS NULL OR outcome = 'deferred' OR sent_at IS NOT NULL),
    CONSTRAINT contacts_details_check CHECK (jsonb_typeof(details) = 'object')
);
CREATE INDEX contacts_plan_scheduled_idx ON contacts (plan_id, scheduled_for);
-- frequency limits: attempts per channel per day / rolling week
CREATE INDEX contacts_plan_channel_sent_idx ON contacts (plan_id, channel, sent_at);

-- Durable outbox: a message to deliver is written in the same transaction as
-- its contact; a sender delivers it at or after available_at and stamps
-- delivered_at.
CREATE TABLE outbox (
    id           uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    contact_id   uuid        NOT NULL REFERENCES contacts (id),
    channel      text        NOT NULL,
    payload      jsonb       NOT NULL,
    available_at timestamptz NOT NULL DEFAULT now(),
    attempts     integer     NOT NULL DEFAULT 0,
    last_error   text        NOT NULL DEFAULT '',
    created_at   timestamptz NOT NULL DEFAULT now(),
    delivered_at timestamptz,
    CONSTRAINT outbox_contact_key UNIQUE (contact_id),
    CONSTRAINT outbox_channel_check CHECK (channel IN ('sms', 'email', 'push', 'phone', 'letter')),
    CONSTRAINT outbox_attempts_check CHECK (attempts >= 0)
);
CREATE INDEX outbox_pending_idx ON outbox (available_at) WHERE delivered_at IS NULL;

-- A complaint, filed through a request. An open complaint pauses collection
-- contact on its plan.
CREATE TABLE complaints (
    id          uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    plan_id     uuid        NOT NULL,
    request_id  text        NOT NULL,
    text        text        NOT NULL,
    status      text        NOT NULL DEFAULT 'open',
    opened_at   timestamptz NOT NULL DEFAULT now(),
    resolved_at timestamptz,
    resolution  text,
    CONSTRAINT complaints_plan_request_key UNIQUE (plan_id, request_id),
    CONSTRAINT complaints_request_fkey FOREIGN KEY (plan_id, request_id)
        REFERENCES requests (plan_id, request_id),
    CONSTRAINT complaints_text_check CHECK (text <> ''),
    CONSTRAINT complaints_status_check CHECK (status IN ('open', 'resolved', 'withdrawn')),
    CONSTRAINT complaints_resolved_check CHECK (
        (status = 'open' AND resolved_at IS NULL)
        OR (status <> 'open' AND resolved_at IS NOT NULL AND resolution IS NOT NULL))
);
CREATE INDEX complaints_open_idx ON complaints (plan_id) WHERE status = 'open';

-- Work for a human: manual credit review, early-warning follow-up, agent
-- calls, legal referral and write-off decisions, complaint handling.
CREATE TABLE tasks (
    id         uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    task_key   text        NOT NULL,
    plan_id    uuid        NOT NULL REFERENCES plans (id),
    kind       text        NOT NULL,
    status     text        NOT NULL DEFAULT 'open',
    assignee   text,
    due_at     timestamptz,
    details    jsonb       NOT NULL DEFAULT '{}',
    outcome    text,
    created_at timestamptz NOT NULL DEFAULT now(),
    closed_at  timestamptz,
    CONSTRAINT tasks_task_key_key UNIQUE (task_key),
    CONSTRAINT tasks_task_key_check CHECK (task_key <> ''),
    CONSTRAINT tasks_kind_check CHECK (kind IN
        ('review', 'early_warning', 'collection_call', 'legal_referral', 'write_off', 'complaint')),
    CONSTRAINT tasks_status_check CHECK (status IN ('open', 'done', 'cancelled')),
    CONSTRAINT tasks_closed_check CHECK ((status = 'open') = (closed_at IS NULL)),
    CONSTRAINT tasks_details_check CHECK (jsonb_typeof(details) = 'object')
);
CREATE INDEX tasks_open_idx ON tasks (kind, due_at) WHERE status = 'open';
CREATE INDEX tasks_plan_idx ON tasks (plan_id);

-- Every action, append-only: rows can be inserted, never changed or removed.
CREATE TABLE audit_log (
    id          bigserial   PRIMARY KEY,
    plan_id     uuid        REFERENCES plans (id),
    customer_id uuid        REFERENCES customers (id),
    actor       text        NOT NULL,
    action      text        NOT NULL,
    details     jsonb       NOT NULL DEFAULT '{}',
    at          timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT audit_log_actor_check CHECK (actor <> ''),
    CONSTRAINT audit_log_action_check CHECK (action <> ''),
    CONSTRAINT audit_log_details_check CHECK (jsonb_typeof(details) = 'object')
);
CREATE INDEX audit_log_plan_idx ON audit_log (plan_id, id) WHERE plan_id IS NOT NULL;
CREATE INDEX audit_log_customer_idx ON audit_log (customer_id, id) WHERE customer_id IS NOT NULL;

CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only: % rejected', TG_OP
        USING ERRCODE = 'FQ001', HINT = 'insert a new audit row instead';
END
$$;
CREATE TRIGGER audit_log_no_update_delete BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();

---- create above / drop below ----

DROP TABLE audit_log;
DROP FUNCTION audit_log_append_only();
DROP TABLE tasks;
DROP TABLE complaints;
DROP TABLE outbox;
DROP TABLE contacts;
DROP TABLE requests;
