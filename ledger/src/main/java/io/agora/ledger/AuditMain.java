package io.agora.ledger;

import io.agora.schemas.AgoraConfig;
import io.agora.schemas.AgoraSerdes;
import io.agora.schemas.KafkaAccess;
import org.apache.kafka.common.TopicPartition;
import org.postgresql.ds.PGSimpleDataSource;

import javax.sql.DataSource;
import java.io.PrintStream;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.HashMap;
import java.util.Map;

/**
 * {@code agora audit}: replays the topics into a fresh schema and compares it with the live
 * one. Exit code 0 when they are identical and every invariant holds, 1 on any finding, 2 when
 * the audit could not run.
 *
 * <pre>AuditMain [--live agora] [--replay agora_audit_&lt;time&gt;] [--to-end] [--keep]</pre>
 * By default the audit first copies the live projection and the sink's stored offsets in one
 * database snapshot ({@link #snapshot}), replays up to those offsets and compares the replay with
 * that copy: the same prefix of the topics on both sides, however far a running sink has moved on
 * meanwhile. {@code --to-end} replays everything and compares with the live schema as it is.
 * Connection settings come from AGORA_JDBC_URL/USER/PASSWORD, AGORA_BOOTSTRAP, AGORA_REGISTRY_URL.
 */
public final class AuditMain {
    private AuditMain() {
    }

    public static void main(String[] args) {
        System.exit(run(args, System.getenv(), System.out));
    }

    public static int run(String[] args, Map<String, String> env, PrintStream out) {
        String live = "agora";
        String replay = "agora_audit_" + System.currentTimeMillis();
        boolean toEnd = false;
        boolean keep = false;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--live" -> live = args[++i];
                case "--replay" -> replay = args[++i];
                case "--to-end" -> toEnd = true;
                case "--keep" -> keep = true;
                default -> {
                    out.println("unknown argument " + args[i]
                            + "; usage: AuditMain [--live SCHEMA] [--replay SCHEMA] [--to-end] [--keep]");
                    return 2;
                }
            }
        }
        PGSimpleDataSource ds = new PGSimpleDataSource();
        ds.setURL(env.getOrDefault("AGORA_JDBC_URL", "jdbc:postgresql://localhost:5433/agora"));
        ds.setUser(env.getOrDefault("AGORA_JDBC_USER", "agora"));
        ds.setPassword(env.getOrDefault("AGORA_JDBC_PASSWORD", "agora"));
        String bootstrap = env.getOrDefault("AGORA_BOOTSTRAP", "localhost:9092");
        String registry = env.getOrDefault("AGORA_REGISTRY_URL", "http://localhost:8081/apis/registry/v2");
        String group = env.getOrDefault("AGORA_SINK_GROUP_ID", "agora-ledger-sink");
        try {
            Map<String, Object> security = KafkaAccess.clientProperties(AgoraConfig.keysOf(env));
            AuditReport report = audit(ds, bootstrap, security, AgoraSerdes.forRegistryUrl(registry), live, replay, group,
                    toEnd, out);
            if (!keep) {
                dropSchema(ds, replay);
            }
            report.print(out);
            return report.clean() ? 0 : 1;
        } catch (Exception e) {
            out.println("audit failed: " + e);
            return 2;
        }
    }

    /** Replays into {@code replaySchema} (which must not exist yet) and compares it with {@code liveSchema}. */
    public static AuditReport audit(DataSource ds, String bootstrap, Map<String, Object> kafkaSecurity,
                                    AgoraSerdes serdes, String liveSchema,
                                    String replaySchema, String liveGroupId, boolean toEnd, PrintStream out)
            throws SQLException {
        Replay replay = new Replay(bootstrap, kafkaSecurity, serdes, ds, replaySchema);
        if (toEnd) {
            printed(replay.toEnd(), out);
            return AuditReport.compare(ds, liveSchema, replaySchema);
        }
        String copy = LedgerSchema.requireValidName(replaySchema + "_live");
        try {
            Map<TopicPartition, Long> liveOffsets = snapshot(ds, liveSchema, liveGroupId, copy);
            printed(replay.until(liveOffsets), out);
            return AuditReport.compare(ds, copy, replaySchema);
        } finally {
            dropSchema(ds, copy);
        }
    }

    private static void printed(Replay.Result result, PrintStream out) {
        out.printf("replayed %d records into %s: %d applied, %d duplicates refused, %d refused, %d undecodable%n",
                result.records(), result.schema(), result.applied(), result.duplicates(), result.refused(),
                result.undecodable());
    }

    /**
     * Copies the compared tables of {@code liveSchema} into {@code copySchema} (which must not exist)
     * and returns the stored offsets of {@code groupId}, all read in one snapshot: the sink writes its
     * offsets in the transaction that applies the records, so the copy holds exactly the records
     * before those offsets, whatever the sink commits meanwhile.
     */
    public static Map<TopicPartition, Long> snapshot(DataSource ds, String liveSchema, String groupId, String copySchema)
            throws SQLException {
        LedgerSchema.requireValidName(liveSchema);
        LedgerSchema.requireValidName(copySchema);
        Map<TopicPartition, Long> offsets = new HashMap<>();
        try (Connection c = ds.getConnection()) {
            c.setAutoCommit(false);
            c.setTransactionIsolation(Connection.TRANSACTION_REPEATABLE_READ);
            // the first query takes the snapshot every later statement of the transaction reads
            try (PreparedStatement ps = c.prepareStatement(
                    "SELECT topic, partition, next_offset FROM " + liveSchema + ".consumer_offsets WHERE group_id = ?")) {
                ps.setString(1, groupId);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        offsets.put(new TopicPartition(rs.getString(1), rs.getInt(2)), rs.getLong(3));
                    }
                }
            }
            try (Statement st = c.createStatement()) {
                st.execute("CREATE SCHEMA " + copySchema);
                for (String table : AuditReport.COMPARED_TABLES) {
                    st.execute("CREATE TABLE %s.%s AS SELECT * FROM %s.%s".formatted(copySchema, table, liveSchema, table));
                }
            }
            c.commit();
        }
        return offsets;
    }

    static void dropSchema(DataSource ds, String schema) throws SQLException {
        LedgerSchema.requireValidName(schema);
        try (Connection c = ds.getConnection(); Statement st = c.createStatement()) {
            st.execute("DROP SCHEMA IF EXISTS " + schema + " CASCADE");
        }
    }
}
