package io.agora.ingest.jobs;

import io.agora.ingest.api.ApiException;
import io.agora.ingest.api.Problem;
import io.micronaut.http.HttpStatus;
import io.micronaut.json.JsonMapper;
import io.micronaut.json.tree.JsonNode;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

class BatchSubmitTest {
    private static final JsonMapper JSON = JsonMapper.createDefault();

    private static JsonNode node(String s) throws Exception {
        return JSON.readValue(s, JsonNode.class);
    }

    @Test
    void eachJobIsReadWithItsOwnKeyAndItsTypeProblemsUnderItsIndex() throws Exception {
        List<Problem> problems = new ArrayList<>();
        List<BatchSubmit.Item> items = BatchSubmit.items(JSON, node("""
                [{"image":"agora/busybox:1","command":["echo","a"],"idempotencyKey":"k-0"},
                 {"image":"agora/busybox:1","command":["echo","b"]},
                 {"image":0,"command":["echo"],"idempotencyKey":7},
                 "not a job"]
                """), problems);
        assertThat(items).hasSize(4);
        assertThat(items.get(0).job().command()).containsExactly("echo", "a");
        assertThat(items.get(0).idempotencyKey()).isEqualTo("k-0");
        assertThat(items.get(1).idempotencyKey()).isNull();
        assertThat(items.get(2).job()).isNull();
        assertThat(problems).containsExactly(
                new Problem("[2].image", "must be a string"),
                new Problem("[2].idempotencyKey", "must be a string"),
                new Problem("[3]", "must be a JSON object"));
    }

    @Test
    void aBodyThatIsNoArrayOfOneToTheMostJobsIsA400AtOnce() throws Exception {
        for (String bad : new String[]{"{\"image\":\"x\"}", "[]", "5",
                "[" + String.join(",", java.util.Collections.nCopies(BatchSubmit.MAX_JOBS + 1, "{}")) + "]"}) {
            ApiException e = catchThrowableOfType(() -> BatchSubmit.items(JSON, node(bad), new ArrayList<>()),
                    ApiException.class);
            assertThat((Object) e.status()).as(bad.length() > 40 ? bad.substring(0, 40) : bad).isEqualTo(HttpStatus.BAD_REQUEST);
            assertThat(e.problems()).hasSize(1);
        }
        assertThat(catchThrowableOfType(() -> BatchSubmit.items(JSON, null, new ArrayList<>()), ApiException.class)
                .getMessage()).contains("JSON array");
        assertThat(BatchSubmit.items(JSON, node("[" + String.join(",",
                java.util.Collections.nCopies(BatchSubmit.MAX_JOBS, "{}")) + "]"), new ArrayList<>())).hasSize(BatchSubmit.MAX_JOBS);
    }

    @Test
    void aSingleSubmitsRefusalIsTheBatchsNamingTheJob() {
        List<Problem> rules = List.of(new Problem("command", "required"), new Problem(null, "bad"),
                new Problem("Idempotency-Key", "must be at most 200 characters"));
        assertThat(BatchSubmit.indexed(4, rules)).containsExactly(new Problem("[4].command", "required"),
                new Problem("[4]", "bad"), new Problem("[4].idempotencyKey", "must be at most 200 characters"));
        ApiException poor = new ApiException(HttpStatus.PAYMENT_REQUIRED, "insufficient credits", List.of(),
                Map.of("neededMicros", 5L), null);
        ApiException batch = BatchSubmit.of(2, poor);
        assertThat((Object) batch.status()).isEqualTo(HttpStatus.PAYMENT_REQUIRED);
        assertThat(batch.getMessage()).isEqualTo("job [2]: insufficient credits");
        assertThat(batch.details()).containsEntry("index", 2).containsEntry("neededMicros", 5L);
    }
}
