package io.agora.schemas;

import io.agora.events.Heartbeat;
import io.agora.events.HostHeartbeat;
import io.agora.events.HostedBeat;
import org.apache.kafka.common.utils.Utils;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Function;

/**
 * One heartbeat record per worker host and partition ({@link HostHeartbeat} on {@link Topics#HOST_BEATS}) instead
 * of one per identity. The matcher's worker gate keeps each worker's state in the task of the partition its id
 * hashes to, so a host groups its identities by that partition ({@link #partition}) and writes one record per
 * group, keyed by the group's first identity: Kafka's default partitioner then puts it where every other record of
 * those identities goes. Each beat inside is signed by its identity and names the host and the record's sequence
 * number; the record is signed by the host, so no beat can be moved into another record and no record reordered.
 */
public final class HostBeats {
    /**
     * Beats in one record at most: the worker splits a larger group, the matcher refuses a larger record. At the
     * worker's usual sizes (a few in-flight task ids, up to 64 image digests shared by a host's identities) 64 beats
     * stay well under the broker's 1 MB record size.
     */
    public static final int MAX_BEATS = 64;
    private static final ByteBuffer UNSIGNED = ByteBuffer.allocate(0);

    private HostBeats() {
    }

    /** The partition of {@link Topics#HOST_BEATS} (and of every keyed worker topic) a worker id's records go to. */
    public static int partition(String workerId) {
        return Utils.toPositive(Utils.murmur2(workerId.getBytes(StandardCharsets.UTF_8))) % Topics.HOST_BEATS.partitions();
    }

    /**
     * A host's beats as its records will carry them: grouped by the partition of their identity (in partition order,
     * each group in the order given), a group of more than {@link #MAX_BEATS} split into records of at most that many.
     */
    public static <T> List<List<T>> records(List<T> beats, Function<T, String> workerId) {
        Map<Integer, List<T>> byPartition = new TreeMap<>();
        for (T b : beats) {
            byPartition.computeIfAbsent(partition(workerId.apply(b)), p -> new ArrayList<>()).add(b);
        }
        List<List<T>> out = new ArrayList<>();
        for (List<T> group : byPartition.values()) {
            for (int from = 0; from < group.size(); from += MAX_BEATS) {
                out.add(List.copyOf(group.subList(from, Math.min(group.size(), from + MAX_BEATS))));
            }
        }
        return out;
    }

    /** One beat of a host record as the single heartbeat it stands for (unsigned: its signatures were checked). */
    public static Heartbeat asHeartbeat(HostHeartbeat record, HostedBeat b) {
        return Heartbeat.newBuilder()
                .setEventId(record.getEventId())
                .setWorkerId(b.getWorkerId())
                .setPool(b.getPool())
                .setSeq(record.getSeq())
                .setTimestamp(record.getTimestamp())
                .setStatus(b.getStatus())
                .setStatusReason(b.getStatusReason())
                .setFreeSlots(b.getFreeSlots())
                .setLoad(b.getLoad())
                .setInFlightTaskIds(b.getInFlightTaskIds())
                .setOwnedPartitions(b.getOwnedPartitions())
                .setPricePerCpuSecondMicros(b.getPricePerCpuSecondMicros())
                .setImageDigests(b.getImageDigests())
                .setSignature(UNSIGNED)
                .build();
    }
}
