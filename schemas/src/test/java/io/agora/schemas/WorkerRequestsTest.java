package io.agora.schemas;

import org.bouncycastle.crypto.params.Ed25519PrivateKeyParameters;
import org.junit.jupiter.api.Test;

import java.security.SecureRandom;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class WorkerRequestsTest {
    private final Ed25519PrivateKeyParameters key = new Ed25519PrivateKeyParameters(new SecureRandom());
    private final String path = "/api/v1/files/" + "a".repeat(64) + "/content";

    @Test
    void aSignedRequestNamesItsWorker() {
        String h = WorkerRequests.authorization(key, "GET", path, 1_000_000);
        assertThat(WorkerRequests.isWorker(h)).isTrue();
        assertThat(WorkerRequests.verify(h, "GET", path, 1_000_000 + WorkerRequests.MAX_SKEW_MS))
                .isEqualTo(Signatures.workerId(key));
    }

    @Test
    void anotherRequestTimeOrKeyProvesNothing() {
        String h = WorkerRequests.authorization(key, "GET", path, 1_000_000);
        assertThatThrownBy(() -> WorkerRequests.verify(h, "POST", path, 1_000_000)).hasMessageContaining("signature");
        assertThatThrownBy(() -> WorkerRequests.verify(h, "GET", "/api/v1/files", 1_000_000)).hasMessageContaining("signature");
        assertThatThrownBy(() -> WorkerRequests.verify(h, "GET", path, 1_000_001 + WorkerRequests.MAX_SKEW_MS))
                .hasMessageContaining("ms from the server's time");
        String other = Signatures.workerId(new Ed25519PrivateKeyParameters(new SecureRandom()));
        String forged = h.replace(Signatures.workerId(key), other);
        assertThatThrownBy(() -> WorkerRequests.verify(forged, "GET", path, 1_000_000)).hasMessageContaining("signature");
        assertThatThrownBy(() -> WorkerRequests.verify("AgoraWorker x:1", "GET", path, 1)).hasMessageContaining("<workerId>");
        assertThatThrownBy(() -> WorkerRequests.verify("AgoraWorker !!:1:??", "GET", path, 1)).hasMessageContaining("base64url");
        assertThatThrownBy(() -> WorkerRequests.verify("Bearer k", "GET", path, 1)).isInstanceOf(IllegalArgumentException.class);
    }
}
