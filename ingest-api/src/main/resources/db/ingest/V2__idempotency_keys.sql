-- One row per (client, Idempotency-Key) that named a submitted job: the job id is derived from the
-- pair, so it is the key here; request_sha256 is the SHA-256 of the canonical request, so that the
-- same key with another body is refused (409) instead of silently answering the first job.
CREATE TABLE IF NOT EXISTS idempotency_keys (
    job_id          TEXT PRIMARY KEY,
    client_id       TEXT        NOT NULL,
    idempotency_key TEXT        NOT NULL,
    request_sha256  TEXT        NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL
);
