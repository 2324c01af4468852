-- Retention (FileSweep): a file row lives until agora.artifacts.retention-hours after it was last used
-- (uploaded, uploaded again, or named as an input by a submitted job); the sweep deletes expired rows,
-- then the bytes of every SHA-256 no row names any more.
ALTER TABLE files ADD COLUMN IF NOT EXISTS used_at TIMESTAMPTZ;
UPDATE files SET used_at = uploaded_at WHERE used_at IS NULL;
ALTER TABLE files ALTER COLUMN used_at SET NOT NULL;
CREATE INDEX IF NOT EXISTS files_by_used_at ON files (used_at);
