package io.agora.ingest.market;

import io.micronaut.core.type.Argument;
import io.micronaut.serde.ObjectMapper;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** The job JSON (GET /api/v1/jobs/{id}) as the API's serde writes it: the cost split by resource. */
class JobViewJsonTest {
    private static Map<String, Object> json(JobView v) throws Exception {
        ObjectMapper json = ObjectMapper.getDefault();
        return json.readValue(json.writeValueAsString(v), Argument.mapOf(String.class, Object.class));
    }

    private static JobView decided(Long costMicros, long gpuMicros, long memoryMicros) {
        return new JobView("j1", "c1", "public", "COMPLETED", null, "COMPLETED", "hi", "ab", 0, 0L, costMicros, 100L,
                List.of("w1"), List.of(), Instant.EPOCH, Instant.EPOCH, null,
                JobView.CostBreakdown.of(costMicros, gpuMicros, memoryMicros));
    }

    @Test
    void aDecidedJobShowsItsCostByResourceTheRestBeingCpu() throws Exception {
        assertThat(json(decided(1_000L, 600, 150))).containsEntry("costMicros", 1_000)
                .containsEntry("costBreakdown", Map.of("cpuMicros", 250, "gpuMicros", 600, "memoryMicros", 150))
                .doesNotContainKeys("terminal", "over"); // what the stream asks of a job, not fields of it
        assertThat(json(decided(300L, 0, 0)))
                .containsEntry("costBreakdown", Map.of("cpuMicros", 300, "gpuMicros", 0, "memoryMicros", 0));
    }

    @Test
    void aJobWithoutACostHasNoBreakdown() throws Exception {
        assertThat(json(decided(null, 0, 0))).doesNotContainKey("costBreakdown");
        assertThat(json(JobView.submitted("j2", "c1", "public", Instant.EPOCH))).doesNotContainKey("costBreakdown");
    }
}
