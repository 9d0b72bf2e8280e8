-- 005 contact outcomes: a queued contact that is no longer relevant when its
-- time comes (a reminder for an instalment already paid, waived or
-- superseded) is recorded as 'cancelled'. It was never attempted, so, like a
-- deferred contact, it has no sent_at and counts against no contact cap.

ALTER TABLE contacts
    DROP CONSTRAINT contacts_outcome_check,
    ADD CONSTRAINT contacts_outcome_check CHECK (outcome IN
        ('sent', 'delivered', 'failed', 'connected', 'no_answer', 'deferred', 'cancelled')),
    DROP CONSTRAINT contacts_sent_check,
    -- an attempt that happened has a time
    ADD CONSTRAINT contacts_sent_check
        CHECK (outcome IS NULL OR outcome IN ('deferred', 'cancelled') OR sent_at IS NOT NULL);

---- create above / drop below ----

-- A cancelled contact was not made: 'deferred' is the closest outcome the
-- older schema knows.
UPDATE contacts SET outcome = 'deferred' WHERE outcome = 'cancelled';
ALTER TABLE contacts
    DROP CONSTRAINT contacts_outcome_check,
    ADD CONSTRAINT contacts_outcome_check
        CHECK (outcome IN ('sent', 'delivered', 'failed', 'connected', 'no_answer', 'deferred')),
    DROP CONSTRAINT contacts_sent_check,
    ADD CONSTRAINT contacts_sent_check CHECK (outcome IS NULL OR outcome = 'deferred' OR sent_at IS NOT NULL);
