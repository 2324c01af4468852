package io.agora.schemas;

import io.agora.events.Heartbeat;
import io.agora.events.HostHeartbeat;
import io.agora.events.JobCommand;
import io.agora.events.JobEvent;
import io.agora.events.JobRequested;
import io.agora.events.JobVerdict;
import io.agora.events.LedgerEntry;
import io.agora.events.ReputationChanged;
import io.agora.events.SlashResult;
import io.agora.events.TaskAssigned;
import io.agora.events.TaskResult;
import io.agora.events.WorkerRegistration;

import java.util.List;

/**
 * The catalogue of every topic in the market. Keys are always strings; values are Avro
 * records registered in the schema registry under {@code <topic>-value}. The DLQ carries
 * the original bytes untouched, with the reason in headers (see {@link DeadLetters}).
 */
public final class Topics {
    private static final long DAY = 24L * 3600 * 1000;
    public static final long FOREVER = -1L;
    /** Partitions of every keyed stream topic; co-partitioning across apps relies on it being equal. */
    public static final int PARTITIONS = 6;
    /**
     * The task topic has more partitions than other topics: a worker gets tasks only while it owns
     * one in the {@code agora-workers} group, so this is the most workers the market can use.
     */
    public static final int TASK_PARTITIONS = 384;

    public static final TopicSpec<String, WorkerRegistration> REGISTRATIONS = new TopicSpec<>(
            "agora.workers.registrations", String.class, WorkerRegistration.class, PARTITIONS, true, FOREVER, true);
    public static final TopicSpec<String, Heartbeat> HEARTBEATS = new TopicSpec<>(
            "agora.workers.heartbeats", String.class, Heartbeat.class, PARTITIONS, false, DAY);
    /**
     * The heartbeats of a worker host's identities, one record per host and partition ({@link HostBeats}): keyed by
     * the first identity in it, so it goes to the partition all its identities' other records go to.
     */
    public static final TopicSpec<String, HostHeartbeat> HOST_BEATS = new TopicSpec<>(
            "agora.workers.host-beats", String.class, HostHeartbeat.class, PARTITIONS, false, DAY);
    public static final TopicSpec<String, JobRequested> JOB_REQUESTS = new TopicSpec<>(
            "agora.jobs.requests", String.class, JobRequested.class, PARTITIONS, false, FOREVER);
    public static final TopicSpec<String, JobCommand> JOB_COMMANDS = new TopicSpec<>(
            "agora.jobs.commands", String.class, JobCommand.class, PARTITIONS, false, FOREVER);
    public static final TopicSpec<String, TaskAssigned> TASKS = new TopicSpec<>(
            "agora.jobs.tasks", String.class, TaskAssigned.class, TASK_PARTITIONS, false, 7 * DAY);
    /**
     * The verifier's copy of each task: the same signed TaskAssigned the matcher writes to
     * {@link #TASKS}, keyed by jobId with {@link #PARTITIONS} partitions, so the verifier reads it
     * co-partitioned with results and commands, without a repartition hop or a stream task per
     * task partition. Only the matcher writes it, only the verifier reads it ({@link KafkaAccess}).
     */
    public static final TopicSpec<String, TaskAssigned> ASSIGNMENTS = new TopicSpec<>(
            "agora.jobs.assignments", String.class, TaskAssigned.class, PARTITIONS, false, 7 * DAY);
    public static final TopicSpec<String, TaskResult> RESULTS = new TopicSpec<>(
            "agora.jobs.results", String.class, TaskResult.class, PARTITIONS, false, FOREVER);
    public static final TopicSpec<String, JobEvent> JOB_EVENTS = new TopicSpec<>(
            "agora.jobs.events", String.class, JobEvent.class, PARTITIONS, false, FOREVER);
    public static final TopicSpec<String, JobVerdict> VERDICTS = new TopicSpec<>(
            "agora.jobs.verdicts", String.class, JobVerdict.class, PARTITIONS, false, FOREVER);
    public static final TopicSpec<String, LedgerEntry> LEDGER = new TopicSpec<>(
            "agora.ledger.entries", String.class, LedgerEntry.class, PARTITIONS, false, FOREVER);
    /**
     * What the matcher's worker gate took carrying out each SLASH order ({@link SlashResult}, key jobId,
     * co-partitioned with the verifier's other inputs): only the matcher writes it, only the verifier reads it
     * ({@link KafkaAccess}), and signs an overturned dispute's settlement receipt from it.
     */
    public static final TopicSpec<String, SlashResult> SLASHES = new TopicSpec<>(
            "agora.jobs.slashes", String.class, SlashResult.class, PARTITIONS, false, FOREVER);
    public static final TopicSpec<String, ReputationChanged> REPUTATION = new TopicSpec<>(
            "agora.workers.reputation", String.class, ReputationChanged.class, PARTITIONS, false, FOREVER);
    public static final TopicSpec<byte[], byte[]> DLQ = new TopicSpec<>(
            "agora.dlq", byte[].class, byte[].class, 1, false, 30 * DAY);

    private Topics() {
    }

    /** Every topic, in the order topic setup creates them. */
    public static List<TopicSpec<?, ?>> all() {
        return List.of(REGISTRATIONS, HEARTBEATS, HOST_BEATS, JOB_REQUESTS, JOB_COMMANDS, TASKS, ASSIGNMENTS, RESULTS,
                JOB_EVENTS, VERDICTS, LEDGER, SLASHES, REPUTATION, DLQ);
    }
}
