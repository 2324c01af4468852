package io.agora.ingest.market;

import java.sql.Array;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Lenient readers for the read model's columns. The sink owns those tables, so the API reads
 * what is there (text[], JSON text or comma lists; timestamptz or epoch millis) instead of
 * breaking on a column type choice.
 */
final class Rows {
    private Rows() {
    }

    static Instant instant(ResultSet rs, String col) throws SQLException {
        Object o = rs.getObject(col);
        if (o == null) {
            return null;
        }
        if (o instanceof Timestamp t) {
            return t.toInstant();
        }
        if (o instanceof OffsetDateTime t) {
            return t.toInstant();
        }
        if (o instanceof Number n) {
            return Instant.ofEpochMilli(n.longValue());
        }
        try {
            return OffsetDateTime.parse(o.toString()).toInstant();
        } catch (RuntimeException e) {
            return null;
        }
    }

    static Long longOrNull(ResultSet rs, String col) throws SQLException {
        Object o = rs.getObject(col);
        return o instanceof Number n ? n.longValue() : null;
    }

    static Integer intOrNull(ResultSet rs, String col) throws SQLException {
        Object o = rs.getObject(col);
        return o instanceof Number n ? n.intValue() : null;
    }

    static List<String> strings(ResultSet rs, String col) throws SQLException {
        Object o = rs.getObject(col);
        if (o == null) {
            return List.of();
        }
        if (o instanceof Array a) {
            Object[] arr = (Object[]) a.getArray();
            List<String> out = new ArrayList<>();
            for (Object x : arr) {
                out.add(String.valueOf(x));
            }
            return out;
        }
        String s = o.toString().trim();
        if (s.startsWith("[") || s.startsWith("{")) {
            s = s.substring(1, Math.max(1, s.length() - 1));
        }
        if (s.isBlank()) {
            return List.of();
        }
        return Arrays.stream(s.split(",")).map(x -> x.trim().replaceAll("^\"|\"$", "")).filter(x -> !x.isEmpty()).toList();
    }

    static boolean hasColumn(ResultSet rs, String col) throws SQLException {
        var md = rs.getMetaData();
        for (int i = 1; i <= md.getColumnCount(); i++) {
            if (md.getColumnName(i).equalsIgnoreCase(col)) {
                return true;
            }
        }
        return false;
    }
}
