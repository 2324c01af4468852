package io.agora.worker;

import io.agora.schemas.AgoraConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

class AdminTokenTest {
    @TempDir
    Path dir;

    @Test
    void withoutAConfiguredTokenEachStartMakesOneOnlyTheOwnerCanRead() throws Exception {
        WorkerConfig cfg = WorkerConfig.from(AgoraConfig.of(Map.of("agora.worker.state.dir", dir.toString())));
        String first = AdminToken.resolve(cfg);
        Path file = dir.resolve(AdminToken.FILE);
        assertThat(first).hasSize(64);
        assertThat(Files.readString(file).trim()).isEqualTo(first).isEqualTo(AdminToken.read(cfg));
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file))).isEqualTo("rw-------");
        assertThat(AdminToken.resolve(cfg)).isNotEqualTo(first);
    }

    @Test
    void aConfiguredTokenIsUsedAndNothingIsWritten() throws Exception {
        WorkerConfig cfg = WorkerConfig.from(AgoraConfig.of(Map.of("agora.worker.state.dir", dir.toString(),
                "agora.worker.admin.token", "from-the-operator")));
        assertThat(AdminToken.resolve(cfg)).isEqualTo("from-the-operator").isEqualTo(AdminToken.read(cfg));
        assertThat(dir.resolve(AdminToken.FILE)).doesNotExist();
    }
}
