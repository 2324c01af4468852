package io.agora.infra.bench;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class MarketBenchmarkOptionsTest {

    @Test
    void dockerRunsOneReplicaInTheTrustedPoolOnTwoWorkersOfFourSlots() {
        MarketBenchmark.Options o = MarketBenchmark.Options.parse(new String[] {"--docker"});
        assertThat(o.docker()).isTrue();
        assertThat(o.redundancy()).isEqualTo(1);
        assertThat(o.quorum()).isEqualTo(1);
        assertThat(o.trusted()).isTrue();
        assertThat(o.slots()).isEqualTo(8);
        assertThat(o.jobs()).isEqualTo(200);
    }

    @Test
    void dockerAtThreeReplicasIsAnOpenPool() {
        MarketBenchmark.Options o = MarketBenchmark.Options.parse(
                new String[] {"--docker", "--workers", "3", "--redundancy", "3", "--quorum", "2"});
        assertThat(o.trusted()).isFalse();
        assertThat(o.slots()).isEqualTo(12);
    }

    @Test
    void simulatedDefaultsAreUnchanged() {
        MarketBenchmark.Options o = MarketBenchmark.Options.parse(new String[0]);
        assertThat(o.docker()).isFalse();
        assertThat(o.redundancy()).isEqualTo(3);
        assertThat(o.quorum()).isEqualTo(2);
        assertThat(o.workers()).isEqualTo(4);
        assertThat(o.batch()).isEqualTo(1);
    }

    @Test
    void batchIsJobsPerRequestAndAtLeastOne() {
        assertThat(MarketBenchmark.Options.parse(new String[] {"--batch", "25"}).batch()).isEqualTo(25);
        assertThatThrownBy(() -> MarketBenchmark.Options.parse(new String[] {"--batch", "0"}))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("--batch");
    }

    @Test
    void aTrustedPoolNeedsOneJvmPerWorker() {
        assertThatThrownBy(() -> MarketBenchmark.Options.parse(new String[] {"--redundancy", "1", "--quorum", "1",
                "--workers", "8", "--worker-hosts", "2"})).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("trusted pool");
    }

    @Test
    void theRawLoopGivesEachContainerTheLimitsOfTheBenchJob() {
        assertThat(RawDockerRate.command("r", 7)).containsSubsequence("docker", "run", "--rm")
                .containsSubsequence("--network", "none").contains("--read-only")
                .containsSubsequence("--memory", "128m", "--memory-swap", "128m", "--cpus", "1", "--pids-limit", "64")
                .containsSubsequence("--cap-drop", "ALL", "--security-opt", "no-new-privileges")
                .containsSubsequence("--user", "65534:65534")
                .endsWith(RawDockerRate.IMAGE, "sh", "-c", "echo raw-r-7");
    }
}
