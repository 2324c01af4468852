package io.agora.ledger;

import io.agora.events.DisputeReceipt;
import io.agora.events.Receipt;
import io.agora.events.ReceiptPayout;
import io.agora.events.SettlementReceipt;
import io.agora.events.SlashTaken;
import io.agora.market.Accounts;
import io.agora.market.Postings;
import io.agora.schemas.Receipts;

import javax.sql.DataSource;
import java.io.PrintStream;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Compares two projections of the market (typically the live schema and a fresh {@link Replay})
 * table by table, and checks the money invariants in each: every transaction balanced, no
 * negative non-mint account, balances equal to the sum of their postings, non-mint total equal
 * to minus the mint total, and a zero escrow for every job in a terminal state. Given the market's
 * public key, it also verifies every stored receipt ({@link #withReceipts}).
 */
public final class AuditReport {
    /** The tables whose rows must be identical between the live database and a replay. */
    public static final List<String> COMPARED_TABLES = List.of("ledger_transactions", "ledger_postings", "accounts",
            "jobs", "verdicts", "verdict_files", "reputation_events", "worker_reputation");
    private static final int SHOWN_ROWS = 20;

    private final List<String> findings;

    private AuditReport(List<String> findings) {
        this.findings = List.copyOf(findings);
    }

    /** Compares {@code expected} and {@code actual} (schemas of the same database) and checks both. */
    public static AuditReport compare(DataSource dataSource, String expected, String actual) throws SQLException {
        LedgerSchema.requireValidName(expected);
        LedgerSchema.requireValidName(actual);
        List<String> out = new ArrayList<>();
        try (Connection c = dataSource.getConnection()) {
            c.setReadOnly(true);
            c.setAutoCommit(false);
            // One snapshot for the whole comparison.
            try (Statement st = c.createStatement()) {
                st.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ");
            }
            for (String table : COMPARED_TABLES) {
                out.addAll(tableDifferences(c, table, expected, actual));
            }
            out.addAll(invariants(c, expected));
            out.addAll(invariants(c, actual));
            c.rollback();
        }
        return new AuditReport(out);
    }

    /** Only the invariants of one schema. */
    public static AuditReport check(DataSource dataSource, String schema) throws SQLException {
        LedgerSchema.requireValidName(schema);
        try (Connection c = dataSource.getConnection()) {
            return new AuditReport(invariants(c, schema));
        }
    }

    /**
     * This report plus {@link #receipts}' findings for {@code schema}: every stored receipt checked
     * against the market's public key, its verdict and the job's postings.
     */
    public AuditReport withReceipts(DataSource dataSource, String schema, String marketKey) throws SQLException {
        LedgerSchema.requireValidName(schema);
        List<String> out = new ArrayList<>(findings);
        try (Connection c = dataSource.getConnection()) {
            out.addAll(receipts(c, schema, marketKey));
            out.addAll(disputeReceipts(c, schema, marketKey));
            out.addAll(settlementReceipts(c, schema, marketKey));
        }
        return new AuditReport(out);
    }

    /** Only the receipts of one schema ({@link #receipts}). */
    public static AuditReport checkReceipts(DataSource dataSource, String schema, String marketKey) throws SQLException {
        return new AuditReport(List.of()).withReceipts(dataSource, schema, marketKey);
    }

    public List<String> findings() {
        return findings;
    }

    public boolean clean() {
        return findings.isEmpty();
    }

    public void print(PrintStream out) {
        if (clean()) {
            out.println("audit: no differences, every invariant holds");
            return;
        }
        out.println("audit: " + findings.size() + " finding(s)");
        findings.forEach(f -> out.println("  " + f));
    }

    static List<String> tableDifferences(Connection c, String table, String a, String b) throws SQLException {
        List<String> out = new ArrayList<>();
        String onlyA = "SELECT to_jsonb(t) FROM %s.%s t EXCEPT ALL SELECT to_jsonb(t) FROM %s.%s t".formatted(a, table, b, table);
        String onlyB = "SELECT to_jsonb(t) FROM %s.%s t EXCEPT ALL SELECT to_jsonb(t) FROM %s.%s t".formatted(b, table, a, table);
        String sql = "SELECT side, row::text, count(*) OVER () FROM ("
                + "SELECT 1 AS side, q.* FROM (" + onlyA + ") AS q(row) UNION ALL "
                + "SELECT 2 AS side, q.* FROM (" + onlyB + ") AS q(row)) d ORDER BY 2, 1 LIMIT " + SHOWN_ROWS;
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            long total = 0;
            while (rs.next()) {
                total = rs.getLong(3);
                out.add(table + ": only in " + (rs.getInt(1) == 1 ? a : b) + ": " + rs.getString(2));
            }
            if (total > SHOWN_ROWS) {
                out.add(table + ": ... " + (total - SHOWN_ROWS) + " more differing rows");
            }
        }
        return out;
    }

    static List<String> invariants(Connection c, String s) throws SQLException {
        List<String> out = new ArrayList<>();
        query(c, "SELECT transaction_id, sum(amount_micros) FROM %s.ledger_postings GROUP BY 1 HAVING sum(amount_micros) <> 0"
                        .formatted(s),
                rs -> out.add(s + ": transaction " + rs.getString(1) + " is unbalanced by " + rs.getLong(2) + " micro-credits"));
        query(c, "SELECT account_id, balance_micros FROM %s.accounts WHERE balance_micros < 0 AND account_id NOT LIKE 'mint:%%'"
                        .formatted(s),
                rs -> out.add(s + ": account " + rs.getString(1) + " is negative: " + rs.getLong(2)));
        query(c, """
                SELECT coalesce(a.account_id, p.account_id), a.balance_micros, p.total
                  FROM %1$s.accounts a
                  FULL JOIN (SELECT account_id, sum(amount_micros) AS total FROM %1$s.ledger_postings GROUP BY 1) p
                    ON p.account_id = a.account_id
                 WHERE a.balance_micros IS DISTINCT FROM p.total""".formatted(s),
                rs -> out.add(s + ": account " + rs.getString(1) + " has balance " + rs.getObject(2)
                        + " but its postings sum to " + rs.getObject(3)));
        query(c, """
                SELECT coalesce(sum(balance_micros) FILTER (WHERE account_id NOT LIKE 'mint:%%'), 0),
                       coalesce(sum(balance_micros) FILTER (WHERE account_id LIKE 'mint:%%'), 0)
                  FROM %s.accounts""".formatted(s),
                rs -> {
                    if (rs.getLong(1) != -rs.getLong(2)) {
                        out.add(s + ": credits not conserved: non-mint accounts hold " + rs.getLong(1)
                                + " but the mints issued " + (-rs.getLong(2)));
                    }
                });
        query(c, """
                SELECT j.job_id, j.status, a.balance_micros
                  FROM %1$s.jobs j JOIN %1$s.accounts a ON a.account_id = 'escrow:' || j.job_id
                 WHERE j.status IN ('COMPLETED','FAILED','NO_CONSENSUS','EXPIRED','CANCELLED','REJECTED')
                   AND a.balance_micros <> 0
                 ORDER BY 1""".formatted(s),
                rs -> out.add(s + ": job " + rs.getString(1) + " is " + rs.getString(2) + " but escrow:"
                        + rs.getString(1) + " still holds " + rs.getLong(3)));
        return out;
    }

    /**
     * Every stored receipt must be signed by {@code marketKey} and balanced ({@link Receipts#problems}),
     * say what its verdict row says (outcome, cost, refund), and list exactly the job's PAYOUT
     * postings, worker by worker, and its REFUND. Verdicts from before receipts (NULL) are not checked.
     */
    static List<String> receipts(Connection c, String s, String marketKey) throws SQLException {
        List<String> out = new ArrayList<>();
        Map<String, Map<String, Long>> credited = new HashMap<>(); // job -> account -> micros, PAYOUT and REFUND
        query(c, """
                SELECT t.job_id, t.kind, p.account_id, sum(p.amount_micros)
                  FROM %1$s.ledger_transactions t JOIN %1$s.ledger_postings p USING (transaction_id)
                 WHERE t.kind IN ('PAYOUT','REFUND') AND p.amount_micros > 0 AND t.job_id IS NOT NULL
                 GROUP BY 1, 2, 3""".formatted(s),
                rs -> credited.computeIfAbsent(rs.getString(1), k -> new HashMap<>())
                        .merge(rs.getString(2) + " " + rs.getString(3), rs.getLong(4), Long::sum));
        query(c, "SELECT job_id, outcome, cost_micros, refund_micros, receipt FROM %s.verdicts WHERE receipt IS NOT NULL ORDER BY 1"
                        .formatted(s),
                rs -> {
                    String job = rs.getString(1);
                    Receipt r = readable(rs.getBytes(5), Receipts::fromBytes, s + ": receipt of job " + job, out);
                    if (r == null) {
                        return;
                    }
                    Receipts.problems(r, marketKey).forEach(p -> out.add(s + ": receipt of job " + job + ": " + p));
                    long paid = r.getPayouts().stream().mapToLong(ReceiptPayout::getMicros).sum();
                    if (!r.getJobId().equals(job) || !r.getOutcome().name().equals(rs.getString(2))
                            || paid != rs.getLong(3) || r.getRefundMicros() != rs.getLong(4)) {
                        out.add(s + ": receipt of job " + job + " (" + r.getJobId() + ", " + r.getOutcome() + ", paid " + paid
                                + ", refund " + r.getRefundMicros() + ") differs from its verdict (" + rs.getString(2)
                                + ", cost " + rs.getLong(3) + ", refund " + rs.getLong(4) + ")");
                    }
                    Map<String, Long> expected = new TreeMap<>();
                    r.getPayouts().forEach(p -> expected.merge("PAYOUT " + Accounts.worker(p.getWorkerId()), p.getMicros(), Long::sum));
                    if (r.getRefundMicros() > 0) {
                        expected.put("REFUND " + Accounts.client(r.getClientId()), r.getRefundMicros());
                    }
                    Map<String, Long> posted = new TreeMap<>(credited.getOrDefault(job, Map.of()));
                    if (!expected.equals(posted)) {
                        out.add(s + ": receipt of job " + job + " says " + expected + " but the ledger credited " + posted);
                    }
                });
        return out;
    }

    /**
     * Every stored dispute receipt must be signed by {@code marketKey} and balanced ({@link Receipts#problems}) and
     * state exactly where the job's DISPUTE_FEE postings sent the fee (each worker's payout, the client's refund); and
     * no SLASH of the job debits a worker the receipt does not name as slashed or credits one it does not name as
     * honest. Disputes decided before dispute receipts (NULL) are not checked.
     */
    static List<String> disputeReceipts(Connection c, String s, String marketKey) throws SQLException {
        List<String> out = new ArrayList<>();
        Map<String, Map<String, Long>> fees = new HashMap<>(); // job -> account -> micros credited out of the fee's escrow
        Map<String, Map<String, Long>> slashes = new HashMap<>(); // job -> worker account -> net micros of its SLASHes
        query(c, """
                SELECT t.job_id, t.kind, p.account_id, sum(p.amount_micros)
                  FROM %1$s.ledger_transactions t JOIN %1$s.ledger_postings p USING (transaction_id)
                 WHERE (t.kind = 'SLASH' OR t.kind = 'DISPUTE_FEE' AND p.amount_micros > 0) AND t.job_id IS NOT NULL
                 GROUP BY 1, 2, 3""".formatted(s),
                rs -> {
                    String job = rs.getString(1);
                    String account = rs.getString(3);
                    long micros = rs.getLong(4);
                    if (rs.getString(2).equals("SLASH")) {
                        slashes.computeIfAbsent(job, k -> new HashMap<>()).merge(account, micros, Long::sum);
                    } else if (!account.equals(Accounts.disputeEscrow(job))) { // credits only: the hold debits the client
                        fees.computeIfAbsent(job, k -> new HashMap<>()).merge(account, micros, Long::sum);
                    }
                });
        query(c, "SELECT job_id, dispute_receipt FROM %s.job_events WHERE dispute_receipt IS NOT NULL ORDER BY 1".formatted(s),
                rs -> {
                    String job = rs.getString(1);
                    DisputeReceipt r = readable(rs.getBytes(2), Receipts::disputeFromBytes, s + ": dispute receipt of job " + job, out);
                    if (r == null) {
                        return;
                    }
                    Receipts.problems(r, marketKey).forEach(p -> out.add(s + ": dispute receipt of job " + job + ": " + p));
                    if (!r.getJobId().equals(job)) {
                        out.add(s + ": dispute receipt of job " + job + " is for job " + r.getJobId());
                    }
                    Map<String, Long> expected = new TreeMap<>();
                    r.getFeePayouts().forEach(p -> expected.merge(Accounts.worker(p.getWorkerId()), p.getMicros(), Long::sum));
                    if (r.getFeeRefundMicros() > 0) {
                        expected.merge(Accounts.client(r.getClientId()), r.getFeeRefundMicros(), Long::sum);
                    }
                    Map<String, Long> posted = new TreeMap<>(fees.getOrDefault(job, Map.of()));
                    if (!expected.equals(posted)) {
                        out.add(s + ": dispute receipt of job " + job + " says the fee went to " + expected
                                + " but the ledger credited " + posted);
                    }
                    slashes.getOrDefault(job, Map.of()).forEach((account, micros) -> {
                        if (!account.startsWith(Accounts.stake("")) && !account.startsWith(Accounts.worker(""))) {
                            return; // the client's share and the burn
                        }
                        String worker = account.substring(account.indexOf(':') + 1);
                        boolean named = micros < 0 ? r.getSlashed().contains(worker)
                                : r.getSlashed().contains(worker) || r.getHonestWorkers().contains(worker);
                        if (!named && micros != 0) {
                            out.add(s + ": a SLASH of job " + job + " moved " + micros + " on " + account
                                    + ", which its dispute receipt does not name");
                        }
                    });
                });
        return out;
    }

    /**
     * Every stored settlement receipt checked by {@link #settlementProblems} against the job's dispute receipt and its
     * SLASH transactions.
     */
    static List<String> settlementReceipts(Connection c, String s, String marketKey) throws SQLException {
        List<String> out = new ArrayList<>();
        Map<String, Map<String, Map<String, Long>>> slashes = new HashMap<>(); // job -> transaction -> account -> micros
        query(c, """
                SELECT t.job_id, t.transaction_id, p.account_id, sum(p.amount_micros)
                  FROM %1$s.ledger_transactions t JOIN %1$s.ledger_postings p USING (transaction_id)
                 WHERE t.kind = 'SLASH' AND t.job_id IS NOT NULL
                 GROUP BY 1, 2, 3""".formatted(s),
                rs -> slashes.computeIfAbsent(rs.getString(1), k -> new HashMap<>())
                        .computeIfAbsent(rs.getString(2), k -> new HashMap<>()).merge(rs.getString(3), rs.getLong(4), Long::sum));
        // job -> the workers its overturned dispute slashed: the verdict's agreeing ones, as its dispute receipt names them
        // (a dispute decided before dispute receipts has none; a settlement from the ledger settles it all the same)
        Map<String, List<String>> slashed = new HashMap<>();
        query(c, """
                SELECT DISTINCT v.job_id, v.agreeing FROM %1$s.verdicts v JOIN %1$s.job_events e USING (job_id)
                 WHERE e.type = 'DISPUTED' AND e.reason LIKE 'overturned%%'""".formatted(s),
                rs -> slashed.put(rs.getString(1), List.of((String[]) rs.getArray(2).getArray())));
        query(c, """
                SELECT DISTINCT e.job_id FROM %1$s.job_events e WHERE e.type = 'DISPUTED' AND e.reason LIKE 'overturned%%'
                   AND NOT EXISTS (SELECT 1 FROM %1$s.job_events r WHERE r.job_id = e.job_id AND r.settlement_receipt IS NOT NULL)
                 ORDER BY 1""".formatted(s),
                rs -> out.add(s + ": the overturned dispute of job " + rs.getString(1) + " has no settlement receipt"
                        + " (agora settle-disputes settles it from its SLASH transactions)"));
        query(c, "SELECT job_id, dispute_receipt FROM %s.job_events WHERE dispute_receipt IS NOT NULL".formatted(s), rs -> {
            try {
                slashed.put(rs.getString(1), List.copyOf(Receipts.disputeFromBytes(rs.getBytes(2)).getSlashed()));
            } catch (IllegalArgumentException unreadable) {
                // reported by disputeReceipts
            }
        });
        query(c, "SELECT job_id, settlement_receipt FROM %s.job_events WHERE settlement_receipt IS NOT NULL ORDER BY 1"
                .formatted(s), rs -> {
                    String job = rs.getString(1);
                    String what = s + ": settlement receipt of job " + job;
                    SettlementReceipt r = readable(rs.getBytes(2), Receipts::settlementFromBytes, what, out);
                    if (r != null) {
                        settlementProblems(job, r, marketKey, slashed.get(job), slashes.getOrDefault(job, Map.of()))
                                .forEach(p -> out.add(what + ": " + p));
                    }
                });
        return out;
    }

    /**
     * What is wrong with job {@code job}'s settlement receipt {@code r}: it must be signed by {@code marketKey} and
     * balanced ({@link Receipts#problems}), be for the job, name exactly the workers its dispute receipt slashed
     * ({@code slashed}; for a dispute decided before dispute receipts, the verdict's agreeing workers, whom an overturned
     * dispute slashes; null when the job has neither), and each slash's amounts must be the legs of the job's
     * SLASH transaction of that worker ({@link Postings#slash(String, String, SlashTaken, long)}; none posted when the
     * slash took nothing), and no other SLASH of the job may exist. {@code posted}: the job's SLASH transactions, by
     * id, each account's net micros.
     */
    static List<String> settlementProblems(String job, SettlementReceipt r, String marketKey, List<String> slashed,
                                           Map<String, Map<String, Long>> posted) {
        List<String> out = new ArrayList<>(Receipts.problems(r, marketKey));
        if (!r.getJobId().equals(job)) {
            out.add("it is for job " + r.getJobId());
        }
        List<String> named = r.getSlashes().stream().map(SlashTaken::getWorkerId).toList();
        if (slashed == null) {
            out.add("no dispute receipt of the job names the workers slashed");
        } else if (!new java.util.HashSet<>(named).equals(new java.util.HashSet<>(slashed))) {
            out.add("it settles the slashes of " + named + " but the dispute receipt slashed " + slashed);
        }
        Map<String, Map<String, Long>> unmatched = new TreeMap<>(posted);
        for (SlashTaken t : r.getSlashes()) {
            var entry = Postings.slash(job, r.getClientId(), t, 0);
            Map<String, Long> expected = new TreeMap<>();
            entry.getPostings().forEach(p -> expected.merge(p.getAccountId(), p.getAmountMicros(), Long::sum));
            Map<String, Long> ledger = new TreeMap<>(unmatched.getOrDefault(entry.getTransactionId(), Map.of()));
            unmatched.remove(entry.getTransactionId());
            if (!expected.equals(ledger)) {
                out.add("the slash of " + t.getWorkerId() + " took " + expected + " but " + entry.getTransactionId()
                        + " posted " + ledger);
            }
        }
        unmatched.keySet().forEach(tx -> out.add(tx + " is not on the receipt"));
        return out;
    }

    /** The stored receipt {@code bytes} decoded, else null with a finding "{@code what} cannot be read". */
    private static <R> R readable(byte[] bytes, java.util.function.Function<byte[], R> decode, String what, List<String> out) {
        try {
            return decode.apply(bytes);
        } catch (IllegalArgumentException e) {
            out.add(what + " cannot be read: " + e.getMessage());
            return null;
        }
    }

    private interface Row {
        void accept(ResultSet rs) throws SQLException;
    }

    private static void query(Connection c, String sql, Row row) throws SQLException {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            while (rs.next()) {
                row.accept(rs);
            }
        }
    }
}
