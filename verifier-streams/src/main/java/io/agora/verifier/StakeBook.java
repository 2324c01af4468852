package io.agora.verifier;

import io.agora.events.LedgerEntry;
import io.agora.events.Posting;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueStore;

/**
 * Keeps the global store {@code verifier-stakes} (workerId to its bonded stake, micro-credits) by
 * summing every posting to a {@code stake:<workerId>} account on {@code agora.ledger.entries}
 * (STAKE, UNSTAKE and SLASH, all posted by the matcher's worker gate), for stake-weighted
 * consensus. Global, because a job's voters' stakes are posted under any key. On restore the
 * records are replayed through this processor, so the sums are rebuilt, not copied.
 */
final class StakeBook implements Processor<String, LedgerEntry, Void, Void> {
    private static final String STAKE = "stake:";
    private KeyValueStore<String, Long> store;

    @Override
    public void init(ProcessorContext<Void, Void> context) {
        store = context.getStateStore(VerifierTopology.STAKES_STORE);
    }

    @Override
    public void process(Record<String, LedgerEntry> rec) {
        LedgerEntry e = rec.value();
        if (e == null || e.getPostings() == null) {
            return;
        }
        for (Posting p : e.getPostings()) {
            String account = p.getAccountId();
            if (account != null && account.startsWith(STAKE) && account.length() > STAKE.length()) {
                String worker = account.substring(STAKE.length());
                Long now = store.get(worker);
                long next = Math.max(0, (now == null ? 0 : now) + p.getAmountMicros());
                store.put(worker, next);
            }
        }
    }
}
