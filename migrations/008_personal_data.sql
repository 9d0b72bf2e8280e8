-- 008 personal data at rest: the customers' identifying columns and the
-- agreements' text and signer hold ciphertext, sealed by package store
-- with the codec key ring (FENQI_CODEC_KEYS / FENQI_CODEC_KEYS_FILE):
--
--     v1:<key id>:<base64(nonce || AES-256-GCM ciphertext and tag)>
--
-- The column types do not change: a value without the v1: prefix is a row
-- written before encryption, read as it is and sealed by the store on its
-- next write (UpsertCustomer, UpdateCustomer) or by Store.ResealCustomers.
-- Nothing looks customers up by a personal value (they are keyed by
-- external_ref, an opaque reference that stays in the clear), so no keyed
-- hash column is needed.

COMMENT ON COLUMN customers.name IS 'sealed: v1:<key id>:<base64(nonce||AES-256-GCM)> (plaintext before migration 008)';
COMMENT ON COLUMN customers.phone IS 'sealed: v1:<key id>:<base64(nonce||AES-256-GCM)> (plaintext before migration 008)';
COMMENT ON COLUMN customers.email IS 'sealed: v1:<key id>:<base64(nonce||AES-256-GCM)> (plaintext before migration 008)';
COMMENT ON COLUMN customers.id_number IS 'sealed: v1:<key id>:<base64(nonce||AES-256-GCM)> (plaintext before migration 008)';
COMMENT ON COLUMN customers.push_id IS 'sealed: v1:<key id>:<base64(nonce||AES-256-GCM)> (plaintext before migration 008)';
COMMENT ON COLUMN agreements.document IS 'sealed (names the borrower); sha256 is of the plaintext';
COMMENT ON COLUMN agreements.signer_name IS 'sealed: v1:<key id>:<base64(nonce||AES-256-GCM)>';

-- The database can no longer hash a sealed text: the store checks the hash
-- of the plaintext before sealing it. Plaintext documents (written before
-- this migration) are still checked here.
ALTER TABLE agreements DROP CONSTRAINT agreements_sha256_document_check;
ALTER TABLE agreements ADD CONSTRAINT agreements_sha256_document_check CHECK (
    document ~ '^v1:[A-Za-z0-9._-]{1,64}:[A-Za-z0-9+/]+=*$'
    OR sha256 = encode(sha256(convert_to(document, 'UTF8')), 'hex'));

---- create above / drop below ----

-- Sealed rows stay sealed (decrypt them with the store before migrating
-- down): the restored check applies to new rows only.
ALTER TABLE agreements DROP CONSTRAINT agreements_sha256_document_check;
ALTER TABLE agreements ADD CONSTRAINT agreements_sha256_document_check
    CHECK (sha256 = encode(sha256(convert_to(document, 'UTF8')), 'hex')) NOT VALID;
COMMENT ON COLUMN customers.name IS NULL;
COMMENT ON COLUMN customers.phone IS NULL;
COMMENT ON COLUMN customers.email IS NULL;
COMMENT ON COLUMN customers.id_number IS NULL;
COMMENT ON COLUMN customers.push_id IS NULL;
COMMENT ON COLUMN agreements.document IS NULL;
COMMENT ON COLUMN agreements.signer_name IS NULL;
