-- 009 keyed agreement hashes. An agreement's text is a published template
-- filled with non-secret terms and the borrower's name, so the plain
-- SHA-256 of its (sealed) text would let anyone who reads the database find
-- the name by hashing candidate texts. agreements.sha256 and signed_hash now
-- hold a keyed hash, computed by package store with the codec key ring:
--
--     hmac:v1:<key id>:<hex(HMAC-SHA256(HKDF(key, "fenqi/store/agreement-hash/v1"),
--                                       lower-case hex SHA-256 of the text))>
--
-- The store checks the hash of the plaintext before sealing it, and checks
-- the keyed hash against the opened text on every read. A 64-hex-digit
-- value is a plain SHA-256 written before this migration: it still reads;
-- Store.RehashAgreements (and signing) replace it, for a sealed text, by its
-- keyed hash. A plaintext text (before migration 008) keeps its plain hash,
-- still checked here.

ALTER TABLE agreements ALTER COLUMN sha256 TYPE text;
ALTER TABLE agreements ALTER COLUMN signed_hash TYPE text;
COMMENT ON COLUMN agreements.document IS 'sealed (names the borrower); sha256 is a keyed hash of its SHA-256';
COMMENT ON COLUMN agreements.sha256 IS 'hmac:v1:<key id>:<hex HMAC-SHA256 of the text''s SHA-256> (plain SHA-256 before migration 009)';
COMMENT ON COLUMN agreements.signed_hash IS 'the hash quoted by the signature, stored as sha256 is';

ALTER TABLE agreements DROP CONSTRAINT agreements_sha256_check;
ALTER TABLE agreements ADD CONSTRAINT agreements_sha256_check CHECK (
    sha256 ~ '^hmac:v1:[A-Za-z0-9._-]{1,64}:[0-9a-f]{64}$' OR sha256 ~ '^[0-9a-f]{64}$');

-- A keyed hash goes with a sealed text (the database cannot check it); a
-- plain hash is that of a plaintext text, or of a sealed one written
-- between migrations 008 and 009 (new rows: see agreements_hash_guard).
ALTER TABLE agreements DROP CONSTRAINT agreements_sha256_document_check;
ALTER TABLE agreements ADD CONSTRAINT agreements_sha256_document_check CHECK (
    (document ~ '^v1:[A-Za-z0-9._-]{1,64}:[A-Za-z0-9+/]+=*$'
        AND (sha256 ~ '^hmac:v1:' OR sha256 ~ '^[0-9a-f]{64}$'))
    OR sha256 = encode(sha256(convert_to(document, 'UTF8')), 'hex'));

-- New sealed texts never come with a plain SHA-256.
CREATE FUNCTION agreements_hash_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.document ~ '^v1:[A-Za-z0-9._-]{1,64}:[A-Za-z0-9+/]+=*$' AND NEW.sha256 !~ '^hmac:v1:' THEN
        RAISE EXCEPTION 'agreement % v%: a sealed document needs a keyed hash (hmac:v1:...)', NEW.plan_id, NEW.version
            USING ERRCODE = 'check_violation', CONSTRAINT = 'agreements_hash_guard';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER agreements_hash_guard BEFORE INSERT ON agreements
    FOR EACH ROW EXECUTE FUNCTION agreements_hash_guard();

-- Archived agreements stay immutable, except for one move: the plain
-- SHA-256 of a sealed text (and the signed_hash equal to it) may be
-- replaced by a keyed hash, once.
CREATE OR REPLACE FUNCTION agreements_guard() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    rehash boolean := OLD.sha256 ~ '^[0-9a-f]{64}$' AND NEW.sha256 ~ '^hmac:v1:'
        AND OLD.document ~ '^v1:[A-Za-z0-9._-]{1,64}:[A-Za-z0-9+/]+=*$';
BEGIN
    IF NEW.plan_id <> OLD.plan_id OR NEW.version <> OLD.version
       OR NEW.document <> OLD.document OR (NEW.sha256 <> OLD.sha256 AND NOT rehash) THEN
        RAISE EXCEPTION 'agreement % v%: document is immutable', OLD.plan_id, OLD.version
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF OLD.signed_at IS NOT NULL AND (
        NEW.signed_at IS DISTINCT FROM OLD.signed_at
        OR (NEW.signed_hash IS DISTINCT FROM OLD.signed_hash
            AND NOT (rehash AND OLD.signed_hash = OLD.sha256 AND NEW.signed_hash = NEW.sha256))
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

---- create above / drop below ----

-- Keyed hashes do not fit char(64): run this only while no agreement has
-- one (the type change fails otherwise).
CREATE OR REPLACE FUNCTION agreements_guard() RETURNS trigger LANGUAGE plpgsql AS $$
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
DROP TRIGGER agreements_hash_guard ON agreements;
DROP FUNCTION agreements_hash_guard();
ALTER TABLE agreements DROP CONSTRAINT agreements_sha256_document_check;
ALTER TABLE agreements ADD CONSTRAINT agreements_sha256_document_check CHECK (
    document ~ '^v1:[A-Za-z0-9._-]{1,64}:[A-Za-z0-9+/]+=*$'
    OR sha256 = encode(sha256(convert_to(document, 'UTF8')), 'hex'));
ALTER TABLE agreements DROP CONSTRAINT agreements_sha256_check;
ALTER TABLE agreements ADD CONSTRAINT agreements_sha256_check CHECK (sha256 ~ '^[0-9a-f]{64}$');
COMMENT ON COLUMN agreements.sha256 IS NULL;
COMMENT ON COLUMN agreements.signed_hash IS NULL;
COMMENT ON COLUMN agreements.document IS 'sealed (names the borrower); sha256 is of the plaintext';
ALTER TABLE agreements ALTER COLUMN signed_hash TYPE char(64);
ALTER TABLE agreements ALTER COLUMN sha256 TYPE char(64);
