package io.agora.worker;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.agora.market.BandwidthAttestation;
import io.agora.market.PohChallenge;
import io.agora.schemas.WorkerRequests;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A real HTTP server on this machine answering what the worker asks ingest-api at start, by the market's rules
 * ({@link BandwidthAttestation}, {@link PohChallenge}) and with its own challenge key: the bandwidth probe (ticket
 * header, receipt at the end), the attestation, and proof-of-hardware challenges.
 */
final class ProbeMarket implements AutoCloseable {
    static final byte[] KEY = "the worker tests' market key, 32".getBytes(StandardCharsets.US_ASCII);
    final HttpServer server;
    /** Whether the probe carries a ticket (an ingest-api with the challenge key). */
    final boolean attests;
    /** What was asked, in order: {@code challenge}, {@code probe}, {@code attestation}. */
    final List<String> asked = java.util.Collections.synchronizedList(new ArrayList<>());

    ProbeMarket(int port, boolean attests) throws IOException {
        this.attests = attests;
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", port), 0);
        server.createContext(HardwareProbes.MARKET_PROBE_PATH, this::probeOrAttest);
        server.createContext("/api/v1/challenges", x -> {
            asked.add("challenge");
            String seed = PohChallenge.issue(KEY, Arrays.asList(query(x).get("workers").split(",")), System.currentTimeMillis());
            answer(x, 200, "{\"seed\":\"" + seed + "\"}");
        });
        server.start();
    }

    URI uri() {
        return URI.create("http://127.0.0.1:" + server.getAddress().getPort());
    }

    private void probeOrAttest(HttpExchange x) throws IOException {
        String worker;
        try {
            worker = WorkerRequests.verify(x.getRequestHeaders().getFirst("Authorization"), "GET",
                    x.getRequestURI().getPath(), System.currentTimeMillis());
        } catch (IllegalArgumentException e) {
            answer(x, 401, e.getMessage());
            return;
        }
        Map<String, String> q = query(x);
        asked.add(x.getRequestURI().getPath().equals(HardwareProbes.ATTESTATION_PATH) ? "attestation" : "probe");
        if (x.getRequestURI().getPath().equals(HardwareProbes.ATTESTATION_PATH)) {
            String ticket = q.get("ticket");
            BandwidthAttestation.Ticket t = BandwidthAttestation.parseTicket(KEY, ticket);
            if (t == null || !t.workerId().equals(worker) || !BandwidthAttestation.receiptMatches(KEY, ticket, q.get("receipt"))) {
                answer(x, 400, "{\"error\":\"bad ticket or receipt\"}");
                return;
            }
            List<String> ids = new ArrayList<>(List.of(worker));
            if (q.containsKey("workers")) {
                ids.addAll(Arrays.asList(q.get("workers").split(",")));
            }
            long now = System.currentTimeMillis();
            int mbps = BandwidthAttestation.mbps(t.bytes(), t.startedAt(), now);
            answer(x, 200, "{\"attestation\":\"" + BandwidthAttestation.issue(KEY, ids, mbps, now) + "\",\"mbps\":" + mbps + "}");
            return;
        }
        long n = Long.parseLong(q.get("bytes"));
        String ticket = BandwidthAttestation.ticket(KEY, worker, n, System.currentTimeMillis());
        if (attests) {
            x.getResponseHeaders().add(BandwidthAttestation.TICKET_HEADER, ticket);
        }
        x.sendResponseHeaders(200, n);
        try (OutputStream out = x.getResponseBody()) {
            byte[] noise = new byte[1 << 20];
            long body = n - BandwidthAttestation.RECEIPT_BYTES;
            for (long sent = 0; sent < body; sent += noise.length) {
                out.write(noise, 0, (int) Math.min(noise.length, body - sent));
            }
            out.write(BandwidthAttestation.receipt(KEY, ticket));
        }
    }

    private static Map<String, String> query(HttpExchange x) {
        Map<String, String> out = new HashMap<>();
        String raw = x.getRequestURI().getRawQuery();
        for (String kv : raw == null ? new String[0] : raw.split("&")) {
            String[] p = kv.split("=", 2);
            out.put(p[0], p.length < 2 ? "" : URLDecoder.decode(p[1], StandardCharsets.UTF_8));
        }
        return out;
    }

    private static void answer(HttpExchange x, int status, String body) throws IOException {
        byte[] b = body.getBytes(StandardCharsets.UTF_8);
        x.sendResponseHeaders(status, b.length);
        try (OutputStream out = x.getResponseBody()) {
            out.write(b);
        }
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
