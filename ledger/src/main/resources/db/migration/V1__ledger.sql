-- The ledger sink's projection of the market's topics. Flyway runs this into the schema named by
-- agora.sink.schema (default "agora"); the audit replays into a fresh schema with the same file.
-- Rows carry event timestamps only, never now(), so a replay reproduces them exactly.

-- One balanced double-entry transaction per LedgerEntry (topic agora.ledger.entries).
CREATE TABLE ledger_transactions (
    transaction_id TEXT PRIMARY KEY,
    event_id       TEXT NOT NULL UNIQUE,
    client_id      TEXT NOT NULL,
    kind           TEXT NOT NULL,
    job_id         TEXT,
    memo           TEXT NOT NULL DEFAULT '',
    ts             TIMESTAMPTZ NOT NULL
);
CREATE INDEX ledger_transactions_client ON ledger_transactions (client_id, ts);
CREATE INDEX ledger_transactions_job ON ledger_transactions (job_id);

CREATE TABLE ledger_postings (
    transaction_id TEXT NOT NULL REFERENCES ledger_transactions (transaction_id),
    posting_no     INT NOT NULL,
    account_id     TEXT NOT NULL,
    amount_micros  BIGINT NOT NULL,
    PRIMARY KEY (transaction_id, posting_no)
);
CREATE INDEX ledger_postings_account ON ledger_postings (account_id);

-- Balances. Only the mint accounts may go negative: credits enter the market through them.
CREATE TABLE accounts (
    account_id     TEXT PRIMARY KEY,
    balance_micros BIGINT NOT NULL DEFAULT 0,
    CONSTRAINT accounts_no_overdraft CHECK (balance_micros >= 0 OR account_id LIKE 'mint:%')
);

-- Checked at commit (or at SET CONSTRAINTS ... IMMEDIATE), once every posting of the transaction is in.
CREATE FUNCTION ledger_transaction_balanced() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    tid   TEXT;
    total BIGINT;
    legs  INT;
BEGIN
    IF TG_OP = 'DELETE' THEN
        tid := OLD.transaction_id;
    ELSE
        tid := NEW.transaction_id;
    END IF;
    SELECT coalesce(sum(amount_micros), 0), count(*) INTO total, legs
      FROM ${flyway:defaultSchema}.ledger_postings
     WHERE transaction_id = tid;
    IF total <> 0 THEN
        RAISE EXCEPTION 'ledger transaction % is unbalanced: its % postings sum to % micro-credits, not 0',
            tid, legs, total
            USING ERRCODE = 'check_violation', CONSTRAINT = 'ledger_transaction_balanced';
    END IF;
    RETURN NULL;
END;
$$;

CREATE CONSTRAINT TRIGGER ledger_transaction_balanced
    AFTER INSERT ON ledger_transactions
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION ledger_transaction_balanced();

CREATE CONSTRAINT TRIGGER ledger_posting_balanced
    AFTER INSERT OR UPDATE OR DELETE ON ledger_postings
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION ledger_transaction_balanced();

-- A job as the market saw it (agora.jobs.events and agora.jobs.verdicts).
CREATE TABLE jobs (
    job_id         TEXT PRIMARY KEY,
    client_id      TEXT NOT NULL,
    pool           TEXT,
    status         TEXT NOT NULL,
    reason         TEXT,
    submitted_at   TIMESTAMPTZ NOT NULL,
    updated_at     TIMESTAMPTZ NOT NULL,
    escrow_micros  BIGINT NOT NULL DEFAULT 0,
    cost_micros    BIGINT,
    refund_micros  BIGINT,
    consensus_hash TEXT,
    output         TEXT,
    exit_code      INT,
    agreeing       TEXT[],
    dissenting     TEXT[]
);
CREATE INDEX jobs_client ON jobs (client_id, submitted_at);
CREATE INDEX jobs_status ON jobs (status);

CREATE TABLE job_events (
    event_id  TEXT PRIMARY KEY,
    job_id    TEXT NOT NULL,
    type      TEXT NOT NULL,
    reason    TEXT,
    worker_id TEXT,
    replica   INT NOT NULL,
    attempt   INT NOT NULL,
    ts        TIMESTAMPTZ NOT NULL
);
CREATE INDEX job_events_job ON job_events (job_id, ts);

CREATE TABLE verdicts (
    job_id         TEXT PRIMARY KEY,
    event_id       TEXT NOT NULL UNIQUE,
    outcome        TEXT NOT NULL,
    consensus_hash TEXT,
    output         TEXT,
    exit_code      INT NOT NULL,
    agreeing       TEXT[] NOT NULL,
    dissenting     TEXT[] NOT NULL,
    cost_micros    BIGINT NOT NULL,
    refund_micros  BIGINT NOT NULL,
    reason         TEXT,
    submitted_at   TIMESTAMPTZ NOT NULL,
    decided_at     TIMESTAMPTZ NOT NULL
);

-- Reputation (agora.workers.reputation): every move, and the sum of the moves per worker.
CREATE TABLE reputation_events (
    event_id  TEXT PRIMARY KEY,
    worker_id TEXT NOT NULL,
    delta     INT NOT NULL,
    reason    TEXT NOT NULL,
    job_id    TEXT,
    ts        TIMESTAMPTZ NOT NULL
);
CREATE INDEX reputation_events_worker ON reputation_events (worker_id, ts);

CREATE TABLE worker_reputation (
    worker_id  TEXT PRIMARY KEY,
    reputation BIGINT NOT NULL
);

-- Every credit to a worker account, with its time: sum it over today / week / month / all time.
CREATE VIEW worker_earnings AS
SELECT substr(p.account_id, length('worker:') + 1) AS worker_id,
       t.transaction_id,
       t.job_id,
       t.kind,
       p.amount_micros,
       t.ts
  FROM ledger_postings p
  JOIN ledger_transactions t ON t.transaction_id = p.transaction_id
 WHERE p.account_id LIKE 'worker:%';

CREATE VIEW worker_earnings_summary AS
SELECT worker_id,
       coalesce(sum(amount_micros) FILTER (WHERE ts >= date_trunc('day', now())), 0)   AS today_micros,
       coalesce(sum(amount_micros) FILTER (WHERE ts >= date_trunc('week', now())), 0)  AS week_micros,
       coalesce(sum(amount_micros) FILTER (WHERE ts >= date_trunc('month', now())), 0) AS month_micros,
       sum(amount_micros)                                                              AS total_micros
  FROM worker_earnings
 GROUP BY worker_id;

-- The sink's position, written in the same transaction as the rows it produced.
-- The database, not Kafka, is the source of truth for where the sink resumes.
CREATE TABLE consumer_offsets (
    group_id    TEXT NOT NULL,
    topic       TEXT NOT NULL,
    partition   INT NOT NULL,
    next_offset BIGINT NOT NULL,
    PRIMARY KEY (group_id, topic, partition)
);
