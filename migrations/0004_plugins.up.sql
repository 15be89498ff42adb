-- The plugin catalog (Vault's plugin catalog is the model): one row per
-- installed plugin, pinned by the sha256 of its executable. The host checks
-- the checksum before every start, so a replaced binary never runs.
--
-- Settings are split in two: `settings` holds the non-secret values as a
-- JSON object (shown to staff), `secrets` holds the values of the fields the
-- plugin's schema marks writeOnly, as one JSON object sealed with envelope
-- encryption (core/secret) and base64-encoded. Plaintext secrets are never
-- stored. `secret_fields` lists the JSON Pointers of the secrets that are
-- set, so staff see "set / not set" without decrypting anything.
CREATE TABLE plugins (
    -- The plugin's own id, "<kind>.<name>", e.g. payment.testpay.
    id                TEXT PRIMARY KEY,
    kind              TEXT NOT NULL CHECK (kind IN ('payment', 'invoice', 'notify')),
    display_name      TEXT NOT NULL DEFAULT '',
    description       TEXT NOT NULL DEFAULT '',
    -- Semantic version reported by Describe at install time.
    version           TEXT NOT NULL,
    protocol_version  INTEGER NOT NULL,
    sdk_version       TEXT NOT NULL DEFAULT '',
    -- Hex sha256 of the executable; checked at every start.
    sha256            TEXT NOT NULL,
    -- Path of the executable relative to the plugin directory.
    file_name         TEXT NOT NULL,
    -- JSON array of capability strings from Describe.
    capabilities      TEXT NOT NULL DEFAULT '[]',
    -- The settings' JSON Schema from Describe.
    config_schema     TEXT NOT NULL,
    enabled           BOOLEAN NOT NULL DEFAULT FALSE,
    -- Non-secret settings, a JSON object.
    settings          TEXT NOT NULL DEFAULT '{}',
    -- Sealed JSON object of the secret settings, base64; '' when none.
    secrets           TEXT NOT NULL DEFAULT '',
    -- Id of the master key that sealed `secrets`, for key rotation.
    secrets_key_id    TEXT NOT NULL DEFAULT '',
    -- JSON array of the JSON Pointers of the secrets that are set.
    secret_fields     TEXT NOT NULL DEFAULT '[]',
    -- Bumped by every change of binary, settings or enabled flag. Running
    -- hosts (several kassa instances may share the database) compare it to
    -- reconfigure or restart their plugin process.
    revision          BIGINT NOT NULL DEFAULT 1,
    -- Last health check result seen by any instance.
    health_status     TEXT NOT NULL DEFAULT 'UNKNOWN',
    health_message    TEXT NOT NULL DEFAULT '',
    health_checked_at TIMESTAMP,
    installed_at      TIMESTAMP NOT NULL,
    updated_at        TIMESTAMP NOT NULL
);
--bun:split
CREATE INDEX plugins_kind ON plugins (kind, id);
