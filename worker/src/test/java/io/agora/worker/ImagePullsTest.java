package io.agora.worker;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class ImagePullsTest {
    static final String D = "@sha256:" + "ab".repeat(32);

    @Test
    void pulls_by_digest_from_an_allowlisted_registry_or_repository_only() {
        ImagePulls p = new ImagePulls(List.of("localhost:5000", "registry.example.com/team/"), 4);
        assertThat(p.refusal("localhost:5000/agora/busybox" + D)).isEmpty();
        assertThat(p.refusal("registry.example.com/team/tool" + D)).isEmpty();
        assertThat(p.refusal("registry.example.com/other/tool" + D)).get().asString().contains("outside this worker's allowlist");
        assertThat(p.refusal("localhost:50001/agora/busybox" + D)).get().asString().contains("outside this worker's allowlist");
        assertThat(p.refusal("localhost:5000/agora/busybox:1")).get().asString().contains("by digest only");
        assertThat(p.refusal("agora/busybox:1")).get().asString().contains("not present on this worker");
    }

    @Test
    void the_registry_is_the_first_component_with_a_dot_a_port_or_localhost() {
        assertThat(ImagePulls.registry("localhost/x" + D)).contains("localhost");
        assertThat(ImagePulls.registry("localhost:5000/x" + D)).contains("localhost:5000");
        assertThat(ImagePulls.registry("ghcr.io/a/b:1")).contains("ghcr.io");
        assertThat(ImagePulls.registry("agora/busybox:1")).isEmpty();
        assertThat(ImagePulls.registry("busybox")).isEmpty();
    }

    @Test
    void the_cache_gives_back_the_least_recently_used_beyond_its_capacity() {
        ImagePulls p = new ImagePulls(List.of("localhost:5000"), 2);
        assertThat(p.used("a")).isEmpty();
        assertThat(p.used("b")).isEmpty();
        assertThat(p.used("a")).isEmpty();
        assertThat(p.used("c")).containsExactly("b");
        assertThat(p.cached()).containsExactly("a", "c");
    }
}
