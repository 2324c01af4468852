package io.agora.schemas;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** The one rule, worker's and matcher's, of which images a worker runs at all. */
class AllowedImagesTest {
    static final String D = "@sha256:" + "ab".repeat(32);
    static final List<String> ALLOWED = List.of("agora/busybox:1", "localhost:5000/agora/tool", "ghcr.io/team/model" + D);

    @Test
    void an_entry_admits_the_image_it_names_and_a_repository_entry_every_tag_and_digest_of_it() {
        assertThat(AllowedImages.admits(ALLOWED, "agora/busybox:1")).isTrue();
        assertThat(AllowedImages.admits(ALLOWED, "agora/busybox:2")).as("another tag of a tag entry").isFalse();
        assertThat(AllowedImages.admits(ALLOWED, "localhost:5000/agora/tool" + D)).as("a digest the market resolved").isTrue();
        assertThat(AllowedImages.admits(ALLOWED, "localhost:5000/agora/tool:7")).isTrue();
        assertThat(AllowedImages.admits(ALLOWED, "localhost:5000/agora/tool/sub" + D)).as("a repository is matched whole").isFalse();
        assertThat(AllowedImages.admits(ALLOWED, "localhost:5001/agora/tool" + D)).as("another registry").isFalse();
        assertThat(AllowedImages.admits(ALLOWED, "ghcr.io/team/model" + D)).isTrue();
        assertThat(AllowedImages.admits(ALLOWED, "ghcr.io/team/model@sha256:" + "cd".repeat(32))).as("another digest").isFalse();
        assertThat(AllowedImages.admits(ALLOWED, "not an image@sha256:12")).isFalse();
    }

    @Test
    void no_entries_admit_any_image_and_the_matcher_is_told_which_one_is_refused() {
        assertThat(AllowedImages.admits(null, "registry.example/x" + D)).as("not told: any").isTrue();
        assertThat(AllowedImages.admits(List.of(), "registry.example/x" + D)).as("the worker's empty setting: any").isTrue();
        assertThat(AllowedImages.excluded(ALLOWED, "agora/busybox:2")).contains("agora/busybox:2");
        assertThat(AllowedImages.excluded(ALLOWED, "agora/busybox:1")).isEmpty();
        assertThat(AllowedImages.excluded(null, "agora/busybox:2")).isEmpty();
        String image = "localhost:5000/agora/tool" + D;
        assertThat(AllowedImages.admits(ALLOWED, image, AllowedImages.repository(image)))
                .isEqualTo(AllowedImages.admits(ALLOWED, image)).isTrue();
        assertThat(AllowedImages.repository(image)).isEqualTo("localhost:5000/agora/tool");
        assertThat(AllowedImages.repository("x@sha256:12")).isNull();
    }
}
