package io.agora.worker;

import io.agora.schemas.AgoraConfig;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** A worker's caps on what a task may ask of it, whatever the client set. */
class TaskCapsTest {
    private static final TaskCaps CAPS = TaskCaps.from(AgoraConfig.of(Map.of("agora.worker.max.cpus", "4",
            "agora.worker.max.memory.mb", "8192", "agora.worker.max.pids", "1024", "agora.worker.max.gpus", "0",
            "agora.worker.max.timeout.ms", "600000", "agora.worker.max.output.files", "2")));

    @Test
    void aTaskWithinEveryCapIsTaken() {
        assertThat(CAPS.refusal(Tasks.spec("true").setCpus(4).setMemoryMb(8192).setPidsLimit(1024)
                .setTimeoutMs(600_000).setOutputFiles(List.of("/tmp/a", "/tmp/b")).build())).isEmpty();
    }

    @Test
    void theClientsMaximaAreRefusedNamingEachValueItsCapAndTheSetting() {
        assertThat(CAPS.refusal(Tasks.spec("true").setMemoryMb(65_536).setPidsLimit(65_536).build()))
                .hasValueSatisfying(r -> assertThat(r).startsWith("refused, not run: ")
                        .contains("memoryMb 65536 is above this worker's cap of 8192 (AGORA_WORKER_MAX_MEMORY_MB)")
                        .contains("pidsLimit 65536 is above this worker's cap of 1024 (AGORA_WORKER_MAX_PIDS)")
                        .doesNotContain("cpus"));
        assertThat(CAPS.refusal(Tasks.spec("true").setCpus(4.5).setGpus(1).setTimeoutMs(600_001)
                .setOutputFiles(List.of("/tmp/a", "/tmp/b", "/tmp/c")).build()))
                .hasValueSatisfying(r -> assertThat(r).contains("cpus 4.5", "AGORA_WORKER_MAX_CPUS",
                        "gpus 1 is above this worker's cap of 0", "timeoutMs 600001", "outputFiles 3"));
    }

    @Test
    void theDefaultsAreTheHostsCoresAndModestLimits() {
        TaskCaps d = TaskCaps.from(AgoraConfig.of(Map.of()));
        assertThat(d.cpus()).isEqualTo(Runtime.getRuntime().availableProcessors());
        assertThat(d.memoryMb()).isEqualTo(8192);
        assertThat(d.pids()).isEqualTo(1024);
        assertThat(d.outputMb()).isEqualTo(64);
        assertThat(d.outputEntries()).isEqualTo(1000);
    }
}
