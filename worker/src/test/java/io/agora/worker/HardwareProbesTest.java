package io.agora.worker;

import com.sun.net.httpserver.HttpServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

class HardwareProbesTest {
    @TempDir
    Path dir;

    @Test
    void ratesAreUnitsPerSecondRoundedDown() {
        assertThat(HardwareProbes.rate(100L << 20, 500_000_000L, 1 << 20)).isEqualTo(200); // 100 MiB in 0.5 s
        assertThat(HardwareProbes.rate(125_000_000L * 8, 1_000_000_000L, 1_000_000)).isEqualTo(1000); // 1 Gbit/s
        assertThat(HardwareProbes.rate(0, 1, 1)).isZero();
        assertThat(HardwareProbes.rate(1, 0, 1)).isZero();
    }

    @Test
    void theDiskProbeWritesAndLeavesNothingBehind() throws Exception {
        assertThat(HardwareProbes.diskWriteMiBps(dir.resolve("work"), 4)).isPositive();
        try (var left = Files.list(dir.resolve("work"))) {
            assertThat(left).isEmpty();
        }
        assertThat(HardwareProbes.diskWriteMiBps(dir, 0)).isZero();
        assertThat(HardwareProbes.diskWriteMiBps(Path.of("/proc/agora-no-such-dir"), 1)).isZero();
    }

    @Test
    void bandwidthIsMegabitsPerSecondOfTheBodyRoundedDown() {
        assertThat(HardwareProbes.mbps(HardwareProbes.MARKET_PROBE_BYTES, 70_000_000L)).isEqualTo(958); // 8 MiB in 70 ms
        assertThat(HardwareProbes.mbps(1_250_000, 1_000_000_000L)).isEqualTo(10); // 10 Mbit/s
        assertThat(HardwareProbes.mbps(1_250_000, 1_000_000_001L)).isEqualTo(9);
        assertThat(HardwareProbes.mbps(0, 5)).isZero();
    }

    @Test
    void theMarketsProbeIsASignedGetAndARefusalRegistersZero() throws Exception {
        var key = io.agora.schemas.Identity.generate();
        java.util.concurrent.atomic.AtomicReference<String> asked = new java.util.concurrent.atomic.AtomicReference<>();
        HttpServer market = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        market.createContext(HardwareProbes.MARKET_PROBE_PATH, x -> {
            asked.set(x.getRequestURI().getQuery());
            long n = Long.parseLong(x.getRequestURI().getQuery().substring("bytes=".length()));
            try {
                io.agora.schemas.WorkerRequests.verify(x.getRequestHeaders().getFirst("Authorization"), "GET",
                        x.getRequestURI().getPath(), System.currentTimeMillis());
            } catch (IllegalArgumentException e) {
                x.sendResponseHeaders(401, -1);
                x.close();
                return;
            }
            x.sendResponseHeaders(200, n);
            try (OutputStream out = x.getResponseBody()) {
                byte[] mb = new byte[1 << 20];
                for (long sent = 0; sent < n; sent += mb.length) {
                    out.write(mb, 0, (int) Math.min(mb.length, n - sent));
                }
            }
        });
        HttpServer busy = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        busy.createContext("/", x -> {
            x.sendResponseHeaders(429, -1);
            x.close();
        });
        market.start();
        busy.start();
        try {
            java.net.URI api = java.net.URI.create("http://127.0.0.1:" + market.getAddress().getPort());
            assertThat(HardwareProbes.marketMbps(api, path -> io.agora.schemas.WorkerRequests.authorization(
                    key.privateKey(), "GET", path, System.currentTimeMillis()))).isPositive();
            assertThat(asked.get()).isEqualTo("bytes=" + HardwareProbes.MARKET_PROBE_BYTES);
            java.net.URI other = java.net.URI.create("http://localhost:" + market.getAddress().getPort());
            assertThat(HardwareProbes.marketMbps(other, path -> "AgoraWorker forged")).as("401").isZero();
            assertThat(HardwareProbes.marketMbps(java.net.URI.create("http://127.0.0.1:" + busy.getAddress().getPort()),
                    path -> "AgoraWorker x")).as("429").isZero();
        } finally {
            market.stop(0);
            busy.stop(0);
        }
    }

    @Test
    void theNetworkProbeTimesADownloadAndAnAnswerOtherThan200CountsForNothing() throws Exception {
        HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/blob", x -> {
            x.sendResponseHeaders(200, 8 << 20);
            try (OutputStream out = x.getResponseBody()) {
                byte[] mb = new byte[1 << 20];
                for (int i = 0; i < 8; i++) {
                    out.write(mb);
                }
            }
        });
        server.createContext("/missing", x -> {
            x.sendResponseHeaders(404, 3);
            try (OutputStream out = x.getResponseBody()) {
                out.write("no\n".getBytes());
            }
        });
        server.start();
        try {
            String base = "http://127.0.0.1:" + server.getAddress().getPort();
            assertThat(HardwareProbes.networkMbps(base + "/blob")).isPositive();
            assertThat(HardwareProbes.networkMbps(base + "/missing")).isZero();
            assertThat(HardwareProbes.networkMbps("")).isZero();
            assertThat(HardwareProbes.networkMbps("http://127.0.0.1:1/closed")).isZero();
        } finally {
            server.stop(0);
        }
    }
}
