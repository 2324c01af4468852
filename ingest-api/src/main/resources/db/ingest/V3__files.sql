-- One row per (owner, file) uploaded through POST /api/v1/files: owner is client:<id> or
-- worker:<id>; the bytes themselves are in the artifact store under sha256. A client's quota is
-- the sum of its rows' sizes; uploading a file it already has adds nothing.
CREATE TABLE IF NOT EXISTS files (
    owner       TEXT        NOT NULL,
    sha256      TEXT        NOT NULL,
    size_bytes  BIGINT      NOT NULL,
    uploaded_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (owner, sha256)
);
CREATE INDEX IF NOT EXISTS files_by_sha256 ON files (sha256);
