package io.agora.artifacts;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class DiskArtifactStoreTest {
    @TempDir
    Path dir;

    @Test
    void storesByContentAndReadsBack() throws IOException {
        ArtifactStore store = ArtifactStores.open(dir.toString(), null, null, dir.resolve("staging"));
        byte[] data = "hello artifacts\n".getBytes(StandardCharsets.UTF_8);
        ArtifactStore.Artifact a = store.put(new ByteArrayInputStream(data), 1024);
        assertThat(a.sha256()).isEqualTo(Sha256.hex(data));
        assertThat(a.size()).isEqualTo(data.length);
        assertThat(store.size(a.sha256())).contains((long) data.length);
        try (InputStream in = store.open(a.sha256()).orElseThrow()) {
            assertThat(in.readAllBytes()).isEqualTo(data);
        }
        // the same bytes again: the same artifact, one file
        assertThat(store.put(new ByteArrayInputStream(data), 1024)).isEqualTo(a);
        assertThat(files()).hasSize(1);
    }

    @Test
    void deletesAndListsOldestWrittenFirst() throws IOException {
        DiskArtifactStore store = new DiskArtifactStore(dir);
        ArtifactStore.Artifact older = store.put(new ByteArrayInputStream("older".getBytes(StandardCharsets.UTF_8)), 100);
        ArtifactStore.Artifact newer = store.put(new ByteArrayInputStream("newer!".getBytes(StandardCharsets.UTF_8)), 100);
        assertThat(store.path(older.sha256()).toFile().setLastModified(1_000_000L)).isTrue();
        assertThat(store.list()).containsExactly(older, newer);
        assertThat(store.delete(older.sha256())).isTrue();
        assertThat(store.delete(older.sha256())).isFalse();
        assertThat(store.open(older.sha256())).isEmpty();
        assertThat(store.list()).containsExactly(newer);
    }

    @Test
    void refusesMoreThanAllowedAndKeepsNothing() throws IOException {
        ArtifactStore store = new DiskArtifactStore(dir);
        assertThatThrownBy(() -> store.put(new ByteArrayInputStream(new byte[1025]), 1024))
                .isInstanceOf(ArtifactStore.TooLarge.class).hasMessageContaining("1024");
        assertThat(files()).isEmpty();
        assertThat(store.put(new ByteArrayInputStream(new byte[1024]), 1024).size()).isEqualTo(1024);
    }

    @Test
    void anAlteredArtifactIsNeverReadAsTheOriginal() throws IOException {
        DiskArtifactStore store = new DiskArtifactStore(dir);
        ArtifactStore.Artifact a = store.put(new ByteArrayInputStream("original".getBytes(StandardCharsets.UTF_8)), 100);
        Files.writeString(store.path(a.sha256()), "altered!");
        try (InputStream in = store.open(a.sha256()).orElseThrow()) {
            assertThatThrownBy(in::readAllBytes).isInstanceOf(IOException.class).hasMessageContaining("altered");
        }
    }

    @Test
    void unknownAndMalformedNames() throws IOException {
        ArtifactStore store = new DiskArtifactStore(dir);
        String absent = Sha256.hex("never stored".getBytes(StandardCharsets.UTF_8));
        assertThat(store.open(absent)).isEmpty();
        assertThat(store.size(absent)).isEmpty();
        assertThatThrownBy(() -> store.open("../../etc/passwd")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> store.open(absent.toUpperCase())).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void aCrashedUploadIsClearedOnOpen() throws IOException {
        Files.createDirectories(dir.resolve("incoming"));
        Files.writeString(dir.resolve("incoming/incoming-1.part"), "half");
        new DiskArtifactStore(dir);
        assertThat(dir.resolve("incoming")).isEmptyDirectory();
    }

    @Test
    void s3UrlsNeedAnEndpointAndKeys() {
        assertThatThrownBy(() -> ArtifactStores.open("s3://bucket/p", "a", "b", dir))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("endpoint");
        assertThatThrownBy(() -> ArtifactStores.open("s3://bucket/p?endpoint=http://localhost:1", null, null, dir))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("ACCESS_KEY");
    }

    private java.util.List<Path> files() throws IOException {
        try (Stream<Path> s = Files.walk(dir.resolve("sha256").getParent())) {
            return s.filter(Files::isRegularFile).toList();
        }
    }
}
