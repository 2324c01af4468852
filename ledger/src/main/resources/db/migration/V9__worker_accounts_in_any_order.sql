-- Stakes made some transactions spend credits that arrive on another partition of
-- agora.ledger.entries: a STAKE (keyed by its worker) moves credits of worker:<id> that PAYOUTs
-- (keyed by their clients) brought, and a SLASH (keyed by its client) takes from stake:<id> what a
-- STAKE brought and from worker:<id> what a PAYOUT of the job brought. The market posts each only
-- after it saw those credits (the matcher's worker gate), but the sink and the audit's replay read
-- the partitions in no fixed order relative to each other, so such a transaction may be booked
-- before the credits it spends. worker: and stake: accounts may therefore be negative for a while
-- in the database, never once it has caught up (AuditReport reports any negative non-mint account);
-- refusing them would leave the database without a transaction the market made. client: and escrow:
-- accounts stay checked on every booking: their debits and their credits are all keyed by the client.
ALTER TABLE accounts DROP CONSTRAINT accounts_no_overdraft;
ALTER TABLE accounts ADD CONSTRAINT accounts_no_overdraft
    CHECK (balance_micros >= 0 OR account_id LIKE 'mint:%' OR account_id LIKE 'worker:%' OR account_id LIKE 'stake:%');
