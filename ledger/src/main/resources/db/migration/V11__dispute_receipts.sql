-- The market-signed receipt of a decided dispute (JobEvent DISPUTED overturned or upheld, disputeReceipt:
-- Avro single-object encoding, io.agora.schemas.Receipts): served by GET /api/v1/jobs/{id}/dispute-receipt
-- and checked by agora audit. NULL on every other event and on disputes decided before the field.
ALTER TABLE job_events ADD COLUMN dispute_receipt BYTEA;
