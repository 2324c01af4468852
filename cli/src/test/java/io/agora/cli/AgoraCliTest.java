package io.agora.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.sun.net.httpserver.HttpServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

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
                        : "{\"error\":\"invalid request: 1 problem(s)\",\"problems\":[{\"field\":\"quorum\",\"message\":\"must be <= redundancy (3)\"}]}";
            } else if (path.equals("/api/v1/match")) {
                answer = "{\"pool\":\"gpu\",\"eligible\":1,\"candidates\":["
                        + "{\"workerId\":\"w-free\",\"score\":0.91,\"pricePerCpuSecondMicros\":400,\"minPricePerJobMicros\":0,"
                        + "\"estimatedWaitMs\":0,\"etaMs\":350,\"freeSlots\":2,\"explain\":\"cap=1.00 price=0.60\"},"
                        + "{\"workerId\":\"w-busy\",\"score\":0.8,\"pricePerCpuSecondMicros\":300,\"minPricePerJobMicros\":50,"
                        + "\"estimatedWaitMs\":null,\"etaMs\":null,\"freeSlots\":0,\"explain\":\"cap=0.50\"}],"
                        + "\"excluded\":[{\"workerId\":\"w-far\",\"reasons\":\"in region us\"}]}";
            } else if (path.equals("/api/v1/jobs/j-1")) {
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
                .contains("w-free").contains("wait=0ms  eta=350ms  cap=1.00 price=0.60")
                .contains("w-busy").contains("min/job=50  wait=?  eta=?")
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
        answer("DELETE /api/v1/admin/keys/nope", 404, "{\"error\":\"key nope not found\"}");
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
}
