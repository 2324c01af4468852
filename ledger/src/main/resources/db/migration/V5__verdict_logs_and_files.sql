-- What a client gets back besides stdout (issue 13): the served replica's stderr, whether its
-- stdout or stderr was cut at the worker's cap, and the agreed result's files (path -> SHA-256,
-- the bytes are in the artifact store under that hash).
ALTER TABLE verdicts
    ADD COLUMN output_truncated BOOLEAN NOT NULL DEFAULT false,
    ADD COLUMN stderr           TEXT,
    ADD COLUMN stderr_truncated BOOLEAN NOT NULL DEFAULT false;

CREATE TABLE verdict_files (
    job_id TEXT NOT NULL REFERENCES verdicts (job_id),
    path   TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    PRIMARY KEY (job_id, path)
);
