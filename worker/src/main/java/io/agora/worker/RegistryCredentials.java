package io.agora.worker;

import com.github.dockerjava.api.model.AuthConfig;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The secrets this worker shows OCI registries that refuse anonymous pulls, read from the file
 * {@code registry.auth} names (an owner-only file, e.g. a mounted Kubernetes secret), one registry a
 * line: {@code <registry> <username> <password>} or {@code <registry> token <bearer token>}; blank
 * lines and lines starting with {@code #} are skipped. The registry is {@code host[:port]} as images
 * name it. Secrets are handed to the engine with the pull and never logged: {@link #toString()} and
 * every parse error name the registry and the line, never the secret.
 */
final class RegistryCredentials {
    /** One registry's secret. */
    record Secret(String username, String password, String token) {
        AuthConfig auth(String registry) {
            AuthConfig a = new AuthConfig().withRegistryAddress(registry);
            return token != null ? a.withRegistrytoken(token) : a.withUsername(username).withPassword(password);
        }

        @Override
        public String toString() {
            return token != null ? "token ****" : username + " ****";
        }
    }

    static final RegistryCredentials NONE = new RegistryCredentials(Map.of());

    private final Map<String, Secret> byRegistry;

    private RegistryCredentials(Map<String, Secret> byRegistry) {
        this.byRegistry = Map.copyOf(byRegistry);
    }

    /** The file's credentials; an empty {@code file} means none. Fails, naming the line, on a malformed one. */
    static RegistryCredentials load(String file) {
        if (file == null || file.isBlank()) {
            return NONE;
        }
        try {
            return parse(Files.readString(Path.of(file), StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new IllegalStateException("registry credentials " + file + " cannot be read: " + e.getMessage(), e);
        } catch (IllegalArgumentException e) {
            throw new IllegalStateException("registry credentials " + file + ": " + e.getMessage(), e);
        }
    }

    static RegistryCredentials parse(String text) {
        Map<String, Secret> out = new LinkedHashMap<>();
        List<String> problems = new ArrayList<>();
        String[] lines = text.split("\n");
        for (int i = 0; i < lines.length; i++) {
            String line = lines[i].strip();
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            String[] f = line.split("\\s+");
            if (f.length != 3) {
                problems.add("line " + (i + 1) + " has " + f.length + " fields, not 3 (<registry> <username> <password>"
                        + " or <registry> token <token>)");
            } else if (f[0].contains("/")) {
                problems.add("line " + (i + 1) + ": " + f[0] + " is not a registry (host[:port], no path)");
            } else if (out.containsKey(f[0])) {
                problems.add("line " + (i + 1) + ": registry " + f[0] + " appears twice");
            } else {
                out.put(f[0], f[1].equals("token") ? new Secret(null, null, f[2]) : new Secret(f[1], f[2], null));
            }
        }
        if (!problems.isEmpty()) {
            throw new IllegalArgumentException(String.join("; ", problems));
        }
        return new RegistryCredentials(out);
    }

    /** The secret for the registry {@code image} names, if this worker holds one. */
    Optional<Secret> forImage(String image) {
        return ImagePulls.registry(image).map(byRegistry::get);
    }

    @Override
    public String toString() {
        return "RegistryCredentials" + byRegistry.keySet();
    }
}
