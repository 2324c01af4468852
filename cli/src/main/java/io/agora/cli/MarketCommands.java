package io.agora.cli;

import io.agora.schemas.Receipts;
import io.agora.events.JobEvent;
import io.agora.events.JobRequested;
import io.agora.events.JobVerdict;
import io.agora.events.LedgerEntry;
import io.agora.events.TaskAssigned;
import io.agora.events.TaskResult;
import io.agora.ledger.AuditMain;
import io.agora.ledger.AuditReport;
import io.agora.ledger.DisputeSettlements;
import io.agora.ledger.LedgerSchema;
import io.agora.schemas.AgoraConfig;
import io.agora.schemas.AgoraSerdes;
import io.agora.schemas.Identity;
import io.agora.schemas.Topics;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.postgresql.ds.PGSimpleDataSource;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import javax.sql.DataSource;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Array;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * The commands that read the topics and the database directly: {@code audit}, {@code analytics} and the operator's
 * {@code settle-disputes}.
 */
final class MarketCommands {
    private MarketCommands() {
    }

    /** Kafka and registry settings shared by both commands. */
    static class KafkaOptions {
        @Option(names = "--bootstrap", defaultValue = "${env:AGORA_BOOTSTRAP:-localhost:9092}",
                description = "Kafka bootstrap servers (default: ${DEFAULT-VALUE})")
        String bootstrap;
        @Option(names = "--registry", defaultValue = "${env:AGORA_REGISTRY_URL:-http://localhost:8081/apis/registry/v2}",
                description = "schema registry URL, or 'plain' (default: ${DEFAULT-VALUE})")
        String registry;

        AgoraSerdes serdes() {
            return AgoraSerdes.forRegistryUrl(registry);
        }
    }

    /** The live sink's PostgreSQL, shared by both commands that read it. */
    static class DbOptions {
        @Option(names = "--jdbc-url", defaultValue = "${env:AGORA_JDBC_URL:-jdbc:postgresql://localhost:5433/agora}")
        String jdbcUrl;
        @Option(names = "--jdbc-user", defaultValue = "${env:AGORA_JDBC_USER:-agora}")
        String jdbcUser;
        @Option(names = "--jdbc-password", defaultValue = "${env:AGORA_JDBC_PASSWORD:-agora}")
        String jdbcPassword;
        @Option(names = "--live-schema", defaultValue = "agora", description = "schema of the live sink (default: ${DEFAULT-VALUE})")
        String liveSchema;

        PGSimpleDataSource dataSource() {
            PGSimpleDataSource ds = new PGSimpleDataSource();
            ds.setURL(jdbcUrl);
            ds.setUser(jdbcUser);
            ds.setPassword(jdbcPassword);
            return ds;
        }
    }

    /** A command on the live market's topics and the sink's database: {@code audit}, {@code settle-disputes}. */
    abstract static class OnLiveMarket {
        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;
        @CommandLine.Mixin
        KafkaOptions kafka = new KafkaOptions();
        @CommandLine.Mixin
        DbOptions db = new DbOptions();
    }

    @Command(name = "audit", mixinStandardHelpOptions = true,
            description = {"Replay every topic into a fresh schema, compare it row by row with the live database, check the "
                    + "ledger invariants, re-verify every result signature and every stored receipt (with the market's public key).",
                    "Exit 0: clean; 1: differences or violations; 2: could not run."})
    static final class Audit extends OnLiveMarket implements Callable<Integer> {
        @Option(names = "--replay-schema", description = "schema to replay into; must not exist (default: agora_audit_<millis>)")
        String replaySchema;
        @Option(names = "--sink-group", defaultValue = "${env:AGORA_SINK_GROUP_ID:-agora-ledger-sink}",
                description = "the live sink's group, whose stored offsets bound the replay (default: ${DEFAULT-VALUE})")
        String sinkGroup;
        @Option(names = "--to-end", description = "replay to the topics' end instead of the live sink's stored offsets")
        boolean toEnd;
        @Option(names = "--keep", description = "keep the replay schema for inspection")
        boolean keep;
        @Option(names = "--market-key", paramLabel = "FILE", defaultValue = "${env:AGORA_MARKET_PUBLIC_KEY_FILE}",
                description = "file whose first line is the market's public key, to verify every stored receipt "
                        + "(default: env AGORA_MARKET_PUBLIC_KEY_FILE; without it receipts are not checked)")
        Path marketKeyFile;

        @Override
        public Integer call() {
            PrintWriter out = spec.commandLine().getOut();
            String replay = replaySchema != null ? replaySchema : "agora_audit_" + System.currentTimeMillis();
            String liveSchema = db.liveSchema;
            PGSimpleDataSource ds = db.dataSource();
            AuditReport ledger;
            SignatureAudit.Report signatures;
            AuditReport receipts = null;
            try {
                LedgerSchema.requireValidName(liveSchema);
                LedgerSchema.requireValidName(replay);
                AgoraSerdes serdes = kafka.serdes();
                // The verdicts first: every result they counted is then below the end offsets read next.
                Map<String, SignatureAudit.VerdictView> verdicts = liveVerdicts(ds, liveSchema);
                ByteArrayOutputStream buf = new ByteArrayOutputStream();
                try (PrintStream ps = new PrintStream(buf, true, StandardCharsets.UTF_8)) {
                    try {
                        ledger = AuditMain.audit(ds, kafka.bootstrap, AgoraConfig.load(Map.of()).kafkaClientProperties(), serdes,
                                liveSchema, replay, sinkGroup, toEnd, ps);
                    } finally {
                        out.print(buf.toString(StandardCharsets.UTF_8));
                        if (!keep) {
                            dropSchema(ds, replay);
                        }
                    }
                }
                List<TaskAssigned> tasks;
                List<TaskResult> results;
                try (TopicReader reader = TopicReader.connect(kafka.bootstrap, serdes)) {
                    tasks = reader.readAll(Topics.TASKS);
                    results = reader.readAll(Topics.RESULTS);
                    if (reader.undecodable() > 0) {
                        out.println("signatures: " + reader.undecodable() + " task/result records did not decode (skipped)");
                    }
                }
                signatures = SignatureAudit.run(tasks, results, verdicts);
                if (marketKeyFile != null) {
                    String marketKey = Receipts.readPublicKey(marketKeyFile);
                    receipts = AuditReport.checkReceipts(ds, liveSchema, marketKey);
                }
            } catch (Exception e) {
                out.println("audit could not run: " + e);
                out.flush();
                return 2;
            }
            if (ledger.clean()) {
                out.println("ledger: no differences between " + liveSchema + " and the replay, every invariant holds");
            } else {
                out.println("ledger: " + ledger.findings().size() + " finding(s)");
                ledger.findings().forEach(f -> out.println("  " + f));
            }
            signatures.print(out);
            if (receipts == null) {
                out.println("receipts: not checked (give --market-key FILE, the market's public key)");
            } else if (receipts.clean()) {
                out.println("receipts: every stored receipt is signed by the market key and matches its verdict and postings");
            } else {
                out.println("receipts: " + receipts.findings().size() + " bad");
                receipts.findings().forEach(f -> out.println("  " + f));
            }
            if (keep) {
                out.println("replay kept in schema " + replay);
            }
            boolean clean = ledger.clean() && signatures.clean() && (receipts == null || receipts.clean());
            out.println(clean ? "AUDIT CLEAN" : "AUDIT FOUND PROBLEMS");
            out.flush();
            return clean ? 0 : 1;
        }
    }

    @Command(name = "settle-disputes", mixinStandardHelpOptions = true,
            description = {"Settle from the ledger every overturned dispute decided before --decided-before that has no "
                    + "settlement receipt (decided by a build before slash results, or retired 'unsettled' by the verifier): "
                    + "each slash read back from its SLASH transaction, the receipt signed with the market's key and published "
                    + "on agora.jobs.events (JobEvent DISPUTED 'settled from the ledger') for the sink to keep; "
                    + "agora audit --market-key then checks it.",
                    "Exit 0: every such dispute settled (or none); 1: some refused (their SLASH legs are not the slashes); "
                            + "2: could not run."})
    static final class SettleDisputes extends OnLiveMarket implements Callable<Integer> {
        @Option(names = "--market-key-secret", paramLabel = "FILE", required = true,
                description = "the verifier's market key, base64 of its 32-byte seed (agora.verifier.market.key.file, "
                        + "or <verifier state dir>/verifier-market.key)")
        Path secret;
        @Option(names = "--decided-before", required = true,
                description = "ISO instant or -1h/-7d: only disputes decided before it, when every matcher and verifier "
                        + "already ran a build with slash results (a later dispute's results may still be on their way)")
        String decidedBefore;
        @Option(names = "--dry-run", description = "show what would be settled, publish nothing")
        boolean dryRun;

        @Override
        public Integer call() {
            PrintWriter out = spec.commandLine().getOut();
            DisputeSettlements.Found found;
            try {
                if (!Files.isReadable(secret)) {
                    throw new IllegalArgumentException(secret + " is not a readable key file");
                }
                Identity market = Identity.loadOrCreate(secret);
                out.println("signing with market key " + market.workerId());
                found = DisputeSettlements.find(db.dataSource(), db.liveSchema, TimeArg.instant(decidedBefore, Instant.now()),
                        market, Instant.now());
                if (!dryRun && !found.settled().isEmpty()) {
                    publish(found.settled());
                }
            } catch (Exception e) {
                out.println("settle-disputes could not run: " + e);
                out.flush();
                return 2;
            }
            found.settled().forEach(e -> out.println((dryRun ? "would settle job " : "settled job ") + e.getJobId() + ": "
                    + e.getReason()));
            found.refused().forEach(r -> out.println("refused: " + r));
            out.println(found.settled().size() + " settled, " + found.refused().size() + " refused"
                    + (dryRun ? " (dry run: nothing published)" : ""));
            out.flush();
            return found.refused().isEmpty() ? 0 : 1;
        }

        /** The settlements on agora.jobs.events, keyed by job, each acknowledged by every in-sync replica. */
        private void publish(List<JobEvent> settled) throws Exception {
            Map<String, Object> props = new java.util.HashMap<>(AgoraConfig.load(Map.of()).kafkaClientProperties());
            props.put("bootstrap.servers", kafka.bootstrap);
            props.put("acks", "all");
            props.put("enable.idempotence", true);
            var values = kafka.serdes().valueSerde(Topics.JOB_EVENTS).serializer();
            try (KafkaProducer<String, byte[]> p = new KafkaProducer<>(props, new StringSerializer(), new ByteArraySerializer())) {
                for (JobEvent e : settled) {
                    p.send(new ProducerRecord<>(Topics.JOB_EVENTS.name(), e.getJobId(),
                            values.serialize(Topics.JOB_EVENTS.name(), e))).get();
                }
            }
        }
    }

    /** The live verdicts table: who each verdict counted as agreeing. */
    static Map<String, SignatureAudit.VerdictView> liveVerdicts(DataSource ds, String schema) throws SQLException {
        LedgerSchema.requireValidName(schema);
        Map<String, SignatureAudit.VerdictView> out = new LinkedHashMap<>();
        try (Connection c = ds.getConnection(); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT job_id, outcome, consensus_hash, agreeing FROM " + schema
                     + ".verdicts ORDER BY job_id")) {
            while (rs.next()) {
                Array a = rs.getArray(4);
                List<String> agreeing = a == null ? List.of() : Arrays.asList((String[]) a.getArray());
                out.put(rs.getString(1), new SignatureAudit.VerdictView(rs.getString(1), rs.getString(2), rs.getString(3),
                        List.copyOf(agreeing)));
            }
        }
        return out;
    }

    static void dropSchema(DataSource ds, String schema) throws SQLException {
        LedgerSchema.requireValidName(schema);
        try (Connection c = ds.getConnection(); Statement st = c.createStatement()) {
            st.execute("DROP SCHEMA IF EXISTS " + schema + " CASCADE");
        }
    }

    @Command(name = "analytics", mixinStandardHelpOptions = true,
            description = {"Replay a time range of the topics and print throughput, submit->verdict latency, per-worker "
                    + "earnings and agreement, prices and consensus reliability per pool;",
                    "writes throughput.csv, latency.csv, workers.csv, prices.csv, pools.csv and throughput.png into --out."})
    static final class Analytics implements Callable<Integer> {
        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;
        @CommandLine.Mixin
        KafkaOptions kafka = new KafkaOptions();
        @Option(names = "--from", defaultValue = "-1h", description = "ISO instant, or -1h/-24h/-30m (default: ${DEFAULT-VALUE})")
        String from;
        @Option(names = "--to", defaultValue = "now", description = "ISO instant or now (default: ${DEFAULT-VALUE})")
        String to;
        @Option(names = "--out", required = true, description = "directory for the CSV files and the chart")
        Path outDir;
        @Option(names = "--bucket", defaultValue = "1m", description = "throughput bucket (default: ${DEFAULT-VALUE})")
        String bucket;
        @Option(names = "--lookback", defaultValue = "1h",
                description = "also read this much before --from (and a few minutes after --to), so that jobs decided in the "
                        + "range find their pool and events stamped a little off their record time are not missed; "
                        + "only events whose own time is in the range are counted (default: ${DEFAULT-VALUE})")
        String lookback;

        @Override
        public Integer call() {
            PrintWriter out = spec.commandLine().getOut();
            Instant now = Instant.now();
            Instant f;
            Instant t;
            Duration b;
            Duration back;
            try {
                f = TimeArg.instant(from, now);
                t = TimeArg.instant(to, now);
                b = TimeArg.duration(bucket);
                back = TimeArg.duration(lookback);
                if (!f.isBefore(t)) {
                    throw new IllegalArgumentException("--from " + f + " is not before --to " + t);
                }
                if (b.isZero() || b.isNegative() || Duration.between(f, t).dividedBy(b) > 100_000) {
                    throw new IllegalArgumentException("--bucket " + bucket + " gives too many or no buckets");
                }
            } catch (IllegalArgumentException e) {
                spec.commandLine().getErr().println(e.getMessage());
                return 2;
            }
            MarketAnalytics a;
            try (TopicReader reader = TopicReader.connect(kafka.bootstrap, kafka.serdes())) {
                Instant readFrom = f.minus(back);
                Instant readTo = t.plus(Duration.ofMinutes(5));
                List<JobRequested> requests = reader.read(Topics.JOB_REQUESTS, readFrom, readTo);
                List<TaskAssigned> tasks = reader.read(Topics.TASKS, readFrom, readTo);
                List<TaskResult> results = reader.read(Topics.RESULTS, readFrom, readTo);
                List<JobVerdict> verdicts = reader.read(Topics.VERDICTS, readFrom, readTo);
                List<LedgerEntry> ledger = reader.read(Topics.LEDGER, readFrom, readTo);
                if (reader.undecodable() > 0) {
                    out.println("analytics: " + reader.undecodable() + " records did not decode (skipped)");
                }
                a = new MarketAnalytics(f, t, b, requests, tasks, results, verdicts, ledger);
            } catch (Exception e) {
                out.println("analytics could not read the topics: " + e);
                out.flush();
                return 2;
            }
            AnalyticsWriter.print(a, out);
            try {
                for (Path p : AnalyticsWriter.write(a, outDir)) {
                    out.println("wrote " + p);
                }
            } catch (Exception e) {
                out.println("analytics could not write " + outDir + ": " + e);
                out.flush();
                return 2;
            }
            out.flush();
            return 0;
        }
    }
}
