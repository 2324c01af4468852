package io.agora.worker;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The timed measures behind a registration: the disk's sequential write throughput (a file of
 * {@code disk.probe.mb} MiB written to the state dir, forced to the device, then deleted) and the
 * download bandwidth (a timed GET of {@code network.probe.url}, at most {@link #NETWORK_PROBE_BYTES}
 * bytes or {@link #NETWORK_PROBE_MS} ms). Each is taken once per process and target: co-hosted
 * identities share the machine, and a thousand of them must not write a thousand files.
 */
final class HardwareProbes {
    static final long NETWORK_PROBE_BYTES = 64L << 20;
    static final long NETWORK_PROBE_MS = 3000;
    private static final Map<String, Integer> MEASURED = new ConcurrentHashMap<>();

    private HardwareProbes() {
    }

    /** {@code bytes} moved in {@code nanos}, in units of {@code unitBytes} per second, rounded down; 0 for nothing moved. */
    static int rate(long bytes, long nanos, double unitBytes) {
        if (bytes <= 0 || nanos <= 0) {
            return 0;
        }
        return (int) Math.min(Integer.MAX_VALUE, bytes / unitBytes * 1e9 / nanos);
    }

    /** MiB/s writing {@code mb} MiB under {@code dir}; 0 when {@code mb} is 0 or the write fails. */
    static int diskWriteMiBps(Path dir, int mb) {
        if (mb <= 0) {
            return 0;
        }
        return MEASURED.computeIfAbsent("disk " + dir.toAbsolutePath() + " " + mb, k -> measureDisk(dir, mb));
    }

    /** Mbit/s downloading {@code url}; 0 when no URL is configured or it cannot be read. */
    static int networkMbps(String url) {
        if (url == null || url.isBlank()) {
            return 0;
        }
        return MEASURED.computeIfAbsent("net " + url, k -> measureNetwork(url));
    }

    private static int measureDisk(Path dir, int mb) {
        Path probe = null;
        try {
            Files.createDirectories(dir);
            probe = Files.createTempFile(dir, "disk-probe-", ".tmp");
            ByteBuffer block = ByteBuffer.allocateDirect(1 << 20);
            byte[] noise = new byte[1 << 20];
            new java.util.Random(mb).nextBytes(noise); // not zeros: a compressing file system would flatter itself
            block.put(noise);
            long start = System.nanoTime();
            try (FileChannel ch = FileChannel.open(probe, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
                for (int i = 0; i < mb; i++) {
                    block.clear();
                    while (block.hasRemaining()) {
                        ch.write(block);
                    }
                }
                ch.force(true);
            }
            return rate((long) mb << 20, System.nanoTime() - start, 1 << 20);
        } catch (IOException e) {
            return 0;
        } finally {
            if (probe != null) {
                try {
                    Files.deleteIfExists(probe);
                } catch (IOException ignored) {
                    // a leftover probe file is only wasted space; the next start writes another
                }
            }
        }
    }

    private static int measureNetwork(String url) {
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
        long start = System.nanoTime();
        long deadline = start + NETWORK_PROBE_MS * 1_000_000;
        long read;
        try {
            HttpResponse<InputStream> r = http.send(HttpRequest.newBuilder(URI.create(url))
                    .timeout(Duration.ofMillis(NETWORK_PROBE_MS)).GET().build(), HttpResponse.BodyHandlers.ofInputStream());
            try (InputStream in = r.body()) {
                if (r.statusCode() != 200) {
                    return 0;
                }
                read = count(in, deadline);
            }
            return rate(read * 8, System.nanoTime() - start, 1_000_000);
        } catch (IOException | IllegalArgumentException e) {
            return 0;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return 0;
        }
    }

    private static long count(InputStream in, long deadline) throws IOException {
        long read = 0;
        byte[] buf = new byte[64 * 1024];
        int n;
        while (read < NETWORK_PROBE_BYTES && System.nanoTime() < deadline && (n = in.read(buf)) > 0) {
            read += n;
        }
        return read;
    }
}
