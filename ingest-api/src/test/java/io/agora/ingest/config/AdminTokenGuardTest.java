package io.agora.ingest.config;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class AdminTokenGuardTest {
    @Test
    void theDevTokenIsRefusedOutsideDevModeWithTheWayOut() {
        assertThat(AdminTokenGuard.refusal("dev-admin-token", "0")).hasValueSatisfying(r ->
                assertThat(r).contains("dev-admin-token", "AGORA_ADMIN_TOKEN", "AGORA_DEV_MODE=1"));
        assertThat(AdminTokenGuard.refusal("dev-admin-token", null)).isPresent();
    }

    @Test
    void theDevTokenIsFineInDevModeAndAnyOtherTokenAnywhere() {
        assertThat(AdminTokenGuard.refusal("dev-admin-token", "1")).isEmpty();
        assertThat(AdminTokenGuard.refusal("dev-admin-token", "true")).isEmpty();
        assertThat(AdminTokenGuard.refusal("9f86d081884c7d65", "0")).isEmpty();
    }
}
