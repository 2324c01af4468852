-- Stakes (STAKE, UNSTAKE, SLASH; market's Stake): a worker's bonded credits are the balance of its
-- stake:<workerId> account (in accounts, like every balance). Moving its own credits into or out of
-- its stake is not earning: a worker's earnings are its PAYOUTs and its SLASH legs (an honest share,
-- or a lying worker's payment reclaimed, negative).
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
   AND t.kind IN ('PAYOUT', 'SLASH');

-- A dispute's state on its job (JobEvent DISPUTED): opened, then overturned or upheld; a refused
-- dispute leaves it as it was. The verdict (and so the status) stays the market's first word; the
-- money the dispute moved is the job's SLASH transactions.
ALTER TABLE jobs ADD COLUMN dispute TEXT;
