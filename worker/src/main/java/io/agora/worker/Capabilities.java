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
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;

/**
 * What this machine offers the market: cores, threads, arch, memory ({@code /proc/meminfo}),
 * free storage of the state dir, notable cpu features ({@code /proc/cpuinfo}), GPUs
 * ({@code nvidia-smi} when present), merged with the operator's pool, region, tags, price and
 * concurrency. The parsers are pure functions so they can be tested on sample text.
 */
public final class Capabilities {
    /** The cpu flags that matter to jobs; the full list would bloat every registration. */
    static final Set<String> NOTABLE_FLAGS = Set.of("sse4_1", "sse4_2", "avx", "avx2", "avx512f", "avx512bw",
            "avx512vl", "avx512_vnni", "fma", "aes", "sha_ni", "vaes", "amx_tile", "amx_bf16", "f16c", "bmi2",
            "asimd", "sve", "sve2", "sha2", "neon");

    private Capabilities() {
    }

    public static WorkerCapabilities detect(WorkerConfig cfg, double benchmarkScore, List<String> servedImages) {
        String cpuinfo = read(Path.of("/proc/cpuinfo"));
        String meminfo = read(Path.of("/proc/meminfo"));
        int threads = Runtime.getRuntime().availableProcessors();
        List<String> caps = cfg.capabilities().isEmpty() ? servedImages : cfg.capabilities();
        return WorkerCapabilities.newBuilder()
                .setArch(arch(System.getProperty("os.arch")))
                .setCpuCores(parsePhysicalCores(cpuinfo, threads))
                .setCpuThreads(threads)
                .setCpuFeatures(parseCpuFeatures(cpuinfo))
                .setMemoryMb(parseMemTotalMb(meminfo))
                .setGpus(nvidiaGpus())
                .setAccelerators(List.of())
                .setStorageMb(freeStorageMb(cfg.stateDir()))
                .setNetworkMbps(0)
                .setRegion(cfg.region())
                .setTags(cfg.tags())
                .setCapabilities(caps)
                .setPricePerCpuSecondMicros(cfg.pricePerCpuSecondMicros())
                .setMinPricePerJobMicros(cfg.minPricePerJobMicros())
                .setMaxConcurrent(cfg.maxConcurrent())
                .setPool(cfg.pool())
                .setAllowNetwork(cfg.networkAllowed())
                .setBenchmarkScore(benchmarkScore)
                .build();
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

    static List<GpuInfo> nvidiaGpus() {
        try {
            Process p = new ProcessBuilder("nvidia-smi", "--query-gpu=name,memory.total", "--format=csv,noheader")
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
