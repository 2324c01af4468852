package io.agora.matcher;

import io.agora.events.JobRequested;
import io.agora.market.Stake;
import io.agora.schemas.AgoraSerdes;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Serde;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Every matcher state type survives its store as Avro, and what the hand-written codecs of earlier
 * builds wrote ({@code src/test/resources/legacy-state.txt}, bytes those builds produced for
 * {@link StateFixtures}) is still read, then written as Avro.
 */
class StateSerdesTest {

    private static <T> T roundTrip(Serde<T> serde, T value) {
        byte[] b = serde.serializer().serialize("t", value);
        assertThat(AgoraSerdes.singleObject(b)).as("single-object encoded Avro").isTrue();
        return serde.deserializer().deserialize("t", b);
    }

    @Test
    void accountAndGateRoundTrip() {
        assertThat(roundTrip(StateSerdes.account(), StateFixtures.ACCOUNT)).isEqualTo(StateFixtures.ACCOUNT);
        var fresh = new WorkerGateProcessor.GateState(Long.MIN_VALUE, 7, null, -20, Stake.Account.NEW);
        assertThat(roundTrip(StateSerdes.gate(), fresh)).isEqualTo(fresh);
        assertThat(roundTrip(StateSerdes.gate(), StateFixtures.GATE)).isEqualTo(StateFixtures.GATE);
    }

    @Test
    void workerRoundTrips() {
        PoolState.Worker w = StateFixtures.worker();
        w.stakeMicros = 25_000;
        PoolState.Worker back = roundTrip(StateSerdes.worker(), w);
        assertThat(back).usingRecursiveComparison().ignoringFields("capabilitiesBytes", "capabilitiesEncoded").isEqualTo(w);
        assertThat(back.pending.keySet()).containsExactly("job/0/0", "job/1/2");
        assertThat(back.held.keySet()).containsExactly("job/0/0", "other/0/0");
        assertThat(back.stakeMicros).isEqualTo(25_000);
    }

    @Test
    void jobRoundTripsIncludingACancelPendingJobWithoutRequest() {
        PoolState.Job j = StateFixtures.job();
        j.traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
        PoolState.Job back = roundTrip(StateSerdes.job(), j);
        assertThat(back).usingRecursiveComparison().ignoringFields("requestBytes", "requestEncoded").isEqualTo(j);
        assertThat(back.request).isInstanceOf(JobRequested.class);

        PoolState.Job pending = StateFixtures.cancelPending();
        assertThat(roundTrip(StateSerdes.job(), pending)).usingRecursiveComparison().isEqualTo(pending);
    }

    @Test
    void poolEventsRoundTrip() {
        for (Flow.PoolEvent ev : StateFixtures.poolEvents()) {
            assertThat(roundTrip(StateSerdes.poolEvent(), ev)).isEqualTo(ev);
        }
        Flow.PoolEvent silent = new Flow.Silent("w-1"); // newer than the legacy formats
        assertThat(roundTrip(StateSerdes.poolEvent(), silent)).isEqualTo(silent);
    }

    @Test
    void valuesOfTheEarlierBinaryFormatsAreReadAndRewrittenAsAvro() throws Exception {
        Map<String, byte[]> legacy = legacyState();
        assertThat(read(StateSerdes.account(), legacy, "account.1")).isEqualTo(StateFixtures.ACCOUNT);
        assertThat(read(StateSerdes.gate(), legacy, "gate.2")).isEqualTo(StateFixtures.GATE);
        // a gate state written before stakes reads with no stake
        assertThat(read(StateSerdes.gate(), legacy, "gate.1"))
                .isEqualTo(new WorkerGateProcessor.GateState(3, 7, "public", 5, Stake.Account.NEW));

        String[] notStored = {"capabilitiesBytes", "capabilitiesEncoded", "requestBytes", "requestEncoded"};
        assertThat(read(StateSerdes.worker(), legacy, "worker.2")).usingRecursiveComparison().ignoringFields(notStored)
                .isEqualTo(StateFixtures.worker());
        // a worker written before held tasks and cool-downs: nothing held, not cooling
        PoolState.Worker w1 = read(StateSerdes.worker(), legacy, "worker.1");
        assertThat(w1.held).isEmpty();
        assertThat(w1.expiredLeases).isEmpty();
        assertThat(w1.coolingUntil).isZero();
        assertThat(w1.departed).isFalse();
        assertThat(w1).usingRecursiveComparison()
                .ignoringFields("held", "expiredLeases", "coolingUntil", "departed", "capabilitiesBytes", "capabilitiesEncoded")
                .isEqualTo(StateFixtures.worker());

        assertThat(read(StateSerdes.job(), legacy, "job.3")).usingRecursiveComparison().ignoringFields(notStored)
                .isEqualTo(StateFixtures.job());
        // before startedAt; before the per-job minimum
        assertThat(read(StateSerdes.job(), legacy, "job.2")).usingRecursiveComparison().ignoringFields(notStored)
                .ignoringFields("startedAt").isEqualTo(StateFixtures.job());
        PoolState.Job j1 = read(StateSerdes.job(), legacy, "job.1");
        assertThat(j1.startedAt).isZero();
        assertThat(j1.replicas.get(2).minPricePerJob).isZero();
        assertThat(j1).usingRecursiveComparison().ignoringFields(notStored)
                .ignoringFields("startedAt", "replicas").isEqualTo(StateFixtures.job());
        assertThat(j1.replicas.get(2)).usingRecursiveComparison().ignoringFields("minPricePerJob")
                .isEqualTo(StateFixtures.job().replicas.get(2));
        assertThat(read(StateSerdes.job(), legacy, "cancel-pending.3")).usingRecursiveComparison()
                .isEqualTo(StateFixtures.cancelPending());

        var events = StateFixtures.poolEvents();
        for (int i = 0; i < events.size(); i++) {
            assertThat(read(StateSerdes.poolEvent(), legacy, "pool-event." + (i + 1))).isEqualTo(events.get(i));
        }
    }

    @Test
    void anUnknownLegacyFormatVersionIsRefused() {
        byte[] b = {9, 0, 0, 0, 0, 0, 0, 0, 1, 1};
        assertThatThrownBy(() -> StateSerdes.account().deserializer().deserialize("t", b))
                .isInstanceOf(SerializationException.class).hasMessageContaining("format version 9");
        assertThatThrownBy(() -> StateSerdes.poolEvent().deserializer().deserialize("t", b))
                .isInstanceOf(SerializationException.class).hasMessageContaining("pool event tag 9");
    }

    /** Reads a legacy value, then checks that writing it again gives Avro that reads back the same. */
    private static <T> T read(Serde<T> serde, Map<String, byte[]> legacy, String name) {
        T value = serde.deserializer().deserialize("t", legacy.get(name));
        T again = roundTrip(serde, value);
        assertThat(again).as(name + " rewritten as Avro").usingRecursiveComparison()
                .ignoringFields("capabilitiesBytes", "capabilitiesEncoded", "requestBytes", "requestEncoded").isEqualTo(value);
        return value;
    }

    private static Map<String, byte[]> legacyState() throws Exception {
        Map<String, byte[]> out = new HashMap<>();
        for (String line : Files.readAllLines(Path.of("src/test/resources/legacy-state.txt"))) {
            String[] f = line.split(" ");
            out.put(f[0], HexFormat.of().parseHex(f[1]));
        }
        return out;
    }
}
