package io.agora.ledger;

import io.agora.events.LedgerEntry;
import io.agora.events.Posting;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.Map;
import java.util.TreeMap;

/**
 * Books one {@link LedgerEntry} (topic {@code agora.ledger.entries}) into the double-entry
 * ledger: the transaction, its postings and the account balances. A transaction id that is
 * already booked is refused silently, so retries and replays change nothing. PostgreSQL
 * enforces the rules: postings must sum to zero (deferred constraint trigger) and no
 * non-mint account may go negative (CHECK {@code accounts_no_overdraft}).
 */
public final class LedgerWriter {

    /** @return true if the entry was booked, false if its transaction id (or event id) was already there */
    public boolean book(Connection c, LedgerEntry e) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("""
                INSERT INTO ledger_transactions (transaction_id, event_id, client_id, kind, job_id, memo, ts)
                VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING""")) {
            ps.setString(1, e.getTransactionId());
            ps.setString(2, e.getEventId());
            ps.setString(3, e.getClientId());
            ps.setString(4, e.getKind().name());
            ps.setString(5, e.getJobId());
            ps.setString(6, e.getMemo() == null ? "" : e.getMemo());
            ps.setObject(7, Sql.ts(e.getTimestamp()));
            if (ps.executeUpdate() == 0) {
                return false;
            }
        }
        Map<String, Long> netByAccount = new TreeMap<>();
        try (PreparedStatement ps = c.prepareStatement("""
                INSERT INTO ledger_postings (transaction_id, posting_no, account_id, amount_micros)
                VALUES (?, ?, ?, ?)""")) {
            int no = 0;
            for (Posting p : e.getPostings()) {
                ps.setString(1, e.getTransactionId());
                ps.setInt(2, no++);
                ps.setString(3, p.getAccountId());
                ps.setLong(4, p.getAmountMicros());
                ps.addBatch();
                netByAccount.merge(p.getAccountId(), p.getAmountMicros(), Math::addExact);
            }
            ps.executeBatch();
        }
        // Sorted account order: concurrent writers lock accounts in the same order. UPDATE first:
        // PostgreSQL checks an INSERT's CHECK constraints before ON CONFLICT, so an upsert of a
        // debit would be refused even when the existing balance covers it.
        try (PreparedStatement update = c.prepareStatement(
                "UPDATE accounts SET balance_micros = balance_micros + ? WHERE account_id = ?");
             PreparedStatement insert = c.prepareStatement("""
                     INSERT INTO accounts (account_id, balance_micros) VALUES (?, ?)
                     ON CONFLICT (account_id) DO UPDATE SET balance_micros = accounts.balance_micros + EXCLUDED.balance_micros""")) {
            for (Map.Entry<String, Long> a : netByAccount.entrySet()) {
                update.setLong(1, a.getValue());
                update.setString(2, a.getKey());
                if (update.executeUpdate() == 0) {
                    insert.setString(1, a.getKey());
                    insert.setLong(2, a.getValue());
                    insert.executeUpdate();
                }
            }
        }
        return true;
    }
}
