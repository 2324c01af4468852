package io.agora.ledger;

import io.agora.schemas.AgoraConfig;
import io.agora.schemas.AgoraSerdes;
import io.agora.schemas.KafkaAccess;
import org.apache.kafka.common.TopicPartition;
import org.postgresql.ds.PGSimpleDataSource;

import javax.sql.DataSource;
import java.io.PrintStream;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Map;

/**
 * {@code agora audit}: replays the topics into a fresh schema and compares it with the live
 * one. Exit code 0 when they are identical and every invariant holds, 1 on any finding, 2 when
 * the audit could not run.
 *
 * <pre>AuditMain [--live agora] [--replay agora_audit_&lt;time&gt;] [--to-end] [--keep]</pre>
 * By default the replay stops where the live sink's stored offsets are, so a running sink
 * compares against the same prefix of the topics; {@code --to-end} replays everything.
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
        Replay.Result result;
        if (toEnd) {
            result = replay.toEnd();
        } else {
            Map<TopicPartition, Long> liveOffsets =
                    new BatchRecorder(ds, liveSchema, liveGroupId).storedOffsets(null);
            result = replay.until(liveOffsets);
        }
        out.printf("replayed %d records into %s: %d applied, %d duplicates refused, %d refused, %d undecodable%n",
                result.records(), replaySchema, result.applied(), result.duplicates(), result.refused(), result.undecodable());
        return AuditReport.compare(ds, liveSchema, replaySchema);
    }

    static void dropSchema(DataSource ds, String schema) throws SQLException {
        LedgerSchema.requireValidName(schema);
        try (Connection c = ds.getConnection(); Statement st = c.createStatement()) {
            st.execute("DROP SCHEMA IF EXISTS " + schema + " CASCADE");
        }
    }
}
