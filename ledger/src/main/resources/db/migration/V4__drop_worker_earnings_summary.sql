-- Nothing read worker_earnings_summary (ingest-api sums worker_earnings over rolling windows itself,
-- and its calendar periods disagreed with the API's): one definition of earnings, not two.
DROP VIEW IF EXISTS worker_earnings_summary;
