package io.agora.cli;

import com.sun.net.httpserver.HttpServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** The CLI against a fake ingest-api (JDK HTTP server) that records what it was sent. */
class AgoraCliTest {
    private HttpServer server;
    private final List<String> seen = new ArrayList<>();

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
            } else {
                answer = "{}";
            }
            byte[] bytes = answer.getBytes(StandardCharsets.UTF_8);
            ex.getResponseHeaders().add("Content-Type", "application/json");
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
        List<String> all = new ArrayList<>(List.of("--api", "http://127.0.0.1:" + server.getAddress().getPort(), "--key", "agk_a_b"));
        all.addAll(List.of(args));
        return AgoraCli.run(all.toArray(String[]::new), new PrintWriter(out, true), new PrintWriter(err, true));
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
        assertThat(code).isEqualTo(1);
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
        assertThat(out.toString()).contains("status COMPLETED").contains("\"output\" : \"hi\\n\"");
    }
}
