package io.agora.infra;

import io.agora.events.JobVerdict;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

/** The registry's storage is durable: a schema registered before a restart is still there after. */
class RegistryRestartIT {

    @Test
    void schemaSurvivesRegistryRestart() {
        LocalStack stack = LocalStack.shared();
        Assumptions.assumeFalse(stack.reused(), "does not restart a reused dev stack");
        Ccompat registry = new Ccompat(stack.ccompatUrl());
        String subject = "it-restart-" + UUID.randomUUID() + "-value";
        Ccompat.Response reg = registry.register(subject, JobVerdict.getClassSchema().toString());
        assertThat(reg.status()).as(reg.body()).isEqualTo(200);
        long id = reg.json().get("id").asLong();

        stack.stopComponent("registry");
        stack.start();

        Ccompat.Response versions = registry.versions(subject);
        assertThat(versions.status()).as(versions.body()).isEqualTo(200);
        assertThat(versions.json()).hasSize(1);
        Ccompat.Response latest = registry.send("GET", "/subjects/" + subject + "/versions/latest", null);
        assertThat(latest.status()).isEqualTo(200);
        assertThat(latest.json().get("id").asLong()).isEqualTo(id);
        // the global BACKWARD rule survives too
        Ccompat.Response global = registry.send("GET", "/config", null);
        assertThat(global.json().get("compatibilityLevel").asText()).isEqualTo("BACKWARD");
    }
}
