package io.agora.schemas;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class ImageRefTest {
    static final String D = "sha256:" + "ab".repeat(32);

    @Test
    void reads_registry_repository_tag_and_digest_as_docker_does() {
        assertThat(ImageRef.parse("localhost:5000/agora/busybox:1")).contains(new ImageRef("localhost:5000", "agora/busybox", "1", null));
        assertThat(ImageRef.parse("ghcr.io/a/b@" + D)).contains(new ImageRef("ghcr.io", "a/b", null, D));
        assertThat(ImageRef.parse("localhost/x:2@" + D)).contains(new ImageRef("localhost", "x", "2", D));
        assertThat(ImageRef.parse("agora/busybox:1")).contains(new ImageRef(null, "agora/busybox", "1", null));
        assertThat(ImageRef.parse("busybox")).contains(new ImageRef(null, "busybox", null, null));
    }

    @Test
    void names_what_the_registry_is_asked_and_what_the_job_records() {
        ImageRef r = ImageRef.parse("localhost:5000/agora/busybox").orElseThrow();
        assertThat(r.reference()).isEqualTo("latest");
        assertThat(r.pinned(D)).isEqualTo("localhost:5000/agora/busybox@" + D);
        assertThat(ImageRef.parse("registry.example.com:443/x:1").orElseThrow().reference()).isEqualTo("1");
    }

    @Test
    void refuses_what_is_not_a_reference() {
        assertThat(ImageRef.parse("x@sha256:abc")).isEmpty();
        assertThat(ImageRef.parse("x@md5:" + "ab".repeat(16))).isEmpty();
        assertThat(ImageRef.parse("localhost:5000/")).isEmpty();
        assertThat(ImageRef.parse("x:")).isEmpty();
        assertThat(ImageRef.parse(" ")).isEmpty();
    }
}
