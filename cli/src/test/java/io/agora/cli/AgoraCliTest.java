package io.agora.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.sun.net.httpserver.HttpServer;
import io.agora.events.Outcome;
import io.agora.events.Receipt;
import io.agora.events.ReceiptPayout;
import io.agora.schemas.Identity;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The CLI against a fake ingest-api (JDK HTTP server) that records what it was sent. */
class AgoraCliTest {
    private HttpServer server;
    private final List<String> seen = new ArrayList<>();
    /** Answers by "METHOD path" (query left out), for the commands that only read and print. */
    private final Map<String, Canned> canned = new HashMap<>();

    private record Canned(int status, String body) {
    }

    private void answer(String methodAndPath, int status, String body) {
        canned.put(methodAndPath, new Canned(status, body));
    }

    @BeforeEach
    void start() throws Exception {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/", ex -> {
            String body = new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
            seen.add(ex.getRequestMethod() + " " + ex.getRequestURI() + " auth=" + ex.getRequestHeaders().getFirst("Authorization")
                    + " idem=" + ex.getRequestHeaders().getFirst("Idempotency-Key") + " " + body);
            String path = ex.getRequestURI().getPath();
            int status = 200;
            String answer;
            if (path.equals("/api/v1/jobs") && ex.getRequestMethod().equals("POST")) {
                status = body.contains("\"quorum\":9") ? 400 : 202;
                answer = status == 202 ? "{\"jobId\":\"j-1\",\"status\":\"submitted\",\"statusUrl\":\"/api/v1/jobs/j-1\"}"
                        : "{\"type\":\"about:blank\",\"detail\":\"invalid request: 1 problem(s)\",\"problems\":[{\"field\":\"quorum\",\"message\":\"must be <= redundancy (3)\"}]}";
            } else if (path.equals("/api/v1/match")) {
                answer = "{\"pool\":\"gpu\",\"eligible\":1,\"candidates\":["
                        + "{\"workerId\":\"w-free\",\"score\":0.91,\"pricePerCpuSecondMicros\":400,\"minPricePerJobMicros\":0,"
                        + "\"replicaCostAtTimeout\":{\"cpuMicros\":800,\"gpuMicros\":6000,\"memoryMicros\":40,\"totalMicros\":6840},"
                        + "\"estimatedWaitMs\":0,\"etaMs\":350,\"freeSlots\":2,\"explain\":\"cap=1.00 price=0.60\"},"
                        + "{\"workerId\":\"w-busy\",\"score\":0.8,\"pricePerCpuSecondMicros\":300,\"minPricePerJobMicros\":50,"
                        + "\"estimatedWaitMs\":null,\"etaMs\":null,\"freeSlots\":0,\"explain\":\"cap=0.50\"}],"
                        + "\"excluded\":[{\"workerId\":\"w-far\",\"reasons\":\"in region us\"}]}";
            } else if (path.equals("/api/v1/jobs/j-1") && ex.getRequestMethod().equals("GET")) {
                answer = "{\"jobId\":\"j-1\",\"status\":\"COMPLETED\",\"output\":\"hi\\n\"}";
            } else if (canned.containsKey(ex.getRequestMethod() + " " + path)) {
                Canned c = canned.get(ex.getRequestMethod() + " " + path);
                status = c.status();
                answer = c.body();
            } else {
                answer = "{}";
            }
            byte[] bytes = answer.getBytes(StandardCharsets.UTF_8);
            ex.getResponseHeaders().add("Content-Type", path.endsWith("/events") ? "text/event-stream" : "application/json");
            ex.sendResponseHeaders(status, bytes.length);
            ex.getResponseBody().write(bytes);
            ex.close();
        });
        server.start();
    }

    @AfterEach
    void stop() {
        server.stop(0);
    }

    private int run(StringWriter out, StringWriter err, String... args) {
        return runAt("http://127.0.0.1:" + server.getAddress().getPort(), out, err, args);
    }

    private int runAt(String api, StringWriter out, StringWriter err, String... args) {
        List<String> all = new ArrayList<>(List.of("--api", api, "--key", "agk_a_b"));
        all.addAll(List.of(args));
        return AgoraCli.run(all.toArray(String[]::new), new PrintWriter(out, true), new PrintWriter(err, true));
    }

    private static JsonNode json(StringWriter out) throws Exception {
        return ApiClient.JSON.readTree(out.toString());
    }

    @Test
    void submitPostsTheJobWithTheKeyAndPrintsItsId() {
        StringWriter out = new StringWriter();
        int code = run(out, new StringWriter(), "submit", "--image", "busybox", "-n", "3", "-k", "2", "--max-price", "10",
                "--idempotency-key", "x1", "--", "echo", "hi");
        assertThat(code).isZero();
        assertThat(out.toString().trim()).isEqualTo("j-1");
        assertThat(seen.get(0)).startsWith("POST /api/v1/jobs auth=Bearer agk_a_b idem=x1")
                .contains("\"image\":\"busybox\"", "\"command\":[\"echo\",\"hi\"]", "\"redundancy\":3", "\"quorum\":2",
                        "\"maxPricePerCpuSecondMicros\":10");
    }

    @Test
    void apiProblemsArePrintedFieldByField() {
        StringWriter err = new StringWriter();
        int code = run(new StringWriter(), err, "submit", "--image", "busybox", "-k", "9", "--max-price", "1", "--", "true");
        assertThat(code).isEqualTo(Exit.API_REFUSED);
        assertThat(err.toString()).contains("HTTP 400").contains("quorum: must be <= redundancy (3)");
    }

    @Test
    void matchPostsTheRequirementsAndPrintsEachCandidateAndWhyOthersAreLeftOut() {
        StringWriter out = new StringWriter();
        int code = run(out, new StringWriter(), "match", "--max-price", "500", "--pool", "gpu", "--region", "eu",
                "--cpus", "2", "--gpus", "1", "--tag", "ssd", "--top-k", "2");
        assertThat(code).isZero();
        assertThat(seen.get(0)).startsWith("POST /api/v1/match?topK=2 ")
                .contains("\"maxPricePerCpuSecondMicros\":500", "\"cpus\":2.0", "\"pool\":\"gpu\"", "\"region\":\"eu\"",
                        "\"gpus\":1", "\"tagsAll\":[\"ssd\"]");
        assertThat(out.toString()).contains("pool gpu: 1 eligible now")
                .contains("w-free").contains("replica<=6840 (cpu 800 gpu 6000 mem 40)  wait=0ms  eta=350ms  cap=1.00 price=0.60")
                .contains("w-busy").contains("min/job=50  replica<=?  wait=?  eta=?")
                .contains("left out w-far").contains("in region us");
    }

    @Test
    void watchPollsUntilTheJobEnds() {
        StringWriter out = new StringWriter();
        assertThat(run(out, new StringWriter(), "watch", "--poll", "j-1")).isZero();
        assertThat(out.toString()).contains("status COMPLETED").containsPattern("status +COMPLETED").endsWith("output:\nhi\n");
    }

    @Test
    void workersSendsTheFiltersAndPrintsOneLinePerWorkerThenThePoolsHealth() {
        answer("GET /api/v1/workers", 200, "[{\"workerId\":\"w-1\",\"pool\":\"gpu\",\"region\":\"eu\",\"status\":\"online\","
                + "\"freeSlots\":2,\"pricePerCpuSecondMicros\":400,\"reputation\":7},"
                + "{\"workerId\":\"MCowBQYDK2VwAyEAabcdefghijklmnop\",\"pool\":\"gpu\",\"region\":\"eu\",\"status\":\"degraded\","
                + "\"freeSlots\":0,\"pricePerCpuSecondMicros\":300,\"reputation\":-2}]");
        answer("GET /api/v1/pools/gpu", 200, "{\"pool\":\"gpu\",\"status\":\"degraded\",\"registered\":2,\"active\":1}");
        StringWriter out = new StringWriter();
        assertThat(run(out, new StringWriter(), "workers", "--pool", "gpu", "--region", "eu", "--status", "online")).isZero();
        assertThat(seen).hasSize(2);
        assertThat(seen.get(0)).startsWith("GET /api/v1/workers?pool=gpu&region=eu&status=online auth=Bearer agk_a_b");
        assertThat(seen.get(1)).startsWith("GET /api/v1/pools/gpu ");
        List<String> lines = out.toString().lines().toList();
        assertThat(lines.get(0)).startsWith("WORKER ").contains("FREE", "PRICE", "REP");
        assertThat(lines.get(1)).startsWith("w-1 ").containsPattern("gpu +eu +online +2 +400 +7");
        assertThat(lines.get(2)).startsWith("MCowBQYDK2VwAyEAabcde... ").containsPattern("degraded +0 +300 +-2");
        assertThat(lines.get(4)).startsWith("POOL ");
        assertThat(lines.get(5)).containsPattern("^gpu +degraded ");
    }

    @Test
    void workersWithoutAPoolAsksForAllAndNoPoolHealth() {
        answer("GET /api/v1/workers", 200, "[]");
        StringWriter out = new StringWriter();
        assertThat(run(out, new StringWriter(), "workers")).isZero();
        assertThat(seen).hasSize(1);
        assertThat(seen.get(0)).startsWith("GET /api/v1/workers auth=Bearer agk_a_b");
        assertThat(out.toString()).isEmpty();
    }

    @Test
    void listPagesThroughYourJobsAndPrintsOneLineEach() {
        answer("GET /api/v1/jobs", 200, "{\"jobs\":[{\"jobId\":\"j-7\",\"status\":\"COMPLETED\",\"pool\":\"public\",\"costMicros\":40},"
                + "{\"jobId\":\"j-8\",\"status\":\"COMPLETED\",\"pool\":\"gpu\",\"costMicros\":null}],\"limit\":5,\"offset\":10}");
        StringWriter out = new StringWriter();
        assertThat(run(out, new StringWriter(), "list", "--status", "completed", "--limit", "5", "--offset", "10")).isZero();
        assertThat(seen.get(0)).startsWith("GET /api/v1/jobs?limit=5&offset=10&status=completed auth=Bearer agk_a_b");
        List<String> lines = out.toString().lines().toList();
        assertThat(lines).hasSize(3);
        assertThat(lines.get(0)).startsWith("JOB ").contains("STATUS", "COST");
        assertThat(lines.get(1)).startsWith("j-7 ").containsPattern("COMPLETED +public +40");
        assertThat(lines.get(2)).startsWith("j-8 ").containsPattern("COMPLETED +gpu +-");
    }

    @Test
    void balancePrintsTheAccountAndWithTransactionsTheLatestOnes() {
        answer("GET /api/v1/accounts/me", 200, "{\"clientId\":\"c1\",\"balanceMicros\":1000,\"heldMicros\":200,\"availableMicros\":800}");
        answer("GET /api/v1/accounts/me/transactions", 200, "{\"transactions\":[{\"transactionId\":\"payout:j-7:w-1\",\"kind\":\"PAYOUT\"}],"
                + "\"total\":1}");
        StringWriter out = new StringWriter();
        assertThat(run(out, new StringWriter(), "balance")).isZero();
        assertThat(seen).hasSize(1);
        assertThat(seen.get(0)).startsWith("GET /api/v1/accounts/me auth=Bearer agk_a_b");
        assertThat(out.toString()).containsPattern("balance +1000").containsPattern("available +800").doesNotContain("PAYOUT");

        StringWriter withTx = new StringWriter();
        assertThat(run(withTx, new StringWriter(), "balance", "--transactions")).isZero();
        assertThat(seen.get(2)).startsWith("GET /api/v1/accounts/me/transactions?limit=20 auth=Bearer agk_a_b");
        assertThat(withTx.toString()).containsPattern("available +800").containsPattern("PAYOUT +- +payout:j-7:w-1");
    }

    @Test
    void keysIssuePrintsTheNewKeyAndRevokeSaysWhichWasRevoked() {
        answer("POST /api/v1/admin/clients/c1/keys", 201, "{\"clientId\":\"c1\",\"keyId\":\"k1\",\"apiKey\":\"agk_k1_secret\"}");
        answer("DELETE /api/v1/admin/keys/k1", 200, "{\"keyId\":\"k1\",\"status\":\"revoked\"}");
        StringWriter out = new StringWriter();
        assertThat(run(out, new StringWriter(), "keys", "issue", "c1")).isZero();
        assertThat(seen.get(0)).startsWith("POST /api/v1/admin/clients/c1/keys auth=Bearer agk_a_b");
        assertThat(out.toString()).containsPattern("api key +agk_k1_secret").containsPattern("key id +k1");

        StringWriter revoked = new StringWriter();
        assertThat(run(revoked, new StringWriter(), "keys", "revoke", "k1")).isZero();
        assertThat(seen.get(1)).startsWith("DELETE /api/v1/admin/keys/k1 auth=Bearer agk_a_b");
        assertThat(revoked.toString().trim()).isEqualTo("revoked k1");
    }

    @Test
    void keysRevokeOfAnUnknownKeyFailsWithTheApisMessage() {
        answer("DELETE /api/v1/admin/keys/nope", 404, "{\"type\":\"about:blank\",\"detail\":\"key nope not found\"}");
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        assertThat(run(out, err, "keys", "revoke", "nope")).isEqualTo(Exit.API_REFUSED);
        assertThat(out.toString()).isEmpty();
        assertThat(err.toString()).contains("HTTP 404: key nope not found");
    }

    @Test
    void watchFollowsTheEventStreamToItsTerminalEventThenShowsTheJob() {
        answer("GET /api/v1/jobs/j-1/events", 200, """
                event: status
                data: {"jobId":"j-1","status":"ACCEPTED"}

                event: job-event
                id: e-1
                data: {"eventId":"e-1","jobId":"j-1","type":"ASSIGNED","reason":"cap=1.00"}

                event: job-event
                id: e-2
                data: {"eventId":"e-2","jobId":"j-1","type":"COMPLETED"}

                """);
        StringWriter out = new StringWriter();
        assertThat(run(out, new StringWriter(), "watch", "j-1")).isZero();
        assertThat(seen.get(0)).startsWith("GET /api/v1/jobs/j-1/events auth=Bearer agk_a_b");
        assertThat(out.toString().lines().limit(3)).containsExactly("status ACCEPTED", "ASSIGNED (cap=1.00)", "COMPLETED");
        assertThat(out.toString()).contains("status COMPLETED").endsWith("output:\nhi\n");
    }

    @Test
    void watchFollowsAnOpenDisputeToItsDecisionThenShowsTheJobWithIt() {
        answer("GET /api/v1/jobs/j-2/events", 200, """
                event: status
                data: {"jobId":"j-2","status":"COMPLETED","dispute":"opened"}

                event: job-event
                id: e-7
                data: {"eventId":"e-7","jobId":"j-2","type":"DISPUTED","reason":"refused: already disputed"}

                event: job-event
                id: e-8
                data: {"eventId":"e-8","jobId":"j-2","type":"DISPUTED","reason":"overturned: dispute replicas agree on h2"}

                event: job-event
                id: e-9
                data: {"eventId":"e-9","jobId":"j-2","type":"ASSIGNED"}

                """);
        answer("GET /api/v1/jobs/j-2", 200, "{\"jobId\":\"j-2\",\"status\":\"COMPLETED\",\"dispute\":\"overturned\"}");
        StringWriter out = new StringWriter();
        assertThat(run(out, new StringWriter(), "watch", "j-2")).isZero();
        assertThat(out.toString().lines().limit(4)).containsExactly("status COMPLETED",
                "DISPUTED (refused: already disputed)", "DISPUTED (overturned: dispute replicas agree on h2)", "status COMPLETED");
        assertThat(out.toString()).containsPattern("dispute +overturned").doesNotContain("ASSIGNED");
    }

    @Test
    void submitWithJsonOutputPrintsTheApisReceipt() throws Exception {
        StringWriter out = new StringWriter();
        assertThat(run(out, new StringWriter(), "-o", "json", "submit", "--image", "busybox", "--max-price", "10", "--", "true")).isZero();
        JsonNode r = json(out);
        assertThat(r.path("jobId").asText()).isEqualTo("j-1");
        assertThat(r.path("statusUrl").asText()).isEqualTo("/api/v1/jobs/j-1");
    }

    @Test
    void submitSendsEveryFieldOfTheSpec() throws Exception {
        assertThat(run(new StringWriter(), new StringWriter(), "submit", "--image", "busybox", "--redundancy", "5", "--quorum", "3",
                "--strategy", "majority", "--max-price", "10", "--cpus", "0.5", "--memory-mb", "64", "--gpus", "1",
                "--timeout-ms", "9000", "--pids-limit", "32", "--no-network", "--env", "A=1", "--env", "B=2",
                "--output-file", "/out/r.txt", "--max-total-results", "7", "--max-attempts", "2", "--priority", "4",
                "--queue-timeout-ms", "60000", "--deadline-ms", "120000", "--pool", "gpu", "--region", "eu",
                "--min-cpu-cores", "2", "--min-memory-mb", "512", "--gpu-model", "A100", "--min-gpu-count", "1",
                "--min-gpu-vram-mb", "40000", "--accelerator", "cuda", "--tag", "ssd", "--any-tag", "x", "--any-tag", "y",
                "--capability", "llama", "--min-reputation", "3", "--max-gpu-price", "4000", "--max-memory-price", "20",
                "--", "echo", "hi")).isZero();
        JsonNode body = ApiClient.JSON.readTree(seen.get(0).substring(seen.get(0).indexOf('{')));
        assertThat(body).isEqualTo(ApiClient.JSON.readTree("""
                {"image":"busybox","command":["echo","hi"],"redundancy":5,"quorum":3,"strategy":"majority",
                 "maxPricePerCpuSecondMicros":10,"cpus":0.5,"memoryMb":64,"gpus":1,"timeoutMs":9000,"pidsLimit":32,
                 "network":false,"env":{"A":"1","B":"2"},"outputFiles":["/out/r.txt"],"maxTotalResults":7,"maxAttempts":2,
                 "priority":4,"queueTimeoutMs":60000,"deadlineMs":120000,
                 "requirements":{"pool":"gpu","region":"eu","minCpuCores":2,"minMemoryMb":512,"gpuModel":"A100",
                   "minGpuCount":1,"minGpuVramMb":40000,"accelerator":"cuda","tagsAll":["ssd"],"tagsAny":["x","y"],
                   "capabilitiesAny":["llama"],"minReputation":3,"maxPricePerGpuSecondMicros":4000,
                   "maxPricePerGbSecondMicros":20}}
                """));
    }

    @Test
    void submitReadsAJsonSpecFileAndFlagsOverrideItsFields(@TempDir Path dir) throws Exception {
        Path spec = dir.resolve("spec.json");
        Files.writeString(spec, """
                {"image":"busybox","command":["echo","from-file"],"redundancy":3,"quorum":2,"maxPricePerCpuSecondMicros":10,
                 "env":{"A":"1"},"requirements":{"pool":"gpu","region":"eu"}}
                """);
        assertThat(run(new StringWriter(), new StringWriter(), "submit", "-f", spec.toString(), "-k", "3", "--region", "us")).isZero();
        JsonNode body = ApiClient.JSON.readTree(seen.get(0).substring(seen.get(0).indexOf('{')));
        assertThat(body.path("image").asText()).isEqualTo("busybox");
        assertThat(body.path("command").toString()).isEqualTo("[\"echo\",\"from-file\"]");
        assertThat(body.path("quorum").asInt()).isEqualTo(3);
        assertThat(body.path("redundancy").asInt()).isEqualTo(3);
        assertThat(body.path("requirements").toString()).isEqualTo("{\"pool\":\"gpu\",\"region\":\"us\"}");

        assertThat(run(new StringWriter(), new StringWriter(), "submit", "-f", spec.toString(), "--", "echo", "from-flags")).isZero();
        assertThat(seen.get(1)).contains("\"command\":[\"echo\",\"from-flags\"]");
    }

    @Test
    void submitReadsAYamlSpecFileWithTheSameFields(@TempDir Path dir) throws Exception {
        Path spec = dir.resolve("spec.yaml");
        Files.writeString(spec, """
                image: busybox
                command: [sh, -c, "echo hi"]
                redundancy: 3
                quorum: 2
                maxPricePerCpuSecondMicros: 1000
                cpus: 0.5
                network: false
                env:
                  GREETING: hello
                requirements:
                  pool: gpu
                  tagsAll: [ssd]
                """);
        assertThat(run(new StringWriter(), new StringWriter(), "submit", "-f", spec.toString(), "--max-price", "900")).isZero();
        JsonNode body = ApiClient.JSON.readTree(seen.get(0).substring(seen.get(0).indexOf('{')));
        assertThat(body).isEqualTo(ApiClient.JSON.readTree("""
                {"image":"busybox","command":["sh","-c","echo hi"],"redundancy":3,"quorum":2,"maxPricePerCpuSecondMicros":900,
                 "cpus":0.5,"network":false,"env":{"GREETING":"hello"},"requirements":{"pool":"gpu","tagsAll":["ssd"]}}
                """));
    }

    @Test
    void submitBatchPostsEveryJobOfTheFileInOneRequestWithTheFlagsAppliedAndPrintsTheIds(@TempDir Path dir) throws Exception {
        Path batch = dir.resolve("jobs.yaml");
        Files.writeString(batch, """
                - {image: busybox, command: [echo, a], idempotencyKey: mine}
                - {image: busybox, command: [echo, b], quorum: 1}
                """);
        answer("POST /api/v1/jobs/batch", 202, "{\"jobs\":[{\"jobId\":\"j-a\",\"status\":\"submitted\"},"
                + "{\"jobId\":\"j-b\",\"status\":\"submitted\"}]}");
        StringWriter out = new StringWriter();
        assertThat(run(out, new StringWriter(), "submit", "--batch", batch.toString(), "-k", "2", "--max-price", "7",
                "--idempotency-key", "run-9")).isZero();
        assertThat(out.toString().lines()).containsExactly("j-a", "j-b");
        assertThat(seen).hasSize(1);
        assertThat(seen.get(0)).startsWith("POST /api/v1/jobs/batch auth=Bearer agk_a_b idem=null");
        JsonNode body = ApiClient.JSON.readTree(seen.get(0).substring(seen.get(0).indexOf('[')));
        assertThat(body).isEqualTo(ApiClient.JSON.readTree("""
                [{"image":"busybox","command":["echo","a"],"idempotencyKey":"mine","quorum":2,"maxPricePerCpuSecondMicros":7},
                 {"image":"busybox","command":["echo","b"],"quorum":2,"maxPricePerCpuSecondMicros":7,"idempotencyKey":"run-9-1"}]
                """));

        StringWriter err = new StringWriter();
        Files.writeString(dir.resolve("one.json"), "{\"image\":\"busybox\"}");
        assertThat(run(new StringWriter(), err, "submit", "--batch", dir.resolve("one.json").toString())).isEqualTo(Exit.USAGE);
        assertThat(err.toString()).contains("must hold a list of job specs");
        assertThat(run(new StringWriter(), new StringWriter(), "submit", "--batch", batch.toString(), "--wait"))
                .isEqualTo(Exit.USAGE);
        assertThat(seen).hasSize(1);
    }

    @Test
    void settleDisputesNeedsTheMarketsSecretKeyAndACutOffAndNeverInventsAKey(@TempDir Path dir) throws Exception {
        Path key = dir.resolve("market.key");
        StringWriter out = new StringWriter();
        assertThat(run(out, new StringWriter(), "settle-disputes", "--market-key-secret", key.toString(),
                "--decided-before", "-1h")).isEqualTo(2);
        assertThat(out.toString()).contains("settle-disputes could not run").contains(key + " is not a readable key file");
        assertThat(key).as("no key of its own: receipts must be signed by the verifier's").doesNotExist();
        StringWriter err = new StringWriter();
        assertThat(run(new StringWriter(), err, "settle-disputes", "--market-key-secret", key.toString())).isEqualTo(Exit.USAGE);
        assertThat(err.toString()).contains("--decided-before");
        assertThat(seen).isEmpty();
    }

    @Test
    void aMissingOrMalformedSpecFileIsAUsageErrorNamingIt(@TempDir Path dir) throws Exception {
        StringWriter err = new StringWriter();
        assertThat(run(new StringWriter(), err, "submit", "-f", dir.resolve("nope.json").toString())).isEqualTo(Exit.USAGE);
        assertThat(err.toString()).contains("cannot read spec file").contains("nope.json");

        Path list = dir.resolve("list.yaml");
        Files.writeString(list, "- a\n- b\n");
        StringWriter err2 = new StringWriter();
        assertThat(run(new StringWriter(), err2, "submit", "-f", list.toString())).isEqualTo(Exit.USAGE);
        assertThat(err2.toString()).contains("must hold one object");
        assertThat(seen).isEmpty();
    }

    @Test
    void submitWaitEndsWithTheJobAndExitsByItsStatus() throws Exception {
        StringWriter out = new StringWriter();
        assertThat(run(out, new StringWriter(), "-o", "json", "submit", "--wait", "--image", "busybox", "--max-price", "1", "--", "true"))
                .isZero();
        assertThat(json(out).path("status").asText()).isEqualTo("COMPLETED");

        answer("GET /api/v1/jobs/j-2", 200, "{\"jobId\":\"j-2\",\"status\":\"NO_CONSENSUS\",\"agreeing\":[],\"dissenting\":[\"w-1\",\"w-2\"]}");
        StringWriter failed = new StringWriter();
        assertThat(run(failed, new StringWriter(), "watch", "--poll", "j-2")).isEqualTo(Exit.NOT_COMPLETED);
        assertThat(failed.toString()).containsPattern("dissenting +w-1, w-2");
    }

    @Test
    void describeShowsAnOverturnedVerdictsHistoryInOrder() {
        answer("GET /api/v1/jobs/j-4", 200, """
                {"jobId":"j-4","status":"COMPLETED","outcome":"COMPLETED","consensusHash":"h1","dispute":"overturned","verdicts":[
                 {"step":"verdict","outcome":"COMPLETED","consensusHash":"h1","at":"2026-12-06T10:00:00Z"},
                 {"step":"dispute opened","reason":"opened: 2 dispute replicas from replica 2","at":"2026-12-06T10:01:00Z"},
                 {"step":"dispute overturned","consensusHash":"h2","reason":"overturned: dispute replicas agree on h2",
                  "at":"2026-12-06T10:02:00Z"}]}""");
        StringWriter out = new StringWriter();
        assertThat(run(out, new StringWriter(), "describe", "j-4", "--events-ms", "0")).isZero();
        assertThat(out.toString().lines().dropWhile(l -> !l.equals("verdict history:")).skip(1).limit(3)).containsExactly(
                "  2026-12-06T10:00:00Z  verdict COMPLETED hash h1",
                "  2026-12-06T10:01:00Z  dispute opened  (opened: 2 dispute replicas from replica 2)",
                "  2026-12-06T10:02:00Z  dispute overturned hash h2  (overturned: dispute replicas agree on h2)");
    }

    @Test
    void describeShowsTheVerdictMoneyWorkersAndTheEventsSoFar() throws Exception {
        answer("GET /api/v1/jobs/j-3", 200, """
                {"jobId":"j-3","status":"RUNNING","outcome":null,"pool":"gpu","escrowMicros":3000,"costMicros":null,
                 "refundMicros":null,"agreeing":["w-1"],"dissenting":[],"output":null}""");
        answer("GET /api/v1/jobs/j-3/events", 200, """
                event: status
                data: {"jobId":"j-3","status":"RUNNING"}

                event: job-event
                id: e-1
                data: {"eventId":"e-1","jobId":"j-3","type":"ASSIGNED","workerId":"w-1","replica":0,"attempt":1,"timestamp":"2026-12-06T10:00:00Z"}

                event: job-event
                id: e-2
                data: {"eventId":"e-2","jobId":"j-3","type":"RESULT","workerId":"w-1","replica":0,"attempt":1,"reason":"exit 0","timestamp":"2026-12-06T10:00:02Z"}

                """);
        StringWriter out = new StringWriter();
        assertThat(run(out, new StringWriter(), "describe", "j-3")).isZero();
        assertThat(seen.get(0)).startsWith("GET /api/v1/jobs/j-3 auth=Bearer agk_a_b");
        assertThat(seen.get(1)).startsWith("GET /api/v1/jobs/j-3/events auth=Bearer agk_a_b");
        assertThat(out.toString()).containsPattern("status +RUNNING").containsPattern("escrow +3000")
                .containsPattern("agreeing +w-1").containsPattern("dissenting +-")
                .containsPattern("ASSIGNED +w-1 +0 +1").containsPattern("RESULT +w-1 +0 +1 +exit 0");

        StringWriter asJson = new StringWriter();
        assertThat(run(asJson, new StringWriter(), "-o", "json", "describe", "j-3")).isZero();
        JsonNode r = json(asJson);
        assertThat(r.path("job").path("status").asText()).isEqualTo("RUNNING");
        assertThat(r.path("events")).hasSize(2);
        assertThat(r.path("events").get(1).path("type").asText()).isEqualTo("RESULT");
    }

    @Test
    void executionsListEachReplicasAttemptsAndWhyOneMoved() throws Exception {
        answer("GET /api/v1/jobs/j-4/executions", 200, """
                {"jobId":"j-4","executions":[
                 {"replica":0,"attempt":1,"workerId":"w-1","assignedAt":"2026-12-06T10:00:00Z","endedAt":"2026-12-06T10:00:30Z",
                  "outcome":"REASSIGNED","endReason":"lease expired"},
                 {"replica":0,"attempt":2,"workerId":"w-2","assignedAt":"2026-12-06T10:00:30Z","assignedBecause":"lease expired"}]}""");
        StringWriter out = new StringWriter();
        assertThat(run(out, new StringWriter(), "executions", "j-4")).isZero();
        assertThat(out.toString()).containsPattern("0 +1 +w-1 .*REASSIGNED +moved: lease expired")
                .containsPattern("0 +2 +w-2 .*running +moved here: lease expired");
        StringWriter asJson = new StringWriter();
        assertThat(run(asJson, new StringWriter(), "-o", "json", "executions", "j-4")).isZero();
        assertThat(json(asJson).path("executions")).hasSize(2);
    }

    @Test
    void cancelAndDisputeSendTheirCommands() throws Exception {
        answer("DELETE /api/v1/jobs/j-1", 202, "{\"jobId\":\"j-1\",\"status\":\"cancel-requested\"}");
        answer("POST /api/v1/jobs/j-1/dispute", 202, "{\"jobId\":\"j-1\",\"status\":\"dispute-requested\"}");
        StringWriter out = new StringWriter();
        assertThat(run(out, new StringWriter(), "cancel", "j-1")).isZero();
        assertThat(seen.get(0)).startsWith("DELETE /api/v1/jobs/j-1 auth=Bearer agk_a_b");
        assertThat(out.toString().trim()).isEqualTo("j-1 cancel-requested");

        StringWriter disputed = new StringWriter();
        assertThat(run(disputed, new StringWriter(), "-o", "json", "dispute", "j-1", "--reason", "output is wrong")).isZero();
        assertThat(seen.get(1)).startsWith("POST /api/v1/jobs/j-1/dispute auth=Bearer agk_a_b").endsWith("{\"reason\":\"output is wrong\"}");
        assertThat(json(disputed).path("status").asText()).isEqualTo("dispute-requested");
    }

    @Test
    void outputPrintsTheAgreedOutputAsIs() throws Exception {
        answer("GET /api/v1/jobs/j-1/output", 200, "42\nline two\n");
        StringWriter out = new StringWriter();
        assertThat(run(out, new StringWriter(), "output", "j-1")).isZero();
        assertThat(out.toString()).isEqualTo("42\nline two\n");

        StringWriter asJson = new StringWriter();
        assertThat(run(asJson, new StringWriter(), "-o", "json", "output", "j-1")).isZero();
        assertThat(json(asJson).path("output").asText()).isEqualTo("42\nline two\n");
    }

    @Test
    void getDownloadsTheAgreedFilesAndRefusesBytesThatDoNotHashToThem(@TempDir Path dir) throws Exception {
        String sha = io.agora.artifacts.Sha256.hex("a,b\n".getBytes(StandardCharsets.UTF_8));
        String list = "{\"files\":[{\"path\":\"/outputs/sub/r.csv\",\"sha256\":\"" + sha + "\"},"
                + "{\"path\":\"/tmp/never.txt\",\"sha256\":\"absent\"}]}";
        answer("GET /api/v1/jobs/j-1/files", 200, list);
        answer("GET /api/v1/jobs/j-1/files/outputs/sub/r.csv", 200, "a,b\n");
        StringWriter err = new StringWriter();
        assertThat(run(new StringWriter(), err, "get", "j-1", "-o", dir.resolve("j-1").toString())).isZero();
        assertThat(Files.readString(dir.resolve("j-1/outputs/sub/r.csv"))).isEqualTo("a,b\n");
        assertThat(err.toString()).contains("skipped /tmp/never.txt: no content (absent)");
        // on get -o is the folder (as the issue writes it); the format is --format, or -o before the command
        for (String[] args : List.of(new String[]{"get", "j-1", "--format", "json", "-d", dir.resolve("d").toString()},
                new String[]{"-o", "json", "get", "j-1", "--output-dir", dir.resolve("o").toString()})) {
            StringWriter asJson = new StringWriter();
            assertThat(run(asJson, new StringWriter(), args)).isZero();
            assertThat(json(asJson).path("files").asInt()).isEqualTo(1);
            Path into = Path.of(json(asJson).path("dir").asText());
            assertThat(Files.readString(into.resolve("outputs/sub/r.csv"))).isEqualTo("a,b\n");
        }

        answer("GET /api/v1/jobs/j-2/files", 200, list);
        answer("GET /api/v1/jobs/j-2/files/outputs/sub/r.csv", 200, "a,c\n");
        assertThat(run(new StringWriter(), new StringWriter(), "get", "j-2", "-d", dir.resolve("j-2").toString())).isNotZero();
        try (var left = Files.walk(dir.resolve("j-2"))) {
            assertThat(left.filter(Files::isRegularFile)).as("altered bytes are not kept").isEmpty();
        }
        assertThatThrownBy(() -> ResultCommands.target(dir, "/outputs/../../x")).isInstanceOf(IllegalArgumentException.class);
        assertThat(ResultCommands.target(dir, "/outputs/a b")).isEqualTo(dir.toAbsolutePath().resolve("outputs/a b"));
        assertThat(ResultCommands.encodePath("/outputs/a b")).isEqualTo("/outputs/a%20b");
    }

    @Test
    void submitUploadsEachInputAndNamesItByHashInTheJob(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("local.csv");
        Files.writeString(file, "1,2\n");
        String sha = io.agora.artifacts.Sha256.hex("1,2\n".getBytes(StandardCharsets.UTF_8));
        answer("POST /api/v1/files", 201, "{\"sha256\":\"" + sha + "\",\"size\":4}");
        assertThat(run(new StringWriter(), new StringWriter(), "submit", "--image", "busybox", "--max-price", "5",
                "--input", "data/a.csv=" + file, "--", "cat", "/inputs/data/a.csv")).isZero();
        assertThat(seen.get(0)).startsWith("POST /api/v1/files ").endsWith(" 1,2\n");
        assertThat(seen.get(1)).startsWith("POST /api/v1/jobs ")
                .contains("\"inputs\":[{\"path\":\"data/a.csv\",\"sha256\":\"" + sha + "\"}]");
    }

    @Test
    void logsPrintStdoutAndStderrApartAndSayWhenTheyWereCut() throws Exception {
        answer("GET /api/v1/jobs/j-1/logs", 200, "{\"jobId\":\"j-1\",\"outcome\":\"COMPLETED\",\"stdout\":\"out\\n\","
                + "\"stdoutTruncated\":true,\"stderr\":\"warn\\n\",\"stderrTruncated\":false}");
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        assertThat(run(out, err, "logs", "j-1")).isZero();
        assertThat(out.toString()).isEqualTo("out\n");
        assertThat(err.toString()).isEqualTo("warn\n[agora: stdout was cut at the worker's cap]\n");
    }

    @Test
    void outputOfAJobWithoutConsensusIsA404AndExits3() {
        answer("GET /api/v1/jobs/j-9/output", 404, "{\"type\":\"about:blank\",\"detail\":\"job j-9 has no consensus output (status RUNNING)\"}");
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        assertThat(run(out, err, "output", "j-9")).isEqualTo(Exit.API_REFUSED);
        assertThat(out.toString()).isEmpty();
        assertThat(err.toString()).contains("HTTP 404: job j-9 has no consensus output");
    }

    @Test
    void receiptVerifyAcceptsTheMarketsSignatureAndRejectsAPayoutRaisedByOne(@TempDir Path dir) throws Exception {
        Identity market = Identity.generate();
        Receipt good = verdictReceipt(market);
        Map<String, Object> json = io.agora.schemas.Receipts.toMap(good);
        answer("GET /api/v1/jobs/j-1/receipt", 200, ApiClient.JSON.writeValueAsString(json));
        answer("GET /api/v1/jobs/j-1/dispute-receipt", 404, "{\"type\":\"about:blank\",\"detail\":\"no dispute receipt\"}");
        answer("GET /api/v1/market/key", 200, "{\"algorithm\":\"Ed25519\",\"publicKey\":\"" + market.workerId() + "\"}");
        Path keyFile = dir.resolve("market.pub");
        Files.writeString(keyFile, market.workerId() + "\n");

        StringWriter out = new StringWriter();
        assertThat(run(out, new StringWriter(), "receipt", "j-1", "--verify", "--market-key", keyFile.toString())).isZero();
        assertThat(out.toString()).contains("payout 400 to w1").contains("VERIFIED: signed by the market key");
        assertThat(run(new StringWriter(), new StringWriter(), "receipt", "j-1", "--verify", "--key-from-api")).isZero();
        assertThat(run(new StringWriter(), new StringWriter(), "receipt", "j-1")).as("shown, not verified").isZero();

        Map<String, Object> tampered = new java.util.LinkedHashMap<>(json);
        tampered.put("payouts", List.of(Map.of("workerId", "w1", "micros", 401)));
        tampered.put("refundMicros", 599);
        Path saved = dir.resolve("tampered.json");
        Files.writeString(saved, ApiClient.JSON.writeValueAsString(tampered));
        StringWriter bad = new StringWriter();
        assertThat(run(bad, new StringWriter(), "receipt", "j-1", "--verify", "--market-key", keyFile.toString(),
                "--from", saved.toString())).isEqualTo(Exit.NOT_COMPLETED);
        assertThat(bad.toString()).contains("NOT VERIFIED: bad signature");

        answer("GET /api/v1/jobs/j-1/receipt", 200, ApiClient.JSON.writeValueAsString(tampered));
        StringWriter badJson = new StringWriter();
        assertThat(run(badJson, new StringWriter(), "-o", "json", "receipt", "j-1", "--verify", "--key-from-api"))
                .isEqualTo(Exit.NOT_COMPLETED);
        assertThat(json(badJson).path("verified").asBoolean()).isFalse();
        assertThat(run(new StringWriter(), new StringWriter(), "receipt", "j-1", "--verify")).as("no key given")
                .isEqualTo(Exit.USAGE);
    }

    /** A COMPLETED job j-1's receipt: 400 paid to w1, 600 refunded, signed by {@code market}. */
    private static Receipt verdictReceipt(Identity market) {
        return io.agora.schemas.Receipts.sign(Receipt.newBuilder().setJobId("j-1").setClientId("c")
                .setOutcome(Outcome.COMPLETED).setAgreedHash("ab").setPayouts(List.of(new ReceiptPayout("w1", 400L)))
                .setRefundMicros(600).setEscrowMicros(1_000).setIssuedAt(Instant.parse("2030-01-01T00:00:10Z"))
                .setMarketKey("").setSignature(java.nio.ByteBuffer.allocate(0)).build(), market);
    }

    @Test
    void receiptVerifyChecksADecidedDisputesReceiptToo(@TempDir Path dir) throws Exception {
        Identity market = Identity.generate();
        Receipt verdict = verdictReceipt(market);
        io.agora.events.DisputeReceipt dispute = io.agora.schemas.Receipts.sign(io.agora.events.DisputeReceipt.newBuilder()
                .setJobId("j-1").setClientId("c").setOverturned(false).setDecidedHash("ab").setFeeMicros(100)
                .setFeePayouts(List.of(new io.agora.events.DisputeFeePayout("w3", 100L))).setFeeRefundMicros(0)
                .setSlashed(List.of()).setHonestWorkers(List.of()).setIssuedAt(Instant.parse("2030-01-01T00:01:00Z"))
                .setMarketKey("").setSignature(java.nio.ByteBuffer.allocate(0)).build(), market);
        answer("GET /api/v1/jobs/j-1/receipt", 200, ApiClient.JSON.writeValueAsString(io.agora.schemas.Receipts.toMap(verdict)));
        Map<String, Object> disputeJson = io.agora.schemas.Receipts.toMap(dispute);
        answer("GET /api/v1/jobs/j-1/dispute-receipt", 200, ApiClient.JSON.writeValueAsString(disputeJson));
        Path keyFile = dir.resolve("market.pub");
        Files.writeString(keyFile, market.workerId() + "\n");

        StringWriter out = new StringWriter();
        assertThat(run(out, new StringWriter(), "receipt", "j-1", "--verify", "--market-key", keyFile.toString())).isZero();
        assertThat(out.toString()).contains("dispute upheld on ab: fee 100, refunded 0").contains("fee payout 100 to w3")
                .contains("VERIFIED: the dispute receipt is signed by the market key");

        Map<String, Object> tampered = new java.util.LinkedHashMap<>(disputeJson);
        tampered.put("feePayouts", List.of(Map.of("workerId", "w9", "micros", 100)));
        answer("GET /api/v1/jobs/j-1/dispute-receipt", 200, ApiClient.JSON.writeValueAsString(tampered));
        StringWriter bad = new StringWriter();
        assertThat(run(bad, new StringWriter(), "-o", "json", "receipt", "j-1", "--verify", "--market-key", keyFile.toString()))
                .as("the verdict's receipt holds, the dispute's does not").isEqualTo(Exit.NOT_COMPLETED);
        assertThat(json(bad).path("verified").asBoolean()).isTrue();
        assertThat(json(bad).path("disputeReceipt").path("verified").asBoolean()).isFalse();
    }

    @Test
    void receiptVerifyChecksAnOverturnedDisputesSettlementReceipt(@TempDir Path dir) throws Exception {
        Identity market = Identity.generate();
        io.agora.events.DisputeReceipt dispute = io.agora.schemas.Receipts.sign(io.agora.events.DisputeReceipt.newBuilder()
                .setJobId("j-1").setClientId("c").setOverturned(true).setDecidedHash("cd").setFeeMicros(100)
                .setFeePayouts(List.of()).setFeeRefundMicros(100).setSlashed(List.of("w1")).setHonestWorkers(List.of("w3"))
                .setIssuedAt(Instant.parse("2030-01-01T00:01:00Z")).setMarketKey("").setSignature(java.nio.ByteBuffer.allocate(0))
                .build(), market);
        io.agora.events.SettlementReceipt settled = io.agora.schemas.Receipts.sign(io.agora.events.SettlementReceipt.newBuilder()
                .setJobId("j-1").setClientId("c").setSlashes(List.of(new io.agora.events.SlashTaken("w1", 400L, 1_000L, 400L,
                        List.of(new io.agora.events.SlashShare("w3", 400L)), 200L)))
                .setIssuedAt(Instant.parse("2030-01-01T00:01:01Z")).setMarketKey("").setSignature(java.nio.ByteBuffer.allocate(0))
                .build(), market);
        answer("GET /api/v1/jobs/j-1/receipt", 200, ApiClient.JSON.writeValueAsString(io.agora.schemas.Receipts.toMap(verdictReceipt(market))));
        answer("GET /api/v1/jobs/j-1/dispute-receipt", 200, ApiClient.JSON.writeValueAsString(io.agora.schemas.Receipts.toMap(dispute)));
        answer("GET /api/v1/jobs/j-1/settlement-receipt", 404, "{\"type\":\"about:blank\",\"detail\":\"no settlement receipt\"}");
        Path keyFile = dir.resolve("market.pub");
        Files.writeString(keyFile, market.workerId() + "\n");

        StringWriter pending = new StringWriter();
        assertThat(run(pending, new StringWriter(), "receipt", "j-1", "--verify", "--market-key", keyFile.toString())).isZero();
        assertThat(pending.toString()).contains("no settlement receipt yet: not every slash is booked");

        Map<String, Object> settledJson = io.agora.schemas.Receipts.toMap(settled);
        answer("GET /api/v1/jobs/j-1/settlement-receipt", 200, ApiClient.JSON.writeValueAsString(settledJson));
        StringWriter out = new StringWriter();
        assertThat(run(out, new StringWriter(), "receipt", "j-1", "--verify", "--market-key", keyFile.toString())).isZero();
        assertThat(out.toString()).contains("slash of w1: reclaimed 400, from the bond 1000 (client 400, honest ")
                .contains("burned 200)").contains("VERIFIED: the settlement receipt is signed by the market key");

        Map<String, Object> lowered = new java.util.LinkedHashMap<>(settledJson);
        lowered.put("slashes", List.of(Map.of("workerId", "w1", "reclaimMicros", 0, "slashedMicros", 1_000, "clientMicros", 400,
                "honestShares", List.of(Map.of("workerId", "w3", "micros", 400)), "burnedMicros", 200)));
        answer("GET /api/v1/jobs/j-1/settlement-receipt", 200, ApiClient.JSON.writeValueAsString(lowered));
        StringWriter bad = new StringWriter();
        assertThat(run(bad, new StringWriter(), "-o", "json", "receipt", "j-1", "--verify", "--market-key", keyFile.toString()))
                .as("a reclaim the receipt no longer shows").isEqualTo(Exit.NOT_COMPLETED);
        assertThat(json(bad).path("disputeReceipt").path("verified").asBoolean()).isTrue();
        assertThat(json(bad).path("settlementReceipt").path("verified").asBoolean()).isFalse();
        assertThat(json(bad).path("settlementReceipt").path("problems").get(0).asText()).startsWith("bad signature");
    }

    @Test
    void earningsOfAWorkerWhoseIdNeedsEscaping() throws Exception {
        answer("GET /api/v1/workers/MCow+a/b/earnings", 200, "{}");
        answer("GET /api/v1/workers/w-1/earnings", 200, "{\"workerId\":\"w-1\",\"todayMicros\":5,\"weekMicros\":50,"
                + "\"monthMicros\":500,\"totalMicros\":5000,\"balanceMicros\":4000}");
        StringWriter out = new StringWriter();
        assertThat(run(out, new StringWriter(), "earnings", "w-1")).isZero();
        assertThat(out.toString()).containsPattern("today +5").containsPattern("total +5000").containsPattern("balance +4000");

        StringWriter asJson = new StringWriter();
        assertThat(run(asJson, new StringWriter(), "-o", "json", "earnings", "w-1")).isZero();
        assertThat(json(asJson).path("weekMicros").asLong()).isEqualTo(50);

        run(new StringWriter(), new StringWriter(), "earnings", "MCow+a/b");
        assertThat(seen.get(2)).startsWith("GET /api/v1/workers/MCow%2Ba%2Fb/earnings ");
    }

    @Test
    void statsCountsPoolsWorkersAndYourJobsByStatus() throws Exception {
        answer("GET /api/v1/workers", 200, "[{\"workerId\":\"w-1\",\"pool\":\"public\",\"status\":\"online\"},"
                + "{\"workerId\":\"w-2\",\"pool\":\"gpu\",\"status\":\"online\"},{\"workerId\":\"w-3\",\"pool\":\"gpu\",\"status\":\"offline\"}]");
        answer("GET /api/v1/pools/gpu", 200, "{\"pool\":\"gpu\",\"status\":\"degraded\",\"workers\":2,\"activeWorkers\":1}");
        answer("GET /api/v1/pools/public", 200, "{\"pool\":\"public\",\"status\":\"healthy\",\"workers\":1,\"activeWorkers\":1}");
        answer("GET /api/v1/jobs", 200, "{\"jobs\":[{\"jobId\":\"j-7\",\"status\":\"COMPLETED\"},{\"jobId\":\"j-8\",\"status\":\"completed\"},"
                + "{\"jobId\":\"j-9\",\"status\":\"FAILED\"}],\"limit\":500,\"offset\":0}");
        StringWriter out = new StringWriter();
        assertThat(run(out, new StringWriter(), "-o", "json", "stats")).isZero();
        JsonNode r = json(out);
        assertThat(r.path("pools")).hasSize(2);
        assertThat(r.path("pools").get(0).path("pool").asText()).isEqualTo("gpu");
        assertThat(r.path("workers").toString()).isEqualTo("{\"total\":3,\"byStatus\":{\"offline\":1,\"online\":2}}");
        assertThat(r.path("jobs").toString()).isEqualTo("{\"total\":3,\"complete\":true,\"byStatus\":{\"COMPLETED\":2,\"FAILED\":1}}");
        assertThat(seen).anyMatch(s -> s.startsWith("GET /api/v1/jobs?limit=500&offset=0 "));

        StringWriter table = new StringWriter();
        assertThat(run(table, new StringWriter(), "stats")).isZero();
        assertThat(table.toString()).containsPattern("gpu +degraded +2 +1").contains("workers: 3 (offline 1, online 2)")
                .contains("your jobs: 3 (COMPLETED 2, FAILED 1)");
    }

    @Test
    void depositSendsAnIdempotencyKeyGeneratedWhenAbsentAndPrintsIt() throws Exception {
        answer("POST /api/v1/admin/clients/c1/deposits", 202, "{\"clientId\":\"c1\",\"transactionId\":\"deposit:k\",\"amountMicros\":5000}");
        StringWriter out = new StringWriter();
        assertThat(run(out, new StringWriter(), "-o", "json", "deposit", "c1", "5000", "--memo", "invoice 7")).isZero();
        assertThat(seen.get(0)).startsWith("POST /api/v1/admin/clients/c1/deposits auth=Bearer agk_a_b idem=")
                .endsWith("{\"amountMicros\":5000,\"memo\":\"invoice 7\"}");
        String generated = seen.get(0).replaceAll(".* idem=(\\S+) .*", "$1");
        assertThat(generated).matches("[0-9a-f-]{36}");
        JsonNode r = json(out);
        assertThat(r.path("idempotencyKey").asText()).isEqualTo(generated);
        assertThat(r.path("amountMicros").asLong()).isEqualTo(5000);

        assertThat(run(new StringWriter(), new StringWriter(), "deposit", "c1", "5000", "--idempotency-key", "inv-7")).isZero();
        assertThat(seen.get(1)).contains(" idem=inv-7 ");
    }

    @Test
    void aDepositThatFailedWith5xxIsRetriedWithTheSameKeyThenGivesUpWithExit4() {
        answer("POST /api/v1/admin/clients/c1/deposits", 503, "{\"type\":\"about:blank\",\"detail\":\"ledger unavailable\"}");
        StringWriter err = new StringWriter();
        assertThat(run(new StringWriter(), err, "deposit", "c1", "5000", "--idempotency-key", "inv-8", "--retries", "1"))
                .isEqualTo(Exit.API_UNAVAILABLE);
        assertThat(seen).hasSize(2).allMatch(s -> s.contains(" idem=inv-8 "));
        assertThat(err.toString()).contains("retrying with idempotency key inv-8").contains("HTTP 503: ledger unavailable");
    }

    @Test
    void a5xxExits4AndAnUnreachableApiExits4() throws Exception {
        answer("GET /api/v1/accounts/me", 500, "{\"type\":\"about:blank\",\"detail\":\"internal\"}");
        StringWriter err = new StringWriter();
        assertThat(run(new StringWriter(), err, "balance")).isEqualTo(Exit.API_UNAVAILABLE);
        assertThat(err.toString()).contains("HTTP 500");

        int closedPort;
        try (ServerSocket s = new ServerSocket(0)) {
            closedPort = s.getLocalPort();
        }
        StringWriter unreachable = new StringWriter();
        assertThat(runAt("http://127.0.0.1:" + closedPort, new StringWriter(), unreachable, "describe", "j-1"))
                .isEqualTo(Exit.API_UNAVAILABLE);
        assertThat(unreachable.toString()).contains("cannot reach the API at http://127.0.0.1:" + closedPort);
    }

    @Test
    void aNotFoundJobExits3AndBadUsageExits2() {
        answer("GET /api/v1/jobs/nope", 404, "{\"type\":\"about:blank\",\"detail\":\"job nope not found\"}");
        StringWriter err = new StringWriter();
        assertThat(run(new StringWriter(), err, "describe", "nope")).isEqualTo(Exit.API_REFUSED);
        assertThat(err.toString()).contains("HTTP 404: job nope not found");

        assertThat(run(new StringWriter(), new StringWriter(), "describe")).isEqualTo(Exit.USAGE);
        assertThat(run(new StringWriter(), new StringWriter(), "-o", "xml", "list")).isEqualTo(Exit.USAGE);
        assertThat(seen).hasSize(1);
    }

    @Test
    void everyCommandTakesTheOutputFormatAndListsTheExitCodesInItsHelp() {
        for (String command : List.of("submit", "watch", "describe", "list", "cancel", "dispute", "output", "workers", "earnings",
                "match", "stats", "balance", "deposit", "completion")) {
            StringWriter out = new StringWriter();
            assertThat(run(out, new StringWriter(), command, "--help")).isZero();
            assertThat(out.toString()).as(command).contains("-o, --format=table|json")
                    .contains("Exit codes:", "3   the API refused the request", "4   the API is unreachable");
        }
        StringWriter get = new StringWriter();
        assertThat(run(get, new StringWriter(), "get", "--help")).isZero();
        assertThat(get.toString()).contains("--format=table|json", "-o, -d, --dir, --output-dir=DIR").doesNotContain("-o, --format");
    }

    @Test
    void listAndWorkersAndMatchAndBalanceAndKeysPrintTheApisJson() throws Exception {
        answer("GET /api/v1/jobs", 200, "{\"jobs\":[{\"jobId\":\"j-7\",\"status\":\"COMPLETED\"}],\"limit\":20,\"offset\":0}");
        answer("GET /api/v1/workers", 200, "[{\"workerId\":\"w-1\",\"pool\":\"gpu\"}]");
        answer("GET /api/v1/accounts/me", 200, "{\"clientId\":\"c1\",\"availableMicros\":800}");
        answer("POST /api/v1/admin/clients/c1/keys", 201, "{\"clientId\":\"c1\",\"keyId\":\"k1\",\"apiKey\":\"agk_k1_secret\"}");
        StringWriter list = new StringWriter();
        assertThat(run(list, new StringWriter(), "list", "-o", "json")).isZero();
        assertThat(json(list).path("jobs").get(0).path("jobId").asText()).isEqualTo("j-7");
        StringWriter workers = new StringWriter();
        assertThat(run(workers, new StringWriter(), "workers", "-o", "json")).isZero();
        assertThat(json(workers).path("workers").get(0).path("workerId").asText()).isEqualTo("w-1");
        assertThat(json(workers).path("pool").isNull()).isTrue();
        StringWriter match = new StringWriter();
        assertThat(run(match, new StringWriter(), "match", "-o", "json", "--max-price", "5")).isZero();
        assertThat(json(match).path("candidates")).hasSize(2);
        StringWriter balance = new StringWriter();
        assertThat(run(balance, new StringWriter(), "balance", "-o", "json")).isZero();
        assertThat(json(balance).path("availableMicros").asLong()).isEqualTo(800);
        StringWriter key = new StringWriter();
        assertThat(run(key, new StringWriter(), "keys", "issue", "c1", "-o", "json")).isZero();
        assertThat(json(key).path("apiKey").asText()).isEqualTo("agk_k1_secret");
    }

    @Test
    void completionPrintsABashScriptThatKnowsTheVerbs() {
        StringWriter out = new StringWriter();
        assertThat(run(out, new StringWriter(), "completion")).isZero();
        assertThat(out.toString()).startsWith("#!/usr/bin/env bash").contains("complete -F _complete_agora")
                .contains("describe", "earnings", "deposit", "--format");
    }

    @Test
    void theSpinnerGoesToStderrOnlyWhenItIsATerminal() {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        assertThat(AgoraCli.run(args("watch", "--poll", "j-1"), new PrintWriter(out, true), new PrintWriter(err, true), () -> true))
                .isZero();
        assertThat(err.toString()).contains("\r\u001b[K");
        assertThat(out.toString()).doesNotContain("\r");

        StringWriter quiet = new StringWriter();
        assertThat(AgoraCli.run(args("watch", "--poll", "j-1"), new PrintWriter(new StringWriter(), true), new PrintWriter(quiet, true),
                () -> false)).isZero();
        assertThat(quiet.toString()).isEmpty();
    }

    private String[] args(String... args) {
        List<String> all = new ArrayList<>(List.of("--api", "http://127.0.0.1:" + server.getAddress().getPort(), "--key", "agk_a_b"));
        all.addAll(List.of(args));
        return all.toArray(String[]::new);
    }
}
