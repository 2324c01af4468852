package io.agora.schemas;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** The one rule, worker's and matcher's, of which images a worker's allowlist lets it pull. */
class PullAllowlistTest {
    static final String D = "@sha256:" + "ab".repeat(32);
    static final List<String> ALLOWED = List.of("localhost:5000", "registry.example.com/team/", "ghcr.io/agora");

    static boolean admits(String image) {
        return PullAllowlist.admits(ALLOWED, ImageRef.parse(image).orElseThrow());
    }

    @Test
    void a_registry_entry_admits_its_every_repository_a_path_entry_only_those_under_it() {
        assertThat(admits("localhost:5000/agora/busybox" + D)).isTrue();
        assertThat(admits("localhost:5000/busybox:1")).as("the tag is the worker's own check (by digest only)").isTrue();
        assertThat(admits("registry.example.com/team/tool" + D)).isTrue();
        assertThat(admits("registry.example.com/team/sub/tool" + D)).isTrue();
        assertThat(admits("ghcr.io/agora/tool" + D)).as("a path entry without its trailing slash").isTrue();
        assertThat(admits("registry.example.com/other/tool" + D)).isFalse();
        assertThat(admits("registry.example.com/teamwork/tool" + D)).as("a path is matched by whole segments").isFalse();
        assertThat(admits("ghcr.io/agoraxyz/tool" + D)).isFalse();
        assertThat(admits("localhost:50001/agora/busybox" + D)).as("another port is another registry").isFalse();
        assertThat(admits("agora/busybox:1")).as("a local image is never pulled").isFalse();
        assertThat(PullAllowlist.admits(List.of(), ImageRef.parse("localhost:5000/a" + D).orElseThrow())).isFalse();
    }

    @Test
    void the_matcher_excludes_only_a_registry_image_a_told_allowlist_does_not_admit() {
        assertThat(PullAllowlist.excluded(ALLOWED, "registry.example.com/other/tool" + D)).contains("registry.example.com/other/tool");
        assertThat(PullAllowlist.excluded(ALLOWED, "localhost:5000/agora/busybox" + D)).isEmpty();
        assertThat(PullAllowlist.excluded(null, "registry.example.com/other/tool" + D)).as("not told: any").isEmpty();
        assertThat(PullAllowlist.excluded(List.of(), "agora/busybox:1")).as("a local image is not pulled").isEmpty();
        assertThat(PullAllowlist.excluded(List.of(), "localhost:5000/agora/busybox" + D)).contains("localhost:5000/agora/busybox");
        assertThat(PullAllowlist.excluded(List.of(), "not an image@sha256:12")).as("the job's validation says").isEmpty();
    }
}
