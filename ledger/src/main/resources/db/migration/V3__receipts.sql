-- The market-signed receipt of each verdict (io.agora.events.Receipt in Avro single-object
-- encoding, signature included), exactly as the verifier emitted it; NULL for verdicts written
-- before receipts. `agora audit` verifies each against the market's public key and the postings.
ALTER TABLE verdicts ADD COLUMN receipt BYTEA;
