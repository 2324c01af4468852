package io.agora.schemas;

import io.agora.events.Heartbeat;
import io.agora.events.HostHeartbeat;
import io.agora.events.HostedBeat;
import io.agora.schemas.testing.SignedRecords;
import org.apache.kafka.clients.producer.internals.BuiltInPartitioner;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class HostBeatsTest {

    @Test
    void aWorkersPartitionIsTheOneKafkasDefaultPartitionerGivesItsKey() {
        for (int i = 0; i < 200; i++) {
            String id = Identity.generate().workerId();
            assertThat(HostBeats.partition(id)).isEqualTo(BuiltInPartitioner.partitionForKey(
                    id.getBytes(StandardCharsets.UTF_8), Topics.PARTITIONS));
        }
    }

    @Test
    void aHostsBeatsGoInOneRecordPerPartitionInTheirOrderAtMostMaxBeatsEach() {
        List<String> ids = new java.util.ArrayList<>();
        for (int i = 0; i < 500; i++) {
            ids.add(Identity.generate().workerId());
        }
        List<List<String>> records = HostBeats.records(ids, id -> id);
        assertThat(records.stream().flatMap(List::stream)).containsExactlyInAnyOrderElementsOf(ids);
        int expected = 0;
        for (int p = 0; p < Topics.PARTITIONS; p++) {
            int part = p;
            long n = ids.stream().filter(id -> HostBeats.partition(id) == part).count();
            expected += (int) ((n + HostBeats.MAX_BEATS - 1) / HostBeats.MAX_BEATS);
        }
        assertThat(records).hasSize(expected);
        for (List<String> r : records) {
            assertThat(r).hasSizeBetween(1, HostBeats.MAX_BEATS);
            assertThat(r.stream().map(HostBeats::partition).distinct()).hasSize(1);
            assertThat(r).isSortedAccordingTo(java.util.Comparator.comparingInt(ids::indexOf));
        }
    }

    @Test
    void aBeatOfAHostRecordStandsForTheIdentitysOwnHeartbeatAtTheRecordsTimeAndSequence() {
        List<Identity> ids = SignedRecords.identitiesOfOnePartition(2);
        Identity host = ids.get(0);
        HostedBeat b = SignedRecords.hostedBeat(ids.get(1), ids.get(1).workerId(), host.workerId(), 42, "lab", 3,
                List.of(5, 9), List.of("j/0/0"));
        HostHeartbeat record = SignedRecords.hostHeartbeat(host, 42, 1_700_000_000_000L, List.of(b));
        Heartbeat hb = HostBeats.asHeartbeat(record, b);
        assertThat(hb.getWorkerId()).isEqualTo(ids.get(1).workerId());
        assertThat(hb.getSeq()).isEqualTo(42);
        assertThat(hb.getTimestamp()).isEqualTo(record.getTimestamp());
        assertThat(hb.getEventId()).isEqualTo(record.getEventId());
        assertThat(hb.getPool()).isEqualTo("lab");
        assertThat(hb.getFreeSlots()).isEqualTo(3);
        assertThat(hb.getOwnedPartitions()).containsExactly(5, 9);
        assertThat(hb.getInFlightTaskIds()).containsExactly("j/0/0");
        assertThat(hb.getPricePerCpuSecondMicros()).isEqualTo(500);
        assertThat(Signatures.verify(record, host.workerId())).isTrue();
        assertThat(Signatures.verify(b, ids.get(1).workerId())).isTrue();
        assertThat(Signatures.verify(b, host.workerId())).as("the host's key is not the identity's").isFalse();
    }
}
