package io.agora.verifier;

import io.agora.schemas.AgoraConfig;
import io.agora.schemas.Identity;
import io.agora.runtime.Service;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class VerifierAppTest {
    @TempDir
    Path dir;

    @Test
    void createsTheServiceWithoutABroker() {
        Service s = VerifierApp.create(AgoraConfig.of(Map.of("agora.registry.url", "plain", "agora.state.dir", dir.toString())));
        try {
            assertThat(s.health()).containsEntry("app", VerifierConfig.APP_ID)
                    .containsEntry("marketKey", Identity.loadOrCreate(dir.resolve("verifier-market.key")).workerId());
            assertThat(dir.resolve("verifier-market.key.pub")).content().isEqualToIgnoringNewLines((String) s.health().get("marketKey"));
        } finally {
            s.close();
        }
    }

    @Test
    void aNamedMarketKeyFileMustExist() {
        assertThatThrownBy(() -> VerifierApp.create(AgoraConfig.of(Map.of("agora.registry.url", "plain", "agora.state.dir",
                dir.toString(), MarketKey.FILE_CONFIG, dir.resolve("absent.key").toString()))))
                .hasMessageContaining("not a readable file");
    }
}
