-- Stand-in for ledger-sink's schema "agora" (the sink owns the real migrations); tests only.
CREATE SCHEMA IF NOT EXISTS agora;
CREATE TABLE IF NOT EXISTS agora.jobs (
    job_id         TEXT PRIMARY KEY,
    client_id      TEXT NOT NULL,
    pool           TEXT,
    status         TEXT NOT NULL,
    reason         TEXT,
    submitted_at   TIMESTAMPTZ,
    updated_at     TIMESTAMPTZ,
    escrow_micros  BIGINT,
    cost_micros    BIGINT,
    refund_micros  BIGINT,
    consensus_hash TEXT,
    output         TEXT,
    exit_code      INT,
    agreeing       TEXT[],
    dissenting     TEXT[]
);
CREATE TABLE IF NOT EXISTS agora.accounts (
    account_id     TEXT PRIMARY KEY,
    balance_micros BIGINT NOT NULL
);
CREATE TABLE IF NOT EXISTS agora.ledger_transactions (
    transaction_id TEXT PRIMARY KEY,
    event_id       TEXT NOT NULL,
    client_id      TEXT NOT NULL,
    kind           TEXT NOT NULL,
    job_id         TEXT,
    memo           TEXT,
    ts             TIMESTAMPTZ NOT NULL
);
CREATE TABLE IF NOT EXISTS agora.ledger_postings (
    transaction_id TEXT NOT NULL REFERENCES agora.ledger_transactions (transaction_id),
    account_id     TEXT NOT NULL,
    amount_micros  BIGINT NOT NULL
);
CREATE TABLE IF NOT EXISTS agora.worker_reputation (
    worker_id  TEXT PRIMARY KEY,
    reputation INT NOT NULL
);
CREATE TABLE IF NOT EXISTS agora.verdicts (
    job_id  TEXT PRIMARY KEY,
    outcome TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS agora.job_events (
    event_id TEXT PRIMARY KEY,
    job_id   TEXT NOT NULL,
    type     TEXT NOT NULL,
    ts       TIMESTAMPTZ NOT NULL
);
