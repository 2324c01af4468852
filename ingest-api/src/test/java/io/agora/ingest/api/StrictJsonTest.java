package io.agora.ingest.api;

import io.agora.ingest.jobs.SubmitJob;
import io.agora.ingest.web.AdminController;
import io.agora.ingest.web.JobController;
import io.micronaut.json.JsonMapper;
import io.micronaut.json.tree.JsonNode;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class StrictJsonTest {
    private static final JsonMapper JSON = JsonMapper.createDefault();

    private static JsonNode node(String s) throws Exception {
        return JSON.readValue(s, JsonNode.class);
    }

    @Test
    void aNumberIsNotAStringNorAStringANumber() throws Exception {
        List<Problem> p = StrictJson.problems(node("""
                {"image":0,"command":["echo",1],"env":{"A":2},"memoryMb":"64","cpus":"1","network":"yes",
                 "timeoutMs":1.5,"pidsLimit":4294967296,"redundancy":true,"requirements":{"minCpuCores":"2","tagsAll":"x"}}
                """), SubmitJob.class);
        assertThat(p).containsExactlyInAnyOrder(
                new Problem("image", "must be a string"),
                new Problem("command[1]", "must be a string"),
                new Problem("env.A", "must be a string"),
                new Problem("memoryMb", "must be an integer (32 bits)"),
                new Problem("cpus", "must be a number"),
                new Problem("network", "must be true or false"),
                new Problem("timeoutMs", "must be an integer (64 bits)"),
                new Problem("pidsLimit", "must be an integer (32 bits)"),
                new Problem("redundancy", "must be an integer (32 bits)"),
                new Problem("requirements.minCpuCores", "must be an integer (32 bits)"),
                new Problem("requirements.tagsAll", "must be an array"));
    }

    @Test
    void wellTypedBodyReadsAsTheRecordWithNullsAndUnknownFieldsLeftAlone() throws Exception {
        SubmitJob j = StrictJson.read(JSON, node("""
                {"image":"busybox","command":["echo","hi"],"cpus":2,"network":false,"quorum":null,"comment":"x",
                 "requirements":{"pool":"gpu","minMemoryMb":1024}}"""), SubmitJob.class);
        assertThat(j.image()).isEqualTo("busybox");
        assertThat(j.cpus()).isEqualTo(2.0);
        assertThat(j.quorum()).isNull();
        assertThat(j.requirements().minMemoryMb()).isEqualTo(1024L);
    }

    @Test
    void notAnObjectOrNoBodyIsA400() throws Exception {
        assertThat(StrictJson.problems(node("[1]"), SubmitJob.class)).containsExactly(
                new Problem(null, "must be a JSON object"));
        assertThatThrownBy(() -> StrictJson.read(JSON, null, SubmitJob.class))
                .isInstanceOfSatisfying(ApiException.class, e -> assertThat(e.status().getCode()).isEqualTo(400));
        assertThatThrownBy(() -> StrictJson.read(JSON, node("{\"image\":0}"), SubmitJob.class))
                .isInstanceOfSatisfying(ApiException.class, e -> assertThat(e.problems())
                        .containsExactly(new Problem("image", "must be a string")));
    }

    @Test
    void depositAndDisputeBodiesAreAsStrict() throws Exception {
        assertThat(StrictJson.problems(node("{\"amountMicros\":\"5\",\"memo\":7}"), AdminController.Deposit.class))
                .containsExactlyInAnyOrder(new Problem("amountMicros", "must be an integer (64 bits)"),
                        new Problem("memo", "must be a string"));
        assertThat(StrictJson.problems(node("{\"amountMicros\":2.5}"), AdminController.Deposit.class))
                .containsExactly(new Problem("amountMicros", "must be an integer (64 bits)"));
        assertThat(StrictJson.read(JSON, node("{\"amountMicros\":5,\"memo\":\"top-up\"}"), AdminController.Deposit.class))
                .isEqualTo(new AdminController.Deposit(5L, "top-up"));
        assertThat(StrictJson.problems(node("{\"reason\":5}"), JobController.Dispute.class))
                .containsExactly(new Problem("reason", "must be a string"));
        assertThat(StrictJson.read(JSON, node("{\"reason\":\"wrong\"}"), JobController.Dispute.class).reason())
                .isEqualTo("wrong");
    }
}
