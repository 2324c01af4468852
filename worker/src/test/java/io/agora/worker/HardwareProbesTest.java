package io.agora.worker;

import com.sun.net.httpserver.HttpServer;
import io.agora.market.BandwidthAttestation;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

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
    void theMarketsProbeIsASignedGetAttestedByTheMarketAndARefusalIsNotKept() throws Exception {
        var key = io.agora.schemas.Identity.generate();
        String coHosted = io.agora.schemas.Identity.generate().workerId();
        java.util.function.UnaryOperator<String> signed = path -> io.agora.schemas.WorkerRequests.authorization(
                key.privateKey(), "GET", path, System.currentTimeMillis());
        HttpServer busy = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        busy.createContext("/", x -> {
            x.sendResponseHeaders(429, -1);
            x.close();
        });
        busy.start();
        try (ProbeMarket market = new ProbeMarket(0, true); ProbeMarket keyless = new ProbeMarket(0, false)) {
            HardwareProbes.Bandwidth b = HardwareProbes.marketBandwidth(market.uri(), signed, List.of(coHosted)).orElseThrow();
            assertThat(b.mbps()).isPositive();
            long now = System.currentTimeMillis();
            BandwidthAttestation.Verdict mine = BandwidthAttestation.verdict(ProbeMarket.KEY, key.workerId(), b.mbps(), b.attestation(), now);
            assertThat(mine.refused()).isNull();
            assertThat(mine.mbps()).as("the worker's figure, as far as the market saw it").isPositive().isLessThanOrEqualTo(b.mbps());
            assertThat(BandwidthAttestation.verdict(ProbeMarket.KEY, coHosted, b.mbps(), b.attestation(), now).refused())
                    .as("the host's other identities share the link").isNull();
            assertThat(HardwareProbes.marketMeasured(market.uri())).isTrue();

            HardwareProbes.Bandwidth unattested = HardwareProbes.marketBandwidth(keyless.uri(), signed, List.of()).orElseThrow();
            assertThat(unattested.mbps()).isPositive();
            assertThat(unattested.attestation()).as("no ticket: measured, not attested").isNull();

            java.net.URI other = java.net.URI.create("http://localhost:" + market.server.getAddress().getPort());
            assertThat(HardwareProbes.marketBandwidth(other, path -> "AgoraWorker forged", List.of())).as("401").isEmpty();
            assertThat(HardwareProbes.marketMeasured(other)).as("a failure is not kept: measured again later").isFalse();
            java.net.URI busyApi = java.net.URI.create("http://127.0.0.1:" + busy.getAddress().getPort());
            assertThat(HardwareProbes.marketBandwidth(busyApi, signed, List.of())).as("429").isEmpty();
        } finally {
            busy.stop(0);
        }
    }

    @Test
    void theLastBytesReadAreKeptWhateverTheChunks() throws Exception {
        byte[] data = new byte[100_000];
        new java.util.Random(7).nextBytes(data);
        byte[] tail = new byte[16];
        // a stream answering 1 to 7 bytes a read: the tail is shifted in piece by piece
        java.io.InputStream trickle = new java.io.ByteArrayInputStream(data) {
            int k;

            @Override
            public synchronized int read(byte[] b, int off, int len) {
                return super.read(b, off, Math.min(len, 1 + (k++ % 7)));
            }
        };
        assertThat(HardwareProbes.readKeepingTail(trickle, Long.MAX_VALUE, tail)).isEqualTo(data.length);
        assertThat(tail).isEqualTo(java.util.Arrays.copyOfRange(data, data.length - 16, data.length));
        assertThat(HardwareProbes.readKeepingTail(new java.io.ByteArrayInputStream(data), Long.MAX_VALUE, tail)).isEqualTo(data.length);
        assertThat(tail).isEqualTo(java.util.Arrays.copyOfRange(data, data.length - 16, data.length));
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
