-- The market-signed settlement receipt of an overturned dispute (JobEvent DISPUTED settled, settlementReceipt:
-- Avro single-object encoding, io.agora.schemas.Receipts): what each slash took, served by
-- GET /api/v1/jobs/{id}/settlement-receipt and checked by agora audit against the job's SLASH postings.
-- NULL on every other event.
ALTER TABLE job_events ADD COLUMN settlement_receipt BYTEA;
