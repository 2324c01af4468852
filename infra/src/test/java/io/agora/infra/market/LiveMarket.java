package io.agora.infra.market;

import io.agora.events.EntryKind;
import io.agora.events.LedgerEntry;
import io.agora.infra.LocalStack;
import io.agora.schemas.AgoraSerdes;
import io.agora.schemas.Topics;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import io.agora.schemas.Identity;
import io.agora.schemas.testing.TraceCollector;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The whole market on the real stack, shared by the end-to-end and fault tests of one JVM:
 * a real broker, registry and PostgreSQL ({@link LocalStack}), the four services and five
 * workers as separate JVMs running tasks in real Docker containers, every one exporting its spans
 * over OTLP to {@link #traces}. Workers w1..w4 are honest; {@code liar} always returns a wrong output.
 * Tests may start more workers in pools of their own ({@link DisputeSlashIT}).
 */
final class LiveMarket {
    static final String HONEST = "w";
    static final String LIAR = "liar";
    /** The one worker on the allowlist of the trusted pool {@code trusted}. */
    static final String TRUSTED = "trusted";
    static final Set<String> TERMINAL = Set.of("COMPLETED", "FAILED", "NO_CONSENSUS", "EXPIRED", "CANCELLED", "REJECTED");
    private static LiveMarket shared;

    final LocalStack stack;
    final Market market;
    final MarketClient client;
    final Path workDir;
    /** Receives the spans every service exports (AGORA_OTEL_ENDPOINT). */
    final TraceCollector traces;

    private LiveMarket(LocalStack stack, Market market, Path workDir, TraceCollector traces) {
        this.stack = stack;
        this.market = market;
        this.traces = traces;
        this.client = new MarketClient(market.apiUrl());
        this.workDir = workDir;
    }

    static synchronized LiveMarket get() {
        if (shared == null) {
            LocalStack stack = LocalStack.shared();
            stack.ensureDocker();
            Path work = LocalStack.repoRoot().resolve("infra/target/it-market-" + System.currentTimeMillis());
            StackEndpoints endpoints = stack.endpoints();
            // the trusted pool's allowlist names one worker, whose key is made before it first starts
            String trustedId = Identity.loadOrCreate(work.resolve("state").resolve(TRUSTED).resolve("worker.key")).workerId();
            TraceCollector traces = TraceCollector.start();
            // short leases and grace so crash tests finish quickly; two concurrent tasks per worker; an
            // unbond returned 2 s after it is asked for, so one that should wait (DisputeSlashIT) would show
            Market market = new Market(endpoints, LocalStack.repoRoot(), work, Map.of(
                    "AGORA_MATCHER_LEASE_MS", "8000",
                    "AGORA_MATCHER_STAKE_COOLDOWN_MS", "2000",
                    "AGORA_MATCHER_WORKER_GRACE_MS", "6000",
                    "AGORA_WORKER_HEARTBEAT_MS", "1000",
                    "AGORA_WORKER_MAX_CONCURRENT", "2",
                    "AGORA_POOL_TRUSTED_ALLOWLIST", trustedId,
                    // a job its one worker can never run ends after 3 s, not the 60 s default
                    "AGORA_POOL_TRUSTED_UNMATCHED_GRACE_MS", "3000",
                    "AGORA_OTEL_ENDPOINT", traces.endpoint()));
            Runtime.getRuntime().addShutdownHook(new Thread(market::close, "market-down"));
            try {
                market.startCore();
                for (int i = 1; i <= 4; i++) {
                    market.startWorker(HONEST + i, "docker", Map.of("AGORA_WORKER_TAGS", "honest"));
                }
                market.startWorker(LIAR, "wrong", Map.of("AGORA_WORKER_TAGS", "liar"));
                market.startWorker(TRUSTED, "docker", Map.of("AGORA_WORKER_POOL", TRUSTED));
                market.awaitApi(Duration.ofMinutes(3));
                shared = new LiveMarket(stack, market, work, traces);
                shared.awaitWorkersOnline(6);
            } catch (RuntimeException failed) {
                // a market that did not come up must not run on beside the next test class's
                shared = null;
                market.close();
                throw failed;
            }
        }
        return shared;
    }

    /** The worker id of a worker process, from the key it created on first start. */
    String workerId(String name) {
        Path key = Path.of(market.service(name).env().get("AGORA_STATE_DIR")).resolve("worker.key");
        await("key of " + name).atMost(Duration.ofMinutes(1)).until(() -> Files.exists(key));
        return Identity.loadOrCreate(key).workerId();
    }

    void awaitWorkersOnline(int count) {
        String adminKey = apiKey("observer");
        await("workers online").atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofSeconds(1)).untilAsserted(() -> {
            MarketClient.Answer a = client.get(adminKey, "/api/v1/workers?status=READY");
            assertThat(a.status()).as(a.toString()).isEqualTo(200);
            var list = a.body().isArray() ? a.body() : a.body().path("workers");
            assertThat(list.size()).as("online workers: " + a.body()).isGreaterThanOrEqualTo(count);
        });
    }

    String apiKey(String clientId) {
        return client.issueKey(Market.ADMIN_TOKEN, clientId);
    }

    static String job(String command, int n, int k, long timeoutMs) {
        return job(command, n, k, timeoutMs, Map.of());
    }

    /** A job running {@code sh -c command}; {@code extra} adds or overrides fields (e.g. requirements). */
    static String job(String command, int n, int k, long timeoutMs, Map<String, Object> extra) {
        Map<String, Object> j = new java.util.LinkedHashMap<>(Map.of(
                "image", "agora/busybox:1",
                "command", List.of("sh", "-c", command),
                "redundancy", n,
                "quorum", k,
                "maxPricePerCpuSecondMicros", 1000,
                "timeoutMs", timeoutMs));
        j.putAll(extra);
        return MarketClient.json(j);
    }

    /** Only workers tagged honest (w1..w4). */
    static Map<String, Object> honestOnly() {
        return Map.of("requirements", Map.of("tagsAll", List.of("honest")));
    }

    String nameOf(String workerId) {
        for (String n : List.of(HONEST + 1, HONEST + 2, HONEST + 3, HONEST + 4, LIAR)) {
            if (workerId(n).equals(workerId)) {
                return n;
            }
        }
        throw new IllegalArgumentException("unknown worker " + workerId);
    }

    long reputation(String workerId) throws SQLException {
        return scalar("select coalesce(sum(delta),0) from agora.reputation_events where worker_id = ?", workerId);
    }

    String submit(String key, String json) {
        MarketClient.Answer a = client.submit(key, json);
        assertThat(a.status()).as("submit answered " + a).isEqualTo(202);
        return a.text("jobId");
    }

    /** Waits for the job's terminal state as the API shows it (so the sink has written it). */
    MarketClient.Answer awaitTerminal(String key, String jobId, Duration timeout) {
        MarketClient.Answer[] last = new MarketClient.Answer[1];
        try {
            await("job " + jobId + " terminal").atMost(timeout).pollInterval(Duration.ofMillis(500)).until(() -> {
                last[0] = client.job(key, jobId);
                return last[0].status() == 200 && TERMINAL.contains(String.valueOf(last[0].text("status")).toUpperCase());
            });
        } catch (org.awaitility.core.ConditionTimeoutException e) {
            throw new AssertionError("job " + jobId + " not terminal; last answer " + last[0] + "\n" + market.diagnostics(), e);
        }
        return last[0];
    }

    Connection db() throws SQLException {
        return DriverManager.getConnection(stack.jdbcUrl(), stack.jdbcUser(), stack.jdbcPassword());
    }

    long scalar(String sql, Object... args) throws SQLException {
        try (Connection c = db(); PreparedStatement ps = c.prepareStatement(sql)) {
            for (int i = 0; i < args.length; i++) {
                ps.setObject(i + 1, args[i]);
            }
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }

    List<String> strings(String sql, Object... args) throws SQLException {
        try (Connection c = db(); PreparedStatement ps = c.prepareStatement(sql)) {
            for (int i = 0; i < args.length; i++) {
                ps.setObject(i + 1, args[i]);
            }
            List<String> out = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(rs.getString(1));
                }
            }
            return out;
        }
    }

    /** The ledger invariants over the whole database: balanced, conserved, never negative. */
    void assertLedgerInvariants() throws SQLException {
        assertThat(strings("select transaction_id from agora.ledger_postings group by transaction_id having sum(amount_micros) <> 0"))
                .as("unbalanced transactions").isEmpty();
        assertThat(scalar("select coalesce(sum(balance_micros),0) from agora.accounts")).as("sum of all accounts").isZero();
        long minted = -scalar("select coalesce(sum(balance_micros),0) from agora.accounts where account_id like 'mint:%'");
        long grantsAndDeposits = scalar("select coalesce(sum(p.amount_micros),0) from agora.ledger_postings p "
                + "join agora.ledger_transactions t using (transaction_id) "
                + "where t.kind in ('STARTER_GRANT','DEPOSIT') and p.account_id not like 'mint:%'");
        long burned = scalar("select coalesce(sum(balance_micros),0) from agora.accounts where account_id = 'mint:slashed'");
        assertThat(burned).as("what slashing burned").isNotNegative();
        assertThat(scalar("select coalesce(sum(balance_micros),0) from agora.accounts where account_id not like 'mint:%'"))
                .as("client+escrow+worker+stake money equals grants and deposits less what slashing burned")
                .isEqualTo(minted).isEqualTo(grantsAndDeposits - burned);
        assertThat(strings("select account_id from agora.accounts where balance_micros < 0 and account_id not like 'mint:%'"))
                .as("negative accounts").isEmpty();
        assertThat(strings("select 'escrow:' || j.job_id from agora.jobs j join agora.accounts a on a.account_id = 'escrow:' || j.job_id "
                + "where j.status in ('COMPLETED','FAILED','NO_CONSENSUS','EXPIRED','CANCELLED') and a.balance_micros <> 0"))
                .as("escrow left on terminal jobs").isEmpty();
    }

    /**
     * How many times each transaction of {@code kinds} was committed on {@code agora.ledger.entries}
     * (read_committed, from the beginning): exactly once is 1 each. Records no reader can decode
     * (the DLQ test's probe) are not money and are skipped.
     */
    Map<String, Integer> committedOnLedgerTopic(Set<EntryKind> kinds) {
        Map<String, Integer> seen = new java.util.HashMap<>();
        readCommittedLedger((r, e) -> {
            if (kinds.contains(e.getKind())) {
                seen.merge(e.getTransactionId(), 1, Integer::sum);
            }
        });
        return seen;
    }

    /** Every committed record of the ledger topic, each transaction with the positions it was read at. */
    io.agora.infra.chaos.LedgerCopies ledgerTopicCopies() {
        var read = new io.agora.infra.chaos.LedgerCopies();
        readCommittedLedger((r, e) -> read.read(e.getTransactionId(), r.topic(), r.partition(), r.offset()));
        return read;
    }

    private void readCommittedLedger(java.util.function.BiConsumer<ConsumerRecord<byte[], byte[]>, LedgerEntry> each) {
        var deser = AgoraSerdes.registry(stack.registryUrl()).valueSerde(Topics.LEDGER).deserializer();
        try (KafkaConsumer<byte[], byte[]> c = rawConsumer()) {
            List<TopicPartition> parts = new ArrayList<>();
            c.partitionsFor(Topics.LEDGER.name()).forEach(p -> parts.add(new TopicPartition(Topics.LEDGER.name(), p.partition())));
            c.assign(parts);
            c.seekToBeginning(parts);
            Map<TopicPartition, Long> end = c.endOffsets(parts);
            while (parts.stream().anyMatch(p -> c.position(p) < end.get(p))) {
                for (ConsumerRecord<byte[], byte[]> r : c.poll(Duration.ofMillis(500))) {
                    LedgerEntry e;
                    try {
                        e = deser.deserialize(r.topic(), r.value());
                    } catch (org.apache.kafka.common.errors.SerializationException garbage) {
                        continue;
                    }
                    each.accept(r, e);
                }
            }
        }
    }

    KafkaConsumer<byte[], byte[]> rawConsumer() {
        return new KafkaConsumer<>(stack.asAdmin(Map.of(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed",
                ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false",
                ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, org.apache.kafka.common.serialization.ByteArrayDeserializer.class.getName(),
                ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, org.apache.kafka.common.serialization.ByteArrayDeserializer.class.getName())));
    }
}
