package io.agora.verifier;

import io.agora.events.ReputationChanged;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueStore;

/**
 * Keeps the global store {@code verifier-reputation} (workerId to {@link WorkerStanding}) by
 * summing every {@code ReputationChanged} on {@code agora.workers.reputation}, the verifier's own
 * and the matcher's. Global, because a job's votes come from workers on any partition. On
 * restore the records are replayed through this processor, so the sums are rebuilt, not copied.
 */
final class ReputationBook implements Processor<String, ReputationChanged, Void, Void> {
    /** Reasons of the verifier's reputation changes that count as an agreement with a consensus. */
    static final String AGREED = "agreed";

    private KeyValueStore<String, WorkerStanding> store;

    static boolean isAgreement(String reason) {
        return reason != null && reason.startsWith(AGREED);
    }

    @Override
    public void init(ProcessorContext<Void, Void> context) {
        store = context.getStateStore(VerifierTopology.REPUTATION_STORE);
    }

    @Override
    public void process(Record<String, ReputationChanged> rec) {
        ReputationChanged c = rec.value();
        if (c == null) {
            return;
        }
        String worker = c.getWorkerId();
        WorkerStanding now = store.get(worker);
        store.put(worker, (now == null ? WorkerStanding.NEWCOMER : now).plus(c.getDelta(), isAgreement(c.getReason())));
    }
}
