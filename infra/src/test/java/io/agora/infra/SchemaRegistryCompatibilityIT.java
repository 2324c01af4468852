package io.agora.infra;

import io.agora.events.TaskResult;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

/** The stack's registry enforces BACKWARD compatibility on our real schemas (Confluent API). */
class SchemaRegistryCompatibilityIT {
    static LocalStack stack;
    static Ccompat registry;

    @BeforeAll
    static void stack() {
        stack = LocalStack.shared();
        registry = new Ccompat(stack.ccompatUrl());
    }

    @Test
    void rejectsIncompatibleAndAcceptsCompatibleChanges() {
        // the storage is durable, so every run uses a subject of its own
        String subject = "it-compat-" + UUID.randomUUID() + "-value";
        String v1 = TaskResult.getClassSchema().toString();

        Ccompat.Response first = registry.register(subject, v1);
        assertThat(first.status()).as(first.body()).isEqualTo(200);
        assertThat(first.json().get("id").asLong()).isPositive();
        Ccompat.Response cfg = registry.setCompatibility(subject, "BACKWARD");
        assertThat(cfg.status()).as(cfg.body()).isEqualTo(200);

        // a new field without a default cannot read data written with v1
        String incompatible = Ccompat.withField(v1, "mandatoryNewField", "string", null);
        Ccompat.Response refused = registry.register(subject, incompatible);
        assertThat(refused.status()).as(refused.body()).isEqualTo(409);

        // a new field with a default can
        String compatible = Ccompat.withField(v1, "optionalNewField", "string", "none");
        Ccompat.Response accepted = registry.register(subject, compatible);
        assertThat(accepted.status()).as(accepted.body()).isEqualTo(200);

        Ccompat.Response versions = registry.versions(subject);
        assertThat(versions.status()).isEqualTo(200);
        assertThat(versions.json()).hasSize(2);
    }
}
