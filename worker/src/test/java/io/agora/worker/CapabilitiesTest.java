package io.agora.worker;

import io.agora.schemas.AgoraConfig;
import io.agora.events.GpuInfo;
import io.agora.events.WorkerCapabilities;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

class CapabilitiesTest {
    @TempDir
    Path dir;

    static final String CPUINFO = """
            processor	: 0
            physical id	: 0
            core id		: 0
            flags		: fpu vme sse4_1 sse4_2 avx avx2 aes sha_ni pni
            
            processor	: 1
            physical id	: 0
            core id		: 0
            flags		: fpu vme sse4_1 sse4_2 avx avx2 aes sha_ni pni
            
            processor	: 2
            physical id	: 0
            core id		: 1
            flags		: fpu vme sse4_1 sse4_2 avx avx2 aes sha_ni pni
            """;

    @Test
    void parses_cpuinfo() {
        assertThat(Capabilities.parsePhysicalCores(CPUINFO, 99)).isEqualTo(2);
        assertThat(Capabilities.parsePhysicalCores("", 4)).isEqualTo(4);
        assertThat(Capabilities.parseCpuFeatures(CPUINFO)).containsExactly("aes", "avx", "avx2", "sha_ni", "sse4_1", "sse4_2");
        assertThat(Capabilities.parseCpuFeatures("Features\t: fp asimd aes sha2 crc32\n")).containsExactly("aes", "asimd", "sha2");
    }

    @Test
    void parses_meminfo() {
        assertThat(Capabilities.parseMemTotalMb("MemTotal:       24576000 kB\nMemFree: 1 kB\n")).isEqualTo(24000);
        assertThat(Capabilities.parseMemTotalMb("nothing")).isZero();
    }

    @Test
    void parses_nvidia_smi_grouping_models() {
        List<GpuInfo> gpus = Capabilities.parseNvidiaSmi("""
                NVIDIA A100-SXM4-80GB, 81920 MiB
                NVIDIA A100-SXM4-80GB, 81920 MiB
                NVIDIA GeForce RTX 4090, 24564 MiB
                garbage
                """);
        assertThat(gpus).containsExactly(new GpuInfo("NVIDIA A100-SXM4-80GB", 2, 81920L),
                new GpuInfo("NVIDIA GeForce RTX 4090", 1, 24564L));
    }

    @Test
    void merges_detected_hardware_with_the_operator_settings() {
        WorkerConfig cfg = WorkerConfig.from(AgoraConfig.of(Map.of(
                "agora.worker.state.dir", dir.toString(), "agora.worker.pool", "lab", "agora.worker.region", "eu-west",
                "agora.worker.tags", "ssd, fast", "agora.worker.price", "1200", "agora.worker.max.concurrent", "4")));
        WorkerCapabilities c = Capabilities.detect(cfg, 321.5, List.of("agora/busybox:1"));
        assertThat(c.getCpuThreads()).isEqualTo(Runtime.getRuntime().availableProcessors());
        assertThat(c.getCpuCores()).isPositive();
        assertThat(c.getMemoryMb()).isPositive();
        assertThat(c.getStorageMb()).isPositive();
        assertThat(c.getArch()).isIn("x86_64", "arm64");
        assertThat(c.getPool()).isEqualTo("lab");
        assertThat(c.getRegion()).isEqualTo("eu-west");
        assertThat(c.getTags()).containsExactly("ssd", "fast");
        assertThat(c.getCapabilities()).containsExactly("agora/busybox:1");
        assertThat(c.getPricePerCpuSecondMicros()).isEqualTo(1200);
        assertThat(c.getMaxConcurrent()).isEqualTo(4);
        assertThat(c.getBenchmarkScore()).isEqualTo(321.5);
    }

    @Test
    void config_defaults() {
        WorkerConfig c = WorkerConfig.from(AgoraConfig.of(Map.of("agora.state.dir", dir.toString())));
        assertThat(c.keyFile()).isEqualTo(dir.resolve("worker.key"));
        assertThat(c.pool()).isEqualTo("public");
        assertThat(c.pricePerCpuSecondMicros()).isEqualTo(800);
        assertThat(c.maxConcurrent()).isEqualTo(2);
        assertThat(c.heartbeatIntervalMs()).isEqualTo(2000);
        assertThat(c.networkAllowed()).isFalse();
        assertThat(c.stdoutCapBytes()).isEqualTo(65536);
        assertThat(c.mode()).isEqualTo(WorkerMode.DOCKER);
        assertThat(c.allowedImages()).isEmpty();
    }
}
