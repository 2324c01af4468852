-- ingest-api's own tables; the read model in schema agora belongs to ledger-sink.
CREATE TABLE IF NOT EXISTS api_keys (
    key_id     TEXT PRIMARY KEY,
    client_id  TEXT        NOT NULL,
    salt       TEXT        NOT NULL,
    hash       TEXT        NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    revoked_at TIMESTAMPTZ
);
CREATE INDEX IF NOT EXISTS api_keys_client ON api_keys (client_id);
