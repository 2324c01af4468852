package io.agora.worker;

import io.agora.schemas.AgoraConfig;
import io.agora.events.GpuInfo;
import io.agora.events.WorkerCapabilities;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
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
    void parses_nvidia_smi_as_drivers_print_it() {
        // CRLF lines, a GPU whose memory reads [N/A] (MIG or a driver fault), a trailing blank line
        List<GpuInfo> gpus = Capabilities.parseNvidiaSmi("Tesla T4, 15360 MiB\r\nTesla T4, 15102 MiB\r\n"
                + "NVIDIA H100 80GB HBM3, [N/A]\r\n\r\n");
        assertThat(gpus).containsExactly(new GpuInfo("Tesla T4", 2, 15102L));
        assertThat(Capabilities.parseNvidiaSmi("")).isEmpty();
        assertThat(Capabilities.parseNvidiaSmi("NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver."))
                .isEmpty();
    }

    @Test
    void names_accelerators_from_gpus_render_nodes_and_the_operator() {
        List<GpuInfo> t4 = List.of(new GpuInfo("Tesla T4", 1, 15360L));
        // /dev/dri of a laptop with an Intel iGPU and an AMD card, plus an unknown maker and an unreadable vendor
        Map<String, String> dri = Map.of("renderD128", "0x8086\n", "renderD129", "0x1002\n",
                "renderD130", "0x1af4\n", "renderD131", "", "card0", "0x8086\n");
        assertThat(Capabilities.accelerators(t4, dri, List.of("tpu-v4")))
                .containsExactly("cuda", "dri", "dri-0x1af4", "dri-amd", "dri-intel", "tpu-v4");
        assertThat(Capabilities.accelerators(List.of(), Map.of("card0", "0x8086"), List.of())).isEmpty();
        assertThat(Capabilities.accelerators(List.of(), Map.of(), List.of())).isEmpty();
    }

    /** An executable {@code nvidia-smi} under the temp dir running {@code body} (sh). */
    Path fakeNvidiaSmi(String folder, String body) throws Exception {
        Path bin = Files.createDirectories(dir.resolve(folder));
        Path smi = bin.resolve("nvidia-smi");
        Files.writeString(smi, "#!/bin/sh\n" + body);
        Files.setPosixFilePermissions(smi, PosixFilePermissions.fromString("rwxr-xr-x"));
        return smi;
    }

    @Test
    void detects_gpus_and_render_nodes_with_a_fake_nvidia_smi_and_dev_dri() throws Exception {
        // what nvidia-smi prints on a host with two A100s and an RTX 4090, only when asked as the worker asks
        Path smi = fakeNvidiaSmi("bin", """
                [ "$*" = "--query-gpu=name,memory.total --format=csv,noheader" ] || { echo "bad args: $*" >&2; exit 2; }
                printf 'NVIDIA A100-SXM4-80GB, 81920 MiB\nNVIDIA A100-SXM4-80GB, 81920 MiB\nNVIDIA GeForce RTX 4090, 24564 MiB\n'
                """);
        List<GpuInfo> gpus = Capabilities.nvidiaGpus(smi.toString());
        assertThat(gpus).containsExactly(new GpuInfo("NVIDIA A100-SXM4-80GB", 2, 81920L),
                new GpuInfo("NVIDIA GeForce RTX 4090", 1, 24564L));

        // /dev/dri with an Intel and an NVIDIA render node and a card node; the makers under /sys/class/drm
        Path devDri = Files.createDirectories(dir.resolve("dev/dri"));
        for (String node : List.of("renderD128", "renderD129", "card0")) {
            Files.createFile(devDri.resolve(node));
        }
        Path sysDrm = dir.resolve("sys/class/drm");
        for (String[] nv : new String[][]{{"renderD128", "0x8086\n"}, {"renderD129", "0x10de\n"}}) {
            Files.writeString(Files.createDirectories(sysDrm.resolve(nv[0]).resolve("device")).resolve("vendor"), nv[1]);
        }
        Map<String, String> nodes = Capabilities.driNodes(devDri, sysDrm);
        assertThat(nodes).containsOnlyKeys("renderD128", "renderD129");
        assertThat(Capabilities.accelerators(gpus, nodes, List.of()))
                .containsExactly("cuda", "dri", "dri-intel", "dri-nvidia");
    }

    @Test
    void a_missing_or_failing_nvidia_smi_and_no_dev_dri_offer_nothing() throws Exception {
        Path failing = fakeNvidiaSmi("broken", """
                echo "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver."
                exit 9
                """);
        assertThat(Capabilities.nvidiaGpus(failing.toString())).isEmpty();
        assertThat(Capabilities.nvidiaGpus(dir.resolve("absent/nvidia-smi").toString())).isEmpty();
        assertThat(Capabilities.driNodes(dir.resolve("no/dev/dri"), dir.resolve("sys"))).isEmpty();
    }

    @Test
    void merges_detected_hardware_with_the_operator_settings() {
        WorkerConfig cfg = WorkerConfig.from(AgoraConfig.of(Map.of(
                "agora.worker.state.dir", dir.toString(), "agora.worker.pool", "lab", "agora.worker.region", "eu-west",
                "agora.worker.tags", "ssd, fast", "agora.worker.price", "1200", "agora.worker.max.concurrent", "4",
                "agora.worker.gpu.price", "30000", "agora.worker.memory.price", "15",
                "agora.worker.api.url", "http://127.0.0.1:1")));
        WorkerCapabilities c = Capabilities.detect(cfg, 321.5, List.of("agora/busybox:1"),
                Capabilities.bandwidth(cfg, path -> "unsigned", List.of()));
        assertThat(c.getCpuThreads()).isEqualTo(Runtime.getRuntime().availableProcessors());
        assertThat(c.getCpuCores()).isPositive();
        assertThat(c.getMemoryMb()).isPositive();
        assertThat(c.getStorageMb()).isPositive();
        assertThat(c.getArch()).isIn("x86_64", "arm64");
        assertThat(c.getPool()).isEqualTo("lab");
        assertThat(c.getRegion()).isEqualTo("eu-west");
        assertThat(c.getTags()).containsExactly("ssd", "fast");
        assertThat(c.getCapabilities()).containsExactly("agora/busybox:1");
        assertThat(c.getAllowedImages()).as("no allowed.images: any image, registered as not told").isNull();
        assertThat(c.getPricePerCpuSecondMicros()).isEqualTo(1200);
        assertThat(c.getPricePerGpuSecondMicros()).isEqualTo(30_000);
        assertThat(c.getPricePerGbSecondMicros()).isEqualTo(15);
        assertThat(c.getMaxConcurrent()).isEqualTo(4);
        assertThat(c.getBenchmarkScore()).isEqualTo(321.5);
        assertThat(c.getDiskWriteMiBps()).isPositive();
        assertThat(c.getNetworkMbps()).as("the market's probe is unreachable: unknown, and the worker goes on").isZero();
        assertThat(Capabilities.measuresAgainstMarket(cfg)).as("and measures again later").isTrue();
    }

    @Test
    void a_configured_bandwidth_is_registered_as_it_is() {
        WorkerConfig cfg = WorkerConfig.from(AgoraConfig.of(Map.of("agora.worker.state.dir", dir.toString(),
                "agora.worker.network.mbps", "940", "agora.worker.disk.probe.mb", "0", "agora.worker.accelerators", "npu")));
        WorkerCapabilities c = Capabilities.detect(cfg, 1, List.of(), Capabilities.bandwidth(cfg, path -> {
            throw new AssertionError("nothing is measured when the operator says");
        }, List.of()));
        assertThat(c.getNetworkMbps()).isEqualTo(940);
        assertThat(c.getNetworkAttestation()).as("the operator's word: unchecked").isNull();
        assertThat(Capabilities.measuresAgainstMarket(cfg)).isFalse();
        assertThat(c.getDiskWriteMiBps()).isZero();
        assertThat(c.getAccelerators()).contains("npu");
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
