package io.agora.verifier;

import io.agora.schemas.AgoraConfig;
import io.agora.runtime.Service;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

class VerifierAppTest {
    @TempDir
    Path dir;

    @Test
    void createsTheServiceWithoutABroker() {
        Service s = VerifierApp.create(AgoraConfig.of(Map.of("agora.registry.url", "plain", "agora.state.dir", dir.toString())));
        try {
            assertThat(s.health()).containsEntry("app", VerifierConfig.APP_ID);
        } finally {
            s.close();
        }
    }
}
