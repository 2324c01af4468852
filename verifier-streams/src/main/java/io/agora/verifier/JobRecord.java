package io.agora.verifier;

import io.agora.events.TaskAssigned;
import io.agora.events.TaskResult;
import io.agora.events.state.VerifierJob;
import io.agora.schemas.StateSerde;
import org.apache.kafka.common.serialization.Serde;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * What store {@code verifier-jobs} keeps of one job (key jobId): its {@link JobState}, the tasks kept and the
 * counted results, in one value, so that an input that changes a job costs one changelog record, not one per
 * store. Stored as a {@link VerifierJob} record (its fields {@code tasks} and {@code results}); a record
 * written before those fields has them empty and its tasks and results in the former stores
 * {@code verifier-tasks} and {@code verifier-results}, which {@link JobVerifier} still reads and empties.
 */
record JobRecord(JobState state, SortedMap<String, TaskAssigned> tasks, Map<String, TaskResult> results) {
    private static final Serde<JobRecord> SERDE = StateSerde.of(VerifierJob.class, JobRecord::toAvro, JobRecord::fromAvro,
            b -> new JobRecord(LegacyJobState.read(b), new TreeMap<>(), new LinkedHashMap<>()));

    static Serde<JobRecord> serde() {
        return SERDE;
    }

    private VerifierJob toAvro() {
        VerifierJob v = state.toAvro();
        List<ByteBuffer> t = new ArrayList<>(tasks.size());
        tasks.values().forEach(x -> t.add(ByteBuffer.wrap(JobState.TASK.serializer().serialize(null, x))));
        List<ByteBuffer> r = new ArrayList<>(results.size());
        // in the order the job counted them, so a record read back is the record written
        state.counted.stream().map(results::get).filter(x -> x != null)
                .forEach(x -> r.add(ByteBuffer.wrap(Orphan.RESULT.serializer().serialize(null, x))));
        if (r.size() != results.size()) {
            throw new IllegalStateException("a job keeps a result it did not count");
        }
        v.setTasks(t);
        v.setResults(r);
        return v;
    }

    private static JobRecord fromAvro(VerifierJob v) {
        SortedMap<String, TaskAssigned> tasks = new TreeMap<>();
        v.getTasks().forEach(b -> {
            TaskAssigned t = JobState.TASK.deserializer().deserialize(null, JobState.bytes(b));
            tasks.put(t.getTaskId(), t);
        });
        Map<String, TaskResult> results = new LinkedHashMap<>();
        v.getResults().forEach(b -> {
            TaskResult r = Orphan.RESULT.deserializer().deserialize(null, JobState.bytes(b));
            results.put(r.getTaskId(), r);
        });
        return new JobRecord(JobState.fromAvro(v), tasks, results);
    }
}
