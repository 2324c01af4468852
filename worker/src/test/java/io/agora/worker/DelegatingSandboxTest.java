package io.agora.worker;

import io.agora.events.TaskAssigned;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;

/** A wrapped sandbox (meters, a liar's output) still does what the real one does besides running tasks. */
class DelegatingSandboxTest {
    private static final Sandbox REAL = new Sandbox() {
        @Override
        public SandboxOutcome run(TaskAssigned task) {
            throw new UnsupportedOperationException();
        }

        @Override
        public Optional<String> probe() {
            return Optional.of("engine down");
        }

        @Override
        public List<String> localImages() {
            return List.of("agora/busybox:1");
        }

        @Override
        public int removeLeftovers() {
            return 3;
        }
    };

    @Test
    void wrappersPassProbeImagesAndLeftoverCleanupThrough() {
        for (Sandbox wrapped : List.of(new MeteredSandbox(REAL, new SimpleMeterRegistry(), "w"), new WrongOutputSandbox(REAL))) {
            assertThat(wrapped.removeLeftovers()).as("leftover containers of a crashed run are removed").isEqualTo(3);
            assertThat(wrapped.probe()).contains("engine down");
            assertThat(wrapped.localImages()).containsExactly("agora/busybox:1");
        }
    }
}
