package io.agora.schemas.testing;

import org.bouncycastle.crypto.generators.OpenBSDBCrypt;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * A real OCI registry for the tests that pull or resolve images: Debian's {@code docker-registry}
 * (the CNCF distribution, {@code apt-get install docker-registry}) on 127.0.0.1:{@code port}, storage
 * under {@code dir}. {@link #push} puts a local image in it with the Docker CLI (Docker speaks plain
 * HTTP to loopback registries) and gives back {@code name@sha256:...}.
 */
public final class OciTestRegistry implements AutoCloseable {
    private final Process process;
    private final int port;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    private OciTestRegistry(Process process, int port) {
        this.process = process;
        this.port = port;
    }

    /** Starts it and waits until its API root answers (it fails loudly when the package is missing). */
    public static OciTestRegistry start(int port, Path dir) throws Exception {
        return start(port, dir, List.of());
    }

    /**
     * Starts one that serves only {@code user} with {@code password} (htpasswd, bcrypt), on the
     * storage under {@code dir}: started on the same {@code dir} as an open one, it serves the images
     * pushed there (the Docker CLI then pushes without a login).
     */
    public static OciTestRegistry startWithLogin(int port, Path dir, String user, String password) throws Exception {
        Files.createDirectories(dir);
        Path htpasswd = dir.resolve("htpasswd-" + port);
        byte[] salt = new byte[16];
        new SecureRandom().nextBytes(salt);
        Files.writeString(htpasswd, user + ":" + OpenBSDBCrypt.generate("2y", password.toCharArray(), salt, 6) + "\n");
        return start(port, dir, List.of("auth:", "  htpasswd:", "    realm: agora-test", "    path: " + htpasswd));
    }

    private static OciTestRegistry start(int port, Path dir, List<String> auth) throws Exception {
        Files.createDirectories(dir);
        Path config = dir.resolve("registry-" + port + ".yml");
        List<String> yml = new ArrayList<>(List.of("version: 0.1", "log:", "  level: warn", "storage:",
                "  filesystem:", "    rootdirectory: " + dir.resolve("data"), "http:", "  addr: 127.0.0.1:" + port));
        yml.addAll(auth);
        Files.writeString(config, String.join("\n", yml) + "\n");
        Path log = dir.resolve("registry-" + port + ".log");
        Process p = new ProcessBuilder("/usr/bin/docker-registry", "serve", config.toString())
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        OciTestRegistry r = new OciTestRegistry(p, port);
        int ready = auth.isEmpty() ? 200 : 401;
        for (int i = 0; ; i++) {
            try {
                if (r.http.send(HttpRequest.newBuilder(URI.create("http://" + r.host() + "/v2/")).build(),
                        HttpResponse.BodyHandlers.discarding()).statusCode() == ready) {
                    return r;
                }
            } catch (IOException e) {
                if (!p.isAlive() || i >= 200) {
                    r.close();
                    throw new IllegalStateException("docker-registry did not start: " + Files.readString(log), e);
                }
                Thread.sleep(50);
            }
        }
    }

    /** {@code localhost:port}. */
    public String host() {
        return "localhost:" + port;
    }

    /** Tags {@code localImage} (repository:tag) into this registry and pushes it; {@code host/repository@digest}. */
    public String push(String localImage) throws Exception {
        String tagged = host() + "/" + localImage;
        docker("tag", localImage, tagged);
        docker("push", "-q", tagged);
        String repository = localImage.substring(0, localImage.lastIndexOf(':'));
        String tag = localImage.substring(localImage.lastIndexOf(':') + 1);
        HttpResponse<Void> head = http.send(HttpRequest.newBuilder(URI.create("http://" + host() + "/v2/" + repository + "/manifests/" + tag))
                .method("HEAD", HttpRequest.BodyPublishers.noBody())
                .header("Accept", "application/vnd.docker.distribution.manifest.v2+json")
                .header("Accept", "application/vnd.oci.image.manifest.v1+json").build(), HttpResponse.BodyHandlers.discarding());
        return host() + "/" + repository + "@" + head.headers().firstValue("Docker-Content-Digest").orElseThrow();
    }

    /** Runs the Docker CLI; its output when it fails. */
    public static void docker(String... args) throws Exception {
        String[] cmd = new String[args.length + 1];
        cmd[0] = "docker";
        System.arraycopy(args, 0, cmd, 1, args.length);
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (p.waitFor() != 0) {
            throw new IllegalStateException(String.join(" ", cmd) + " failed: " + out);
        }
    }

    @Override
    public void close() throws InterruptedException {
        process.destroy();
        process.waitFor();
    }
}
