package io.agora.ingest.api;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class PathIdsTest {
    @Test
    void theIdsTheMarketMakesPass() {
        assertThat(PathIds.valid("3f2b8c1e-1d2a-4c7b-9e0f-0123456789ab")).isTrue(); // job id
        assertThat(PathIds.valid("c-1234.prod_x")).isTrue(); // client id
        assertThat(PathIds.valid("client:c-1234")).isTrue(); // account id
        assertThat(PathIds.valid("me")).isTrue();
        assertThat(PathIds.valid("Wq3_-Hk2mZ0aB9yXcV7uT6sR5qP4oN3mL2kJ1iH0gF8")).isTrue(); // worker id (base64url key)
        assertThat(PathIds.valid("0123456789abcdef")).isTrue(); // key id
        assertThat(PathIds.valid("a".repeat(PathIds.MAX_LENGTH))).isTrue();
    }

    @Test
    void controlBytesSeparatorsAndOverlongIdsAreRefused() {
        assertThat(PathIds.valid("job\0")).isFalse();
        assertThat(PathIds.valid("job\u0001x")).isFalse();
        assertThat(PathIds.valid("job\nx")).isFalse();
        assertThat(PathIds.valid("a/b")).isFalse();
        assertThat(PathIds.valid("a b")).isFalse();
        assertThat(PathIds.valid("")).isFalse();
        assertThat(PathIds.valid(null)).isFalse();
        assertThat(PathIds.valid("a".repeat(PathIds.MAX_LENGTH + 1))).isFalse();
    }

    @Test
    void aRefusalIsA400NamingThePathVariable() {
        assertThatThrownBy(() -> PathIds.check("id", "x\0")).isInstanceOfSatisfying(ApiException.class, e -> {
            assertThat(e.status().getCode()).isEqualTo(400);
            assertThat(e.problems()).singleElement().satisfies(p -> {
                assertThat(p.field()).isEqualTo("id");
                assertThat(p.message()).contains("128");
            });
        });
    }
}
