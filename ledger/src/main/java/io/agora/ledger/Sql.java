package io.agora.ledger;

import java.sql.Array;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.List;

/** Conversions between event fields and PostgreSQL column types. */
final class Sql {
    private Sql() {
    }

    static OffsetDateTime ts(Instant instant) {
        return instant == null ? null : OffsetDateTime.ofInstant(instant, ZoneOffset.UTC);
    }

    /**
     * Which rows of an {@code INSERT ... ON CONFLICT DO NOTHING} batch went in. The driver reports
     * each statement's count unless it rewrites the batch into one multi-row statement
     * ({@code reWriteBatchedInserts}), which would hide the duplicates: refuse that.
     */
    static boolean[] inserted(int[] counts) {
        boolean[] in = new boolean[counts.length];
        for (int i = 0; i < counts.length; i++) {
            if (counts[i] == Statement.SUCCESS_NO_INFO) {
                throw new IllegalStateException("the JDBC driver gave no row count per statement (reWriteBatchedInserts?): "
                        + "duplicates cannot be told apart");
            }
            in[i] = counts[i] > 0;
        }
        return in;
    }

    static Array textArray(Connection c, List<String> values) throws SQLException {
        return c.createArrayOf("text", values == null ? new String[0] : values.toArray(new String[0]));
    }
}
