package io.agora.ingest.web;

import io.agora.ingest.api.ApiException;
import io.agora.ingest.api.Problem;
import io.agora.market.BandwidthAttestation;
import io.agora.schemas.Identity;
import io.agora.schemas.WorkerRequests;
import io.micronaut.http.HttpStatus;
import io.micronaut.http.server.types.files.StreamedFile;
import org.junit.jupiter.api.Test;

import java.io.InputStream;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

class ProbeControllerTest {
    static final String PATH = "/api/v1/probe";
    final AtomicLong nanos = new AtomicLong();
    final long nowMs = System.currentTimeMillis();
    /** 4 MiB/s, a burst of 8 MiB. */
    final ProbeController api = new ProbeController(4, nanos::get, () -> nowMs, null);
    final Identity worker = Identity.generate();

    String signed(String path) {
        return WorkerRequests.authorization(worker.privateKey(), "GET", path, nowMs);
    }

    @Test
    void aSignedProbeAnswersExactlyTheBytesAskedOfNoise() throws Exception {
        StreamedFile f = api.answer(signed(PATH), PATH, "3145729").body(); // 3 MiB + 1: the block repeats
        assertThat(f.getLength()).isEqualTo(3 * (1 << 20) + 1);
        try (InputStream in = f.getInputStream()) {
            byte[] all = in.readAllBytes();
            assertThat(all).hasSize(3 * (1 << 20) + 1);
            assertThat(all[1 << 20]).isEqualTo(all[0]);
            assertThat(all[(1 << 20) + 7]).isEqualTo(all[7]);
            long zeros = 0;
            for (int i = 0; i < 4096; i++) {
                zeros += all[i] == 0 ? 1 : 0;
            }
            assertThat(zeros).as("noise, not zeros").isLessThan(100);
        }
        try (InputStream in = ProbeController.noise(2)) {
            assertThat(in.read()).isNotEqualTo(-1);
            assertThat(in.read()).isNotEqualTo(-1);
            assertThat(in.read()).isEqualTo(-1);
        }
    }

    @Test
    void badSizesAre400sNamingTheField() {
        for (String bad : new String[]{null, "", "0", "-5", "1.5", "lots", String.valueOf(ProbeController.MAX_BYTES + 1)}) {
            ApiException e = catchThrowableOfType(() -> api.answer(signed(PATH), PATH, bad), ApiException.class);
            assertThat((Object) e.status()).as(bad).isEqualTo(HttpStatus.BAD_REQUEST);
            assertThat(e.problems()).extracting(Problem::field).containsExactly("bytes");
        }
        assertThat(api.answer(signed(PATH), PATH, String.valueOf(ProbeController.MAX_BYTES)).body().getLength())
                .isEqualTo(ProbeController.MAX_BYTES);
    }

    @Test
    void onlyAWorkersSignatureForThisPathIsAccepted() {
        assertThat((Object) catchThrowableOfType(() -> api.answer(null, PATH, "1024"), ApiException.class).status())
                .isEqualTo(HttpStatus.UNAUTHORIZED);
        assertThat((Object) catchThrowableOfType(() -> api.answer("Bearer agk_x", PATH, "1024"), ApiException.class).status())
                .isEqualTo(HttpStatus.UNAUTHORIZED);
        assertThat((Object) catchThrowableOfType(() -> api.answer(signed("/api/v1/files"), PATH, "1024"), ApiException.class)
                .status()).isEqualTo(HttpStatus.UNAUTHORIZED);
    }

    @Test
    void allProbesTogetherStayWithinTheBudget() {
        // 8 MiB of burst, then 429 with Retry-After until the budget has refilled
        api.answer(signed(PATH), PATH, String.valueOf(8L << 20));
        ApiException busy = catchThrowableOfType(() -> api.answer(signed(PATH), PATH, "1"), ApiException.class);
        assertThat((Object) busy.status()).isEqualTo(HttpStatus.TOO_MANY_REQUESTS);
        assertThat(busy.retryAfterSeconds()).isEqualTo(1L);
        nanos.addAndGet(300_000_000L); // 1.2 MiB back
        assertThat(api.answer(signed(PATH), PATH, "1").body().getLength()).isEqualTo(1);
    }

    static final byte[] KEY = "the market's challenge key, 32 b".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    static final String ATTEST = PATH + "/attestation";
    final AtomicLong clock = new AtomicLong(nowMs);
    final ProbeController keyed = new ProbeController(64, nanos::get, clock::get, KEY);

    String signedNow(Identity who, String path) {
        return WorkerRequests.authorization(who.privateKey(), "GET", path, clock.get());
    }

    /** The ticket and receipt (hex of the last bytes) of a keyed probe of {@code n} bytes asked by {@code who}. */
    String[] probe(Identity who, long n) throws Exception {
        var r = keyed.answer(signedNow(who, PATH), PATH, String.valueOf(n));
        String ticket = r.getHeaders().get(BandwidthAttestation.TICKET_HEADER);
        assertThat(ticket).isNotNull();
        try (InputStream in = r.body().getInputStream()) {
            byte[] all = in.readAllBytes();
            assertThat(all).hasSize((int) n);
            return new String[]{ticket, java.util.HexFormat.of().formatHex(all, all.length - BandwidthAttestation.RECEIPT_BYTES, all.length)};
        }
    }

    @Test
    void theApiTimesTheProbeItServedAndSignsTheRateForTheWorkerAndItsHost() throws Exception {
        String[] tr = probe(worker, 8L << 20);
        clock.addAndGet(64); // the whole probe crossed the link in 64 ms
        Identity coHosted = Identity.generate();
        Map<String, Object> a = keyed.attest(signedNow(worker, ATTEST), ATTEST, tr[0], tr[1], coHosted.workerId());
        int mbps = (int) ((8L << 20) * 8 / 1000 / 64);
        assertThat(a).containsEntry("mbps", mbps).containsEntry("issuedAt", clock.get())
                .containsEntry("validForMs", BandwidthAttestation.VALID_MS);
        String attestation = (String) a.get("attestation");
        assertThat(BandwidthAttestation.verdict(KEY, worker.workerId(), 100_000, attestation, clock.get() + 1000))
                .isEqualTo(new BandwidthAttestation.Verdict(mbps, null));
        assertThat(BandwidthAttestation.verdict(KEY, coHosted.workerId(), 100, attestation, clock.get()).mbps()).isEqualTo(100);
        assertThat(BandwidthAttestation.verdict(KEY, Identity.generate().workerId(), 100, attestation, clock.get()).mbps()).isZero();
        // a small probe times latency, not bandwidth: no ticket; nor without the key
        assertThat(keyed.answer(signedNow(worker, PATH), PATH, "1000").getHeaders().get(BandwidthAttestation.TICKET_HEADER)).isNull();
        assertThat(api.answer(signed(PATH), PATH, String.valueOf(2L << 20)).getHeaders().get(BandwidthAttestation.TICKET_HEADER)).isNull();
    }

    @Test
    void anAttestationNeedsTheWholeProbeTheSameWorkerAFreshTicketAndTheKey() throws Exception {
        String[] tr = probe(worker, 2L << 20);
        java.util.function.BiFunction<String, String[], ApiException> refused = (auth, q) ->
                catchThrowableOfType(() -> keyed.attest(auth, ATTEST, q[0], q[1], q[2]), ApiException.class);
        String mine = signedNow(worker, ATTEST);
        // the receipt is what only the probe's last bytes hold: asking early, or guessing, is refused
        ApiException early = refused.apply(mine, new String[]{tr[0], "00".repeat(16), null});
        assertThat((Object) early.status()).isEqualTo(HttpStatus.BAD_REQUEST);
        assertThat(early.problems()).extracting(Problem::field).containsExactly("receipt");
        // another worker turning in this worker's ticket
        assertThat(refused.apply(signedNow(Identity.generate(), ATTEST), new String[]{tr[0], tr[1], null}).problems())
                .extracting(Problem::message).containsExactly("the probe was asked by another worker");
        // a forged ticket: a smaller start time would flatter the rate
        String forged = tr[0].replaceFirst(":" + nowMs + ":", ":" + (nowMs - 1000) + ":");
        assertThat(refused.apply(mine, new String[]{forged, tr[1], null}).problems()).extracting(Problem::field)
                .containsExactly("ticket");
        assertThat(refused.apply(mine, new String[]{tr[0], tr[1], "not-an-id"}).problems()).extracting(Problem::field)
                .containsExactly("workers");
        assertThat((Object) refused.apply(null, new String[]{tr[0], tr[1], null}).status()).isEqualTo(HttpStatus.UNAUTHORIZED);
        assertThat((Object) catchThrowableOfType(() -> api.attest(signed(ATTEST), ATTEST, tr[0], tr[1], null),
                ApiException.class).status()).isEqualTo(HttpStatus.SERVICE_UNAVAILABLE);
        clock.addAndGet(BandwidthAttestation.TICKET_MS + 1);
        assertThat(refused.apply(signedNow(worker, ATTEST), new String[]{tr[0], tr[1], null}).problems())
                .extracting(Problem::message).singleElement().asString().startsWith("expired");
    }

    /** Over HTTP, on the server without its database and broker (nothing here reaches them): header, tail, route. */
    @Test
    void overHttpAWorkerGetsTheTicketTheReceiptAndTheAttestation(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir)
            throws Exception {
        java.nio.file.Path keyFile = dir.resolve("challenge.key");
        byte[] key = io.agora.schemas.ChallengeKey.loadOrCreate(keyFile);
        try (io.micronaut.context.ApplicationContext context = io.micronaut.context.ApplicationContext.builder().properties(Map.of(
                "micronaut.server.port", -1,
                "agora.ingest.feeds-enabled", false,
                "agora.dev-mode", 1,
                "datasources.default.initialization-fail-timeout", -1,
                "flyway.datasources.default.enabled", false,
                io.agora.schemas.ChallengeKey.FILE_CONFIG, keyFile.toString())).start()) {
            var server = context.getBean(io.micronaut.runtime.server.EmbeddedServer.class).start();
            var http = java.net.http.HttpClient.newHttpClient();
            java.util.function.Function<String, java.net.http.HttpRequest> get = pathAndQuery -> java.net.http.HttpRequest
                    .newBuilder(java.net.URI.create("http://localhost:" + server.getPort() + pathAndQuery))
                    .header("Authorization", WorkerRequests.authorization(worker.privateKey(), "GET",
                            pathAndQuery.split("\\?")[0], System.currentTimeMillis())).build();
            var probe = http.send(get.apply(PATH + "?bytes=" + (2 << 20)), java.net.http.HttpResponse.BodyHandlers.ofByteArray());
            assertThat(probe.statusCode()).isEqualTo(200);
            String ticket = probe.headers().firstValue(BandwidthAttestation.TICKET_HEADER).orElseThrow();
            byte[] body = probe.body();
            assertThat(body).hasSize(2 << 20);
            String receipt = java.util.HexFormat.of().formatHex(body, body.length - BandwidthAttestation.RECEIPT_BYTES, body.length);
            var answer = http.send(get.apply(ATTEST + "?ticket=" + java.net.URLEncoder.encode(ticket, java.nio.charset.StandardCharsets.UTF_8)
                    + "&receipt=" + receipt), java.net.http.HttpResponse.BodyHandlers.ofString());
            assertThat(answer.statusCode()).as(answer.body()).isEqualTo(200);
            var m = java.util.regex.Pattern.compile("\"attestation\":\"([^\"]+)\"").matcher(answer.body());
            assertThat(m.find()).isTrue();
            BandwidthAttestation.Verdict v = BandwidthAttestation.verdict(key, worker.workerId(), Integer.MAX_VALUE, m.group(1),
                    System.currentTimeMillis());
            assertThat(v.refused()).isNull();
            assertThat(v.mbps()).isPositive();
            var guessed = http.send(get.apply(ATTEST + "?ticket=" + java.net.URLEncoder.encode(ticket, java.nio.charset.StandardCharsets.UTF_8)
                    + "&receipt=" + "00".repeat(16)), java.net.http.HttpResponse.BodyHandlers.ofString());
            assertThat(guessed.statusCode()).isEqualTo(400);
            assertThat(guessed.body()).contains("receipt");
        }
    }
}
