package io.agora.infra;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The service catalogue {@code infra/services}: every runnable service of the market with its
 * Maven module, main class and kind, declared once and read by the scripts, the image build and
 * the Java launchers alike.
 */
public final class Services {
    public static final String FILE = "infra/services";

    /** One line of the catalogue. */
    public record Service(String name, String module, String mainClass, String kind) {
        public boolean core() {
            return kind.equals("core");
        }
    }

    private final List<Service> services;

    private Services(List<Service> services) {
        this.services = List.copyOf(services);
    }

    /** Reads the catalogue of the repository at {@code repoRoot}. */
    public static Services of(Path repoRoot) {
        try {
            return parse(Files.readAllLines(repoRoot.resolve(FILE)));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the service catalogue " + FILE, e);
        }
    }

    static Services parse(List<String> lines) {
        List<Service> out = new ArrayList<>();
        for (String line : lines) {
            String l = line.strip();
            if (l.isEmpty() || l.startsWith("#")) {
                continue;
            }
            String[] f = l.split("\\s+");
            if (f.length != 4) {
                throw new IllegalArgumentException(FILE + ": expected 'name module mainClass kind', got: " + line);
            }
            out.add(new Service(f[0], f[1], f[2], f[3]));
        }
        return new Services(out);
    }

    public List<Service> all() {
        return services;
    }

    /** The services {@code agora up} starts, in start order. */
    public List<Service> core() {
        return services.stream().filter(Service::core).toList();
    }

    public Optional<Service> named(String name) {
        return services.stream().filter(s -> s.name().equals(name)).findFirst();
    }

    public Optional<Service> byMainClass(String mainClass) {
        return services.stream().filter(s -> s.mainClass().equals(mainClass)).findFirst();
    }

    /** The Maven modules that hold a service, each once, in catalogue order. */
    public List<String> modules() {
        return services.stream().map(Service::module).distinct().toList();
    }
}
