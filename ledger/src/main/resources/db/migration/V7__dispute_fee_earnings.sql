-- A dispute fee paid to a worker (DISPUTE_FEE dispute-fee-paid:<job>, the re-run confirmed the verdict)
-- is earning too: a worker's earnings are its PAYOUT, SLASH and DISPUTE_FEE legs. The client's side
-- of a DISPUTE_FEE (hold, refund) is on client: and escrow: accounts, never on a worker's.
CREATE OR REPLACE VIEW worker_earnings AS
SELECT substr(p.account_id, length('worker:') + 1) AS worker_id,
       t.transaction_id,
       t.job_id,
       t.kind,
       p.amount_micros,
       t.ts
  FROM ledger_postings p
  JOIN ledger_transactions t ON t.transaction_id = p.transaction_id
 WHERE p.account_id LIKE 'worker:%'
   AND t.kind IN ('PAYOUT', 'SLASH', 'DISPUTE_FEE');
