package io.agora.infra.market;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import io.agora.schemas.DeadLetters;
import io.agora.schemas.Topics;
import io.agora.schemas.testing.TraceCollector;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.awaitility.Awaitility.await;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * One job travels the whole market on real infrastructure: HTTP submit, admission with a
 * starter grant and escrow, matching to three distinct live workers, three real Docker
 * containers, signed results, 2-of-3 consensus, settlement, and the PostgreSQL projection.
 */
class MarketEndToEndIT {
    private static LiveMarket live;

    @BeforeAll
    static void market() {
        live = LiveMarket.get();
    }

    @Test
    void aJobIsRunByThreeWorkersAgreedOnPaidAndRecorded() throws Exception {
        String key = live.apiKey("e2e-client");
        String jobId = live.submit(key, LiveMarket.job("echo hello from agora", 3, 2, 20_000));

        MarketClient.Answer job = live.awaitTerminal(key, jobId, Duration.ofMinutes(2));

        assertThat(job.text("status")).as(job.toString()).isEqualTo("COMPLETED");
        assertThat(job.text("output")).isEqualTo("hello from agora\n");
        assertThat(job.text("consensusHash")).hasSize(64);
        assertThat(job.body().get("agreeing").size()).isGreaterThanOrEqualTo(2);
        long cost = job.body().get("costMicros").asLong();
        assertThat(cost).isPositive();
        assertThat(cost + job.body().get("refundMicros").asLong()).isEqualTo(job.body().get("escrowMicros").asLong());

        // three distinct workers were assigned a replica
        List<String> assigned = live.strings(
                "select distinct worker_id from agora.job_events where job_id = ? and type = 'ASSIGNED'", jobId);
        assertThat(assigned).hasSizeGreaterThanOrEqualTo(3).doesNotHaveDuplicates();

        // the escrow was held before any task was assigned and is empty now
        assertThat(live.scalar("select balance_micros from agora.accounts where account_id = ?", "escrow:" + jobId)).isZero();

        // the client's balance is its starter grant minus the cost, and the API says the same
        long grant = live.scalar("select -sum(amount_micros) from agora.ledger_postings p join agora.ledger_transactions t "
                + "using (transaction_id) where t.transaction_id = 'grant:e2e-client' and p.account_id = 'mint:grants'");
        MarketClient.Answer account = live.client.account(key, "e2e-client");
        assertThat(account.status()).isEqualTo(200);
        assertThat(account.body().get("balanceMicros").asLong()).isEqualTo(grant - cost);
        assertThat(account.body().get("availableMicros").asLong()).isEqualTo(grant - cost);

        // every agreeing worker was paid exactly once, and the payouts add up to the cost
        assertThat(live.scalar("select count(*) from agora.ledger_transactions where job_id = ? and kind = 'PAYOUT'", jobId))
                .isEqualTo(job.body().get("agreeing").size());
        assertThat(live.scalar("select coalesce(sum(p.amount_micros),0) from agora.ledger_postings p join agora.ledger_transactions t "
                + "using (transaction_id) where t.job_id = ? and t.kind = 'PAYOUT' and p.account_id like 'worker:%'", jobId))
                .isEqualTo(cost);

        live.assertLedgerInvariants();
    }

    /**
     * Every service exports its spans over OTLP (AGORA_OTEL_ENDPOINT) to the test's receiver: one
     * trace id covers the job's submit, admission, matching, its three workers, the verifier and the
     * ledger sink, and every span's parent is another span of that trace, up to the submit's.
     */
    @Test
    void oneTraceCoversEveryHopOfAJobWithConsistentParents() {
        String key = live.apiKey("e2e-trace");
        MarketClient.Answer submitted = live.client.submit(key, LiveMarket.job("echo traced", 3, 2, 20_000));
        assertThat(submitted.status()).as(submitted.toString()).isEqualTo(202);
        String[] traceparent = submitted.headers().get("traceparent").get(0).split("-");
        String traceId = traceparent[1];
        String submitSpan = traceparent[2];
        assertThat(live.awaitTerminal(key, submitted.text("jobId"), Duration.ofMinutes(2)).text("status")).isEqualTo("COMPLETED");

        await("the job's spans from every service").atMost(Duration.ofMinutes(1)).pollInterval(Duration.ofMillis(500))
                .untilAsserted(() -> {
                    List<TraceCollector.Received> spans = live.traces.trace(traceId);
                    assertThat(spans).extracting(TraceCollector.Received::service)
                            .contains("ingest-api", "matcher", "worker", "verifier", "ledger-sink");
                    assertThat(spans).extracting(TraceCollector.Received::name)
                            .contains("POST /api/v1/jobs", "admission", "matching", "worker", "worker run", "verifier");
                    assertThat(spans.stream().filter(s -> s.name().equals("worker run")).count()).as("a run per replica").isGreaterThanOrEqualTo(3);
                    assertThat(spans).filteredOn(s -> s.name().startsWith("ledger-sink ")).isNotEmpty();
                    Set<String> ids = new HashSet<>();
                    spans.forEach(s -> ids.add(s.spanId()));
                    assertThat(spans).filteredOn(s -> s.parentSpanId().isEmpty()).extracting(TraceCollector.Received::spanId)
                            .as("the submit is the only root").containsExactly(submitSpan);
                    assertThat(spans).filteredOn(s -> !s.parentSpanId().isEmpty())
                            .allSatisfy(s -> assertThat(ids).as(s + " has its parent in the trace").contains(s.parentSpanId()));
                });
        List<TraceCollector.Received> spans = live.traces.trace(traceId);
        assertThat(spans).filteredOn(s -> s.name().equals("admission")).singleElement()
                .extracting(TraceCollector.Received::parentSpanId).isEqualTo(submitSpan);
    }

    @Test
    void aJobReadsAnUploadedInputWritesFilesAndTheClientDownloadsTheAgreedBytesAndItsLogsApart() throws Exception {
        String key = live.apiKey("files-client");
        byte[] input = "3\n1\n2\n".getBytes(StandardCharsets.UTF_8);
        MarketClient.Answer up = live.client.upload(key, input);
        assertThat(up.status()).as(up.toString()).isEqualTo(201);
        String inputSha = up.text("sha256");
        assertThat(inputSha).isEqualTo(sha256(input));

        String jobId = live.submit(key, LiveMarket.job("sort /inputs/data/n.txt > /outputs/sorted.txt"
                        + " && mkdir /outputs/sub && cp /inputs/data/n.txt /outputs/sub/copy.txt"
                        + " && echo to-stdout && echo to-stderr >&2", 2, 2, 20_000,
                Map.of("requirements", Map.of("tagsAll", List.of("honest")),
                        "inputs", List.of(Map.of("path", "data/n.txt", "sha256", inputSha)))));
        MarketClient.Answer job = live.awaitTerminal(key, jobId, Duration.ofMinutes(2));
        assertThat(job.text("status")).as(job.toString()).isEqualTo("COMPLETED");

        MarketClient.Answer listed = live.client.get(key, "/api/v1/jobs/" + jobId + "/files");
        assertThat(listed.status()).as(listed.toString()).isEqualTo(200);
        Map<String, String> agreed = new java.util.TreeMap<>();
        listed.body().get("files").forEach(f -> agreed.put(f.get("path").asText(), f.get("sha256").asText()));
        byte[] sorted = "1\n2\n3\n".getBytes(StandardCharsets.UTF_8);
        assertThat(agreed).isEqualTo(Map.of("/outputs/sorted.txt", sha256(sorted),
                "/outputs/sub/copy.txt", inputSha));
        for (Map.Entry<String, String> f : agreed.entrySet()) {
            byte[] served = live.client.bytes(key, "/api/v1/jobs/" + jobId + "/files" + f.getKey());
            assertThat(served).as(f.getKey()).isNotNull();
            assertThat(sha256(served)).as(f.getKey() + " matches its agreed hash").isEqualTo(f.getValue());
        }
        assertThat(live.client.bytes(key, "/api/v1/jobs/" + jobId + "/files/outputs/sorted.txt")).isEqualTo(sorted);

        MarketClient.Answer logs = live.client.get(key, "/api/v1/jobs/" + jobId + "/logs");
        assertThat(logs.status()).as(logs.toString()).isEqualTo(200);
        assertThat(logs.text("stdout")).isEqualTo("to-stdout\n");
        assertThat(logs.text("stderr")).isEqualTo("to-stderr\n");
        assertThat(logs.body().get("stdoutTruncated").asBoolean()).isFalse();
        String stranger = live.apiKey("files-stranger");
        assertThat(live.client.bytes(stranger, "/api/v1/jobs/" + jobId + "/files/outputs/sorted.txt")).isNull();
    }

    private static String sha256(byte[] bytes) throws java.security.NoSuchAlgorithmException {
        return java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(bytes));
    }

    @Test
    void aTrustedPoolRunsOneReplicaOnItsAllowlistedWorkerAndAnOpenPoolRefusesOne() throws Exception {
        String key = live.apiKey("e2e-trusted");
        MarketClient.Answer open = live.client.submit(key, LiveMarket.job("echo nobody checks me", 1, 1, 20_000));
        assertThat(open.status()).as("a single replica in an open pool: " + open).isEqualTo(400);

        String trusted = live.workerId(LiveMarket.TRUSTED);
        String jobId = live.submit(key, LiveMarket.job("echo trusted", 1, 1, 20_000,
                Map.of("requirements", Map.of("pool", LiveMarket.TRUSTED))));
        MarketClient.Answer job = live.awaitTerminal(key, jobId, Duration.ofMinutes(2));
        assertThat(job.text("status")).as(job.toString()).isEqualTo("COMPLETED");
        assertThat(job.text("output")).isEqualTo("trusted\n");
        assertThat(job.body().get("agreeing").get(0).asText()).isEqualTo(trusted);
        assertThat(live.strings("select distinct worker_id from agora.job_events where job_id = ? and type = 'ASSIGNED'", jobId))
                .containsExactly(trusted);
        live.assertLedgerInvariants();
    }

    @Test
    void aJobNoWorkerOfItsPoolCanEverRunEndsAfterThePoolsGraceSayingWhyAndFullyRefunded() throws Exception {
        String key = live.apiKey("e2e-unmatched");
        String jobId = live.submit(key, LiveMarket.job("echo never", 1, 1, 20_000,
                Map.of("requirements", Map.of("pool", LiveMarket.TRUSTED, "gpuModel", "H100"))));
        MarketClient.Answer job = live.awaitTerminal(key, jobId, Duration.ofMinutes(1));
        assertThat(job.text("status")).as(job.toString()).isEqualTo("EXPIRED");
        assertThat(job.text("reason")).isEqualTo("no worker in pool " + LiveMarket.TRUSTED + " can run it: no matching gpu (1 worker)");
        assertThat(job.body().get("costMicros").asLong()).isZero();
        assertThat(live.scalar("select balance_micros from agora.accounts where account_id = ?", "escrow:" + jobId)).isZero();
        live.assertLedgerInvariants();
    }

    @Test
    void aMalformedSubmissionIsRefusedWithEveryProblemListed() {
        String key = live.apiKey("e2e-bad");
        MarketClient.Answer a = live.client.submit(key, "{\"command\":[],\"redundancy\":0,\"quorum\":5,\"timeoutMs\":-1}");
        assertThat(a.status()).isEqualTo(400);
        assertThat(a.body().get("problems").findValuesAsText("field"))
                .contains("image", "command", "redundancy", "timeoutMs", "maxPricePerCpuSecondMicros");

        MarketClient.Answer notJson = live.client.submit(key, "{not json");
        assertThat(notJson.status()).isEqualTo(400);
        assertThat(live.client.submit(null, LiveMarket.job("true", 1, 1, 5000)).status()).isEqualTo(401);
    }

    @Test
    void aCancelledJobIsRefundedInFullAndOnlyOnce() throws Exception {
        String key = live.apiKey("e2e-cancel");
        String jobId = live.submit(key, LiveMarket.job("sleep 25; echo too late", 3, 2, 60_000));
        await("job running").atMost(Duration.ofSeconds(60)).until(() ->
                live.scalar("select count(*) from agora.job_events where job_id = ? and type = 'ASSIGNED'", jobId) >= 3);

        assertThat(live.client.cancel(key, jobId).status()).isEqualTo(202);
        assertThat(live.client.cancel(key, jobId).status()).as("cancel is idempotent").isEqualTo(202);

        MarketClient.Answer job = live.awaitTerminal(key, jobId, Duration.ofMinutes(1));
        assertThat(job.text("status")).isEqualTo("CANCELLED");
        assertThat(job.body().get("costMicros").asLong()).isZero();
        assertThat(live.scalar("select count(*) from agora.ledger_transactions where job_id = ? and kind = 'REFUND'", jobId))
                .isEqualTo(1);
        assertThat(live.scalar("select balance_micros from agora.accounts where account_id = ?", "escrow:" + jobId)).isZero();
        MarketClient.Answer account = live.client.account(key, "e2e-cancel");
        assertThat(account.body().get("balanceMicros").asLong())
                .as("starter grant untouched").isEqualTo(live.scalar(
                        "select amount_micros from agora.ledger_postings where transaction_id = 'grant:e2e-cancel' and account_id = 'client:e2e-cancel'"));
        live.assertLedgerInvariants();
    }

    @Test
    void recordsThatCannotBeReadGoToTheDlqWithTheReasonAndTheMarketKeepsWorking() throws Exception {
        byte[] garbage = "this is not an avro record".getBytes(StandardCharsets.UTF_8);
        Set<String> expected = new HashSet<>();
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(live.stack.asAdmin(Map.of(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName(),
                ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName())))) {
            for (String topic : List.of(Topics.JOB_REQUESTS.name(), Topics.RESULTS.name(), Topics.LEDGER.name())) {
                RecordMetadata md = producer.send(new ProducerRecord<>(topic, "dlq-probe".getBytes(), garbage)).get();
                expected.add(topic + "-" + md.partition() + "@" + md.offset());
            }
        }

        Set<String> dead = new HashSet<>();
        List<String> reasons = new ArrayList<>();
        try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(live.stack.asAdmin(Map.of(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName(),
                ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName())))) {
            TopicPartition dlq = new TopicPartition(Topics.DLQ.name(), 0);
            c.assign(List.of(dlq));
            c.seekToBeginning(List.of(dlq));
            await("dead letters").atMost(Duration.ofSeconds(60)).until(() -> {
                c.poll(Duration.ofMillis(500)).forEach(r -> {
                    // other tests on this stack dead-letter records of their own (a late result, ...)
                    if (!"dlq-probe".equals(r.key() == null ? null : new String(r.key(), StandardCharsets.UTF_8))) {
                        return;
                    }
                    dead.add(DeadLetters.header(r.headers(), DeadLetters.H_TOPIC) + "-"
                            + DeadLetters.header(r.headers(), DeadLetters.H_PARTITION) + "@"
                            + DeadLetters.header(r.headers(), DeadLetters.H_OFFSET));
                    reasons.add(DeadLetters.header(r.headers(), DeadLetters.H_APP) + ": "
                            + DeadLetters.header(r.headers(), DeadLetters.H_REASON));
                    assertThat(r.value()).isEqualTo(garbage);
                });
                return dead.containsAll(expected);
            });
        }
        assertThat(reasons).allSatisfy(r -> assertThat(r).isNotBlank());

        String key = live.apiKey("e2e-after-dlq");
        String jobId = live.submit(key, LiveMarket.job("echo still here", 3, 2, 20_000));
        assertThat(live.awaitTerminal(key, jobId, Duration.ofMinutes(2)).text("status")).isEqualTo("COMPLETED");
        assertThat(live.market.service("matcher").alive()).isTrue();
        assertThat(live.market.service("verifier").alive()).isTrue();
        assertThat(live.market.service("ledger-sink").alive()).isTrue();
    }
}
