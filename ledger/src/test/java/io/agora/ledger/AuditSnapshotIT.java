package io.agora.ledger;

import io.agora.schemas.Topics;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;

import javax.sql.DataSource;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

import static io.agora.ledger.Events.grant;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The audit's consistent point: the copy of the live projection and the sink's stored offsets come
 * from one snapshot, so a sink committing meanwhile cannot put the live side ahead of the replay.
 */
class AuditSnapshotIT {
    static final TopicPartition LEDGER_0 = new TopicPartition(Topics.LEDGER.name(), 0);
    private final DataSource ds = TestPostgres.dataSource();

    @Test
    void theCopyHoldsExactlyTheRecordsBeforeTheOffsetsReadWithIt() throws SQLException {
        String live = TestPostgres.freshSchema("live");
        LedgerSchema.migrate(ds, live);
        BatchRecorder sink = new BatchRecorder(ds, live, "sink");
        List<SinkRecord> topic = List.of(grantAt(0), grantAt(1), grantAt(2));
        record(sink, topic.get(0));
        record(sink, topic.get(1));

        String copy = TestPostgres.freshSchema("copy");
        Map<TopicPartition, Long> offsets = AuditMain.snapshot(ds, live, "sink", copy);
        record(sink, topic.get(2)); // the running sink moves on after the audit's consistent point

        String replay = TestPostgres.freshSchema("replay");
        LedgerSchema.migrate(ds, replay);
        BatchRecorder replayed = new BatchRecorder(ds, replay, "replay");
        for (long o = 0; o < offsets.get(LEDGER_0); o++) {
            record(replayed, topic.get((int) o));
        }
        assertThat(offsets).containsExactly(Map.entry(LEDGER_0, 2L));
        assertThat(AuditReport.compare(ds, copy, replay).findings()).isEmpty();
        assertThat(AuditReport.compare(ds, live, replay).findings()).isNotEmpty(); // what the audit compared before
    }

    @Test
    void everySnapshotTakenWhileTheSinkCommitsIsConsistent() throws Exception {
        String live = TestPostgres.freshSchema("live");
        LedgerSchema.migrate(ds, live);
        BatchRecorder sink = new BatchRecorder(ds, live, "sink");
        AtomicBoolean running = new AtomicBoolean(true);
        AtomicReference<Exception> failed = new AtomicReference<>();
        Thread writer = new Thread(() -> {
            try {
                for (long o = 0; running.get(); o++) {
                    record(sink, grantAt(o));
                }
            } catch (Exception e) {
                failed.set(e);
            }
        });
        writer.start();
        try {
            for (int i = 0; i < 20; i++) {
                String copy = TestPostgres.freshSchema("copy");
                long next = AuditMain.snapshot(ds, live, "sink", copy).getOrDefault(LEDGER_0, 0L);
                assertThat(count(copy, "ledger_transactions")).as("snapshot %d at offset %d", i, next).isEqualTo(next);
                assertThat(count(copy, "ledger_postings")).isEqualTo(2 * next);
                AuditMain.dropSchema(ds, copy);
            }
        } finally {
            running.set(false);
            writer.join();
        }
        assertThat(failed.get()).isNull();
    }

    /** A starter grant at {@code offset} of the ledger topic. */
    private static SinkRecord grantAt(long offset) {
        return new SinkRecord(LEDGER_0.topic(), 0, offset, null, new byte[0], grant("c" + offset, 1_000));
    }

    /** The sink applying one record and storing the offset after it. */
    private static void record(BatchRecorder recorder, SinkRecord r) throws SQLException {
        recorder.record(List.of(r), Map.of(LEDGER_0, r.offset() + 1), null);
    }

    private long count(String schema, String table) throws SQLException {
        try (Connection c = ds.getConnection(); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT count(*) FROM " + schema + "." + table)) {
            rs.next();
            return rs.getLong(1);
        }
    }
}
