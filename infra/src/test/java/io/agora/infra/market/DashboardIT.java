package io.agora.infra.market;

import io.agora.infra.LocalStack;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.time.Duration;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The dashboard in a real headless Chromium against the live market ({@link LiveMarket}: the
 * services and workers as their own JVMs, real broker, registry, PostgreSQL and Docker): a client
 * logs in with its key, submits a job from the form and watches it run and complete live over the
 * job's event stream, then submits a long job and cancels it from its page, and looks at the
 * workers, pools and charts. Screenshots go to {@code infra/target/screenshots}.
 */
class DashboardIT {
    private static final Path SHOTS = LocalStack.repoRoot().resolve("infra/target/screenshots");
    private static LiveMarket live;
    private static Chromium browser;

    @BeforeAll
    static void start() throws Exception {
        live = LiveMarket.get();
        browser = Chromium.start(1280, 900);
    }

    @AfterAll
    static void stop() throws Exception {
        if (browser != null) {
            browser.close();
        }
    }

    private static Object js(String expression) throws Exception {
        return browser.eval(expression);
    }

    private static String text(String id) throws Exception {
        return (String) js("document.getElementById('" + id + "').textContent");
    }

    private static void awaitTrue(String what, Duration timeout, String expression) {
        await(what).atMost(timeout).pollInterval(Duration.ofMillis(250)).until(() -> Boolean.TRUE.equals(js(expression)));
    }

    /** Fills the submit form's command (a JSON array) and submits; answers the new job's id once its stream is live. */
    private static String submitFromTheForm(String commandJson, String previousJob) throws Exception {
        js("location.hash = 'submit'; true");
        awaitTrue("submit form", Duration.ofSeconds(30), "!document.getElementById('view-submit').hidden");
        js("document.querySelector('#submit-form [name=command]').value = '" + commandJson + "';"
                + " document.getElementById('submit-btn').click(); true");
        awaitTrue("job page of the new job", Duration.ofSeconds(30), "document.getElementById('job-id').textContent.length > 0"
                + " && document.getElementById('job-id').textContent !== '" + previousJob + "'"
                + " && document.getElementById('live').textContent === 'live'");
        String jobId = text("job-id");
        assertThat(text("submit-result")).isEqualTo("submitted " + jobId);
        return jobId;
    }

    @Test
    void aClientLogsInSubmitsAJobSeesItCompleteLiveAndCancelsAnother() throws Exception {
        String clientId = "dash-" + UUID.randomUUID().toString().substring(0, 8);
        String key = live.apiKey(clientId);

        browser.open(live.market.apiUrl() + "/#jobs");
        awaitTrue("page loaded", Duration.ofSeconds(30), "document.readyState === 'complete' && !!document.getElementById('login-btn')");
        js("document.getElementById('key').value = '" + key + "'; document.getElementById('login-btn').click(); true");
        awaitTrue("logged in", Duration.ofSeconds(30), "document.getElementById('who').textContent === '" + clientId + "'");

        // the form's defaults: agora/busybox:1, three replicas, two must agree, in the public pool
        String jobId = submitFromTheForm("[\"sh\",\"-c\",\"echo hello from the dashboard\"]", "");
        awaitTrue("the job completed, seen live", Duration.ofMinutes(2), "document.getElementById('live').textContent === 'ended'"
                + " && document.getElementById('job-status').textContent === 'COMPLETED'"
                + " && document.querySelector('#executions tbody').textContent.includes('SUCCEEDED')");
        assertThat((String) js("document.querySelector('#events tbody').textContent"))
                .contains("ACCEPTED", "ASSIGNED", "REPLICA_FINISHED", "COMPLETED");
        // the output is fetched once the verdict is in: wait for it rather than race it
        awaitTrue("the agreed output shown", Duration.ofSeconds(30),
                "document.getElementById('job-output').textContent === 'hello from the dashboard\\n'");
        assertThat((Boolean) js("document.getElementById('cancel').disabled")).isTrue();
        assertThat(live.client.job(key, jobId).text("status")).isEqualTo("COMPLETED");
        awaitTrue("the job list shows it", Duration.ofSeconds(30), "document.querySelector('#jobs tbody').textContent.includes('COMPLETED')");
        browser.screenshot(SHOTS.resolve("dashboard-job.png"));

        // a long job, cancelled from its page once its replicas run
        String longJob = submitFromTheForm("[\"sh\",\"-c\",\"sleep 60; echo too late\"]", jobId);
        awaitTrue("the long job placed", Duration.ofMinutes(1),
                "document.querySelector('#events tbody').textContent.includes('ASSIGNED')");
        js("document.getElementById('cancel').click(); true");
        awaitTrue("cancel accepted", Duration.ofSeconds(30),
                "['cancel requested', 'ended'].includes(document.getElementById('live').textContent)");
        awaitTrue("the cancellation seen live", Duration.ofMinutes(1), "document.getElementById('live').textContent === 'ended'"
                + " && document.getElementById('job-status').textContent === 'CANCELLED'");
        assertThat((String) js("document.querySelector('#events tbody').textContent")).contains("CANCELLED");
        assertThat(live.awaitTerminal(key, longJob, Duration.ofMinutes(1)).text("status")).isEqualTo("CANCELLED");

        String worker = live.workerId(LiveMarket.HONEST + 1);
        js("location.hash = 'market'; true");
        awaitTrue("workers, pools and charts", Duration.ofSeconds(30),
                "document.querySelector('#workers tbody').innerHTML.includes('" + worker + "')"
                        + " && document.querySelector('#pools tbody').textContent.includes('public')"
                        + " && !!document.querySelector('#chart-price polyline')");
        browser.screenshot(SHOTS.resolve("dashboard-market.png"));
    }
}
