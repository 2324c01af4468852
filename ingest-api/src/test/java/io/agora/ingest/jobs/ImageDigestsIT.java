package io.agora.ingest.jobs;

import io.agora.schemas.testing.OciTestRegistry;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Tags resolve to the digest a real registry (Debian's docker-registry) serves; an unknown image is
 * a problem naming it. Needs the Docker engine and the job image {@code agora/busybox:1}
 * ({@code agora docker-up} builds it).
 */
class ImageDigestsIT {
    static final int PORT = 19503; // below the kernel's ephemeral range (32768-60999)

    @TempDir
    static Path dir;
    static OciTestRegistry registry;
    static String pushed;
    final ImageDigests digests = new ImageDigests();

    @BeforeAll
    static void registryWithTheJobImage() throws Exception {
        registry = OciTestRegistry.start(PORT, dir);
        pushed = registry.push("agora/busybox:1");
    }

    @AfterAll
    static void stop() throws Exception {
        OciTestRegistry.docker("rmi", registry.host() + "/agora/busybox:1");
        registry.close();
    }

    @Test
    void a_tag_resolves_to_the_digest_the_registry_serves() {
        ImageDigests.Pinned p = digests.pin(registry.host() + "/agora/busybox:1");
        assertThat(p.problem()).isNull();
        assertThat(p.image()).isEqualTo(pushed).matches(registry.host() + "/agora/busybox@sha256:[0-9a-f]{64}");
    }

    @Test
    void a_digest_is_checked_and_kept() {
        assertThat(digests.pin(pushed)).isEqualTo(new ImageDigests.Pinned(pushed, null));
        String other = registry.host() + "/agora/busybox@sha256:" + "0".repeat(64);
        assertThat(digests.pin(other).problem().message()).startsWith("unknown image " + other);
    }

    @Test
    void an_unknown_image_is_a_problem_naming_it() {
        String unknown = registry.host() + "/agora/nothing:1";
        ImageDigests.Pinned p = digests.pin(unknown);
        assertThat(p.image()).isNull();
        assertThat(p.problem().field()).isEqualTo("image");
        assertThat(p.problem().message()).isEqualTo("unknown image " + unknown + ": registry " + registry.host()
                + " has no manifest agora/nothing:1");
        assertThat(digests.pin(registry.host() + "/agora/busybox:2").problem().message()).startsWith("unknown image");
    }
}
