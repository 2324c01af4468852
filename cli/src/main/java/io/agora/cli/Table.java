package io.agora.cli;

import com.fasterxml.jackson.databind.JsonNode;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;

/** Human output: rows of columns padded to the widest cell, or a key/value block for one record. */
final class Table {
    private final List<String[]> rows = new ArrayList<>();

    Table(String... header) {
        rows.add(header);
    }

    Table row(Object... cells) {
        String[] r = new String[cells.length];
        for (int i = 0; i < cells.length; i++) {
            r[i] = text(cells[i]);
        }
        rows.add(r);
        return this;
    }

    int size() {
        return rows.size() - 1;
    }

    void print(PrintWriter out) {
        int cols = rows.get(0).length;
        int[] width = new int[cols];
        for (String[] r : rows) {
            for (int i = 0; i < cols && i < r.length; i++) {
                width[i] = Math.max(width[i], r[i].length());
            }
        }
        for (String[] r : rows) {
            StringBuilder sb = new StringBuilder();
            for (int i = 0; i < cols && i < r.length; i++) {
                sb.append(i == cols - 1 ? r[i] : pad(r[i], width[i] + 2));
            }
            out.println(sb.toString().stripTrailing());
        }
    }

    /** A key/value block: one line per field, keys aligned. */
    static void record(PrintWriter out, Object... keysAndValues) {
        int width = 0;
        for (int i = 0; i < keysAndValues.length; i += 2) {
            width = Math.max(width, keysAndValues[i].toString().length());
        }
        for (int i = 0; i < keysAndValues.length; i += 2) {
            out.println((pad(keysAndValues[i].toString(), width + 2) + text(keysAndValues[i + 1])).stripTrailing());
        }
    }

    /** A JSON value as a cell: null and missing as "-", arrays joined by ", ". */
    static String text(Object v) {
        if (v == null) {
            return "-";
        }
        if (v instanceof JsonNode n) {
            if (n.isMissingNode() || n.isNull()) {
                return "-";
            }
            if (n.isArray()) {
                List<String> parts = new ArrayList<>();
                n.forEach(e -> parts.add(text(e)));
                return parts.isEmpty() ? "-" : String.join(", ", parts);
            }
            return n.isValueNode() ? n.asText() : n.toString();
        }
        return v.toString();
    }

    private static String pad(String s, int width) {
        return s.length() >= width ? s + " " : s + " ".repeat(width - s.length());
    }
}
