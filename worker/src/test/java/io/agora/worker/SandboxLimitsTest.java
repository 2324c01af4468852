package io.agora.worker;

import com.github.dockerjava.api.model.Capability;
import com.github.dockerjava.api.model.Frame;
import com.github.dockerjava.api.model.HostConfig;
import com.github.dockerjava.api.model.StreamType;
import io.agora.events.JobSpec;
import io.agora.events.ResultStatus;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** The limits a task's container is created with, as the Docker Engine receives them (no engine needed). */
class SandboxLimitsTest {
    private static JobSpec spec(int gpus) {
        return JobSpec.newBuilder().setImage("agora/busybox:1").setCommand(List.of("true")).setTimeoutMs(5_000)
                .setMemoryMb(64).setCpus(0.5).setPidsLimit(32).setGpus(gpus).build();
    }

    @Test
    void aJobWithoutGpusGetsNoDeviceAndEveryOtherLimit() {
        HostConfig hc = DockerSandbox.hostConfig(spec(0), false, null, 16);
        assertThat(hc.getDeviceRequests()).isNullOrEmpty();
        assertThat(hc.getNetworkMode()).isEqualTo("none");
        assertThat(hc.getReadonlyRootfs()).isTrue();
        assertThat(hc.getMemory()).isEqualTo(64L * 1024 * 1024).isEqualTo(hc.getMemorySwap());
        assertThat(hc.getNanoCPUs()).isEqualTo(500_000_000L);
        assertThat(hc.getPidsLimit()).isEqualTo(32L);
        assertThat(hc.getCapDrop()).containsExactly(Capability.ALL);
        assertThat(hc.getSecurityOpts()).containsExactly("no-new-privileges");
        assertThat(hc.getTmpFs()).containsKey("/tmp");
    }

    @Test
    void aJobsGpusBecomeADeviceRequestOfThatMany() {
        HostConfig hc = DockerSandbox.hostConfig(spec(2), false, Path.of("/var/lib/agora/work/task-1"), 16);
        assertThat(hc.getDeviceRequests()).singleElement().satisfies(d -> {
            assertThat(d.getCount()).isEqualTo(2);
            assertThat(d.getCapabilities()).containsExactly(List.of("gpu"));
        });
        assertThat(hc.getBinds()).singleElement().satisfies(b -> assertThat(b.getVolume().getPath()).isEqualTo("/tmp"));
    }

    @Test
    void stdoutAndStderrAreKeptApartEachCutAtItsOwnCapAndFlagged() {
        DockerSandbox.Capture capture = new DockerSandbox.Capture(8, 4);
        capture.onNext(new Frame(StreamType.STDOUT, "hello ".getBytes(StandardCharsets.UTF_8)));
        capture.onNext(new Frame(StreamType.STDERR, "oops".getBytes(StandardCharsets.UTF_8)));
        capture.onNext(new Frame(StreamType.STDOUT, "wor".getBytes(StandardCharsets.UTF_8)));
        SandboxOutcome o = capture.outcome(ResultStatus.SUCCEEDED, null, 0, Map.of(), 0, 1);
        assertThat(new String(o.stdout(), StandardCharsets.UTF_8)).isEqualTo("hello wo");
        assertThat(o.stdoutTruncated()).isTrue();
        assertThat(new String(o.stderr(), StandardCharsets.UTF_8)).isEqualTo("oops");
        assertThat(o.stderrTruncated()).as("exactly its cap: nothing was cut").isFalse();
        capture.onNext(new Frame(StreamType.STDERR, "!".getBytes(StandardCharsets.UTF_8)));
        SandboxOutcome more = capture.outcome(ResultStatus.SUCCEEDED, null, 0, Map.of(), 0, 1);
        assertThat(new String(more.stderr(), StandardCharsets.UTF_8)).isEqualTo("oops");
        assertThat(more.stderrTruncated()).isTrue();
    }
}
