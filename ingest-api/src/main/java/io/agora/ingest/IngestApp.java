package io.agora.ingest;

import io.agora.schemas.AgoraConfig;
import io.agora.schemas.Traces;
import io.micronaut.runtime.Micronaut;
import io.swagger.v3.oas.annotations.OpenAPIDefinition;
import io.swagger.v3.oas.annotations.enums.SecuritySchemeIn;
import io.swagger.v3.oas.annotations.enums.SecuritySchemeType;
import io.swagger.v3.oas.annotations.info.Info;
import io.swagger.v3.oas.annotations.security.SecurityRequirement;
import io.swagger.v3.oas.annotations.security.SecurityScheme;

import java.util.Map;

/**
 * Starts the client-facing HTTP API of the market (port {@code AGORA_INGEST_PORT}, default 8080).
 * The annotations head the OpenAPI document generated from the controllers at compile time
 * (served at {@code /api/openapi.yml}, browsable at {@code /api/docs/}).
 */
@OpenAPIDefinition(
        info = @Info(title = "Agora ingest API", version = "1",
                description = "Submit container jobs to the Agora compute market, follow them, and read the market. "
                        + "Errors are RFC 9457 problem details (application/problem+json) with a `problems` list "
                        + "naming each invalid field. Every answer carries X-Request-Id (the caller's, or a new one)."),
        security = @SecurityRequirement(name = "apiKey"))
@SecurityScheme(name = "apiKey", type = SecuritySchemeType.HTTP, scheme = "bearer", in = SecuritySchemeIn.HEADER,
        description = "A client's API key: `Authorization: Bearer <key>`; admin routes take the admin token the same way")
public final class IngestApp {
    private IngestApp() {
    }

    public static void main(String[] args) {
        if (System.getProperty("org.apache.avro.SERIALIZABLE_PACKAGES") == null) {
            System.setProperty("org.apache.avro.SERIALIZABLE_PACKAGES", "io.agora.events");
        }
        Traces.configure("ingest-api", AgoraConfig.load(Map.of()));
        Micronaut.run(IngestApp.class, args);
    }
}
