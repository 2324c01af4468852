package io.agora.ledger;

import io.agora.events.LedgerEntry;
import io.agora.events.Posting;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Books {@link LedgerEntry} records (topic {@code agora.ledger.entries}) into the double-entry
 * ledger: the transaction, its postings and the account balances. A transaction id that is
 * already booked is refused silently, so retries and replays change nothing. PostgreSQL
 * enforces the rules: postings must sum to zero (deferred constraint trigger) and no
 * client or escrow account may go negative (CHECK {@code accounts_no_overdraft}; a worker's own and
 * stake accounts may for a while, booked before credits read from another partition: migration V9).
 *
 * <p>Entries are booked a list at a time with JDBC batches: four round trips whatever the
 * list's length, the balances moved in the list's order, so an overdraft is refused exactly
 * where booking the entries one by one would refuse it.
 */
public final class LedgerWriter {

    /** @return true if the entry was booked, false if its transaction id (or event id) was already there */
    public boolean book(Connection c, LedgerEntry e) throws SQLException {
        return bookAll(c, List.of(e))[0];
    }

    /** @return for each entry, true if it was booked, false if its transaction id (or event id) was already there */
    public boolean[] bookAll(Connection c, List<LedgerEntry> entries) throws SQLException {
        boolean[] booked = new boolean[entries.size()];
        if (entries.isEmpty()) {
            return booked;
        }
        try (PreparedStatement ps = c.prepareStatement("""
                INSERT INTO ledger_transactions (transaction_id, event_id, client_id, kind, job_id, memo, ts)
                VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING""")) {
            for (LedgerEntry e : entries) {
                ps.setString(1, e.getTransactionId());
                ps.setString(2, e.getEventId());
                ps.setString(3, e.getClientId());
                ps.setString(4, e.getKind().name());
                ps.setString(5, e.getJobId());
                ps.setString(6, e.getMemo() == null ? "" : e.getMemo());
                ps.setObject(7, Sql.ts(e.getTimestamp()));
                ps.addBatch();
            }
            booked = Sql.inserted(ps.executeBatch());
        }
        TreeSet<String> accounts = new TreeSet<>();
        try (PreparedStatement ps = c.prepareStatement("""
                INSERT INTO ledger_postings (transaction_id, posting_no, account_id, amount_micros)
                VALUES (?, ?, ?, ?)""")) {
            for (int i = 0; i < entries.size(); i++) {
                if (!booked[i]) {
                    continue;
                }
                LedgerEntry e = entries.get(i);
                int no = 0;
                for (Posting p : e.getPostings()) {
                    ps.setString(1, e.getTransactionId());
                    ps.setInt(2, no++);
                    ps.setString(3, p.getAccountId());
                    ps.setLong(4, p.getAmountMicros());
                    ps.addBatch();
                    accounts.add(p.getAccountId());
                }
            }
            if (accounts.isEmpty()) {
                return booked;
            }
            ps.executeBatch();
        }
        // Every account exists before any balance moves (a zero balance passes the overdraft CHECK,
        // which PostgreSQL tests before ON CONFLICT): then each move is a plain UPDATE, checked
        // on its own. Sorted account order: concurrent writers lock accounts in the same order.
        try (PreparedStatement ps = c.prepareStatement(
                "INSERT INTO accounts (account_id, balance_micros) VALUES (?, 0) ON CONFLICT DO NOTHING")) {
            for (String a : accounts) {
                ps.setString(1, a);
                ps.addBatch();
            }
            ps.executeBatch();
        }
        try (PreparedStatement ps = c.prepareStatement(
                "UPDATE accounts SET balance_micros = balance_micros + ? WHERE account_id = ?")) {
            for (int i = 0; i < entries.size(); i++) {
                if (!booked[i]) {
                    continue;
                }
                Map<String, Long> netByAccount = new TreeMap<>();
                for (Posting p : entries.get(i).getPostings()) {
                    netByAccount.merge(p.getAccountId(), p.getAmountMicros(), Math::addExact);
                }
                for (Map.Entry<String, Long> a : netByAccount.entrySet()) {
                    ps.setLong(1, a.getValue());
                    ps.setString(2, a.getKey());
                    ps.addBatch();
                }
            }
            ps.executeBatch();
        }
        return booked;
    }
}
