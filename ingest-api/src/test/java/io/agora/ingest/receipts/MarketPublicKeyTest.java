package io.agora.ingest.receipts;

import io.agora.schemas.Identity;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

class MarketPublicKeyTest {
    @TempDir
    Path dir;

    @Test
    void theKeyComesFromTheSettingOrTheVerifiersPubFileAndOnlyWellFormed() throws Exception {
        String key = Identity.generate().workerId();
        assertThat(new MarketPublicKey(key, "").key()).contains(key);
        Path pub = dir.resolve("verifier-market.key.pub");
        assertThat(new MarketPublicKey("", pub.toString()).key()).as("not provisioned yet").isEmpty();
        Files.writeString(pub, key + "\n");
        assertThat(new MarketPublicKey("", pub.toString()).key()).contains(key);
        assertThat(new MarketPublicKey("not a key", "").key()).isEmpty();
    }
}
