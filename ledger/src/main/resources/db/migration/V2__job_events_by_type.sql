-- The read side asks for recent events of one type (ingest-api: each worker's mean time from
-- assignment to result over the last hour, for the match preview and the pool view).
CREATE INDEX job_events_type_ts ON job_events (type, ts);
