package io.agora.ingest;

import io.agora.events.GpuInfo;
import io.agora.events.Heartbeat;
import io.agora.events.JobEvent;
import io.agora.events.JobEventType;
import io.agora.events.JobRequested;
import io.agora.events.LedgerEntry;
import io.agora.events.Posting;
import io.agora.events.RegistrationType;
import io.agora.events.WorkerCapabilities;
import io.agora.events.WorkerRegistration;
import io.agora.events.WorkerStatus;
import io.agora.schemas.AgoraSerdes;
import io.agora.schemas.TopicSpec;
import io.agora.schemas.Topics;
import io.agora.schemas.testing.OciTestRegistry;
import io.micronaut.context.ApplicationContext;
import io.micronaut.core.type.Argument;
import io.micronaut.json.JsonMapper;
import io.micronaut.runtime.server.EmbeddedServer;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/** The HTTP layer against a real PostgreSQL and a real Kafka broker. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class IngestApiIT {
    private TestMarket market;
    private ApplicationContext context;
    private EmbeddedServer server;
    private JsonMapper json;
    private final HttpClient http = HttpClient.newHttpClient();

    @BeforeAll
    void start() throws Exception {
        market = TestMarket.start();
        Map<String, Object> props = new java.util.HashMap<>(market.properties());
        props.put("agora.ingest.sse-keep-alive-ms", 300);
        server = ApplicationContext.run(EmbeddedServer.class, props);
        context = server.getApplicationContext();
        json = context.getBean(JsonMapper.class);
    }

    @AfterAll
    void stop() throws Exception {
        try {
            if (server != null) {
                server.close();
            }
        } finally {
            if (market != null) {
                market.close();
            }
        }
    }

    // ---------------------------------------------------------------- helpers

    private HttpResponse<String> call(String method, String path, String auth, String body, String... headers)
            throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://localhost:" + server.getPort() + path))
                .timeout(Duration.ofSeconds(20))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        if (body != null) {
            b.header("Content-Type", "application/json");
        }
        if (auth != null) {
            b.header("Authorization", "Bearer " + auth);
        }
        for (int i = 0; i < headers.length; i += 2) {
            b.header(headers[i], headers[i + 1]);
        }
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    private Map<String, Object> map(HttpResponse<String> r) throws Exception {
        return json.readValue(r.body(), Argument.mapOf(String.class, Object.class));
    }

    @SuppressWarnings("unchecked")
    private List<Map<String, Object>> problems(HttpResponse<String> r) throws Exception {
        return (List<Map<String, Object>>) map(r).get("problems");
    }

    private String newKey(String clientId) throws Exception {
        HttpResponse<String> r = call("POST", "/api/v1/admin/clients/" + clientId + "/keys", "test-admin", null);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
        return (String) map(r).get("apiKey");
    }

    private static String client() {
        return "c-" + UUID.randomUUID().toString().substring(0, 8);
    }

    private static final String JOB = """
            {"image":"busybox","command":["echo","hi"],"timeoutMs":2000,"redundancy":3,"quorum":2,
             "maxPricePerCpuSecondMicros":10}""";

    private <V> List<V> readAll(TopicSpec<String, V> topic, java.util.function.Predicate<V> wanted, int atLeast) {
        Deserializer<V> de = AgoraSerdes.plain().valueSerde(topic).deserializer();
        List<V> found = new ArrayList<>();
        try (KafkaConsumer<String, byte[]> c = new KafkaConsumer<>(Map.of("bootstrap.servers",
                market.kafka.bootstrapServers()), new StringDeserializer(), new ByteArrayDeserializer())) {
            List<TopicPartition> parts = c.partitionsFor(topic.name()).stream()
                    .map(p -> new TopicPartition(topic.name(), p.partition())).toList();
            c.assign(parts);
            c.seekToBeginning(parts);
            await().atMost(20, TimeUnit.SECONDS).until(() -> {
                for (ConsumerRecord<String, byte[]> r : c.poll(Duration.ofMillis(200))) {
                    V v = de.deserialize(r.topic(), r.value());
                    if (wanted.test(v)) {
                        found.add(v);
                    }
                }
                return found.size() >= atLeast;
            });
            // drain what is left so a too-many count shows up
            for (int i = 0; i < 3; i++) {
                for (ConsumerRecord<String, byte[]> r : c.poll(Duration.ofMillis(200))) {
                    V v = de.deserialize(r.topic(), r.value());
                    if (wanted.test(v)) {
                        found.add(v);
                    }
                }
            }
        }
        return found;
    }

    private <V> void produce(TopicSpec<String, V> topic, String key, V value) throws Exception {
        try (KafkaProducer<String, byte[]> p = new KafkaProducer<>(Map.of("bootstrap.servers",
                market.kafka.bootstrapServers()), new StringSerializer(), new ByteArraySerializer())) {
            p.send(new ProducerRecord<>(topic.name(), key,
                    AgoraSerdes.plain().valueSerde(topic).serializer().serialize(topic.name(), value))).get();
        }
    }

    /** A registration and one heartbeat of a worker, as the API reads them (it does not check signatures). */
    private void register(String workerId, WorkerCapabilities caps, WorkerStatus status, int freeSlots, double load,
                          List<String> inFlight) throws Exception {
        produce(Topics.REGISTRATIONS, workerId, WorkerRegistration.newBuilder().setEventId(UUID.randomUUID().toString())
                .setWorkerId(workerId).setType(RegistrationType.REGISTERED).setCapabilities(caps).setSeq(1)
                .setTimestamp(Instant.now()).setSignature(ByteBuffer.wrap(new byte[64])).build());
        produce(Topics.HEARTBEATS, workerId, Heartbeat.newBuilder().setEventId(UUID.randomUUID().toString())
                .setWorkerId(workerId).setPool(caps.getPool()).setSeq(2).setTimestamp(Instant.now())
                .setStatus(status).setFreeSlots(freeSlots).setLoad(load)
                .setPricePerCpuSecondMicros(caps.getPricePerCpuSecondMicros())
                .setOwnedPartitions(List.of(0)).setInFlightTaskIds(inFlight)
                .setSignature(ByteBuffer.wrap(new byte[64])).build());
    }

    private void sql(String sql, Object... args) throws Exception {
        try (Connection c = market.db(); PreparedStatement ps = c.prepareStatement(sql)) {
            for (int i = 0; i < args.length; i++) {
                ps.setObject(i + 1, args[i]);
            }
            ps.execute();
        }
    }

    // ---------------------------------------------------------------- submit

    @Test
    void malformedJsonIs400WithAClearMessage() throws Exception {
        String key = newKey(client());
        HttpResponse<String> r = call("POST", "/api/v1/jobs", key, "{\"image\": \"busybox\", \"command\": [");
        assertThat(r.statusCode()).isEqualTo(400);
        assertThat((String) map(r).get("detail")).containsIgnoringCase("malformed");
    }

    @Test
    void everyInvalidFieldIsListed() throws Exception {
        String key = newKey(client());
        HttpResponse<String> r = call("POST", "/api/v1/jobs", key, """
                {"command":[],"timeoutMs":5,"memoryMb":1,"cpus":0,"redundancy":3,"quorum":5,
                 "strategy":"vote","maxTotalResults":2}""");
        assertThat(r.statusCode()).isEqualTo(400);
        assertThat(problems(r)).extracting(p -> p.get("field")).contains("image", "command", "timeoutMs", "memoryMb",
                "cpus", "quorum", "strategy", "maxTotalResults", "maxPricePerCpuSecondMicros");
    }

    @Test
    void errorsAreProblemDetailsCarryingTheCallersRequestId() throws Exception {
        String key = newKey(client());
        HttpResponse<String> r = call("POST", "/api/v1/jobs", key, "{\"command\":[]}", "X-Request-Id", "req-77");
        assertThat(r.statusCode()).isEqualTo(400);
        assertThat(r.headers().firstValue("Content-Type")).hasValueSatisfying(t -> assertThat(t).startsWith("application/problem+json"));
        assertThat(r.headers().firstValue("X-Request-Id")).hasValue("req-77");
        Map<String, Object> body = map(r);
        assertThat(body).containsEntry("type", "about:blank").containsEntry("title", "Bad Request")
                .containsEntry("status", 400).containsEntry("instance", "/api/v1/jobs").containsEntry("requestId", "req-77");
        assertThat((String) body.get("detail")).contains("problem");
        assertThat(problems(r)).extracting(p -> p.get("field")).contains("image", "command");
        HttpResponse<String> unknown = call("GET", "/api/v1/nowhere", key, null);
        assertThat(unknown.headers().firstValue("Content-Type")).hasValueSatisfying(t -> assertThat(t).startsWith("application/problem+json"));
        assertThat(map(unknown)).containsEntry("status", 404)
                .containsEntry("requestId", unknown.headers().firstValue("X-Request-Id").orElseThrow());
    }

    @Test
    void aRequestWithoutAnIdGetsANewOneEchoed() throws Exception {
        String key = newKey(client());
        HttpResponse<String> a = call("GET", "/api/v1/jobs", key, null);
        HttpResponse<String> b = call("GET", "/api/v1/jobs", key, null, "X-Request-Id", "bad id with spaces");
        assertThat(a.statusCode()).isEqualTo(200);
        String idA = a.headers().firstValue("X-Request-Id").orElseThrow();
        String idB = b.headers().firstValue("X-Request-Id").orElseThrow();
        assertThat(UUID.fromString(idA).toString()).isEqualTo(idA);
        assertThat(UUID.fromString(idB).toString()).isEqualTo(idB);
        assertThat(idA).isNotEqualTo(idB);
    }

    @Test
    void aNumberIsNotAStringInASubmission() throws Exception {
        String key = newKey(client());
        HttpResponse<String> r = call("POST", "/api/v1/jobs", key, """
                {"image":0,"command":["echo"],"memoryMb":"64","maxPricePerCpuSecondMicros":10}""");
        assertThat(r.statusCode()).as(r.body()).isEqualTo(400);
        assertThat(problems(r)).extracting(p -> p.get("field")).containsExactlyInAnyOrder("image", "memoryMb");
        HttpResponse<String> match = call("POST", "/api/v1/match", key, "{\"cpus\":\"2\"}");
        assertThat(match.statusCode()).as(match.body()).isEqualTo(400);
        assertThat(problems(match)).extracting(p -> p.get("field")).containsExactly("cpus");
    }

    @Test
    void theOpenApiDocumentAndItsUiAreServedFromTheJar() throws Exception {
        HttpResponse<String> doc = call("GET", "/api/openapi.yml", null, null);
        assertThat(doc.statusCode()).isEqualTo(200);
        assertThat(doc.body()).contains("openapi: 3", "SubmitJob", "/api/v1/jobs/{id}/events");
        HttpResponse<String> docs = call("GET", "/api/docs", null, null);
        assertThat(docs.statusCode()).isEqualTo(303);
        HttpResponse<String> ui = call("GET", docs.headers().firstValue("Location").orElseThrow(), null, null);
        assertThat(ui.statusCode()).isEqualTo(200);
        assertThat(ui.body()).contains("/api/openapi.yml").doesNotContain("https://");
        assertThat(call("GET", "/swagger-ui/res/swagger-ui-bundle.js", null, null).statusCode()).isEqualTo(200);
    }

    @Test
    void missingOrWrongKeyIs401() throws Exception {
        assertThat(call("POST", "/api/v1/jobs", null, JOB).statusCode()).isEqualTo(401);
        assertThat(call("POST", "/api/v1/jobs", "agk_nope_nope", JOB).statusCode()).isEqualTo(401);
        HttpResponse<String> r = call("GET", "/api/v1/jobs", null, null);
        assertThat(r.statusCode()).isEqualTo(401);
        assertThat(map(r).get("detail")).isNotNull();
    }

    @Test
    void revokedKeyIs401() throws Exception {
        HttpResponse<String> issued = call("POST", "/api/v1/admin/clients/" + client() + "/keys", "test-admin", null);
        String key = (String) map(issued).get("apiKey");
        String keyId = (String) map(issued).get("keyId");
        assertThat(call("GET", "/api/v1/jobs", key, null).statusCode()).isEqualTo(200);
        assertThat(call("DELETE", "/api/v1/admin/keys/" + keyId, "test-admin", null).statusCode()).isEqualTo(200);
        assertThat(call("GET", "/api/v1/jobs", key, null).statusCode()).isEqualTo(401);
        assertThat(call("DELETE", "/api/v1/admin/keys/" + keyId, "wrong", null).statusCode()).isEqualTo(401);
    }

    @Test
    void submitAnswers202AndAnotherClientsJobIsA404LikeAnUnknownOne() throws Exception {
        String a = newKey(client());
        String b = newKey(client());
        HttpResponse<String> r = call("POST", "/api/v1/jobs", a, JOB);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(202);
        String jobId = (String) map(r).get("jobId");
        assertThat(r.headers().firstValue("Location")).contains("/api/v1/jobs/" + jobId);
        assertThat(map(r)).containsEntry("status", "submitted");

        HttpResponse<String> mine = call("GET", "/api/v1/jobs/" + jobId, a, null);
        assertThat(mine.statusCode()).isEqualTo(200);
        assertThat(map(mine)).containsEntry("status", "submitted");
        String unknown = UUID.randomUUID().toString();
        for (String[] c : new String[][]{{"GET", ""}, {"GET", "/output"}, {"DELETE", ""}, {"POST", "/dispute"}}) {
            // the same request id for both: the answers must not differ by anything else either
            HttpResponse<String> theirs = call(c[0], "/api/v1/jobs/" + jobId + c[1], b, null, "X-Request-Id", "probe");
            HttpResponse<String> none = call(c[0], "/api/v1/jobs/" + unknown + c[1], b, null, "X-Request-Id", "probe");
            assertThat(theirs.statusCode()).as(c[0] + c[1] + " " + theirs.body()).isEqualTo(404);
            assertThat(none.statusCode()).isEqualTo(404);
            assertThat(theirs.body()).isEqualTo(none.body().replace(unknown, jobId));
        }
    }

    @Test
    void aBatchIsCheckedWholeThenSubmittedInOrderEachJobWithItsOwnKey() throws Exception {
        String clientId = client();
        String key = newKey(clientId);
        String keyed = JOB.replace("{", "{\"idempotencyKey\":\"b-0\",");
        String other = JOB.replace("\"hi\"", "\"there\"");
        HttpResponse<String> bad = call("POST", "/api/v1/jobs/batch", key, "[" + keyed + ",{\"image\":0,\"command\":[\"x\"]},{}]");
        assertThat(bad.statusCode()).as(bad.body()).isEqualTo(400);
        assertThat(problems(bad)).extracting(p -> (String) p.get("field")).contains("[1].image", "[2].image", "[2].command")
                .allMatch(f -> f.startsWith("[1]") || f.startsWith("[2]"));
        String firstId = io.agora.ingest.jobs.JobService.jobId(clientId, "b-0");
        assertThat(call("GET", "/api/v1/jobs/" + firstId, key, null).statusCode()).as("nothing was submitted").isEqualTo(404);

        HttpResponse<String> ok = call("POST", "/api/v1/jobs/batch", key, "[" + keyed + "," + other + "," + JOB + "]");
        assertThat(ok.statusCode()).as(ok.body()).isEqualTo(202);
        @SuppressWarnings("unchecked")
        List<Map<String, Object>> jobs = (List<Map<String, Object>>) map(ok).get("jobs");
        assertThat(jobs).hasSize(3).allSatisfy(j -> assertThat(j).containsEntry("status", "submitted"));
        assertThat(jobs.get(0)).containsEntry("jobId", firstId);
        List<String> ids = jobs.stream().map(j -> (String) j.get("jobId")).toList();
        assertThat(ids).doesNotHaveDuplicates();
        for (String id : ids) {
            assertThat(call("GET", "/api/v1/jobs/" + id, key, null).statusCode()).isEqualTo(200);
        }
        List<JobRequested> sent = readAll(Topics.JOB_REQUESTS, e -> e.getClientId().equals(clientId), 3);
        assertThat(sent).extracting(JobRequested::getJobId).containsExactlyElementsOf(ids);
        assertThat(sent.get(1).getSpec().getCommand()).containsExactly("echo", "there");

        // the same key again: the same job; with another request: 409 naming the job, nothing submitted
        HttpResponse<String> again = call("POST", "/api/v1/jobs/batch", key, "[" + keyed + "]");
        assertThat(again.statusCode()).as(again.body()).isEqualTo(202);
        assertThat(again.body()).contains(firstId);
        HttpResponse<String> conflict = call("POST", "/api/v1/jobs/batch", key,
                "[" + other + "," + keyed.replace("\"hi\"", "\"changed\"") + "]");
        assertThat(conflict.statusCode()).as(conflict.body()).isEqualTo(409);
        assertThat((String) map(conflict).get("detail")).startsWith("job [1]: Idempotency-Key b-0");
        assertThat(call("POST", "/api/v1/jobs/batch", key, "{}").statusCode()).isEqualTo(400);
        assertThat(call("POST", "/api/v1/jobs/batch", null, "[" + JOB + "]").statusCode()).isEqualTo(401);
    }

    @Test
    void theBandwidthProbeServesSignedWorkersTheBytesAskedWithinItsLimits() throws Exception {
        var workerKey = new org.bouncycastle.crypto.params.Ed25519PrivateKeyParameters(new java.security.SecureRandom());
        String auth = io.agora.schemas.WorkerRequests.authorization(workerKey, "GET", "/api/v1/probe", System.currentTimeMillis());
        java.util.function.Function<String, HttpResponse<byte[]>> probe = q -> {
            try {
                return http.send(HttpRequest.newBuilder(URI.create("http://localhost:" + server.getPort() + "/api/v1/probe" + q))
                        .timeout(Duration.ofSeconds(20)).header("Authorization", auth).GET().build(), HttpResponse.BodyHandlers.ofByteArray());
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        };
        HttpResponse<byte[]> r = probe.apply("?bytes=3000000");
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.body()).hasSize(3_000_000);
        assertThat(probe.apply("?bytes=0").statusCode()).isEqualTo(400);
        assertThat(probe.apply("?bytes=" + (64L << 20) + "1").statusCode()).isEqualTo(400);
        assertThat(probe.apply("").statusCode()).isEqualTo(400);
        assertThat(call("GET", "/api/v1/probe?bytes=10", newKey(client()), null).statusCode())
                .as("a client's key is not a worker's signature").isEqualTo(401);
    }

    @Test
    void aDisputeReasonIsBoundedBeforeItReachesTheMarket() throws Exception {
        String key = newKey(client());
        String jobId = (String) map(call("POST", "/api/v1/jobs", key, JOB)).get("jobId");
        HttpResponse<String> tooLong = call("POST", "/api/v1/jobs/" + jobId + "/dispute", key,
                "{\"reason\":\"" + "x".repeat(501) + "\"}");
        assertThat(tooLong.statusCode()).as(tooLong.body()).isEqualTo(400);
        assertThat(problems(tooLong)).extracting(p -> p.get("field")).containsExactly("reason");
        HttpResponse<String> fine = call("POST", "/api/v1/jobs/" + jobId + "/dispute", key,
                "{\"reason\":\"" + "x".repeat(500) + "\"}");
        assertThat(fine.statusCode()).as(fine.body()).isEqualTo(202);
    }

    @Test
    void aDisputeWhoseFeeTheClientCannotCoverIs402() throws Exception {
        String clientId = client();
        String key = newKey(clientId);
        String jobId = (String) map(call("POST", "/api/v1/jobs", key, JOB)).get("jobId");
        long fee = io.agora.market.MarketRules.DISPUTE_FEE_MICROS;
        sql("INSERT INTO agora.accounts VALUES (?, ?)", "client:" + clientId, fee - 1);
        HttpResponse<String> r = call("POST", "/api/v1/jobs/" + jobId + "/dispute", key, null);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(402);
        @SuppressWarnings("unchecked")
        Map<String, Object> details = (Map<String, Object>) map(r).get("details");
        assertThat(((Number) details.get("neededMicros")).longValue()).isEqualTo(fee);
        assertThat(((Number) details.get("availableMicros")).longValue()).isEqualTo(fee - 1);

        sql("UPDATE agora.accounts SET balance_micros = ? WHERE account_id = ?", fee, "client:" + clientId);
        assertThat(call("POST", "/api/v1/jobs/" + jobId + "/dispute", key, null).statusCode()).isEqualTo(202);
    }

    @Test
    void malformedPathIdsAre400NotServerErrors() throws Exception {
        String key = newKey(client());
        String overlong = "a".repeat(129);
        for (String path : List.of("/api/v1/jobs/%00", "/api/v1/jobs/x%01y", "/api/v1/jobs/" + overlong,
                "/api/v1/jobs/%00/output", "/api/v1/jobs/%00/events", "/api/v1/accounts/%00",
                "/api/v1/workers/%00/earnings", "/api/v1/pools/%00")) {
            HttpResponse<String> r = call("GET", path, key, null);
            assertThat(r.statusCode()).as(path + " " + r.body()).isEqualTo(400);
            assertThat(problems(r)).as(path).singleElement().satisfies(p -> assertThat((String) p.get("message"))
                    .contains("letters, digits"));
        }
        assertThat(call("DELETE", "/api/v1/jobs/%00", key, null).statusCode()).isEqualTo(400);
        assertThat(call("POST", "/api/v1/jobs/%00/dispute", key, null).statusCode()).isEqualTo(400);
        assertThat(call("DELETE", "/api/v1/admin/keys/%00", "test-admin", null).statusCode()).isEqualTo(400);
        assertThat(call("POST", "/api/v1/admin/clients/%00/deposits", "test-admin", "{\"amountMicros\":5}")
                .statusCode()).isEqualTo(400);
    }

    @Test
    void theSettlementReceiptIsServedToItsOwnerOnceEverySlashIsBookedAndToNobodyElse() throws Exception {
        String clientId = client();
        String owner = newKey(clientId);
        String other = newKey(client());
        String jobId = UUID.randomUUID().toString();
        String path = "/api/v1/jobs/" + jobId + "/settlement-receipt";
        io.agora.schemas.Identity marketKey = io.agora.schemas.Identity.generate();
        // the sink's rows of an overturned dispute: its decision (with the dispute receipt), no settlement yet
        io.agora.events.DisputeReceipt decided = io.agora.schemas.Receipts.sign(io.agora.events.DisputeReceipt.newBuilder()
                .setJobId(jobId).setClientId(clientId).setOverturned(true).setDecidedHash("ab").setFeeMicros(100)
                .setFeePayouts(List.of()).setFeeRefundMicros(100).setSlashed(List.of("w1")).setHonestWorkers(List.of("w2"))
                .setIssuedAt(Instant.ofEpochMilli(9_000)).setMarketKey("").setSignature(ByteBuffer.allocate(0)).build(), marketKey);
        sql("INSERT INTO agora.job_events (event_id, job_id, type, replica, attempt, ts, dispute_receipt)"
                + " VALUES (?, ?, 'DISPUTED', -1, -1, now(), ?)", UUID.randomUUID().toString(), jobId,
                io.agora.schemas.Receipts.toBytes(decided));
        HttpResponse<String> notYet = call("GET", path, owner, null);
        assertThat(notYet.statusCode()).as(notYet.body()).isEqualTo(404);
        assertThat((String) map(notYet).get("detail")).contains("slashes are not all booked yet");
        assertThat(call("GET", "/api/v1/jobs/" + jobId + "/dispute-receipt", owner, null).statusCode()).isEqualTo(200);

        io.agora.events.SettlementReceipt settled = io.agora.schemas.Receipts.sign(io.agora.events.SettlementReceipt.newBuilder()
                .setJobId(jobId).setClientId(clientId).setSlashes(List.of(new io.agora.events.SlashTaken("w1", 300L, 500L,
                        200L, List.of(new io.agora.events.SlashShare("w2", 200L)), 100L)))
                .setIssuedAt(Instant.ofEpochMilli(9_500)).setMarketKey("").setSignature(ByteBuffer.allocate(0)).build(), marketKey);
        sql("INSERT INTO agora.job_events (event_id, job_id, type, replica, attempt, ts, settlement_receipt)"
                + " VALUES (?, ?, 'DISPUTED', -1, -1, now(), ?)", UUID.randomUUID().toString(), jobId,
                io.agora.schemas.Receipts.toBytes(settled));
        HttpResponse<String> mine = call("GET", path, owner, null);
        assertThat(mine.statusCode()).as(mine.body()).isEqualTo(200);
        io.agora.events.SettlementReceipt served = io.agora.schemas.Receipts.settlementFromMap(map(mine));
        assertThat(served).isEqualTo(settled);
        assertThat(io.agora.schemas.Receipts.problems(served, marketKey.workerId())).isEmpty();

        // another client's job answers exactly as an unknown one
        String unknown = UUID.randomUUID().toString();
        HttpResponse<String> theirs = call("GET", path, other, null, "X-Request-Id", "probe");
        HttpResponse<String> none = call("GET", "/api/v1/jobs/" + unknown + "/settlement-receipt", other, null,
                "X-Request-Id", "probe");
        assertThat(theirs.statusCode()).isEqualTo(404);
        assertThat(theirs.body()).isEqualTo(none.body().replace(unknown, jobId));
        assertThat(call("GET", path, null, null).statusCode()).isEqualTo(401);
        assertThat(call("GET", path, "agk_nope_nope", null).statusCode()).isEqualTo(401);
        for (String receipt : List.of("receipt", "dispute-receipt", "settlement-receipt")) {
            HttpResponse<String> bad = call("GET", "/api/v1/jobs/x%00y/" + receipt, owner, null);
            assertThat(bad.statusCode()).as(receipt + " " + bad.body()).isEqualTo(400);
            assertThat(problems(bad)).singleElement().satisfies(p -> assertThat(p.get("field")).isEqualTo("id"));
        }
    }

    @Test
    void tooLittleBalanceIs402() throws Exception {
        String clientId = client();
        String key = newKey(clientId);
        // starter grant 3_600_000; this job may cost 1_000_000 * 2 s * 1 cpu * 6 results = 12_000_000
        HttpResponse<String> r = call("POST", "/api/v1/jobs", key, JOB.replace("\"maxPricePerCpuSecondMicros\":10",
                "\"maxPricePerCpuSecondMicros\":1000000"));
        assertThat(r.statusCode()).as(r.body()).isEqualTo(402);
        @SuppressWarnings("unchecked")
        Map<String, Object> details = (Map<String, Object>) map(r).get("details");
        assertThat(((Number) details.get("neededMicros")).longValue()).isEqualTo(12_000_000L);
        assertThat(((Number) details.get("availableMicros")).longValue()).isEqualTo(3_600_000L);

        sql("INSERT INTO agora.accounts VALUES (?, ?)", "client:" + clientId, 20_000_000L);
        assertThat(call("POST", "/api/v1/jobs", key, JOB.replace("\"maxPricePerCpuSecondMicros\":10",
                "\"maxPricePerCpuSecondMicros\":1000000")).statusCode()).isEqualTo(202);
    }

    @Test
    void rateLimitIs429WithRetryAfter() throws Exception {
        String key = newKey(client());
        HttpResponse<String> last = null;
        for (int i = 0; i < 30; i++) {
            last = call("POST", "/api/v1/jobs", key, "{}");
            if (last.statusCode() == 429) {
                break;
            }
            assertThat(last.statusCode()).isEqualTo(400);
        }
        assertThat(last.statusCode()).isEqualTo(429);
        assertThat(last.headers().firstValue("Retry-After")).isPresent();
        assertThat(Long.parseLong(last.headers().firstValue("Retry-After").orElseThrow())).isPositive();
    }

    @Test
    void cancelDisputeAndMatchNeedAKeyAndTakeFromTheClientsRateLimit() throws Exception {
        assertThat(call("POST", "/api/v1/match", null, "{\"maxPricePerCpuSecondMicros\":10}").statusCode())
                .isEqualTo(401);
        String[][] calls = {{"DELETE", "/api/v1/jobs/" + UUID.randomUUID(), null},
                {"POST", "/api/v1/jobs/" + UUID.randomUUID() + "/dispute", null},
                {"POST", "/api/v1/match", "{\"maxPricePerCpuSecondMicros\":10}"}};
        for (String[] c : calls) {
            String key = newKey(client());
            HttpResponse<String> last = null;
            for (int i = 0; i < 30; i++) {
                last = call(c[0], c[1], key, c[2]);
                if (last.statusCode() == 429) {
                    break;
                }
                assertThat(last.statusCode()).as(c[1] + " " + last.body()).isIn(200, 404);
            }
            assertThat(last.statusCode()).as(c[0] + " " + c[1]).isEqualTo(429);
            assertThat(Long.parseLong(last.headers().firstValue("Retry-After").orElseThrow())).isPositive();
        }
    }

    @Test
    void theSameIdempotencyKeyWithAnotherBodyIs409() throws Exception {
        String key = newKey(client());
        HttpResponse<String> first = call("POST", "/api/v1/jobs", key, JOB, "Idempotency-Key", "order-7");
        assertThat(first.statusCode()).as(first.body()).isEqualTo(202);
        // the same request with its fields in another order is the same request
        HttpResponse<String> same = call("POST", "/api/v1/jobs", key, """
                {"command":["echo","hi"],"image":"busybox","quorum":2,"redundancy":3,"timeoutMs":2000,
                 "maxPricePerCpuSecondMicros":10}""", "Idempotency-Key", "order-7");
        assertThat(same.statusCode()).as(same.body()).isEqualTo(202);
        assertThat(map(same).get("jobId")).isEqualTo(map(first).get("jobId"));

        HttpResponse<String> other = call("POST", "/api/v1/jobs", key, JOB.replace("\"hi\"", "\"bye\""),
                "Idempotency-Key", "order-7");
        assertThat(other.statusCode()).as(other.body()).isEqualTo(409);
        assertThat((String) map(other).get("detail")).contains("order-7");
        assertThat(problems(other)).extracting(p -> p.get("field")).containsExactly("Idempotency-Key");
        // another client may use the same key for its own job
        assertThat(call("POST", "/api/v1/jobs", newKey(client()), JOB.replace("\"hi\"", "\"bye\""),
                "Idempotency-Key", "order-7").statusCode()).isEqualTo(202);
    }

    @Test
    void idempotencyKeyGivesTheSameJob() throws Exception {
        String clientId = client();
        String key = newKey(clientId);
        HttpResponse<String> first = call("POST", "/api/v1/jobs", key, JOB, "Idempotency-Key", "order-42");
        HttpResponse<String> again = call("POST", "/api/v1/jobs", key, JOB, "Idempotency-Key", "order-42");
        assertThat(first.statusCode()).isEqualTo(202);
        assertThat(again.statusCode()).isEqualTo(202);
        String jobId = (String) map(first).get("jobId");
        assertThat(map(again).get("jobId")).isEqualTo(jobId);
        assertThat(jobId).isEqualTo(UUID.nameUUIDFromBytes((clientId + ":order-42").getBytes()).toString());

        List<JobRequested> produced = readAll(Topics.JOB_REQUESTS, j -> j.getClientId().equals(clientId), 1);
        assertThat(produced).isNotEmpty().allSatisfy(j -> {
            assertThat(j.getJobId()).isEqualTo(jobId);
            assertThat(j.getIdempotencyKey()).isEqualTo("order-42");
            assertThat(j.getRedundancy()).isEqualTo(3);
            assertThat(j.getQuorum()).isEqualTo(2);
            assertThat(j.getMaxTotalResults()).isEqualTo(6);
            assertThat(j.getRequirements().getPool()).isEqualTo("public");
        });
    }

    @Test
    void aRegistryImagesTagIsRecordedAsTheDigestItsRegistryServesAndAnUnknownImageIsA400(@TempDir Path oci) throws Exception {
        // a real registry (Debian's docker-registry) holding the job image, as ImageDigestsIT runs it
        try (OciTestRegistry registry = OciTestRegistry.start(19504, oci)) {
            String pinned = registry.push("agora/busybox:1");
            try {
                String clientId = client();
                String key = newKey(clientId);
                HttpResponse<String> r = call("POST", "/api/v1/jobs", key,
                        JOB.replace("\"busybox\"", "\"" + registry.host() + "/agora/busybox:1\""));
                assertThat(r.statusCode()).as(r.body()).isEqualTo(202);
                String jobId = (String) map(r).get("jobId");
                assertThat(readAll(Topics.JOB_REQUESTS, j -> j.getJobId().equals(jobId), 1)).singleElement()
                        .satisfies(j -> assertThat(j.getSpec().getImage()).isEqualTo(pinned)
                                .matches(registry.host() + "/agora/busybox@sha256:[0-9a-f]{64}"));
                HttpResponse<String> unknown = call("POST", "/api/v1/jobs", key,
                        JOB.replace("\"busybox\"", "\"" + registry.host() + "/agora/nothing:1\""));
                assertThat(unknown.statusCode()).as(unknown.body()).isEqualTo(400);
                assertThat(problems(unknown)).singleElement().satisfies(p -> {
                    assertThat(p).containsEntry("field", "image");
                    assertThat((String) p.get("message")).startsWith("unknown image " + registry.host() + "/agora/nothing:1");
                });
            } finally {
                OciTestRegistry.docker("rmi", registry.host() + "/agora/busybox:1");
            }
        }
    }

    // ---------------------------------------------------------------- keys and money

    @Test
    void apiKeysAreStoredOnlyHashed() throws Exception {
        String clientId = client();
        String key = newKey(clientId);
        try (Connection c = market.db(); PreparedStatement ps = c.prepareStatement(
                "SELECT key_id, client_id, salt, hash FROM ingest.api_keys WHERE client_id = ?")) {
            ps.setString(1, clientId);
            try (ResultSet rs = ps.executeQuery()) {
                assertThat(rs.next()).isTrue();
                for (int i = 1; i <= 4; i++) {
                    assertThat(rs.getString(i)).doesNotContain(key.substring(key.lastIndexOf('_') + 1));
                }
                assertThat(rs.getString("hash")).hasSize(64);
            }
        }
    }

    @Test
    void depositProducesABalancedLedgerEntry() throws Exception {
        String clientId = client();
        assertThat(call("POST", "/api/v1/admin/clients/" + clientId + "/deposits", null, "{\"amountMicros\":5}")
                .statusCode()).isEqualTo(401);
        HttpResponse<String> bad = call("POST", "/api/v1/admin/clients/" + clientId + "/deposits", "test-admin",
                "{\"amountMicros\":-5}");
        assertThat(bad.statusCode()).isEqualTo(400);
        assertThat(problems(bad)).extracting(p -> p.get("field")).containsExactly("amountMicros");

        HttpResponse<String> r = call("POST", "/api/v1/admin/clients/" + clientId + "/deposits", "test-admin",
                "{\"amountMicros\":7000000}");
        assertThat(r.statusCode()).as(r.body()).isEqualTo(202);
        List<LedgerEntry> entries = readAll(Topics.LEDGER, e -> e.getClientId().equals(clientId), 1);
        assertThat(entries).hasSize(1);
        LedgerEntry e = entries.get(0);
        assertThat(e.getTransactionId()).startsWith("deposit:");
        assertThat(e.getPostings().stream().mapToLong(Posting::getAmountMicros).sum()).isZero();
        assertThat(e.getPostings()).extracting(Posting::getAccountId)
                .containsExactlyInAnyOrder("mint:deposits", "client:" + clientId);
    }

    @Test
    void statusOutputAndBalancesComeFromTheReadModel() throws Exception {
        String clientId = client();
        String key = newKey(clientId);
        String jobId = UUID.randomUUID().toString();
        Instant t = Instant.parse("2026-01-01T00:00:00Z");
        sql("INSERT INTO agora.jobs (job_id, client_id, pool, status, submitted_at, updated_at, escrow_micros,"
                        + " cost_micros, refund_micros, consensus_hash, output, exit_code, agreeing, dissenting,"
                        + " gpu_cost_micros, memory_cost_micros)"
                        + " VALUES (?, ?, 'public', 'COMPLETED', ?, ?, 120, 40, 80, 'abc', 'hello\n', 0, ?, ?, 25, 5)",
                jobId, clientId, java.sql.Timestamp.from(t), java.sql.Timestamp.from(t.plusSeconds(3)),
                new String[]{"w1", "w2"}, new String[]{"w3"});
        sql("INSERT INTO agora.accounts VALUES (?, 1000), (?, 0)", "client:" + clientId, "escrow:" + jobId);
        sql("INSERT INTO agora.ledger_transactions VALUES (?, ?, ?, 'PAYOUT', ?, 'pay', now())",
                "payout:" + jobId + ":w1", UUID.randomUUID().toString(), clientId, jobId);
        sql("INSERT INTO agora.ledger_postings (transaction_id, posting_no, account_id, amount_micros)"
                        + " VALUES (?, 0, ?, -40), (?, 1, 'worker:w1-" + clientId + "', 40)",
                "payout:" + jobId + ":w1", "escrow:" + jobId, "payout:" + jobId + ":w1");

        Map<String, Object> job = map(call("GET", "/api/v1/jobs/" + jobId, key, null));
        assertThat(job).containsEntry("status", "COMPLETED").containsEntry("outcome", "COMPLETED")
                .containsEntry("consensusHash", "abc").containsEntry("output", "hello\n");
        assertThat(job.get("agreeing")).isEqualTo(List.of("w1", "w2"));
        assertThat(job.get("costBreakdown")).isEqualTo(Map.of("cpuMicros", 10, "gpuMicros", 25, "memoryMicros", 5));
        HttpResponse<String> out = call("GET", "/api/v1/jobs/" + jobId + "/output", key, null);
        assertThat(out.body()).isEqualTo("hello\n");
        assertThat(out.headers().firstValue("Content-Type").orElse("")).startsWith("text/plain");

        Map<String, Object> list = map(call("GET", "/api/v1/jobs?status=completed", key, null));
        assertThat((List<?>) list.get("jobs")).hasSize(1);

        Map<String, Object> bal = map(call("GET", "/api/v1/accounts/" + clientId, key, null));
        assertThat(((Number) bal.get("balanceMicros")).longValue()).isEqualTo(1000);
        assertThat(((Number) bal.get("availableMicros")).longValue()).isEqualTo(1000);
        assertThat(call("GET", "/api/v1/accounts/someone-else", key, null).statusCode()).isEqualTo(403);

        Map<String, Object> txs = map(call("GET", "/api/v1/accounts/me/transactions?limit=10", key, null));
        assertThat((List<?>) txs.get("transactions")).hasSize(1);

        // w1 bonds 15 of its 40: its stake, and no change to what it earned
        String w1 = "w1-" + clientId;
        sql("INSERT INTO agora.accounts VALUES (?, 25), (?, 15)", "worker:" + w1, "stake:" + w1);
        sql("INSERT INTO agora.ledger_transactions VALUES (?, ?, ?, 'STAKE', NULL, 'stake bonded', now())",
                "stake:" + w1 + ":1", UUID.randomUUID().toString(), w1);
        sql("INSERT INTO agora.ledger_postings (transaction_id, posting_no, account_id, amount_micros)"
                + " VALUES (?, 0, ?, -15), (?, 1, ?, 15)", "stake:" + w1 + ":1", "worker:" + w1, "stake:" + w1 + ":1", "stake:" + w1);

        Map<String, Object> earnings = map(call("GET", "/api/v1/workers/" + w1 + "/earnings", null, null));
        assertThat(((Number) earnings.get("totalMicros")).longValue()).isEqualTo(40);
        assertThat(((Number) earnings.get("todayMicros")).longValue()).isEqualTo(40);
        assertThat(((Number) earnings.get("stakeMicros")).longValue()).isEqualTo(15);
        assertThat(((Number) earnings.get("balanceMicros")).longValue()).isEqualTo(25);
    }

    // ---------------------------------------------------------------- registry, match, events

    @Test
    void workersPoolsAndMatchFollowTheRegistryTopics() throws Exception {
        String workerId = "w-" + UUID.randomUUID();
        register(workerId, WorkerCapabilities.newBuilder().setArch("amd64").setCpuCores(4).setCpuThreads(8)
                .setMemoryMb(8192).setGpus(List.<GpuInfo>of()).setRegion("eu").setPricePerCpuSecondMicros(5)
                .setMaxConcurrent(2).setPool("testpool").build(), WorkerStatus.READY, 2, 0.1, List.of());

        await().atMost(20, TimeUnit.SECONDS).until(() ->
                call("GET", "/api/v1/workers?pool=testpool", null, null).body().contains(workerId));
        Map<String, Object> pool = map(call("GET", "/api/v1/pools/testpool", null, null));
        assertThat(pool).containsEntry("status", "healthy");
        assertThat(((Number) pool.get("capacity")).intValue()).isEqualTo(2);

        String key = newKey(client());
        HttpResponse<String> match = call("POST", "/api/v1/match?topK=3", key, """
                {"maxPricePerCpuSecondMicros":10,"requirements":{"pool":"testpool","region":"eu"}}""");
        assertThat(match.statusCode()).as(match.body()).isEqualTo(200);
        @SuppressWarnings("unchecked")
        List<Map<String, Object>> candidates = (List<Map<String, Object>>) map(match).get("candidates");
        assertThat(candidates).hasSize(1);
        assertThat(candidates.get(0)).containsEntry("workerId", workerId).containsEntry("estimatedWaitMs", 0);
        assertThat((String) candidates.get(0).get("explain")).contains("cap=");

        HttpResponse<String> tooCheap = call("POST", "/api/v1/match", key, """
                {"maxPricePerCpuSecondMicros":1,"requirements":{"pool":"testpool"}}""");
        assertThat(map(tooCheap).get("candidates")).isEqualTo(List.of());
    }

    @Test
    void aBusyWorkersEstimatedWaitComesFromItsResultLatency() throws Exception {
        String workerId = "w-" + UUID.randomUUID();
        // full: its one slot runs a task
        register(workerId, WorkerCapabilities.newBuilder().setArch("amd64").setCpuCores(4).setCpuThreads(8)
                .setMemoryMb(8192).setRegion("eu").setPricePerCpuSecondMicros(5).setMinPricePerJobMicros(7)
                .setMaxConcurrent(1).setPool("busypool").build(), WorkerStatus.FULL, 0, 1.0, List.of("job-x/0/0"));
        // its history as the sink wrote it: two results, 300 ms and 500 ms after their assignment
        Instant t = Instant.now().minusSeconds(60);
        for (int i = 0; i < 2; i++) {
            String job = "lat-" + UUID.randomUUID();
            sql("INSERT INTO agora.job_events (event_id, job_id, type, reason, worker_id, replica, attempt, ts)"
                    + " VALUES (?, ?, 'ASSIGNED', 'cap=1', ?, 0, 0, ?)", UUID.randomUUID().toString(), job, workerId,
                    java.sql.Timestamp.from(t));
            sql("INSERT INTO agora.job_events (event_id, job_id, type, reason, worker_id, replica, attempt, ts)"
                    + " VALUES (?, ?, 'REPLICA_FINISHED', 'SUCCEEDED', ?, 0, 0, ?)", UUID.randomUUID().toString(), job,
                    workerId, java.sql.Timestamp.from(t.plusMillis(300 + 200L * i)));
        }
        // the latency is re-read every few seconds: wait for the worker and its latency to show
        await().atMost(20, TimeUnit.SECONDS).until(() ->
                call("GET", "/api/v1/workers?pool=busypool", null, null).body().contains("\"resultLatencyMs\":400"));
        Map<String, Object> pool = map(call("GET", "/api/v1/pools/busypool", null, null));
        assertThat(((Number) pool.get("averageLatencyMs")).doubleValue()).isEqualTo(400.0);
        assertThat(((Number) pool.get("capacity")).intValue()).isZero();

        HttpResponse<String> match = call("POST", "/api/v1/match?topK=2", newKey(client()), """
                {"maxPricePerCpuSecondMicros":10,"requirements":{"pool":"busypool"}}""");
        assertThat(match.statusCode()).as(match.body()).isEqualTo(200);
        Map<String, Object> preview = map(match);
        assertThat(((Number) preview.get("eligible")).intValue()).isZero();
        @SuppressWarnings("unchecked")
        List<Map<String, Object>> candidates = (List<Map<String, Object>>) preview.get("candidates");
        assertThat(candidates).hasSize(1);
        Map<String, Object> c = candidates.get(0);
        assertThat(c).containsEntry("workerId", workerId).containsEntry("freeSlots", 0);
        // one running task, mean latency 400 ms: expected 400 / (1 + 1) until it ends, then 400 to a result
        assertThat(((Number) c.get("estimatedWaitMs")).longValue()).isEqualTo(200);
        assertThat(((Number) c.get("etaMs")).longValue()).isEqualTo(600);
        assertThat(((Number) c.get("minPricePerJobMicros")).longValue()).isEqualTo(7);
        assertThat(preview.get("excluded")).isEqualTo(List.of());
    }

    /** An SSE response read line by line as it arrives. */
    private final class EventStream {
        final List<String> lines = new CopyOnWriteArrayList<>();
        final CompletableFuture<Void> ended;

        EventStream(String key, String jobId, String... headers) {
            HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://localhost:" + server.getPort()
                            + "/api/v1/jobs/" + jobId + "/events"))
                    .header("Authorization", "Bearer " + key).header("Accept", "text/event-stream");
            for (int i = 0; i < headers.length; i += 2) {
                b.header(headers[i], headers[i + 1]);
            }
            HttpRequest req = b.build();
            ended = http.sendAsync(req, HttpResponse.BodyHandlers.ofInputStream()).thenAccept(r -> {
                try (BufferedReader in = new BufferedReader(new InputStreamReader(r.body()))) {
                    String line;
                    while ((line = in.readLine()) != null) {
                        lines.add(line);
                    }
                } catch (Exception e) {
                    lines.add("error " + e);
                }
            });
        }

        /** The data lines, in order (not the empty one a keep-alive comment may carry). */
        List<String> data() {
            return lines.stream().filter(l -> l.startsWith("data:") && !l.substring(5).isBlank()).toList();
        }
    }

    /** The API tails agora.jobs.events from its end: wait until it does, so an event produced now is seen. */
    private void awaitMarketFeed() {
        await().atMost(30, TimeUnit.SECONDS).until(() ->
                metric(call("GET", "/metrics", null, null).body(), "agora_ingest_market_feed_caught_up") == 1.0);
    }

    /** The value of the first Prometheus sample whose name and labels contain every part, or 0 if none. */
    private static double metric(String scrape, String name, String... labels) {
        return scrape.lines().filter(l -> l.startsWith(name + "{") || l.startsWith(name + " "))
                .filter(l -> java.util.Arrays.stream(labels).allMatch(l::contains))
                .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1)))
                .findFirst().orElse(0);
    }

    @Test
    void eventsStreamSendsTheStateThenEachLiveEventOnceUntilTerminal() throws Exception {
        String clientId = client();
        String key = newKey(clientId);
        String jobId = (String) map(call("POST", "/api/v1/jobs", key, JOB)).get("jobId");
        awaitMarketFeed();
        EventStream stream = new EventStream(key, jobId);
        await().atMost(20, TimeUnit.SECONDS).until(() -> stream.lines.contains("event: status"));
        JobEvent accepted = event(jobId, clientId, JobEventType.ACCEPTED);
        JobEvent cancelled = event(jobId, clientId, JobEventType.CANCELLED);
        // each produced once: the stream must not depend on a second chance
        produce(Topics.JOB_EVENTS, jobId, accepted);
        produce(Topics.JOB_EVENTS, jobId, cancelled);
        stream.ended.get(20, TimeUnit.SECONDS);
        List<String> data = stream.data();
        assertThat(data).hasSize(3);
        assertThat(data.get(0)).contains("\"status\":\"submitted\"");
        assertThat(data.get(1)).contains("\"type\":\"ACCEPTED\"", accepted.getEventId());
        assertThat(data.get(2)).contains("\"type\":\"CANCELLED\"", cancelled.getEventId());
        assertThat(stream.lines).contains("event: job-event", "id: " + cancelled.getEventId());
    }

    @Test
    void eventsStreamOpenedAfterTheTerminalEventStillEndsWhileTheReadModelLags() throws Exception {
        String clientId = client();
        String key = newKey(clientId);
        String jobId = (String) map(call("POST", "/api/v1/jobs", key, JOB)).get("jobId");
        awaitMarketFeed();
        // the job ends before anyone watches; no sink runs here, so the read model never learns it
        produce(Topics.JOB_EVENTS, jobId, event(jobId, clientId, JobEventType.ACCEPTED));
        produce(Topics.JOB_EVENTS, jobId, event(jobId, clientId, JobEventType.CANCELLED));
        EventStream stream = new EventStream(key, jobId);
        stream.ended.get(20, TimeUnit.SECONDS);
        List<String> data = stream.data();
        assertThat(data).hasSize(3);
        assertThat(data.get(0)).contains("\"status\":\"submitted\"");
        assertThat(data.get(2)).contains("\"type\":\"CANCELLED\"");
    }

    private static JobEvent event(String jobId, String clientId, JobEventType type) {
        return JobEvent.newBuilder().setEventId(UUID.randomUUID().toString()).setJobId(jobId).setClientId(clientId)
                .setType(type).setTimestamp(Instant.now()).build();
    }

    /** A job of the client in the read model with the given events (type, worker, replica, attempt, reason), a second apart. */
    private List<String> recordedJob(String clientId, String jobId, String status, String[]... events) throws Exception {
        Instant t = Instant.parse("2026-02-01T00:00:00Z");
        sql("INSERT INTO agora.jobs (job_id, client_id, pool, status, submitted_at, updated_at) VALUES (?, ?, 'public', ?, ?, ?)",
                jobId, clientId, status, java.sql.Timestamp.from(t), java.sql.Timestamp.from(t.plusSeconds(60)));
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < events.length; i++) {
            String[] e = events[i];
            String id = jobId + "-e" + i;
            ids.add(id);
            sql("INSERT INTO agora.job_events (event_id, job_id, type, reason, worker_id, replica, attempt, ts)"
                            + " VALUES (?, ?, ?, ?, ?, ?, ?, ?)", id, jobId, e[0], e[4], e[1], Integer.parseInt(e[2]),
                    Integer.parseInt(e[3]), java.sql.Timestamp.from(t.plusSeconds(i)));
        }
        return ids;
    }

    @Test
    void executionsTellEachReplicasAttemptsFromTheRecordedEvents() throws Exception {
        String clientId = client();
        String key = newKey(clientId);
        String jobId = "exec-" + UUID.randomUUID();
        recordedJob(clientId, jobId, "COMPLETED",
                new String[]{"ACCEPTED", null, "-1", "-1", null},
                new String[]{"ASSIGNED", "w1", "0", "1", "score"},
                new String[]{"REASSIGNED", "w2", "0", "2", "lease expired"},
                new String[]{"REPLICA_FINISHED", "w2", "0", "2", "SUCCEEDED"},
                new String[]{"COMPLETED", null, "-1", "-1", null});
        HttpResponse<String> r = call("GET", "/api/v1/jobs/" + jobId + "/executions", key, null);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        @SuppressWarnings("unchecked")
        List<Map<String, Object>> x = (List<Map<String, Object>>) map(r).get("executions");
        assertThat(x).hasSize(2);
        assertThat(x.get(0)).containsEntry("workerId", "w1").containsEntry("outcome", "REASSIGNED")
                .containsEntry("endReason", "lease expired");
        assertThat(x.get(1)).containsEntry("workerId", "w2").containsEntry("attempt", 2)
                .containsEntry("assignedBecause", "lease expired").containsEntry("outcome", "SUCCEEDED");
        assertThat(call("GET", "/api/v1/jobs/" + jobId + "/executions", newKey(client()), null).statusCode()).isEqualTo(404);
    }

    @Test
    void aReconnectingStreamResumesAfterLastEventIdAndEndsOnTheMissedTerminalEvent() throws Exception {
        String clientId = client();
        String key = newKey(clientId);
        String jobId = "resume-" + UUID.randomUUID();
        List<String> ids = recordedJob(clientId, jobId, "COMPLETED",
                new String[]{"ACCEPTED", null, "-1", "-1", null},
                new String[]{"ASSIGNED", "w1", "0", "1", "score"},
                new String[]{"COMPLETED", null, "-1", "-1", null});
        EventStream stream = new EventStream(key, jobId, "Last-Event-ID", ids.get(0));
        stream.ended.get(20, TimeUnit.SECONDS);
        List<String> data = stream.data();
        assertThat(data).hasSize(3);
        assertThat(data.get(0)).contains("\"status\":\"COMPLETED\"");
        assertThat(data.get(1)).contains("\"type\":\"ASSIGNED\"", ids.get(1));
        assertThat(data.get(2)).contains("\"type\":\"COMPLETED\"", ids.get(2));
    }

    @Test
    void aQuietStreamGetsKeepAliveComments() throws Exception {
        String clientId = client();
        String key = newKey(clientId);
        String jobId = "quiet-" + UUID.randomUUID();
        recordedJob(clientId, jobId, "QUEUED", new String[]{"ACCEPTED", null, "-1", "-1", null});
        EventStream stream = new EventStream(key, jobId);
        await().atMost(20, TimeUnit.SECONDS).until(() -> stream.lines.stream().filter(": keep-alive"::equals).count() >= 2);
        assertThat(stream.ended).isNotDone();
        stream.ended.cancel(true);
    }

    @Test
    void jobListsPageByCursorWhateverIsSubmittedMeanwhile() throws Exception {
        String clientId = client();
        String key = newKey(clientId);
        for (int i = 0; i < 5; i++) {
            recordedJob(clientId, "page-" + i + "-" + UUID.randomUUID(), "COMPLETED");
        }
        Map<String, Object> first = map(call("GET", "/api/v1/jobs?limit=2", key, null));
        String cursor = (String) first.get("nextCursor");
        assertThat(cursor).isNotNull();
        Map<String, Object> second = map(call("GET", "/api/v1/jobs?limit=2&cursor=" + cursor, key, null));
        Map<String, Object> third = map(call("GET", "/api/v1/jobs?limit=2&cursor=" + second.get("nextCursor"), key, null));
        List<Object> seen = new ArrayList<>();
        for (Map<String, Object> page : List.of(first, second, third)) {
            ((List<?>) page.get("jobs")).forEach(j -> seen.add(((Map<?, ?>) j).get("jobId")));
        }
        assertThat(seen).hasSize(5).doesNotHaveDuplicates();
        assertThat(third.get("nextCursor")).isNull();
        HttpResponse<String> bad = call("GET", "/api/v1/jobs?cursor=not-ours", key, null);
        assertThat(bad.statusCode()).isEqualTo(400);
        assertThat(problems(bad)).extracting(p -> p.get("field")).containsExactly("cursor");
    }

    @Test
    void aWorkerPoolsAndMarketStatsAreServed() throws Exception {
        String workerId = "ws-" + UUID.randomUUID();
        register(workerId, WorkerCapabilities.newBuilder().setArch("amd64").setCpuCores(2).setCpuThreads(2)
                .setMemoryMb(2048).setGpus(List.<GpuInfo>of()).setRegion("us").setPricePerCpuSecondMicros(3)
                .setMaxConcurrent(1).setPool("statspool").build(), WorkerStatus.READY, 1, 0.0, List.of());
        await().atMost(20, TimeUnit.SECONDS).until(() -> call("GET", "/api/v1/workers/" + workerId, null, null).statusCode() == 200);
        assertThat(map(call("GET", "/api/v1/workers/" + workerId, null, null))).containsEntry("pool", "statspool").containsKey("stakeMicros").containsKey("balanceMicros");
        assertThat(call("GET", "/api/v1/workers/nobody-" + UUID.randomUUID(), null, null).statusCode()).isEqualTo(404);
        HttpResponse<String> pools = call("GET", "/api/v1/pools", null, null);
        assertThat(pools.body()).contains("\"pool\":\"statspool\"");
        Map<String, Object> stats = map(call("GET", "/api/v1/stats", null, null));
        assertThat(stats).containsKeys("jobsByStatus", "decidedLastHour", "workersByStatus", "pools");
        assertThat(((Number) stats.get("pools")).intValue()).isGreaterThanOrEqualTo(1);
    }

    // ---------------------------------------------------------------- ops

    @Test
    void healthReportsTheDatabase() throws Exception {
        HttpResponse<String> health = call("GET", "/health", null, null);
        assertThat(health.statusCode()).as(health.body()).isEqualTo(200);
        Map<String, Object> h = map(health);
        assertThat(h).containsEntry("status", "UP");
        @SuppressWarnings("unchecked")
        Map<String, Map<String, Object>> details = (Map<String, Map<String, Object>>) h.get("details");
        assertThat(details).as(health.body()).containsKey("jdbc");
        assertThat(details.get("jdbc")).containsEntry("status", "UP");
    }

    @Test
    void theDevAdminTokenIsRefusedOutsideDevMode() throws Exception {
        Map<String, Object> p = market.properties();
        p.put("agora.ingest.admin-token", "dev-admin-token");
        p.put("agora.ingest.feeds-enabled", false);
        assertThatThrownBy(() -> ApplicationContext.run(EmbeddedServer.class, p).close())
                .hasStackTraceContaining("AGORA_DEV_MODE=1");
        p.put("agora.dev-mode", "1");
        try (EmbeddedServer dev = ApplicationContext.run(EmbeddedServer.class, p)) {
            assertThat(dev.isRunning()).isTrue();
        }
    }

    @Test
    void healthIsDownWhenTheMarketFeedThreadDied() throws Exception {
        try (EmbeddedServer other = ApplicationContext.run(EmbeddedServer.class, market.properties())) {
            URI health = URI.create("http://localhost:" + other.getPort() + "/health");
            HttpResponse<String> up = http.send(HttpRequest.newBuilder(health).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(up.statusCode()).as(up.body()).isEqualTo(200);
            assertThat(up.body()).contains("marketFeed");
            // the feed thread ends (here: stopped; in production: an error it did not survive)
            other.getApplicationContext().getBean(io.agora.ingest.market.MarketFeed.class).close();
            HttpResponse<String> down = http.send(HttpRequest.newBuilder(health).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(down.statusCode()).as(down.body()).isEqualTo(503);
            assertThat(down.body()).contains("\"marketFeed\"", "stopped");
        }
    }

    @Test
    void metricsCountTheRequestJustMadeAndShowTheMarketFeed() throws Exception {
        String[] poolRoute = {"method=\"GET\"", "status=\"200\"", "uri=\"/api/v1/pools/{pool}\""};
        HttpResponse<String> first = call("GET", "/metrics", null, null);
        assertThat(first.statusCode()).isEqualTo(200);
        assertThat(first.headers().firstValue("Content-Type")).hasValueSatisfying(t -> assertThat(t).startsWith("text/plain"));
        double before = metric(first.body(), "http_server_requests_seconds_count", poolRoute);

        assertThat(call("GET", "/api/v1/pools/metrics-probe", null, null).statusCode()).isEqualTo(200);

        await().atMost(10, TimeUnit.SECONDS).untilAsserted(() -> assertThat(
                metric(call("GET", "/metrics", null, null).body(), "http_server_requests_seconds_count", poolRoute))
                .isEqualTo(before + 1));
        awaitMarketFeed();
        String scrape = call("GET", "/metrics", null, null).body();
        assertThat(scrape).contains("# HELP agora_ingest_market_feed_caught_up");
        // the heap over all its pools: one pool alone (the young generation just after a collection) can read 0
        assertThat(scrape.lines().filter(l -> l.startsWith("jvm_memory_used_bytes{") && l.contains("area=\"heap\""))
                .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1))).sum()).isPositive();
    }

    @Test
    void theDashboardAndItsAssetsComeFromTheJarAndNothingFromElsewhere() throws Exception {
        HttpResponse<String> page = call("GET", "/", null, null);
        assertThat(page.statusCode()).isEqualTo(200);
        assertThat(page.headers().firstValue("Content-Type")).hasValueSatisfying(t -> assertThat(t).startsWith("text/html"));
        assertThat(page.body()).contains("<title>Agora market</title>", "/ui/app.js", "/ui/app.css");
        for (String asset : List.of("/ui/app.js", "/ui/app.css")) {
            HttpResponse<String> r = call("GET", asset, null, null);
            assertThat(r.statusCode()).as(asset).isEqualTo(200);
            assertThat(r.body()).doesNotContain("http://", "https://");
        }
        assertThat(page.body()).doesNotContain("http://", "https://");
    }

    @Test
    void unknownPathIs404WithAnError() throws Exception {
        HttpResponse<String> missing = call("GET", "/api/v1/nothing", null, null);
        assertThat(missing.statusCode()).isEqualTo(404);
        assertThat(map(missing).get("detail")).isNotNull();
    }

    @Test
    void submitIs503WhenTheBrokerIsUnreachable() throws Exception {
        int closedPort;
        try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
            closedPort = s.getLocalPort();
        }
        Map<String, Object> p = market.properties();
        p.put("agora.bootstrap", "127.0.0.1:" + closedPort);
        p.put("agora.ingest.feeds-enabled", false);
        p.put("agora.ingest.produce-timeout-ms", 1500);
        String key = newKey(client()); // the same database: the key works on both instances
        try (EmbeddedServer cut = ApplicationContext.run(EmbeddedServer.class, p)) {
            long start = System.nanoTime();
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://localhost:" + cut.getPort()
                            + "/api/v1/jobs")).timeout(Duration.ofSeconds(30)).header("Content-Type", "application/json")
                    .header("Authorization", "Bearer " + key).POST(HttpRequest.BodyPublishers.ofString(JOB)).build(),
                    HttpResponse.BodyHandlers.ofString());
            long tookMs = (System.nanoTime() - start) / 1_000_000;
            assertThat(r.statusCode()).as(r.body()).isEqualTo(503);
            assertThat((String) map(r).get("detail")).contains("not reachable", "Idempotency-Key");
            assertThat(tookMs).as("the produce timeout bounds the wait").isLessThan(15_000);
        }
    }

    // ---------------------------------------------------------------- files

    private HttpResponse<String> upload(String auth, byte[] bytes) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create("http://localhost:" + server.getPort() + "/api/v1/files"))
                .timeout(Duration.ofSeconds(20)).header("Content-Type", "application/octet-stream")
                .header("Authorization", auth).POST(HttpRequest.BodyPublishers.ofByteArray(bytes)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private HttpResponse<byte[]> download(String auth, String sha256) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create("http://localhost:" + server.getPort() + "/api/v1/files/"
                        + sha256 + "/content")).timeout(Duration.ofSeconds(20)).header("Authorization", auth).GET().build(),
                HttpResponse.BodyHandlers.ofByteArray());
    }

    @Test
    void filesAreStoredByHashOncePerClientWithinTheSizeLimitAndQuota() throws Exception {
        String key = newKey(client());
        byte[] data = "x,y\n1,2\n".repeat(100).getBytes(java.nio.charset.StandardCharsets.UTF_8);
        String sha = io.agora.artifacts.Sha256.hex(data);
        HttpResponse<String> first = upload("Bearer " + key, data);
        assertThat(first.statusCode()).as(first.body()).isEqualTo(201);
        assertThat(map(first)).containsEntry("sha256", sha).containsEntry("size", data.length);
        HttpResponse<String> again = upload("Bearer " + key, data);
        assertThat(again.statusCode()).as("the same bytes again: the same file").isEqualTo(200);
        assertThat(map(again)).isEqualTo(map(first));
        HttpResponse<byte[]> back = download("Bearer " + key, sha);
        assertThat(back.statusCode()).isEqualTo(200);
        assertThat(back.body()).isEqualTo(data);
        assertThat(call("GET", "/api/v1/files/" + sha, key, null).statusCode()).isEqualTo(200);

        // another client does not see it, even knowing the hash
        String other = newKey(client());
        assertThat(download("Bearer " + other, sha).statusCode()).isEqualTo(404);
        assertThat(call("GET", "/api/v1/files/" + sha, other, null).statusCode()).isEqualTo(404);

        HttpResponse<String> tooBig = upload("Bearer " + key, new byte[(int) TestMarket.MAX_FILE_BYTES + 1]);
        assertThat(tooBig.statusCode()).as(tooBig.body()).isEqualTo(413);
        assertThat((String) map(tooBig).get("detail")).contains("larger than " + TestMarket.MAX_FILE_BYTES);

        // quota 6000: 800 used, 4000 more fit, another 4000 do not
        assertThat(upload("Bearer " + key, new byte[4000]).statusCode()).isEqualTo(201);
        byte[] over = new byte[4000];
        over[0] = 1;
        HttpResponse<String> overQuota = upload("Bearer " + key, over);
        assertThat(overQuota.statusCode()).as(overQuota.body()).isEqualTo(413);
        assertThat((String) map(overQuota).get("detail")).contains("quota", "4800 of 6000");
        assertThat(download("Bearer " + key, io.agora.artifacts.Sha256.hex(over)).statusCode()).isEqualTo(404);
        io.agora.artifacts.ArtifactStore store = context.getBean(io.agora.artifacts.ArtifactStore.class);
        assertThat(store.size(io.agora.artifacts.Sha256.hex(over))).as("refused bytes nobody holds are not kept").isEmpty();
        // refused bytes another client holds stay: its copy is still served
        byte[] held = new byte[4000];
        held[0] = 2;
        assertThat(upload("Bearer " + other, held).statusCode()).isEqualTo(201);
        assertThat(upload("Bearer " + key, held).statusCode()).isEqualTo(413);
        assertThat(download("Bearer " + other, io.agora.artifacts.Sha256.hex(held)).body()).isEqualTo(held);

        assertThat(upload("Bearer nope", data).statusCode()).isEqualTo(401);
        assertThat(call("GET", "/api/v1/files/not-a-hash", key, null).statusCode()).isEqualTo(400);
        HttpResponse<String> bigJson = call("POST", "/api/v1/jobs", key, " ".repeat(1024 * 1024 + 1));
        assertThat(bigJson.statusCode()).as("JSON bodies keep their own 1 MiB limit").isEqualTo(413);
    }

    @Test
    void filesUnusedForTheRetentionAreSweptButBytesAnotherOwnerStillHoldsStay() throws Exception {
        String me = client();
        String key = newKey(me);
        String otherKey = newKey(client());
        byte[] mine = ("mine " + UUID.randomUUID()).getBytes(java.nio.charset.StandardCharsets.UTF_8);
        byte[] shared = ("shared " + UUID.randomUUID()).getBytes(java.nio.charset.StandardCharsets.UTF_8);
        String mineSha = io.agora.artifacts.Sha256.hex(mine);
        String sharedSha = io.agora.artifacts.Sha256.hex(shared);
        assertThat(upload("Bearer " + key, mine).statusCode()).isEqualTo(201);
        assertThat(upload("Bearer " + key, shared).statusCode()).isEqualTo(201);
        assertThat(upload("Bearer " + otherKey, shared).statusCode()).isEqualTo(201);
        // my two uploads were last used ten days ago; the other client's is fresh
        try (java.sql.Connection c = io.micronaut.data.connection.jdbc.advice.DelegatingDataSource
                .unwrapDataSource(context.getBean(javax.sql.DataSource.class)).getConnection();
             java.sql.PreparedStatement ps = c.prepareStatement(
                     "UPDATE ingest.files SET used_at = now() - interval '10 days' WHERE owner = ?")) {
            ps.setString(1, io.agora.ingest.files.FileService.clientOwner(me));
            assertThat(ps.executeUpdate()).isEqualTo(2);
        }
        io.agora.ingest.files.FileService files = context.getBean(io.agora.ingest.files.FileService.class);
        io.agora.artifacts.ArtifactStore store = context.getBean(io.agora.artifacts.ArtifactStore.class);
        assertThat(files.sweep(java.time.Instant.now().minus(Duration.ofDays(7))))
                .isEqualTo(new io.agora.ingest.files.FileService.Swept(2, 1));
        assertThat(store.size(mineSha)).as("nobody holds it: its bytes are gone").isEmpty();
        assertThat(download("Bearer " + key, mineSha).statusCode()).isEqualTo(404);
        assertThat(download("Bearer " + key, sharedSha).statusCode()).isEqualTo(404);
        assertThat(download("Bearer " + otherKey, sharedSha).body()).as("the other client's copy stays").isEqualTo(shared);
        // uploaded again, it is back; a second sweep finds nothing to do
        assertThat(upload("Bearer " + key, mine).statusCode()).isEqualTo(201);
        assertThat(download("Bearer " + key, mineSha).body()).isEqualTo(mine);
        assertThat(files.sweep(java.time.Instant.now().minus(Duration.ofDays(7)))).isEqualTo(new io.agora.ingest.files.FileService.Swept(0, 0));
    }

    @Test
    void aRegisteredWorkerFetchesAndUploadsFilesWithItsOwnKey() throws Exception {
        String key = newKey(client());
        byte[] input = "an input".getBytes(java.nio.charset.StandardCharsets.UTF_8);
        String sha = io.agora.artifacts.Sha256.hex(input);
        assertThat(upload("Bearer " + key, input).statusCode()).isEqualTo(201);

        var workerKey = new org.bouncycastle.crypto.params.Ed25519PrivateKeyParameters(new java.security.SecureRandom());
        String workerId = io.agora.schemas.Signatures.workerId(workerKey);
        String path = "/api/v1/files/" + sha + "/content";
        java.util.function.Supplier<String> signedGet = () -> io.agora.schemas.WorkerRequests.authorization(workerKey,
                "GET", path, System.currentTimeMillis());
        HttpResponse<byte[]> unknown = download(signedGet.get(), sha);
        assertThat(unknown.statusCode()).as("not registered yet").isEqualTo(403);

        register(workerId, WorkerCapabilities.newBuilder().setArch("amd64").setCpuCores(1).setCpuThreads(1)
                .setMemoryMb(1024).setGpus(List.<GpuInfo>of()).setPricePerCpuSecondMicros(1).setMaxConcurrent(1)
                .build(), WorkerStatus.READY, 1, 0, List.of());
        await().atMost(20, TimeUnit.SECONDS).until(() -> download(signedGet.get(), sha).statusCode() == 200);
        assertThat(download(signedGet.get(), sha).body()).isEqualTo(input);
        String forOtherPath = io.agora.schemas.WorkerRequests.authorization(workerKey, "GET", "/api/v1/files", System.currentTimeMillis());
        assertThat(download(forOtherPath, sha).statusCode()).isEqualTo(401);

        byte[] output = "a replica's output".getBytes(java.nio.charset.StandardCharsets.UTF_8);
        HttpResponse<String> up = upload(io.agora.schemas.WorkerRequests.authorization(workerKey, "POST", "/api/v1/files",
                System.currentTimeMillis()), output);
        assertThat(up.statusCode()).as(up.body()).isEqualTo(201);
        assertThat(map(up)).containsEntry("sha256", io.agora.artifacts.Sha256.hex(output));
    }

    @Test
    void aDecidedJobServesItsLogsAndTheAgreedFilesCheckedAgainstTheirHashes() throws Exception {
        String clientId = client();
        String key = newKey(clientId);
        String jobId = UUID.randomUUID().toString();
        byte[] csv = "a,b\n1,2\n".getBytes(java.nio.charset.StandardCharsets.UTF_8);
        String sha = io.agora.artifacts.Sha256.hex(csv);
        assertThat(upload("Bearer " + key, csv).statusCode()).isEqualTo(201); // as a worker's upload would store it
        Instant t = Instant.parse("2026-01-01T00:00:00Z");
        sql("INSERT INTO agora.jobs (job_id, client_id, pool, status, submitted_at, updated_at, escrow_micros,"
                        + " cost_micros, refund_micros, exit_code, agreeing, dissenting)"
                        + " VALUES (?, ?, 'public', 'RUNNING', ?, ?, 120, 0, 0, 0, '{}', '{}')",
                jobId, clientId, java.sql.Timestamp.from(t), java.sql.Timestamp.from(t));
        assertThat(call("GET", "/api/v1/jobs/" + jobId + "/logs", key, null).statusCode()).isEqualTo(404);
        assertThat((String) map(call("GET", "/api/v1/jobs/" + jobId + "/files", key, null)).get("detail")).contains("no verdict yet");

        sql("INSERT INTO agora.verdicts (job_id, event_id, outcome, consensus_hash, output, exit_code, agreeing, dissenting,"
                        + " cost_micros, refund_micros, submitted_at, decided_at, output_truncated, stderr, stderr_truncated)"
                        + " VALUES (?, ?, 'COMPLETED', 'h', 'out\n', 0, '{}', '{}', 40, 80, ?, ?, true, 'warn\n', false)",
                jobId, UUID.randomUUID().toString(), java.sql.Timestamp.from(t), java.sql.Timestamp.from(t));
        String altered = "ab".repeat(32);
        sql("INSERT INTO agora.verdict_files VALUES (?, '/outputs/r.csv', ?), (?, '/outputs/gone', ?), (?, '/tmp/x', 'absent')",
                jobId, sha, jobId, altered, jobId);

        Map<String, Object> logs = map(call("GET", "/api/v1/jobs/" + jobId + "/logs", key, null));
        assertThat(logs).containsEntry("stdout", "out\n").containsEntry("stdoutTruncated", true)
                .containsEntry("stderr", "warn\n").containsEntry("stderrTruncated", false).containsEntry("outcome", "COMPLETED");
        Map<String, Object> files = map(call("GET", "/api/v1/jobs/" + jobId + "/files", key, null));
        assertThat(files.get("files")).isEqualTo(List.of(Map.of("path", "/outputs/gone", "sha256", altered),
                Map.of("path", "/outputs/r.csv", "sha256", sha), Map.of("path", "/tmp/x", "sha256", "absent")));
        HttpResponse<String> file = call("GET", "/api/v1/jobs/" + jobId + "/files/outputs/r.csv", key, null);
        assertThat(file.statusCode()).isEqualTo(200);
        assertThat(file.body()).isEqualTo("a,b\n1,2\n");
        assertThat(call("GET", "/api/v1/jobs/" + jobId + "/files/outputs/gone", key, null).statusCode())
                .as("agreed but not in the store").isEqualTo(404);
        assertThat(call("GET", "/api/v1/jobs/" + jobId + "/files/tmp/x", key, null).statusCode()).isEqualTo(404);
        assertThat(call("GET", "/api/v1/jobs/" + jobId + "/files/outputs/other", key, null).statusCode()).isEqualTo(404);
        String stranger = newKey(client());
        assertThat(call("GET", "/api/v1/jobs/" + jobId + "/logs", stranger, null).statusCode()).isEqualTo(404);
        assertThat(call("GET", "/api/v1/jobs/" + jobId + "/files/outputs/r.csv", stranger, null).statusCode()).isEqualTo(404);

        // bytes altered in the store are never served whole
        java.nio.file.Path stored = market.artifacts.resolve("sha256").resolve(sha.substring(0, 2)).resolve(sha);
        java.nio.file.Files.writeString(stored, "a,b\n6,6\n");
        assertThatThrownBy(() -> call("GET", "/api/v1/jobs/" + jobId + "/files/outputs/r.csv", key, null))
                .as("the response is broken off").isInstanceOf(java.io.IOException.class);
    }
}
