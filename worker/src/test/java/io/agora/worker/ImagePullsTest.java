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
    void refuses_as_outside_its_allowlist_exactly_the_images_the_matcher_keeps_from_it() {
        ImagePulls p = new ImagePulls(List.of("localhost:5000", "registry.example.com/team/"), 4);
        for (String image : List.of("localhost:5000/agora/busybox" + D, "registry.example.com/team/tool" + D,
                "registry.example.com/other/tool" + D, "localhost:50001/agora/busybox" + D, "agora/busybox:1")) {
            boolean outside = p.refusal(image).filter(r -> r.contains("outside this worker's allowlist")).isPresent();
            assertThat(outside).as(image).isEqualTo(io.agora.schemas.PullAllowlist.excluded(p.allowlist(), image).isPresent());
        }
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

    @Test
    void the_digests_it_holds_are_reported_most_recently_used_first_and_bounded() {
        ImagePulls p = new ImagePulls(List.of("localhost:5000"), 3);
        String a = "localhost:5000/agora/a@sha256:" + "aa".repeat(32);
        String b = "localhost:5000/agora/b@sha256:" + "bb".repeat(32);
        String c = "localhost:5000/agora/c@sha256:" + "cc".repeat(32);
        p.used(a);
        p.used(b);
        p.used(c);
        p.used(a);
        assertThat(p.digests(64)).containsExactly("sha256:" + "aa".repeat(32), "sha256:" + "cc".repeat(32),
                "sha256:" + "bb".repeat(32));
        assertThat(p.digests(1)).containsExactly("sha256:" + "aa".repeat(32));
        assertThat(new ImagePulls(List.of(), 2).digests(64)).isEmpty();
    }
}
