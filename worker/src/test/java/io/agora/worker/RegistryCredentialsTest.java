package io.agora.worker;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class RegistryCredentialsTest {

    @Test
    void eachRegistryGetsItsOwnSecretAndImagesElsewhereNone() {
        RegistryCredentials c = RegistryCredentials.parse("""
                # registry  username  password
                registry.example.com:5000 alice s3cret

                ghcr.io token tok-123
                """);
        String digest = "@sha256:" + "a".repeat(64);
        var alice = c.forImage("registry.example.com:5000/team/app" + digest).orElseThrow();
        assertThat(alice.auth("registry.example.com:5000").getUsername()).isEqualTo("alice");
        assertThat(alice.auth("registry.example.com:5000").getPassword()).isEqualTo("s3cret");
        assertThat(c.forImage("ghcr.io/x/y" + digest).orElseThrow().auth("ghcr.io").getRegistrytoken()).isEqualTo("tok-123");
        assertThat(c.forImage("registry.example.com:5001/team/app" + digest)).isEmpty();
        assertThat(c.forImage("agora/busybox:1")).isEmpty();
    }

    @Test
    void secretsNeverShowInTextOrErrors() {
        RegistryCredentials c = RegistryCredentials.parse("r:5000 alice s3cret\nq:5000 token tok-123\n");
        assertThat(c.toString()).contains("r:5000", "q:5000").doesNotContain("s3cret", "tok-123");
        assertThat(c.forImage("r:5000/a@sha256:" + "b".repeat(64)).orElseThrow().toString())
                .isEqualTo("alice ****");
        assertThatThrownBy(() -> RegistryCredentials.parse("r:5000 alice s3cret extra\nr:5000/path bob pw\nq bob pw\nq bob pw2"))
                .hasMessage("line 1 has 4 fields, not 3 (<registry> <username> <password> or <registry> token <token>);"
                        + " line 2: r:5000/path is not a registry (host[:port], no path); line 4: registry q appears twice")
                .message().doesNotContain("s3cret", "pw2");
    }

    @Test
    void noFileMeansNoCredentialsAndAMissingOneStopsTheWorker() {
        assertThat(RegistryCredentials.load("").forImage("r:5000/a@sha256:" + "b".repeat(64))).isEmpty();
        assertThatThrownBy(() -> RegistryCredentials.load("/nonexistent/registry-auth"))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("/nonexistent/registry-auth cannot be read");
    }
}
