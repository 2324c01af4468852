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
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The schema registration path against the real registry: a registry that holds an older schema and
 * several registrants of the new version at the same moment (stacks or hosts starting together, as the
 * bench's workers did when their serdes still registered: VersionAlreadyExistsException, a worker dead
 * at start). Each registrant succeeds with a version of the new schema. The registry does not
 * serialise the check and the write of {@code RETURN_OR_UPDATE}: at load, racing registrants can leave
 * more than one version of the same content (seen: versions 2 to 4). That is harmless (same schema,
 * so every id decodes the same records) and is what this test allows: no version of other content.
 */
class SchemaSetupIT {
    private static final int REGISTRANTS = 8;

    @Test
    void severalRegistrantsOfTheSameNewVersionAllSucceedAndEveryLaterVersionHoldsIt() throws Exception {
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
                Map<String, String> got = r.get();
                assertThat(got).as("every registrant succeeds with a new version").containsOnlyKeys(subject);
                assertThat(Integer.parseInt(got.get(subject))).isGreaterThanOrEqualTo(2);
            }
        } finally {
            pool.shutdownNow();
        }
        HttpClient http = HttpClient.newHttpClient();
        String base = url + "/groups/default/artifacts/" + subject + "/versions";
        HttpResponse<String> versions = http.send(HttpRequest.newBuilder(URI.create(base)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(versions.statusCode()).isEqualTo(200);
        Matcher count = Pattern.compile("\"count\"\\s*:\\s*(\\d+)").matcher(versions.body());
        assertThat(count.find()).as(versions.body()).isTrue();
        int n = Integer.parseInt(count.group(1));
        assertThat(n).as("the old version and the new one, at most once per registrant").isBetween(2, 1 + REGISTRANTS);
        for (int v = 1; v <= n; v++) {
            HttpResponse<String> content = http.send(HttpRequest.newBuilder(URI.create(base + "/" + v)).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(content.statusCode()).isEqualTo(200);
            assertThat(new Schema.Parser().parse(content.body())).as("version " + v)
                    .isEqualTo(v == 1 ? earlier.get(0) : TaskResult.getClassSchema());
        }
    }
}
