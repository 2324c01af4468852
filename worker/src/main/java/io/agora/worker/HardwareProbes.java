package io.agora.worker;

import io.agora.market.BandwidthAttestation;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

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
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.UnaryOperator;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The timed measures behind a registration: the disk's sequential write throughput (a file of
 * {@code disk.probe.mb} MiB written to the state dir, forced to the device, then deleted) and the
 * download bandwidth: by default from the market the worker fetches inputs from, a signed
 * {@code GET <api.url>/api/v1/probe?bytes=}{@link #MARKET_PROBE_BYTES} (ingest-api's probe), else a GET of
 * the operator's {@code network.probe.url}; at most {@link #NETWORK_PROBE_BYTES} bytes or
 * {@link #NETWORK_PROBE_MS} ms, timed from the answer's headers to its last byte ({@link #mbps}), so the
 * connection's setup and the server's first byte do not count as a slow link. A failed measure registers
 * 0 (unknown) with its reason logged; it never stops the worker. Each is taken once per process and
 * target: co-hosted identities share the machine, and a thousand of them must not write a thousand files
 * or download a thousand probes.
 *
 * <p>The market's probe is read to its end (at most {@link #MARKET_PROBE_MS}), whose last bytes are the
 * receipt of the answer's ticket ({@link BandwidthAttestation}); the worker turns both in, signed, at
 * {@code GET <api.url>/api/v1/probe/attestation} and registers the market-signed figure with its own
 * ({@link Bandwidth}). A market probe that fails (API unreachable, busy, refused) is not kept: the agent tries
 * again later ({@link #marketBandwidth} answers empty until one succeeds).
 */
final class HardwareProbes {
    private static final Logger log = LoggerFactory.getLogger(HardwareProbes.class);
    static final long NETWORK_PROBE_BYTES = 64L << 20;
    static final long NETWORK_PROBE_MS = 3000;
    /** The market probe's size: a few seconds on a slow link, well under one on a fast one. */
    static final long MARKET_PROBE_BYTES = 8L << 20;
    static final String MARKET_PROBE_PATH = "/api/v1/probe";
    static final String ATTESTATION_PATH = MARKET_PROBE_PATH + "/attestation";
    /** How long the market's probe may take: all of it must arrive for its receipt, well within the ticket's life. */
    static final long MARKET_PROBE_MS = BandwidthAttestation.TICKET_MS / 2;
    private static final Pattern ATTESTATION = Pattern.compile("\"attestation\"\\s*:\\s*\"([A-Za-z0-9_,:-]+)\"");
    private static final Map<String, Integer> MEASURED = new ConcurrentHashMap<>();
    private static final Map<String, Bandwidth> MARKET = new ConcurrentHashMap<>();

    /** The download bandwidth registered, Mbit/s, and the market's attestation of it (null: none, the market counts 0). */
    record Bandwidth(int mbps, String attestation) {
        static final Bandwidth UNKNOWN = new Bandwidth(0, null);
    }

    private HardwareProbes() {
    }

    /** {@code bytes} moved in {@code nanos}, in units of {@code unitBytes} per second, rounded down; 0 for nothing moved. */
    static int rate(long bytes, long nanos, double unitBytes) {
        if (bytes <= 0 || nanos <= 0) {
            return 0;
        }
        return (int) Math.min(Integer.MAX_VALUE, bytes / unitBytes * 1e9 / nanos);
    }

    /** Mbit/s of {@code bytes} received in {@code nanos}: the download bandwidth registered. */
    static int mbps(long bytes, long nanos) {
        return rate(bytes * 8, nanos, 1_000_000);
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
        return MEASURED.computeIfAbsent("net " + url, k -> {
            try {
                return measureNetwork(URI.create(url), null);
            } catch (IllegalArgumentException e) {
                log.warn("network bandwidth not measured (registered as 0): network.probe.url {}: {}", url, e.getMessage());
                return 0;
            }
        });
    }

    /**
     * The bandwidth downloading the market's probe from ingest-api at {@code api}, with the market's attestation
     * for the signer and {@code coHosted} (the other identities of this host); the requests signed by
     * {@code authorization} (path to {@code Authorization} header, as the worker's input downloads are). Empty
     * while the probe fails: nothing is kept, the next call measures again.
     */
    static synchronized Optional<Bandwidth> marketBandwidth(URI api, UnaryOperator<String> authorization,
                                                            List<String> coHosted) {
        Bandwidth b = MARKET.get(api.toString());
        if (b == null) {
            b = measureMarket(api, authorization, coHosted);
            if (b != null) {
                MARKET.put(api.toString(), b);
            }
        }
        return Optional.ofNullable(b);
    }

    /** Whether the market's probe at {@code api} was measured (a later {@link #marketBandwidth} answers from memory). */
    static boolean marketMeasured(URI api) {
        return MARKET.containsKey(api.toString());
    }

    private static Bandwidth measureMarket(URI api, UnaryOperator<String> authorization, List<String> coHosted) {
        URI uri = api.resolve(MARKET_PROBE_PATH + "?bytes=" + MARKET_PROBE_BYTES);
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
        try {
            HttpResponse<InputStream> r = http.send(HttpRequest.newBuilder(uri).timeout(Duration.ofMillis(MARKET_PROBE_MS))
                    .header("Authorization", authorization.apply(MARKET_PROBE_PATH)).GET().build(),
                    HttpResponse.BodyHandlers.ofInputStream());
            long start = System.nanoTime(); // the headers are in: from here on only the body's bytes are timed
            byte[] tail = new byte[BandwidthAttestation.RECEIPT_BYTES];
            long read;
            try (InputStream in = r.body()) {
                if (r.statusCode() != 200) {
                    log.warn("network bandwidth not measured yet (registered as 0, tried again later): GET {} answered"
                            + " HTTP {}: {}", uri, r.statusCode(), new String(in.readNBytes(300), StandardCharsets.UTF_8));
                    return null;
                }
                read = readKeepingTail(in, start + MARKET_PROBE_MS * 1_000_000, tail);
            }
            int mbps = mbps(read, System.nanoTime() - start);
            String ticket = r.headers().firstValue(BandwidthAttestation.TICKET_HEADER).orElse(null);
            String attestation = null;
            if (ticket == null) {
                log.warn("network bandwidth {} Mbit/s not attested: the market's probe carries no ticket (no challenge key"
                        + " at ingest-api); the market counts it 0", mbps);
            } else if (read < MARKET_PROBE_BYTES) {
                log.warn("network bandwidth {} Mbit/s not attested: {} of {} bytes arrived within {} ms", mbps, read,
                        MARKET_PROBE_BYTES, MARKET_PROBE_MS);
            } else {
                attestation = attest(http, api, authorization, ticket, HexFormat.of().formatHex(tail), coHosted);
            }
            log.info("network bandwidth: {} Mbit/s ({} bytes from {}), {}", mbps, read, uri,
                    attestation == null ? "unattested" : "attested " + attestation);
            return new Bandwidth(mbps, attestation);
        } catch (IOException | IllegalArgumentException e) {
            log.warn("network bandwidth not measured yet (registered as 0, tried again later): GET {}: {}", uri, e.toString());
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
    }

    /** The market's attestation of the probe {@code ticket} whose body ended with {@code receipt}; null when refused. */
    private static String attest(HttpClient http, URI api, UnaryOperator<String> authorization, String ticket,
                                 String receipt, List<String> coHosted) throws IOException, InterruptedException {
        String query = "?ticket=" + URLEncoder.encode(ticket, StandardCharsets.UTF_8) + "&receipt=" + receipt
                + (coHosted.isEmpty() ? "" : "&workers=" + URLEncoder.encode(String.join(",", coHosted), StandardCharsets.UTF_8));
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(api.resolve(ATTESTATION_PATH + query))
                .timeout(Duration.ofSeconds(5)).header("Authorization", authorization.apply(ATTESTATION_PATH)).GET().build(),
                HttpResponse.BodyHandlers.ofString());
        Matcher m = ATTESTATION.matcher(r.body());
        if (r.statusCode() == 200 && m.find()) {
            return m.group(1);
        }
        log.warn("the market attested no bandwidth: HTTP {} {}", r.statusCode(),
                r.body().length() > 300 ? r.body().substring(0, 300) : r.body());
        return null;
    }

    /** Reads {@code in} to its end or {@code deadline} (nanoTime), keeping its last {@code tail.length} bytes; the count. */
    static long readKeepingTail(InputStream in, long deadline, byte[] tail) throws IOException {
        long read = 0;
        byte[] buf = new byte[64 * 1024];
        int n;
        while (System.nanoTime() < deadline && (n = in.read(buf)) >= 0) {
            if (n >= tail.length) {
                System.arraycopy(buf, n - tail.length, tail, 0, tail.length);
            } else if (n > 0) {
                System.arraycopy(tail, n, tail, 0, tail.length - n);
                System.arraycopy(buf, 0, tail, tail.length - n, n);
            }
            read += n;
        }
        return read;
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

    private static int measureNetwork(URI uri, String authorization) {
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
        HttpRequest.Builder req = HttpRequest.newBuilder(uri).timeout(Duration.ofMillis(NETWORK_PROBE_MS)).GET();
        if (authorization != null) {
            req.header("Authorization", authorization);
        }
        try {
            HttpResponse<InputStream> r = http.send(req.build(), HttpResponse.BodyHandlers.ofInputStream());
            long start = System.nanoTime(); // the headers are in: from here on only the body's bytes are timed
            try (InputStream in = r.body()) {
                if (r.statusCode() != 200) {
                    log.warn("network bandwidth not measured (registered as 0): GET {} answered HTTP {}: {}", uri,
                            r.statusCode(), new String(in.readNBytes(300), StandardCharsets.UTF_8));
                    return 0;
                }
                long read = count(in, start + NETWORK_PROBE_MS * 1_000_000);
                int mbps = mbps(read, System.nanoTime() - start);
                log.info("network bandwidth: {} Mbit/s ({} bytes from {})", mbps, read, uri);
                return mbps;
            }
        } catch (IOException | IllegalArgumentException e) {
            log.warn("network bandwidth not measured (registered as 0): GET {}: {}", uri, e.toString());
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
