package io.agora.worker;

import io.agora.events.ResultStatus;
import io.agora.events.TaskAssigned;
import io.agora.schemas.OutputHash;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

class SimulatedSandboxTest {
    final SimulatedSandbox sandbox = new SimulatedSandbox(0);

    @Test
    void honest_simulated_replicas_agree() {
        TaskAssigned a = Tasks.task("w1", Tasks.spec("echo", "x").setEnv(Map.of("A", "1", "B", "2")).build());
        TaskAssigned b = Tasks.task("w2", Tasks.spec("echo", "x").setEnv(Map.of("B", "2", "A", "1")).build());
        SandboxOutcome oa = sandbox.run(a);
        assertThat(oa.status()).isEqualTo(ResultStatus.SUCCEEDED);
        assertThat(oa.outputHash()).isEqualTo(sandbox.run(b).outputHash())
                .isEqualTo(OutputHash.of(0, oa.stdout(), Map.of()));
        assertThat(sandbox.run(Tasks.task("w1", Tasks.spec("echo", "y").build())).outputHash()).isNotEqualTo(oa.outputHash());
    }

    @Test
    void the_wrong_mode_disagrees_but_still_votes() {
        TaskAssigned t = Tasks.task("w1", Tasks.spec("echo", "x").build());
        SandboxOutcome honest = sandbox.run(t);
        SandboxOutcome wrong = new WrongOutputSandbox(sandbox).run(t);
        assertThat(wrong.votes()).isTrue();
        assertThat(wrong.outputHash()).isNotEqualTo(honest.outputHash());
    }
}
