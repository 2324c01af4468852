package io.agora.infra.chaos;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Where each ledger transaction was read on the ledger topic: the exactly-once check of chaos and of the
 * fault ITs. A transaction is booked once on the topic; one read at two positions is a copy, named with
 * both positions ({@code topic-partition@offset}), which is what tells a copy written twice by a stage
 * (two producer transactions) from one a broker let through (an aborted record left open, then
 * committed with its producer's next transaction).
 */
public final class LedgerCopies {
    private final Map<String, List<String>> positions = new TreeMap<>();

    /** One committed record of the ledger topic. */
    public void read(String transactionId, String topic, int partition, long offset) {
        positions.computeIfAbsent(transactionId, id -> new ArrayList<>(1)).add(topic + "-" + partition + "@" + offset);
    }

    /** Transactions read, each counted once. */
    public int transactions() {
        return positions.size();
    }

    /** The transactions read more than once, by id, each with every position it was read at. */
    public Map<String, List<String>> copies() {
        Map<String, List<String>> twice = new TreeMap<>();
        positions.forEach((id, at) -> {
            if (at.size() > 1) {
                twice.put(id, List.copyOf(at));
            }
        });
        return twice;
    }

    /** The copies as one line each, at most {@code max} of them: "id at p@o, p@o". */
    public List<String> describe(int max) {
        return copies().entrySet().stream().limit(max).map(e -> e.getKey() + " at " + String.join(", ", e.getValue())).toList();
    }
}
