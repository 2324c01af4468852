-- The verdict's cost split by resource (JobVerdict.gpuCostMicros, memoryCostMicros): the parts of
-- cost_micros paid for GPU-seconds and memory GiB-seconds; the rest of cost_micros is cpu. Kept on
-- the verdict and on its job row (what GET /api/v1/jobs/{id} reads). Verdicts from before are all cpu.
ALTER TABLE verdicts
    ADD COLUMN gpu_cost_micros    BIGINT NOT NULL DEFAULT 0,
    ADD COLUMN memory_cost_micros BIGINT NOT NULL DEFAULT 0;

ALTER TABLE jobs
    ADD COLUMN gpu_cost_micros    BIGINT NOT NULL DEFAULT 0,
    ADD COLUMN memory_cost_micros BIGINT NOT NULL DEFAULT 0;
