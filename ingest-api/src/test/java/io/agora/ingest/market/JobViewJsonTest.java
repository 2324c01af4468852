package io.agora.ingest.market;

import io.micronaut.core.type.Argument;
import io.micronaut.serde.ObjectMapper;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** The job JSON (GET /api/v1/jobs/{id}) as the API's serde writes it: the cost split by resource, the verdict history. */
class JobViewJsonTest {
    private static Map<String, Object> json(JobView v) throws Exception {
        ObjectMapper json = ObjectMapper.getDefault();
        return json.readValue(json.writeValueAsString(v), Argument.mapOf(String.class, Object.class));
    }

    private static JobView decided(Long costMicros, long gpuMicros, long memoryMicros) {
        return new JobView("j1", "c1", "public", "COMPLETED", null, "COMPLETED", "hi", "ab", 0, 0L, costMicros, 100L,
                List.of("w1"), List.of(), Instant.EPOCH, Instant.EPOCH, null,
                JobView.CostBreakdown.of(costMicros, gpuMicros, memoryMicros), List.of());
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

    @Test
    void anOverturnedDisputeEndsTheVerdictHistoryWithTheHashItsReplicasAgreedOn() throws Exception {
        Instant t = Instant.parse("2026-01-01T00:00:00Z");
        List<JobView.VerdictStep> history = new java.util.ArrayList<>();
        history.add(JobView.VerdictStep.verdict("COMPLETED", "aa", null, t));
        JobView.VerdictStep.dispute("refused: dispute window closed; the dispute fee is refunded", null, t.plusSeconds(1))
                .ifPresent(history::add);
        JobView.VerdictStep.dispute("opened: 2 dispute replicas from replica 2", null, t.plusSeconds(2)).ifPresent(history::add);
        JobView.VerdictStep.dispute("overturned: dispute replicas agree on bb; 2 original workers slashed", "bb",
                t.plusSeconds(3)).ifPresent(history::add);

        Map<String, Object> job = json(decided(300L, 0, 0).withVerdicts(history));
        @SuppressWarnings("unchecked")
        List<Map<String, Object>> steps = (List<Map<String, Object>>) job.get("verdicts");
        assertThat(steps.stream().map(s -> s.get("step")).toList())
                .containsExactly("verdict", "dispute opened", "dispute overturned"); // a refused dispute is no step
        assertThat(steps.get(0)).containsEntry("outcome", "COMPLETED").containsEntry("consensusHash", "aa");
        assertThat(steps.get(2)).containsEntry("consensusHash", "bb").doesNotContainKey("outcome");
        assertThat(JobView.VerdictStep.dispute("upheld", "aa", t)).map(JobView.VerdictStep::step).contains("dispute upheld");
    }

    @Test
    void aJobWithoutAVerdictHasNoHistory() throws Exception {
        assertThat(json(JobView.submitted("j2", "c1", "public", Instant.EPOCH))).doesNotContainKey("verdicts"); // empty: left out
    }
}
