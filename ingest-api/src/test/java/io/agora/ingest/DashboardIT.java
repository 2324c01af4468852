package io.agora.ingest;

import io.agora.events.GpuInfo;
import io.agora.events.Heartbeat;
import io.agora.events.JobEvent;
import io.agora.events.JobEventType;
import io.agora.events.RegistrationType;
import io.agora.events.WorkerCapabilities;
import io.agora.events.WorkerRegistration;
import io.agora.events.WorkerStatus;
import io.agora.schemas.Topics;
import io.micronaut.context.ApplicationContext;
import io.micronaut.runtime.server.EmbeddedServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The dashboard in a real headless Chromium, against the API on a real broker and PostgreSQL: a
 * client logs in with its key, submits a job from the form and watches it complete live (the test
 * plays the market and the sink: it publishes the job's events and writes the read model), cancels
 * another, and looks at the workers, pools and charts. Screenshots go to target/screenshots.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class DashboardIT {
    private static final Path SHOTS = Path.of("target", "screenshots");
    private TestMarket market;
    private EmbeddedServer server;
    private Chromium browser;
    private final HttpClient http = HttpClient.newHttpClient();

    @BeforeAll
    void start() throws Exception {
        market = TestMarket.start();
        server = ApplicationContext.run(EmbeddedServer.class, market.properties());
        browser = Chromium.start(1280, 900);
    }

    @AfterAll
    void stop() throws Exception {
        try (TestMarket m = market; EmbeddedServer s = server; Chromium b = browser) {
            // closed in reverse order: the browser, the API, then the broker and the database
        }
    }

    private String url(String path) {
        return "http://localhost:" + server.getPort() + path;
    }

    private HttpResponse<String> post(String path, String auth) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(url(path))).header("Authorization", "Bearer " + auth)
                .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
    }

    private Object js(String expression) throws Exception {
        return browser.eval(expression);
    }

    private String text(String id) throws Exception {
        return (String) js("document.getElementById('" + id + "').textContent");
    }

    private void awaitTrue(String expression) {
        await().atMost(30, TimeUnit.SECONDS).pollInterval(java.time.Duration.ofMillis(200))
                .until(() -> Boolean.TRUE.equals(js(expression)));
    }

    private JobEvent event(String jobId, String clientId, JobEventType type, String worker, int replica, String reason) {
        return JobEvent.newBuilder().setEventId(UUID.randomUUID().toString()).setJobId(jobId).setClientId(clientId)
                .setType(type).setWorkerId(worker).setReplica(replica).setAttempt(replica < 0 ? -1 : 1).setReason(reason)
                .setPool("public").setTimestamp(Instant.now()).build();
    }

    /** What ledger-sink would have written for the job by its terminal event. */
    private void recordCompleted(String jobId, String clientId, List<JobEvent> events) throws Exception {
        try (Connection c = market.db()) {
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO agora.jobs (job_id, client_id, pool, status,"
                    + " submitted_at, updated_at, escrow_micros, cost_micros, refund_micros, output, exit_code)"
                    + " VALUES (?, ?, 'public', 'COMPLETED', now(), now(), 0, 120, 880, 'hello\n', 0)")) {
                ps.setString(1, jobId);
                ps.setString(2, clientId);
                ps.execute();
            }
            for (JobEvent e : events) {
                try (PreparedStatement ps = c.prepareStatement("INSERT INTO agora.job_events (event_id, job_id, type,"
                        + " reason, worker_id, replica, attempt, ts) VALUES (?, ?, ?, ?, ?, ?, ?, ?)")) {
                    ps.setString(1, e.getEventId());
                    ps.setString(2, jobId);
                    ps.setString(3, e.getType().name());
                    ps.setString(4, e.getReason());
                    ps.setString(5, e.getWorkerId());
                    ps.setInt(6, e.getReplica());
                    ps.setInt(7, e.getAttempt());
                    ps.setTimestamp(8, Timestamp.from(e.getTimestamp()));
                    ps.execute();
                }
            }
        }
    }

    private void registerWorker(String workerId) throws Exception {
        WorkerCapabilities caps = WorkerCapabilities.newBuilder().setArch("amd64").setCpuCores(8).setCpuThreads(16)
                .setMemoryMb(32768).setGpus(List.<GpuInfo>of()).setRegion("eu-west").setPricePerCpuSecondMicros(40)
                .setMaxConcurrent(4).setPool("public").build();
        market.produce(Topics.REGISTRATIONS, workerId, WorkerRegistration.newBuilder().setEventId(UUID.randomUUID().toString())
                .setWorkerId(workerId).setType(RegistrationType.REGISTERED).setCapabilities(caps).setSeq(1)
                .setTimestamp(Instant.now()).setSignature(ByteBuffer.wrap(new byte[64])).build());
        market.produce(Topics.HEARTBEATS, workerId, Heartbeat.newBuilder().setEventId(UUID.randomUUID().toString())
                .setWorkerId(workerId).setPool("public").setSeq(2).setTimestamp(Instant.now())
                .setStatus(WorkerStatus.READY).setFreeSlots(3).setLoad(0.25).setPricePerCpuSecondMicros(40)
                .setOwnedPartitions(List.of(0)).setInFlightTaskIds(List.of())
                .setSignature(ByteBuffer.wrap(new byte[64])).build());
    }

    @Test
    void aClientLogsInSubmitsAJobAndSeesItCompleteLive() throws Exception {
        String clientId = "dash-" + UUID.randomUUID().toString().substring(0, 8);
        HttpResponse<String> issued = post("/api/v1/admin/clients/" + clientId + "/keys", "test-admin");
        assertThat(issued.statusCode()).as(issued.body()).isEqualTo(201);
        String key = issued.body().replaceAll(".*\"apiKey\"\\s*:\\s*\"([^\"]+)\".*", "$1");
        String worker = "worker-eu-" + UUID.randomUUID().toString().substring(0, 6);
        registerWorker(worker);

        browser.open(url("/#jobs"));
        awaitTrue("document.readyState === 'complete' && !!document.getElementById('login-btn')");
        js("document.getElementById('key').value = '" + key + "'; document.getElementById('login-btn').click(); true");
        awaitTrue("document.getElementById('who').textContent === '" + clientId + "'");

        js("location.hash = 'submit'; true");
        awaitTrue("!document.getElementById('view-submit').hidden");
        js("document.querySelector('#submit-form [name=command]').value = '[\"sh\",\"-c\",\"echo hello\"]';"
                + " document.getElementById('submit-btn').click(); true");
        awaitTrue("document.getElementById('job-id').textContent.length > 0 && document.getElementById('live').textContent === 'live'");
        String jobId = text("job-id");
        assertThat(text("submit-result")).isEqualTo("submitted " + jobId);
        // the API tails the job events from the end: wait until it reads them before publishing any
        await().atMost(30, TimeUnit.SECONDS).until(() -> http.send(HttpRequest.newBuilder(URI.create(url("/metrics"))).build(),
                HttpResponse.BodyHandlers.ofString()).body().lines()
                .anyMatch(l -> l.startsWith("agora_ingest_market_feed_caught_up") && l.endsWith(" 1.0")));

        // the market's part: the job is accepted and placed, then its replica finishes and it completes
        JobEvent accepted = event(jobId, clientId, JobEventType.ACCEPTED, null, -1, null);
        JobEvent assigned = event(jobId, clientId, JobEventType.ASSIGNED, worker, 0, "score 0.91");
        market.produce(Topics.JOB_EVENTS, jobId, accepted);
        market.produce(Topics.JOB_EVENTS, jobId, assigned);
        awaitTrue("document.querySelectorAll('#events tbody tr').length === 2");
        assertThat(text("job-status")).isEqualTo("ASSIGNED");
        JobEvent finished = event(jobId, clientId, JobEventType.REPLICA_FINISHED, worker, 0, "SUCCEEDED");
        JobEvent completed = event(jobId, clientId, JobEventType.COMPLETED, null, -1, "1 of 1 agree");
        recordCompleted(jobId, clientId, List.of(accepted, assigned, finished, completed));
        market.produce(Topics.JOB_EVENTS, jobId, finished);
        market.produce(Topics.JOB_EVENTS, jobId, completed);

        awaitTrue("document.getElementById('live').textContent === 'ended'"
                + " && document.getElementById('job-status').textContent === 'COMPLETED'"
                + " && document.querySelector('#executions tbody').textContent.includes('SUCCEEDED')");
        assertThat((String) js("document.querySelector('#events tbody').textContent"))
                .contains("ACCEPTED", "ASSIGNED", "REPLICA_FINISHED", "COMPLETED");
        assertThat(text("job-output")).isEqualTo("hello\n");
        assertThat((Boolean) js("document.getElementById('cancel').disabled")).isTrue();
        awaitTrue("document.querySelector('#jobs tbody').textContent.includes('COMPLETED')");
        browser.screenshot(SHOTS.resolve("dashboard-job.png"));

        // another job, cancelled from its page
        js("location.hash = 'submit'; true");
        js("document.getElementById('submit-btn').click(); true");
        awaitTrue("document.getElementById('job-id').textContent !== '" + jobId + "'"
                + " && document.getElementById('live').textContent === 'live'");
        js("document.getElementById('cancel').click(); true");
        awaitTrue("document.getElementById('live').textContent === 'cancel requested'");

        js("location.hash = 'market'; true");
        awaitTrue("document.querySelector('#workers tbody').textContent.includes('" + worker.substring(0, 14) + "')"
                + " && document.querySelector('#pools tbody').textContent.includes('public')"
                + " && !!document.querySelector('#chart-price polyline')");
        browser.screenshot(SHOTS.resolve("dashboard-market.png"));
    }
}
