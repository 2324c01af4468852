package io.agora.ingest.config;

import io.micronaut.context.annotation.Context;
import io.micronaut.context.annotation.Value;

import java.util.Optional;

/**
 * Refuses to start the API with the dev stack's admin token outside the dev stack: whoever knows
 * the repository could otherwise mint API keys and deposit credits. {@code infra/bin/agora} sets
 * {@code AGORA_DEV_MODE=1} for its own stack, where the default is the point.
 */
@Context
public class AdminTokenGuard {
    public static final String DEV_DEFAULT = "dev-admin-token";

    public AdminTokenGuard(IngestSettings settings, @Value("${agora.dev-mode:0}") String devMode) {
        refusal(settings.adminToken(), devMode).ifPresent(reason -> {
            throw new IllegalStateException(reason);
        });
    }

    /** Why the API must not start with this admin token, if it must not. */
    public static Optional<String> refusal(String adminToken, String devMode) {
        boolean dev = "1".equals(devMode) || "true".equalsIgnoreCase(devMode);
        if (DEV_DEFAULT.equals(adminToken) && !dev) {
            return Optional.of("refusing to start: the admin token is the dev default '" + DEV_DEFAULT
                    + "', which anyone who read the repository knows. Set AGORA_ADMIN_TOKEN to a secret"
                    + " (e.g. openssl rand -hex 32), or AGORA_DEV_MODE=1 on a development stack.");
        }
        return Optional.empty();
    }
}
