-- The hash a decided dispute settled on (JobEvent DISPUTED overturned or upheld, consensusHash):
-- with the verdict it makes the job's verdict history (GET /api/v1/jobs/{id}, verdicts). NULL on
-- every other event and on disputes decided before the field.
ALTER TABLE job_events ADD COLUMN consensus_hash TEXT;
