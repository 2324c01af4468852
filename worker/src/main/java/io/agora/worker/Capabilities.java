package io.agora.worker;

import io.agora.events.GpuInfo;
import io.agora.events.WorkerCapabilities;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;

/**
 * What this machine offers the market: cores, threads, arch, memory ({@code /proc/meminfo}),
 * free storage of the state dir and its write throughput, notable cpu features ({@code /proc/cpuinfo}),
 * GPUs ({@code nvidia-smi} when present), accelerators ({@code cuda} with an NVIDIA GPU, {@code dri}
 * and {@code dri-<vendor>} for {@code /dev/dri} render nodes, and the operator's {@code accelerators}),
 * the download bandwidth (configured, or measured: {@link #bandwidth}), merged with the operator's
 * pool, region, tags, price and concurrency. The parsers are pure functions so they can be tested on
 * sample text.
 */
public final class Capabilities {
    /** The cpu flags that matter to jobs; the full list would bloat every registration. */
    static final Set<String> NOTABLE_FLAGS = Set.of("sse4_1", "sse4_2", "avx", "avx2", "avx512f", "avx512bw",
            "avx512vl", "avx512_vnni", "fma", "aes", "sha_ni", "vaes", "amx_tile", "amx_bf16", "f16c", "bmi2",
            "asimd", "sve", "sve2", "sha2", "neon");

    private Capabilities() {
    }

    /** @param bandwidth the download bandwidth measured ({@link #bandwidth}), with the market's attestation */
    public static WorkerCapabilities detect(WorkerConfig cfg, double benchmarkScore, List<String> servedImages,
                                            HardwareProbes.Bandwidth bandwidth) {
        String cpuinfo = read(Path.of("/proc/cpuinfo"));
        String meminfo = read(Path.of("/proc/meminfo"));
        int threads = Runtime.getRuntime().availableProcessors();
        List<String> caps = cfg.capabilities().isEmpty() ? servedImages : cfg.capabilities();
        List<GpuInfo> gpus = nvidiaGpus(NVIDIA_SMI);
        return WorkerCapabilities.newBuilder()
                .setArch(arch(System.getProperty("os.arch")))
                .setCpuCores(parsePhysicalCores(cpuinfo, threads))
                .setCpuThreads(threads)
                .setCpuFeatures(parseCpuFeatures(cpuinfo))
                .setMemoryMb(parseMemTotalMb(meminfo))
                .setGpus(gpus)
                .setAccelerators(accelerators(gpus, driNodes(DEV_DRI, SYS_DRM), cfg.accelerators()))
                .setStorageMb(freeStorageMb(cfg.stateDir()))
                .setDiskWriteMiBps(HardwareProbes.diskWriteMiBps(cfg.stateDir().resolve("work"), cfg.diskProbeMb()))
                .setNetworkMbps(bandwidth.mbps())
                .setNetworkAttestation(bandwidth.attestation())
                .setRegion(cfg.region())
                .setTags(cfg.tags())
                .setCapabilities(caps)
                .setPricePerCpuSecondMicros(cfg.pricePerCpuSecondMicros())
                .setMinPricePerJobMicros(cfg.minPricePerJobMicros())
                .setPricePerGpuSecondMicros(cfg.pricePerGpuSecondMicros())
                .setPricePerGbSecondMicros(cfg.pricePerGbSecondMicros())
                .setMaxConcurrent(cfg.slots())
                .setPool(cfg.pool())
                .setAllowNetwork(cfg.networkAllowed())
                .setAllowedImages(cfg.allowedImages().isEmpty() ? null : cfg.allowedImages())
                .setBenchmarkScore(benchmarkScore)
                .build();
    }

    /**
     * The download bandwidth to register, Mbit/s: {@code network.mbps} when set (the operator knows the link);
     * else measured ({@link HardwareProbes}) against {@code network.probe.url} when set, else against the
     * market's probe at {@code api.url}, the only figure the market attests (the others it counts as 0);
     * {@code network.probe.url=off}: not measured, 0 (unknown). While the market's probe fails: 0, and the
     * agent measures again later ({@link #measuresAgainstMarket}).
     */
    /**
     * @param signedGet the {@code Authorization} header of a GET of a path on the market, signed by the worker
     * @param coHosted  the other identities this host runs: the market's attestation names them too
     */
    static HardwareProbes.Bandwidth bandwidth(WorkerConfig cfg, UnaryOperator<String> signedGet, List<String> coHosted) {
        if (cfg.networkMbps() > 0) {
            return new HardwareProbes.Bandwidth(cfg.networkMbps(), null);
        }
        String url = cfg.networkProbeUrl() == null ? "" : cfg.networkProbeUrl().strip();
        if (url.equals("off")) {
            return HardwareProbes.Bandwidth.UNKNOWN;
        }
        if (!url.isEmpty()) {
            return new HardwareProbes.Bandwidth(HardwareProbes.networkMbps(url), null);
        }
        try {
            return HardwareProbes.marketBandwidth(java.net.URI.create(cfg.apiUrl()), signedGet, coHosted)
                    .orElse(HardwareProbes.Bandwidth.UNKNOWN);
        } catch (IllegalArgumentException e) {
            return HardwareProbes.Bandwidth.UNKNOWN; // an api.url that is no URL: the input downloads say so loudly
        }
    }

    /** Whether the bandwidth is measured against the market's probe and that has not succeeded yet. */
    static boolean measuresAgainstMarket(WorkerConfig cfg) {
        String url = cfg.networkProbeUrl() == null ? "" : cfg.networkProbeUrl().strip();
        if (cfg.networkMbps() > 0 || !url.isEmpty()) {
            return false;
        }
        try {
            return !HardwareProbes.marketMeasured(java.net.URI.create(cfg.apiUrl()));
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    static String arch(String osArch) {
        return switch (osArch == null ? "" : osArch) {
            case "amd64", "x86_64" -> "x86_64";
            case "aarch64", "arm64" -> "arm64";
            default -> osArch;
        };
    }

    /** MemTotal in MiB, 0 when absent. */
    static long parseMemTotalMb(String meminfo) {
        for (String line : meminfo.split("\n")) {
            if (line.startsWith("MemTotal:")) {
                String[] parts = line.substring(9).trim().split("\\s+");
                long kb = Long.parseLong(parts[0]);
                return kb / 1024;
            }
        }
        return 0;
    }

    /** Distinct (physical id, core id) pairs; {@code fallback} when the file does not say. */
    static int parsePhysicalCores(String cpuinfo, int fallback) {
        Set<String> cores = new HashSet<>();
        String physical = "0";
        for (String line : cpuinfo.split("\n")) {
            String[] kv = line.split(":", 2);
            if (kv.length < 2) {
                continue;
            }
            String k = kv[0].trim();
            if (k.equals("physical id")) {
                physical = kv[1].trim();
            } else if (k.equals("core id")) {
                cores.add(physical + "/" + kv[1].trim());
            }
        }
        return cores.isEmpty() ? fallback : cores.size();
    }

    /** The notable flags of the first processor ({@code flags} on x86, {@code Features} on ARM), sorted. */
    static List<String> parseCpuFeatures(String cpuinfo) {
        for (String line : cpuinfo.split("\n")) {
            String[] kv = line.split(":", 2);
            if (kv.length == 2 && (kv[0].trim().equals("flags") || kv[0].trim().equals("Features"))) {
                Set<String> out = new TreeSet<>();
                for (String f : kv[1].trim().split("\\s+")) {
                    if (NOTABLE_FLAGS.contains(f.toLowerCase(Locale.ROOT))) {
                        out.add(f.toLowerCase(Locale.ROOT));
                    }
                }
                return new ArrayList<>(out);
            }
        }
        return List.of();
    }

    /**
     * Parses {@code nvidia-smi --query-gpu=name,memory.total --format=csv,noheader} output, e.g.
     * {@code NVIDIA A100-SXM4-80GB, 81920 MiB}, grouping identical models.
     */
    static List<GpuInfo> parseNvidiaSmi(String csv) {
        Map<String, long[]> byModel = new LinkedHashMap<>();
        for (String line : csv.split("\n")) {
            String[] parts = line.split(",");
            if (parts.length < 2 || parts[0].isBlank()) {
                continue;
            }
            String model = parts[0].trim();
            String mem = parts[1].trim().split("\\s+")[0];
            long vram;
            try {
                vram = Long.parseLong(mem);
            } catch (NumberFormatException e) {
                continue;
            }
            long[] acc = byModel.computeIfAbsent(model, m -> new long[]{0, Long.MAX_VALUE});
            acc[0]++;
            acc[1] = Math.min(acc[1], vram);
        }
        List<GpuInfo> out = new ArrayList<>();
        byModel.forEach((m, acc) -> out.add(new GpuInfo(m, (int) acc[0], acc[1])));
        return out;
    }

    /** PCI vendor ids of the GPU makers, as {@code /sys/class/drm/<node>/device/vendor} holds them. */
    static final Map<String, String> GPU_VENDORS = Map.of("0x8086", "intel", "0x1002", "amd", "0x10de", "nvidia");

    /**
     * The accelerators a job may ask for ({@code requirements.accelerator}), sorted: {@code cuda} when
     * nvidia-smi lists a GPU, {@code dri} when there is a render node, {@code dri-<vendor>} for each
     * node's maker ({@code dri-<pci id>} for one not in {@link #GPU_VENDORS}), and the operator's own.
     *
     * @param driNodes each render node of {@code /dev/dri} ({@code renderD128}, ...) with the content of its
     *                 {@code device/vendor} file ("" when unreadable)
     */
    static List<String> accelerators(List<GpuInfo> gpus, Map<String, String> driNodes, List<String> configured) {
        Set<String> out = new TreeSet<>(configured);
        if (!gpus.isEmpty()) {
            out.add("cuda");
        }
        driNodes.forEach((node, vendor) -> {
            if (node.startsWith("renderD")) {
                out.add("dri");
                String id = vendor.strip().toLowerCase(Locale.ROOT);
                if (!id.isEmpty()) {
                    out.add("dri-" + GPU_VENDORS.getOrDefault(id, id));
                }
            }
        });
        return new ArrayList<>(out);
    }

    /** The NVIDIA tool the GPUs are read from, looked up on the worker's PATH. */
    static final String NVIDIA_SMI = "nvidia-smi";
    static final Path DEV_DRI = Path.of("/dev/dri");
    static final Path SYS_DRM = Path.of("/sys/class/drm");

    /**
     * The render nodes under {@code devDri} ({@link #DEV_DRI}) with their vendor ids, read from
     * {@code <sysDrm>/<node>/device/vendor} ({@link #SYS_DRM}); none without the folder.
     */
    static Map<String, String> driNodes(Path devDri, Path sysDrm) {
        Map<String, String> out = new TreeMap<>();
        try (var names = Files.list(devDri)) {
            names.map(p -> p.getFileName().toString()).filter(n -> n.startsWith("renderD"))
                    .forEach(n -> out.put(n, read(sysDrm.resolve(n).resolve("device").resolve("vendor"))));
        } catch (IOException e) {
            return Map.of(); // no /dev/dri: no render node to offer
        }
        return out;
    }

    /** The GPUs {@code nvidiaSmi} ({@link #NVIDIA_SMI}) lists; none when it is absent, fails or hangs. */
    static List<GpuInfo> nvidiaGpus(String nvidiaSmi) {
        try {
            Process p = new ProcessBuilder(nvidiaSmi, "--query-gpu=name,memory.total", "--format=csv,noheader")
                    .redirectErrorStream(true).start();
            if (!p.waitFor(5, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return List.of();
            }
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            return p.exitValue() == 0 ? parseNvidiaSmi(out) : List.of();
        } catch (IOException e) {
            return List.of(); // no nvidia-smi: no NVIDIA GPU to offer
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return List.of();
        }
    }

    static long freeStorageMb(Path dir) {
        try {
            Path p = dir.toAbsolutePath();
            while (p != null && !Files.exists(p)) {
                p = p.getParent();
            }
            return p == null ? 0 : Files.getFileStore(p).getUsableSpace() / (1024 * 1024);
        } catch (IOException e) {
            return 0;
        }
    }

    private static String read(Path p) {
        try {
            return Files.readString(p, StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "";
        }
    }
}
