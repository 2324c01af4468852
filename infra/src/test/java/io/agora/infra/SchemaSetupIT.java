package io.agora.infra;

import io.agora.events.TaskResult;
import io.agora.schemas.SchemaHistory;
import io.agora.schemas.SchemaSetup;
import org.apache.avro.Schema;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The schema registration path against the real registry: a registry that holds an older schema and
 * several registrants of the new version at the same moment (stacks or hosts starting together, as the
 * bench's workers did when their serdes still registered: VersionAlreadyExistsException, a worker dead
 * at start). Each registrant succeeds and sees the one new version.
 */
class SchemaSetupIT {
    private static final int REGISTRANTS = 8;

    @Test
    void severalRegistrantsOfTheSameNewVersionAllSucceedAndTheRegistryHoldsItOnce() throws Exception {
        String url = LocalStack.shared().registryUrl();
        // the durable storage outlives runs: a subject of this run's own
        String subject = "it-race-" + UUID.randomUUID() + "-value";
        List<Schema> earlier = SchemaHistory.of(TaskResult.getClassSchema().getFullName());
        assertThat(earlier).as("TaskResult has an older schema in the history").isNotEmpty();
        assertThat(SchemaSetup.register(url, null, null, Map.of(subject, earlier.get(0)))).containsEntry(subject, "1");

        ExecutorService pool = Executors.newFixedThreadPool(REGISTRANTS);
        CountDownLatch go = new CountDownLatch(1);
        List<Future<Map<String, String>>> registrants = new ArrayList<>();
        try {
            for (int i = 0; i < REGISTRANTS; i++) {
                registrants.add(pool.submit(() -> {
                    go.await();
                    return SchemaSetup.register(url, null, null, Map.of(subject, TaskResult.getClassSchema()));
                }));
            }
            go.countDown();
            for (Future<Map<String, String>> r : registrants) {
                assertThat(r.get()).as("every registrant succeeds with the new version").containsExactly(Map.entry(subject, "2"));
            }
        } finally {
            pool.shutdownNow();
        }
        HttpResponse<String> versions = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                URI.create(url + "/groups/default/artifacts/" + subject + "/versions")).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(versions.statusCode()).isEqualTo(200);
        assertThat(versions.body()).as("the old version and the new one, once").contains("\"count\":2");
    }
}
