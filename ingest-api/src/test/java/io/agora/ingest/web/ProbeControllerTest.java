package io.agora.ingest.web;

import io.agora.ingest.api.ApiException;
import io.agora.ingest.api.Problem;
import io.agora.schemas.Identity;
import io.agora.schemas.WorkerRequests;
import io.micronaut.http.HttpStatus;
import io.micronaut.http.server.types.files.StreamedFile;
import org.junit.jupiter.api.Test;

import java.io.InputStream;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

class ProbeControllerTest {
    static final String PATH = "/api/v1/probe";
    final AtomicLong nanos = new AtomicLong();
    final long nowMs = System.currentTimeMillis();
    /** 4 MiB/s, a burst of 8 MiB. */
    final ProbeController api = new ProbeController(4, nanos::get, () -> nowMs);
    final Identity worker = Identity.generate();

    String signed(String path) {
        return WorkerRequests.authorization(worker.privateKey(), "GET", path, nowMs);
    }

    @Test
    void aSignedProbeAnswersExactlyTheBytesAskedOfNoise() throws Exception {
        StreamedFile f = api.answer(signed(PATH), PATH, "3145729"); // 3 MiB + 1: the block repeats
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
        assertThat(api.answer(signed(PATH), PATH, String.valueOf(ProbeController.MAX_BYTES)).getLength())
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
        assertThat(api.answer(signed(PATH), PATH, "1").getLength()).isEqualTo(1);
    }
}
