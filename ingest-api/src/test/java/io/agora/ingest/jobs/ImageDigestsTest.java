package io.agora.ingest.jobs;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class ImageDigestsTest {
    final ImageDigests digests = new ImageDigests();

    @Test
    void a_local_image_passes_unchanged() {
        assertThat(digests.pin("agora/busybox:1")).isEqualTo(new ImageDigests.Pinned("agora/busybox:1", null));
    }

    @Test
    void a_registry_that_cannot_be_asked_is_a_problem_naming_the_image() {
        // port 1 on loopback: nothing listens there
        ImageDigests.Pinned p = digests.pin("localhost:1/agora/busybox:1");
        assertThat(p.image()).isNull();
        assertThat(p.problem().field()).isEqualTo("image");
        assertThat(p.problem().message()).contains("registry localhost:1 of localhost:1/agora/busybox:1 cannot be asked");
    }

    @Test
    void not_a_reference_is_a_problem() {
        assertThat(digests.pin("x@sha256:abc").problem().message()).contains("not a valid image reference");
    }

    @Test
    void loopback_registries_are_asked_over_http() {
        assertThat(ImageDigests.loopback("localhost:5000")).isTrue();
        assertThat(ImageDigests.loopback("127.0.0.1:5000")).isTrue();
        assertThat(ImageDigests.loopback("[::1]:5000")).isTrue();
        assertThat(ImageDigests.loopback("registry.example.com")).isFalse();
        assertThat(ImageDigests.loopback("localhost.example.com:5000")).isFalse();
    }
}
