package io.agora.verifier;

import io.agora.events.TaskAssigned;
import io.agora.events.TaskResult;
import io.agora.runtime.Emission;
import io.agora.runtime.GlobalInputs;
import io.agora.runtime.StateStores;
import io.agora.schemas.AgoraSerdes;
import io.agora.schemas.Identity;
import io.agora.schemas.Topics;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.KStream;
import org.apache.kafka.streams.kstream.Named;
import org.apache.kafka.streams.state.Stores;

/**
 * The verifier's topology, a pure function of its config, serdes, the market key that signs
 * each verdict's receipt and the matcher's public key, which must sign each task.
 * <ul>
 *   <li>Reads {@code agora.jobs.assignments} (the matcher's copy of each task, key jobId),
 *   {@code agora.jobs.results}, {@code agora.jobs.commands} and {@code agora.jobs.slashes} (what the matcher's gate
 *   took for each SLASH ordered, key jobId), co-partitioned, into one {@link JobVerifier}.</li>
 *   <li>Reads {@code agora.workers.reputation} into the global store {@code verifier-reputation}
 *   ({@link ReputationBook}), for reputation-weighted and adaptive consensus, and
 *   {@code agora.ledger.entries} into the global store {@code verifier-stakes} ({@link StakeBook}),
 *   for stake-weighted consensus.</li>
 *   <li>Writes {@code agora.jobs.verdicts}, {@code agora.jobs.events} (key jobId),
 *   {@code agora.ledger.entries} (key clientId), {@code agora.workers.reputation} (key workerId),
 *   {@code agora.jobs.commands} (REQUEST_REPLICAS, key jobId) and {@code agora.dlq}, each record an
 *   {@link Emission} written by one sink, as in the matcher.</li>
 * </ul>
 * Stores (key jobId unless said): {@code verifier-jobs} ({@link JobRecord}: the job's state, tasks and results),
 * {@code verifier-tasks} and {@code verifier-results} (key taskId: where a build before {@link JobRecord} kept them;
 * only read and emptied), {@code verifier-orphans} (key taskId|eventId),
 * {@code verifier-open} (where a build before {@link OpenJobs} kept each open job's deadline; only emptied), {@code verifier-retire} (key
 * {@code <due ms, 19 digits>|jobId}: when a decided job's state is dropped). Internal records and state use plain Avro
 * (single-object encoding, see {@link io.agora.schemas.SchemaHistory}), whatever the serdes of the market topics.
 */
public final class VerifierTopology {
    public static final String JOBS_STORE = "verifier-jobs";
    public static final String TASKS_STORE = "verifier-tasks";
    public static final String RESULTS_STORE = "verifier-results";
    public static final String ORPHANS_STORE = "verifier-orphans";
    public static final String OPEN_STORE = "verifier-open";
    public static final String RETIRE_STORE = "verifier-retire";
    public static final String REPUTATION_STORE = "verifier-reputation";
    public static final String STAKES_STORE = "verifier-stakes";

    private VerifierTopology() {
    }

    public static Topology build(VerifierConfig cfg, AgoraSerdes serdes, Identity market, String matcherKey) {
        return build(cfg, serdes, market, matcherKey, VerifierMeters.none());
    }

    /**
     * The topology, signing receipts with {@code market}, refusing tasks {@code matcherKey} did not
     * sign and counting what the job processor forwards in {@code meters}.
     */
    public static Topology build(VerifierConfig cfg, AgoraSerdes serdes, Identity market, String matcherKey,
                                 VerifierMeters meters) {
        AgoraSerdes internal = AgoraSerdes.plain();
        Serde<String> keys = serdes.keySerde();
        StreamsBuilder b = new StreamsBuilder();

        b.addStateStore(StateStores.keyValue(JOBS_STORE, Serdes.String(), JobRecord.serde()));
        b.addStateStore(StateStores.keyValue(TASKS_STORE, Serdes.String(),
                internal.avroSerde(TaskAssigned.class)));
        b.addStateStore(StateStores.keyValue(RESULTS_STORE, Serdes.String(),
                internal.avroSerde(TaskResult.class)));
        b.addStateStore(StateStores.keyValue(ORPHANS_STORE, Serdes.String(), Orphan.serde()));
        b.addStateStore(StateStores.keyValue(OPEN_STORE, Serdes.String(), Serdes.Long()));
        b.addStateStore(StateStores.keyValue(RETIRE_STORE, Serdes.String(), Serdes.String()));
        b.addGlobalStore(
                Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(REPUTATION_STORE), Serdes.String(), WorkerStanding.serde())
                        .withLoggingDisabled(),
                Topics.REPUTATION.name(),
                Consumed.with(keys, GlobalInputs.skippingUnreadable(serdes.valueSerde(Topics.REPUTATION))).withName("reputation-source"),
                ReputationBook::new);
        b.addGlobalStore(
                Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(STAKES_STORE), Serdes.String(), Serdes.Long())
                        .withLoggingDisabled(),
                Topics.LEDGER.name(),
                Consumed.with(keys, GlobalInputs.skippingUnreadable(serdes.valueSerde(Topics.LEDGER))).withName("stakes-source"),
                StakeBook::new);

        KStream<String, SpecificRecord> tasks = b
                .stream(Topics.ASSIGNMENTS.name(), Consumed.with(keys, serdes.valueSerde(Topics.ASSIGNMENTS))
                        .withName("assignments-source"))
                .mapValues(t -> (SpecificRecord) t, Named.as("tasks-as-input"));
        KStream<String, SpecificRecord> results = b
                .stream(Topics.RESULTS.name(), Consumed.with(keys, serdes.valueSerde(Topics.RESULTS)).withName("results-source"))
                .mapValues(r -> (SpecificRecord) r, Named.as("results-as-input"));
        KStream<String, SpecificRecord> commands = b
                .stream(Topics.JOB_COMMANDS.name(), Consumed.with(keys, serdes.valueSerde(Topics.JOB_COMMANDS)).withName("commands-source"))
                .mapValues(c -> (SpecificRecord) c, Named.as("commands-as-input"));

        KStream<String, SpecificRecord> slashes = b
                .stream(Topics.SLASHES.name(), Consumed.with(keys, serdes.valueSerde(Topics.SLASHES)).withName("slashes-source"))
                .mapValues(r -> (SpecificRecord) r, Named.as("slashes-as-input"));

        KStream<String, Emission> out = tasks
                .merge(results, Named.as("merge-results"))
                .merge(commands, Named.as("merge-commands"))
                .merge(slashes, Named.as("merge-slashes"))
                .filter((k, v) -> k != null && v != null, Named.as("drop-empty"))
                .process(() -> new JobVerifier(cfg, serdes, market, matcherKey), Named.as("job-verifier"),
                        JOBS_STORE, TASKS_STORE, RESULTS_STORE, ORPHANS_STORE, OPEN_STORE, RETIRE_STORE)
                .peek((k, v) -> meters.forwarded(v.raw() != null ? v.raw() : v.value()), Named.as("meters"));
        Emission.to(out, serdes, "out-sink");
        return b.build();
    }
}
