package io.agora.infra.market;

import io.agora.infra.KafkaCredentials;
import io.agora.infra.chaos.LedgerCopies;
import io.agora.events.LedgerEntry;
import io.agora.ledger.AuditMain;
import io.agora.schemas.AgoraSerdes;
import io.agora.schemas.DeadLetters;
import io.agora.schemas.Topics;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The market's invariants under faults, on the real stack: a worker killed mid-task, a
 * lying worker, the verifier and the ledger sink killed with SIGKILL under load, PostgreSQL
 * stopped and restarted, the broker and the matcher killed with SIGKILL under load, an
 * audit by replay that finds a row altered by hand, and the schema registry stopped while the
 * services restart with no schema cached.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class MarketFaultsIT {
    private static LiveMarket live;
    private static String key;

    @BeforeAll
    static void market() {
        live = LiveMarket.get();
        key = live.apiKey("faults-client");
        MarketClient.Answer dep = live.client.deposit(Market.ADMIN_TOKEN, "faults-client", 50_000_000);
        assertThat(dep.status()).as(dep.toString()).isEqualTo(202);
    }

    @Test
    @Order(1)
    void aWorkerKilledMidTaskIsReplacedAndPenalised() throws Exception {
        // all three replicas must agree, so the dead worker's replica has to be run again elsewhere
        String jobId = live.submit(key, LiveMarket.job("sleep 5; echo survived", 3, 3, 30_000, LiveMarket.honestOnly()));
        List<String> assigned = new ArrayList<>();
        await("replicas assigned").atMost(Duration.ofSeconds(60)).until(() -> {
            assigned.clear();
            assigned.addAll(live.strings("select worker_id from agora.job_events where job_id = ? and type = 'ASSIGNED'", jobId));
            return assigned.size() >= 3;
        });
        String victimId = assigned.get(0);
        String victim = live.nameOf(victimId);
        long reputationBefore = live.reputation(victimId);
        live.market.service(victim).kill();

        MarketClient.Answer job = live.awaitTerminal(key, jobId, Duration.ofMinutes(2));
        assertThat(job.text("status")).as(job + "\n" + live.market.diagnostics()).isEqualTo("COMPLETED");
        assertThat(job.text("output")).isEqualTo("survived\n");
        List<String> agreeing = new ArrayList<>();
        job.body().get("agreeing").forEach(n -> agreeing.add(n.asText()));
        assertThat(agreeing).hasSize(3).doesNotContain(victimId);
        await("victim penalised").atMost(Duration.ofSeconds(30))
                .until(() -> live.reputation(victimId) <= reputationBefore - 20);
        live.assertLedgerInvariants();

        live.market.service(victim).start();
        live.awaitWorkersOnline(5);
    }

    @Test
    @Order(2)
    void aLyingWorkerLosesEveryVoteWhileTheVerifierIsKilledUnderLoad() throws Exception {
        String liarId = live.workerId(LiveMarket.LIAR);
        long liarBefore = live.reputation(liarId);
        List<String> jobs = new ArrayList<>();
        // five replicas each: every worker, the liar included, runs every job
        for (int i = 0; i < 4; i++) {
            jobs.add(live.submit(key, LiveMarket.job("echo job " + i + "; sleep 1", 5, 3, 30_000)));
        }
        await("first results").atMost(Duration.ofSeconds(60)).until(() ->
                live.scalar("select count(*) from agora.job_events where job_id = ? and type = 'ASSIGNED'", jobs.get(0)) >= 5);
        live.market.service("verifier").kill();
        jobs.add(live.submit(key, LiveMarket.job("echo after the crash", 5, 3, 30_000)));
        live.market.service("verifier").start();

        for (int i = 0; i < jobs.size(); i++) {
            MarketClient.Answer job = live.awaitTerminal(key, jobs.get(i), Duration.ofMinutes(3));
            assertThat(job.text("status")).as(job.toString()).isEqualTo("COMPLETED");
            assertThat(job.text("output")).isEqualTo(i < 4 ? "job " + i + "\n" : "after the crash\n");
            List<String> agreeing = new ArrayList<>();
            job.body().get("agreeing").forEach(n -> agreeing.add(n.asText()));
            assertThat(agreeing).hasSizeGreaterThanOrEqualTo(3).doesNotContain(liarId);
        }
        assertThat(live.scalar("select count(*) from agora.ledger_transactions where kind = 'PAYOUT' and transaction_id like ?",
                "%:" + liarId)).as("payouts to the liar").isZero();
        await("liar's reputation falls").atMost(Duration.ofSeconds(30))
                .until(() -> live.reputation(liarId) <= liarBefore - 10L * jobs.size());
        assertExactlyOnceOnTheLedgerTopic();
        live.assertLedgerInvariants();
    }

    @Test
    @Order(3)
    void theSinkKilledMidBatchAndPostgresRestartedLoseNothing() throws Exception {
        List<String> jobs = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            jobs.add(live.submit(key, LiveMarket.job("echo sink " + i + "; sleep 2", 3, 2, 30_000)));
        }
        live.market.service("ledger-sink").kill();
        live.stack.stopComponent("postgres");
        live.stack.start(); // stack-up restarts PostgreSQL only: the rest still runs
        live.market.service("ledger-sink").start();
        // and PostgreSQL going away under a running sink
        jobs.add(live.submit(key, LiveMarket.job("echo while postgres is down; sleep 3", 3, 2, 30_000)));
        live.stack.stopComponent("postgres");
        // the sink notices, says so on /health, and keeps retrying instead of skipping or dying
        String sinkHealth = "http://localhost:" + live.market.service("ledger-sink").env().get("AGORA_SINK_PORT") + "/health";
        await("sink reports PostgreSQL down").atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(500))
                .until(() -> httpStatus(sinkHealth) == 503);
        assertThat(live.market.service("ledger-sink").alive()).isTrue();
        live.stack.start();
        await("sink healthy again").atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(500))
                .until(() -> httpStatus(sinkHealth) == 200);

        for (String jobId : jobs) {
            MarketClient.Answer job = live.awaitTerminal(key, jobId, Duration.ofMinutes(3));
            assertThat(job.text("status")).as(job.toString()).isEqualTo("COMPLETED");
        }
        assertThat(live.market.service("ledger-sink").alive()).isTrue();
        live.assertLedgerInvariants();
    }

    @Test
    @Order(4)
    void theBrokerAndTheMatcherKilledUnderLoadLoseNoJobAndPayNobodyTwice() throws Exception {
        List<String> jobs = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            jobs.add(live.submit(key, LiveMarket.job("echo broker " + i + "; sleep 1", 3, 2, 30_000, LiveMarket.honestOnly())));
        }
        await("first assignments").atMost(Duration.ofSeconds(60)).until(() ->
                live.scalar("select count(*) from agora.job_events where job_id = ? and type = 'ASSIGNED'", jobs.get(0)) >= 1);
        // SIGKILL the only broker (open transactions of both streams apps, the sink and the API's
        // producer die with it) and the matcher with it; nothing else is touched
        long brokerLogFrom = brokerLogLength();
        live.market.service("matcher").kill();
        live.stack.killComponent("kafka");
        Thread.sleep(3_000);
        live.stack.start(); // stack-up starts what is missing: the broker, recovering its log
        live.market.service("matcher").start();
        for (int i = 0; i < 2; i++) {
            jobs.add(live.submit(key, LiveMarket.job("echo after the broker " + i, 3, 2, 30_000, LiveMarket.honestOnly())));
        }

        for (int i = 0; i < jobs.size(); i++) {
            MarketClient.Answer job = live.awaitTerminal(key, jobs.get(i), Duration.ofMinutes(3));
            assertThat(job.text("status")).as(job + "\n" + live.market.diagnostics()).isEqualTo("COMPLETED");
            assertThat(job.text("output")).isEqualTo(i < 4 ? "broker " + i + "\n" : "after the broker " + (i - 4) + "\n");
        }
        for (String service : List.of("ingest-api", "verifier", "ledger-sink", "matcher")) {
            assertThat(live.market.service(service).alive()).as(service + " survived the broker's death").isTrue();
        }
        assertExactlyOnceOnTheLedgerTopic();
        // the cause of a copy above: the restarted broker ended a transaction while its partitions had no
        // leader and skipped their markers, leaving the aborted records to the producer's next commit
        assertThat(brokerLogSince(brokerLogFrom).lines().filter(l -> l.contains("likely deleted already")).toList())
                .as("transaction markers the restarted broker skipped (no topic is deleted here)").isEmpty();
        awaitSinkCaughtUp();
        live.assertLedgerInvariants();
    }

    private long brokerLogLength() {
        try {
            Path log = live.stack.logsDir().resolve("kafka.log");
            return Files.exists(log) ? Files.size(log) : 0;
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** The broker's log written since {@code from} bytes (it rolls over at 50 MB, far beyond one test). */
    private String brokerLogSince(long from) throws java.io.IOException {
        byte[] all = Files.readAllBytes(live.stack.logsDir().resolve("kafka.log"));
        return new String(all, (int) Math.min(from, all.length), (int) Math.max(0, all.length - from), StandardCharsets.UTF_8);
    }

    @Test
    @Order(5)
    void aReplayIntoAnEmptySchemaEqualsTheLiveDatabaseAndFindsATamperedRow() throws Exception {
        awaitSinkCaughtUp();
        Audit clean = audit();
        assertThat(clean.exit()).as(clean.output()).isZero();

        String account = live.strings("select account_id from agora.accounts where account_id like 'worker:%' "
                + "order by account_id limit 1").get(0);
        live.scalar("update agora.accounts set balance_micros = balance_micros + 1 where account_id = ? returning 1", account);
        try {
            Audit tampered = audit();
            assertThat(tampered.exit()).as(tampered.output()).isEqualTo(1);
            assertThat(tampered.output()).contains(account);
        } finally {
            live.scalar("update agora.accounts set balance_micros = balance_micros - 1 where account_id = ? returning 1", account);
        }
    }

    @Test
    @Order(6)
    void theRegistryStoppedWhileTheServicesRestartDeadLettersNothingAndEveryJobEndsWhenItReturns() throws Exception {
        long dlqFrom = endOffsets(List.of(Topics.DLQ.name()));
        List<String> jobs = new ArrayList<>();
        jobs.add(live.submit(key, LiveMarket.job("echo before the registry stops", 3, 2, 30_000, LiveMarket.honestOnly())));
        live.stack.stopComponent("registry");
        // restarted, the streams apps and the sink hold no schema: every record they read asks the registry
        for (String service : List.of("matcher", "verifier", "ledger-sink")) {
            live.market.service(service).kill();
            live.market.service(service).start();
        }
        // ingest-api and the workers write with the schema ids they hold (fault-tolerant refresh)
        for (int i = 0; i < 2; i++) {
            jobs.add(live.submit(key, LiveMarket.job("echo while the registry is away " + i, 3, 2, 30_000, LiveMarket.honestOnly())));
        }
        String matcherHealth = "http://localhost:" + live.market.service("matcher").env().get("AGORA_MATCHER_ADMIN_PORT") + "/health";
        await("the matcher says what it waits out").atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofMillis(500))
                .until(() -> httpBody(matcherHealth).contains("schema registry"));
        for (String service : List.of("matcher", "verifier", "ledger-sink")) {
            assertThat(live.market.service(service).alive()).as(service + " stays up while the registry is away").isTrue();
        }
        live.stack.start(); // stack-up starts what is missing: the registry, with its schemas

        for (String jobId : jobs) {
            MarketClient.Answer job = live.awaitTerminal(key, jobId, Duration.ofMinutes(4));
            assertThat(job.text("status")).as(job + "\n" + live.market.diagnostics()).isEqualTo("COMPLETED");
        }
        for (String service : List.of("ingest-api", "matcher", "verifier", "ledger-sink")) {
            assertThat(live.market.service(service).alive()).as(service + " survived the registry's absence").isTrue();
        }
        List<String> unreadable = new ArrayList<>();
        try (KafkaConsumer<byte[], byte[]> c = rawConsumer()) {
            TopicPartition dlq = new TopicPartition(Topics.DLQ.name(), 0);
            c.assign(List.of(dlq));
            c.seek(dlq, dlqFrom);
            long end = c.endOffsets(List.of(dlq)).get(dlq);
            while (c.position(dlq) < end) {
                for (ConsumerRecord<byte[], byte[]> r : c.poll(Duration.ofMillis(500))) {
                    String reason = DeadLetters.header(r.headers(), DeadLetters.H_REASON);
                    // a late result after the restarts ("unknown task") is the market's rule, not the registry's absence
                    if (reason != null && (reason.contains("undeserialisable") || reason.contains("undecodable")
                            || reason.contains("cannot decode") || reason.contains("registry") || reason.contains("schema"))) {
                        unreadable.add(DeadLetters.header(r.headers(), DeadLetters.H_APP) + ": " + reason);
                    }
                }
            }
        }
        assertThat(unreadable).as("records dead-lettered as unreadable while the registry was away").isEmpty();
        awaitSinkCaughtUp();
        live.assertLedgerInvariants();
    }

    private static String httpBody(String url) {
        try {
            var http = java.net.http.HttpClient.newHttpClient();
            return http.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(url)).timeout(Duration.ofSeconds(20)).build(),
                    java.net.http.HttpResponse.BodyHandlers.ofString()).body();
        } catch (java.io.IOException e) {
            return "";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "";
        }
    }

    private static int httpStatus(String url) {
        try {
            var http = java.net.http.HttpClient.newHttpClient();
            return http.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(url)).timeout(Duration.ofSeconds(20)).build(),
                    java.net.http.HttpResponse.BodyHandlers.discarding()).statusCode();
        } catch (java.io.IOException e) {
            return -1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return -1;
        }
    }

    private record Audit(int exit, String output) {
    }

    private Audit audit() {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        Map<String, String> env = new HashMap<>(Map.of(
                "AGORA_JDBC_URL", live.stack.jdbcUrl(),
                "AGORA_JDBC_USER", live.stack.jdbcUser(),
                "AGORA_JDBC_PASSWORD", live.stack.jdbcPassword(),
                "AGORA_BOOTSTRAP", live.stack.bootstrap(),
                "AGORA_REGISTRY_URL", live.stack.registryUrl()));
        env.putAll(live.stack.kafkaCredentials().env(KafkaCredentials.ADMIN));
        int exit = AuditMain.run(new String[0], env, new PrintStream(buf, true, StandardCharsets.UTF_8));
        return new Audit(exit, buf.toString(StandardCharsets.UTF_8));
    }

    /** The sink's stored offsets reach the end of every topic it reads, and stay there. */
    private void awaitSinkCaughtUp() {
        await("sink caught up").atMost(Duration.ofMinutes(1)).pollInterval(Duration.ofSeconds(1)).until(() -> {
            long stored = live.scalar("select coalesce(sum(next_offset),0) from agora.consumer_offsets where group_id = 'agora-ledger-sink'");
            long end = endOffsets(List.of(Topics.LEDGER.name(), Topics.JOB_EVENTS.name(), Topics.VERDICTS.name(),
                    Topics.REPUTATION.name()));
            return stored >= end - 50 && quiet(stored);
        });
    }

    private long lastStored = -1;

    private boolean quiet(long stored) {
        boolean same = stored == lastStored;
        lastStored = stored;
        return same;
    }

    private long endOffsets(List<String> topics) {
        try (KafkaConsumer<byte[], byte[]> c = rawConsumer()) {
            List<TopicPartition> parts = new ArrayList<>();
            for (String t : topics) {
                c.partitionsFor(t).forEach(p -> parts.add(new TopicPartition(t, p.partition())));
            }
            return c.endOffsets(parts).values().stream().mapToLong(Long::longValue).sum();
        }
    }

    /**
     * Reads every committed record of the ledger topic: no transaction (hold, payout, refund, or any other)
     * appears twice; a copy is named with the partition and offset of each of its records.
     */
    private void assertExactlyOnceOnTheLedgerTopic() {
        LedgerCopies read = live.ledgerTopicCopies();
        assertThat(read.transactions()).isPositive();
        assertThat(read.describe(20)).as("transactions committed twice on " + Topics.LEDGER.name()).isEmpty();
    }

    private KafkaConsumer<byte[], byte[]> rawConsumer() {
        return live.rawConsumer();
    }
}
