package io.agora.infra;

import io.agora.schemas.AgoraConfig;
import io.agora.ingest.IngestApp;
import io.agora.matcher.MatcherApp;
import io.agora.market.MarketRules;
import io.agora.schemas.Topics;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.MatchResult;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The production manifests ({@code infra/deploy}) agree with the code they start. Nothing is built
 * or deployed: the YAML under {@code infra/deploy/kubernetes}, the image's entry point
 * ({@code infra/deploy/agora-service}), its Containerfile, {@code infra/bin/agora} and the modules'
 * sources are read as files. Every check collects all the problems it finds and names the file,
 * the object and the container of each.
 */
class DeployManifestsTest {
    private static final Path REPO = LocalStack.repoRoot();
    private static final Path DEPLOY = REPO.resolve("infra/deploy");
    private static final Path KUBERNETES = DEPLOY.resolve("kubernetes");
    private static final Path ENTRYPOINT = DEPLOY.resolve("agora-service");
    private static final Path CONTAINERFILE = DEPLOY.resolve("Containerfile");
    private static final Path DEV_SCRIPT = REPO.resolve("infra/bin/agora");

    private static final Set<String> WORKLOADS = Set.of("Deployment", "StatefulSet", "DaemonSet", "Job");
    private static final Pattern STRING_LITERAL = Pattern.compile("\"((?:[^\"\\\\\\n]|\\\\.)*)\"");
    private static final Pattern ENV_NAME = Pattern.compile("AGORA_[A-Z0-9_]+");
    private static final Pattern KEY = Pattern.compile("agora(\\.[a-z0-9-]+)+");
    private static final Pattern PREFIX_CONSTANT =
            Pattern.compile("String\\s+(\\w+)\\s*=\\s*\"(agora\\.[a-z0-9.-]*\\.)\"\\s*;");
    private static final Pattern PREFIX_USE = Pattern.compile("(\\w+)\\s*\\+\\s*\"([a-z0-9][a-z0-9.-]*)\"");
    /** {@code "agora." + app + ".admin.port"}: a key with one part chosen by the caller. */
    private static final Pattern KEY_TEMPLATE =
            Pattern.compile("\"(agora\\.[a-z0-9.-]*)\"\\s*\\+\\s*\\w+\\s*\\+\\s*\"(\\.[a-z0-9.-]+)\"");
    private static final Pattern LAUNCHER_APP = Pattern.compile("Launcher\\.run\\(\\s*\"([a-z0-9-]+)\"");
    private static final Pattern PLACEHOLDER = Pattern.compile("\\$\\{\\s*(AGORA_[A-Z0-9_]+)(?::([^}]*))?}");
    private static final Pattern XMX = Pattern.compile("-Xmx(\\d+)([kKmMgG]?)");

    private static List<Manifest> manifests;
    /** kustomization.yaml: a file of the folder, not an object of the cluster. */
    private static Manifest kustomization;
    private static List<Container> containers;
    private static Map<String, Launch> image;
    private static final Map<String, Reads> readsByService = new HashMap<>();

    /** One YAML document of the manifests. */
    record Manifest(Path file, Map<String, Object> doc) {
        String kind() {
            return Objects.toString(doc.get("kind"), "");
        }

        String name() {
            return str(map(doc.get("metadata")).get("name"));
        }

        String namespace() {
            return str(map(doc.get("metadata")).get("namespace"));
        }

        Map<String, Object> spec() {
            return map(doc.get("spec"));
        }

        Map<String, Object> podSpec() {
            return map(map(spec().get("template")).get("spec"));
        }

        Map<String, Object> podLabels() {
            return map(map(map(spec().get("template")).get("metadata")).get("labels"));
        }

        @Override
        public String toString() {
            return REPO.relativize(file) + " " + kind() + "/" + name();
        }
    }

    /** A container of a workload; its service is the first argument to the image's entry point. */
    record Container(Manifest owner, Map<String, Object> spec) {
        String name() {
            return str(spec.get("name"));
        }

        List<String> args() {
            return list(spec.get("args")).stream().map(DeployManifestsTest::str).toList();
        }

        String service() {
            List<String> args = args();
            return args.isEmpty() ? null : args.get(0);
        }

        /** Every environment variable: its literal value, or empty when it comes from a Secret or cannot be resolved. */
        Map<String, Optional<String>> env() {
            Map<String, Optional<String>> env = new LinkedHashMap<>();
            for (Object ref : list(spec.get("envFrom"))) {
                Map<String, Object> from = map(ref);
                configObject(from).ifPresent(cfg -> values(cfg).forEach((k, v) ->
                        env.put(k, cfg.kind().equals("ConfigMap") ? Optional.of(v) : Optional.empty())));
            }
            for (Object e : list(spec.get("env"))) {
                Map<String, Object> var = map(e);
                String name = str(var.get("name"));
                if (var.containsKey("value")) {
                    env.put(name, Optional.ofNullable(str(var.get("value"))));
                } else {
                    Map<String, Object> from = map(var.get("valueFrom"));
                    Map<String, Object> cm = map(from.get("configMapKeyRef"));
                    env.put(name, cm.isEmpty() ? Optional.empty()
                            : find("ConfigMap", str(cm.get("name"))).map(m -> values(m).get(str(cm.get("key")))));
                }
            }
            return env;
        }

        Map<String, Integer> ports() {
            Map<String, Integer> ports = new LinkedHashMap<>();
            for (Object p : list(spec.get("ports"))) {
                Map<String, Object> port = map(p);
                ports.put(Objects.toString(port.get("name"), "#" + port.get("containerPort")),
                        ((Number) port.get("containerPort")).intValue());
            }
            return ports;
        }

        /** A probe's or Service's port (number or name) as a number, or null when it names no port of this container. */
        Integer resolvePort(Object port) {
            if (port instanceof Number n) {
                return n.intValue();
            }
            return ports().get(str(port));
        }

        @Override
        public String toString() {
            return owner + " container " + name();
        }
    }

    /** How the image starts a service: the module whose jar and classpath it uses, and the main class. */
    record Launch(String module, String main) {
    }

    /** What a service's code reads from its environment: AGORA_* names and agora.* keys (dots for dashes). */
    record Reads(Set<String> envNames, Set<String> keys, Set<String> portEnv) {
        boolean reads(String env) {
            return envNames.contains(env) || keys.contains(env.toLowerCase(Locale.ROOT).replace('_', '.'));
        }
    }

    @BeforeAll
    static void readManifests() throws IOException {
        assertThat(KUBERNETES).as("the production manifests").isDirectory();
        manifests = new ArrayList<>();
        Yaml yaml = new Yaml(new SafeConstructor(new LoaderOptions()));
        try (Stream<Path> files = Files.walk(KUBERNETES)) {
            for (Path file : files.filter(f -> f.toString().endsWith(".yaml") || f.toString().endsWith(".yml")).sorted().toList()) {
                for (Object doc : yaml.loadAll(Files.readString(file))) {
                    if (doc == null) {
                        continue;
                    }
                    Manifest m = new Manifest(file, map(doc));
                    if ("Kustomization".equals(m.kind())) {
                        kustomization = m;
                    } else {
                        manifests.add(m);
                    }
                }
            }
        }
        assertThat(manifests).as("YAML documents under " + KUBERNETES).isNotEmpty();
        containers = new ArrayList<>();
        for (Manifest m : manifests) {
            if (WORKLOADS.contains(m.kind())) {
                Map<String, Object> pod = m.podSpec();
                Stream.concat(list(pod.get("initContainers")).stream(), list(pod.get("containers")).stream())
                        .forEach(c -> containers.add(new Container(m, map(c))));
            }
        }
        image = new TreeMap<>();
        Services.of(REPO).all().forEach(svc -> image.put(svc.name(), new Launch(svc.module(), svc.mainClass())));
    }

    // ------------------------------------------------------------------ the image and its entry point

    @Test
    void everyContainerStartsAServiceTheImageKnows() {
        List<String> problems = new ArrayList<>();
        Set<String> images = new TreeSet<>();
        for (Container c : containers) {
            images.add(str(c.spec().get("image")));
            if (c.spec().containsKey("command")) {
                problems.add(c + ": sets command, which bypasses the image's entry point " + ENTRYPOINT.getFileName());
            }
            String service = c.service();
            if (service == null) {
                problems.add(c + ": no args; the first argument names the service (one of " + image.keySet() + ")");
            } else if (!image.containsKey(service)) {
                problems.add(c + ": service '" + service + "' is unknown to " + REPO.relativize(ENTRYPOINT)
                        + " (it knows " + new TreeSet<>(image.keySet()) + ")");
            } else if (!service.equals(c.name())) {
                problems.add(c + ": runs service '" + service + "'; name the container after its service");
            }
        }
        assertThat(containers).as("containers in the manifests").isNotEmpty();
        assertThat(problems).as("containers and the image's entry point").isEmpty();
        assertThat(images).as("one runtime image for every service").hasSize(1);
    }

    @Test
    void everyServiceOfTheImageHasItsMainClassInItsModule() {
        List<String> problems = new ArrayList<>();
        image.forEach((service, launch) -> {
            Path source = sourceOf(launch);
            if (!Files.isRegularFile(REPO.resolve(launch.module()).resolve("pom.xml"))) {
                problems.add(service + ": module " + launch.module() + " does not exist");
            } else if (!Files.isRegularFile(source)) {
                problems.add(service + ": main class " + launch.main() + " has no source " + REPO.relativize(source));
            }
            try {
                Class.forName(launch.main(), false, DeployManifestsTest.class.getClassLoader())
                        .getMethod("main", String[].class);
            } catch (ClassNotFoundException | NoSuchMethodException e) {
                problems.add(service + ": " + launch.main() + " is not a class with main(String[]) on the classpath: " + e);
            }
        });
        // the dev script, the image's entry point and the image build all read the one catalogue
        assertThat(read(DEV_SCRIPT)).as("infra/bin/agora reads the service catalogue").contains("$REPO/" + Services.FILE);
        assertThat(read(ENTRYPOINT)).as("the entry point reads the service catalogue").contains("\"$LIB/services\"");
        assertThat(problems).as("services of " + Services.FILE).isEmpty();
    }

    @Test
    void theImageStartsServicesWithTheJvmFlagsOfTheDevScript() {
        String dev = read(DEV_SCRIPT);
        String entry = read(ENTRYPOINT);
        assertThat(assignment(entry, "AVRO_TRUST")).as("AVRO_TRUST of the entry point and of infra/bin/agora")
                .isEqualTo(assignment(dev, "AVRO_TRUST"));
        assertThat(assignment(entry, "SERVICE_JAVA_OPTS")).as("SERVICE_JAVA_OPTS of the entry point and of infra/bin/agora")
                .isEqualTo(assignment(dev, "SERVICE_JAVA_OPTS"));
        String startService = between(dev, "start_service() {", "\n}\n");
        assertThat(javaFlags(entry)).as("JVM flags before -cp: the entry point's exec java line and start_service's")
                .isEqualTo(javaFlags(startService))
                .contains("$AVRO_TRUST");
    }

    @Test
    void theContainerfileInstallsTheEntryPointAndStagesEveryModuleItStarts() {
        String containerfile = read(CONTAINERFILE);
        String entry = read(ENTRYPOINT);
        Matcher copy = Pattern.compile("(?m)^COPY infra/deploy/agora-service (\\S+)$").matcher(containerfile);
        assertThat(copy.find()).as("Containerfile copies infra/deploy/agora-service").isTrue();
        Matcher entrypoint = Pattern.compile("(?m)^ENTRYPOINT \\[\"(\\S+)\"]").matcher(containerfile);
        assertThat(entrypoint.find()).as("Containerfile has an exec-form ENTRYPOINT").isTrue();
        assertThat(entrypoint.group(1)).as("ENTRYPOINT is the copied entry point").isEqualTo(copy.group(1));
        assertThat(containerfile).as("base image of the runtime stage").contains("\nFROM eclipse-temurin:17-jre\n");

        assertThat(containerfile).as("the Containerfile copies the service catalogue where the entry point reads it")
                .contains("\nCOPY " + Services.FILE + " /opt/agora/services\n");
        String modulesOfCatalogue = "$(awk '!/^#/ && NF {print $2}' /opt/agora/services | sort -u";
        assertThat(containerfile).as("the Containerfile builds the catalogue's modules")
                .contains("-pl \"" + modulesOfCatalogue + " | paste -sd, -)\" -am");
        assertThat(containerfile).as("the Containerfile stages the catalogue's modules")
                .contains("for m in " + modulesOfCatalogue + "); do");
        for (String module : Services.of(REPO).modules()) {
            assertThat(containerfile).as("the Containerfile copies module " + module).containsPattern("(?m)^COPY " + module + " " + module + "$");
        }
        assertThat(containerfile).as("the Containerfile writes each module's classpath").contains("\"/opt/agora/$m/classpath\"");
        assertThat(assignment(entry, "LIB")).isEqualTo("/opt/agora");
        assertThat(entry).as("the entry point reads each module's classpath").contains("cpfile=\"$LIB/$module/classpath\"");
    }

    // ------------------------------------------------------------------ configuration

    @Test
    void everyAgoraVariableIsReadByTheServiceItIsSetOn() {
        // the entry point reads a variable as ${NAME:-default} (AGORA_JAVA_OPTS)
        Set<String> readByEntryPoint = new TreeSet<>();
        matches(Pattern.compile("\\$\\{(AGORA_[A-Z0-9_]+):-"), read(ENTRYPOINT)).forEach(m -> readByEntryPoint.add(m.group(1)));
        List<String> problems = new ArrayList<>();
        for (Container c : containers) {
            Launch launch = image.get(c.service());
            if (launch == null) {
                continue; // reported by everyContainerStartsAServiceTheImageKnows
            }
            Reads reads = reads(c.service());
            for (String env : c.env().keySet()) {
                // every Kafka client passes the agora.kafka.* keys on (KafkaAccess.clientProperties)
                boolean kafkaClientSetting = env.startsWith("AGORA_KAFKA_");
                if (env.startsWith("AGORA_") && !readByEntryPoint.contains(env) && !reads.reads(env) && !kafkaClientSetting) {
                    problems.add(c + ": " + env + " (key " + env.toLowerCase(Locale.ROOT).replace('_', '.')
                            + ") is read neither by " + launch.main() + " (modules " + withDependencies(launch.module())
                            + ") nor by the entry point");
                }
            }
        }
        assertThat(problems).as("AGORA_* variables the code does not read").isEmpty();
    }

    @Test
    void configMapAndSecretReferencesResolveAndEveryKeyIsUsed() {
        List<String> problems = new ArrayList<>();
        Set<String> used = new TreeSet<>();
        for (Container c : containers) {
            for (Object ref : list(c.spec().get("envFrom"))) {
                Optional<Manifest> cfg = configObject(map(ref));
                if (cfg.isEmpty()) {
                    problems.add(c + ": envFrom " + ref + " names no ConfigMap or Secret of the manifests");
                } else {
                    values(cfg.get()).keySet().forEach(k -> used.add(cfg.get().kind() + "/" + cfg.get().name() + "/" + k));
                }
            }
            for (Object e : list(c.spec().get("env"))) {
                Map<String, Object> from = map(map(e).get("valueFrom"));
                for (String kind : List.of("ConfigMap", "Secret")) {
                    Map<String, Object> ref = map(from.get(kind.equals("ConfigMap") ? "configMapKeyRef" : "secretKeyRef"));
                    if (ref.isEmpty()) {
                        continue;
                    }
                    String name = str(ref.get("name"));
                    String key = str(ref.get("key"));
                    Optional<Manifest> cfg = find(kind, name);
                    if (cfg.isEmpty() || !values(cfg.get()).containsKey(key)) {
                        problems.add(c + ": " + map(e).get("name") + " refers to " + kind + " " + name + " key " + key
                                + ", which the manifests do not define");
                    }
                    used.add(kind + "/" + name + "/" + key);
                }
            }
        }
        Map<String, String> devDefaults = devDefaults();
        for (Manifest m : manifests) {
            if (m.kind().equals("ConfigMap") || m.kind().equals("Secret")) {
                values(m).forEach((k, v) -> {
                    if (!used.contains(m.kind() + "/" + m.name() + "/" + k)) {
                        problems.add(m + ": key " + k + " is used by no container");
                    }
                    if (m.kind().equals("Secret") && v.equals(devDefaults.get(k))) {
                        problems.add(m + ": " + k + " holds the development default '" + v + "' of application.yml");
                    }
                });
            }
        }
        assertThat(problems).as("ConfigMap and Secret references").isEmpty();
    }

    /**
     * The matcher and ingest-api read the market rules with the same code ({@link MarketRules}); the
     * manifests must give both the same values (weights, starter grant, trusted pools, and the dispute fee,
     * which ingest-api checks the balance against and the matcher's admission holds).
     */
    @Test
    void matcherAndIngestApiAgreeOnTheMarketRules() {
        List<Container> matchers = containersRunning(MatcherApp.class.getName());
        List<Container> apis = containersRunning(IngestApp.class.getName());
        assertThat(matchers).as("containers running the matcher").isNotEmpty();
        assertThat(apis).as("containers running ingest-api").isNotEmpty();
        List<String> problems = new ArrayList<>();
        MarketRules rules = MarketRules.from(AgoraConfig.of(agoraKeys(matchers.get(0))));
        for (Container c : Stream.concat(matchers.stream(), apis.stream()).toList()) {
            MarketRules other = MarketRules.from(AgoraConfig.of(agoraKeys(c)));
            if (!other.equals(rules)) {
                problems.add(c + ": market rules " + other + " differ from " + matchers.get(0) + "'s " + rules);
            }
        }
        assertThat(problems).as("market rules of the matcher and ingest-api").isEmpty();
    }

    /**
     * Every key a service reads from a file ({@code AGORA_*_KEY_FILE}) is a file of a Secret mounted
     * read-only at that folder, and the matcher and ingest-api read the same proof-of-hardware
     * challenge key ({@link io.agora.schemas.ChallengeKey}): ingest-api issues the challenges the
     * matcher checks, so two keys (or none) would score every proof 0.
     */
    @Test
    void keyFilesAreMountedSecretsAndTheChallengeKeyIsShared() {
        List<String> problems = new ArrayList<>();
        Map<Container, String> challengeKeys = new LinkedHashMap<>();
        for (Container c : containers) {
            c.env().forEach((name, value) -> {
                if (!name.startsWith("AGORA_") || !name.endsWith("_KEY_FILE")) {
                    return;
                }
                String file = value.orElse("");
                String secret = secretFile(c, file);
                if (secret == null) {
                    problems.add(c + ": " + name + "=" + file + " is no file of a Secret mounted read-only at its folder");
                } else if (name.equals("AGORA_MARKET_CHALLENGE_KEY_FILE")) {
                    challengeKeys.put(c, secret);
                }
            });
        }
        List<Container> needing = Stream.concat(containersRunning(MatcherApp.class.getName()).stream(),
                containersRunning(IngestApp.class.getName()).stream()).toList();
        for (Container c : needing) {
            if (!challengeKeys.containsKey(c)) {
                problems.add(c + ": no AGORA_MARKET_CHALLENGE_KEY_FILE from a mounted Secret");
            }
        }
        if (new TreeSet<>(challengeKeys.values()).size() > 1) {
            problems.add("the challenge key differs between containers: " + challengeKeys);
        }
        assertThat(problems).as("key files").isEmpty();
    }

    /** {@code <secretName>/<key>} of the Secret mounted read-only at {@code file}'s folder, else null. */
    private static String secretFile(Container c, String file) {
        int slash = file.lastIndexOf('/');
        if (slash <= 0) {
            return null;
        }
        String dir = file.substring(0, slash);
        Map<String, Object> mount = list(c.spec().get("volumeMounts")).stream().map(DeployManifestsTest::map)
                .filter(vm -> dir.equals(str(vm.get("mountPath"))) && Boolean.TRUE.equals(vm.get("readOnly")))
                .findFirst().orElse(null);
        if (mount == null) {
            return null;
        }
        Map<String, Object> secret = list(c.owner().podSpec().get("volumes")).stream().map(DeployManifestsTest::map)
                .filter(v -> str(mount.get("name")).equals(str(v.get("name")))).map(v -> map(v.get("secret")))
                .findFirst().orElse(Map.of());
        return secret.isEmpty() ? null : secret.get("secretName") + "/" + file.substring(slash + 1);
    }

    // ------------------------------------------------------------------ the schema registry

    /**
     * The registry's trust model (ARCHITECTURE.md) in the manifests: only the registry gate reaches
     * Apicurio (the gate's upstream address appears on no other container); every other container that
     * uses the registry goes through the gate's Service and, but for the schema-setup Job, only looks
     * schemas up; a writer's credential (a registry password, or the Secret key the gate checks it
     * against) is given to the schema-setup Job alone, whose user is a writer of the gate; the gate only
     * mounts it to check it.
     */
    @Test
    void onlyTheGateTalksToTheRegistryAndOnlyTheSchemaSetupJobMayWriteThroughIt() {
        List<Container> gates = containers.stream().filter(c -> "registry-gate".equals(c.service())).toList();
        List<Container> setups = containers.stream().filter(c -> "schema-setup".equals(c.service())).toList();
        assertThat(gates).as("containers running the registry gate").hasSize(1);
        assertThat(setups).as("containers running the schema setup").hasSize(1);
        Container gate = gates.get(0);
        Container setup = setups.get(0);
        assertThat(setup.owner().kind()).as(setup + " runs once: a Job").isEqualTo("Job");
        String upstream = gate.env().getOrDefault("AGORA_REGISTRY_GATE_UPSTREAM", Optional.empty())
                .orElseThrow(() -> new AssertionError(gate + ": AGORA_REGISTRY_GATE_UPSTREAM (Apicurio's address) unset"));
        String apicurio = java.net.URI.create(upstream).getAuthority();
        Set<String> gateAddresses = new TreeSet<>();
        for (Manifest svc : manifests) {
            Map<String, Object> selector = map(svc.spec().get("selector"));
            if (svc.kind().equals("Service") && !selector.isEmpty()
                    && gate.owner().podLabels().entrySet().containsAll(selector.entrySet())) {
                for (Object p : list(svc.spec().get("ports"))) {
                    for (String host : List.of(svc.name(), svc.name() + "." + svc.namespace(), svc.name() + "."
                            + svc.namespace() + ".svc", svc.name() + "." + svc.namespace() + ".svc.cluster.local")) {
                        gateAddresses.add(host + ":" + map(p).get("port"));
                    }
                }
            }
        }
        assertThat(gateAddresses).as("a Service in front of " + gate).isNotEmpty();
        Set<String> writers = Set.of(gate.env().getOrDefault("AGORA_REGISTRY_GATE_WRITERS", Optional.of("admin"))
                .orElse("").split("\\s*,\\s*"));
        // the Secret keys the gate checks writers' passwords against (its password files), by writer
        Map<String, String> writerKeys = new TreeMap<>();
        for (Object v : list(gate.owner().podSpec().get("volumes"))) {
            Map<String, Object> secret = map(map(v).get("secret"));
            for (Object item : list(secret.get("items"))) {
                writerKeys.put(str(map(item).get("path")), secret.get("secretName") + "/" + map(item).get("key"));
            }
        }
        assertThat(writerKeys).as(gate + ": the writers' password files, mounted from a Secret").isNotEmpty();
        List<String> problems = new ArrayList<>();
        for (Container c : containers) {
            Map<String, Optional<String>> env = c.env();
            if (c != gate) {
                env.forEach((name, value) -> value.filter(v -> v.contains(apicurio)).ifPresent(v ->
                        problems.add(c + ": " + name + " names the registry itself (" + apicurio + "): only the gate may")));
                for (Object v : list(c.owner().podSpec().get("volumes"))) {
                    Map<String, Object> secret = map(map(v).get("secret"));
                    for (Object item : list(secret.get("items"))) {
                        if (writerKeys.containsValue(secret.get("secretName") + "/" + map(item).get("key"))) {
                            problems.add(c.owner() + ": mounts a registry writer's password");
                        }
                    }
                }
            }
            Map<String, String> secretKeys = secretKeys(c);
            secretKeys.forEach((name, key) -> {
                if (c != setup && writerKeys.containsValue(key)) {
                    problems.add(c + ": " + name + " holds a registry writer's password (" + key + "): only the schema setup may");
                }
            });
            Optional<String> url = env.getOrDefault("AGORA_REGISTRY_URL", Optional.empty());
            if (c == gate || !env.containsKey("AGORA_REGISTRY_URL")) {
                continue;
            }
            if (url.isEmpty() || !gateAddresses.contains(java.net.URI.create(url.get()).getAuthority())) {
                problems.add(c + ": AGORA_REGISTRY_URL " + url.orElse("(unresolved)") + " is not the gate's Service " + gateAddresses);
            }
            if (c == setup) {
                String user = env.getOrDefault("AGORA_REGISTRY_USERNAME", Optional.empty()).orElse("");
                if (!writers.contains(user) || !Objects.equals(secretKeys.get("AGORA_REGISTRY_PASSWORD"), writerKeys.get(user))) {
                    problems.add(c + ": registers as '" + user + "' with password " + secretKeys.get("AGORA_REGISTRY_PASSWORD")
                            + ": not a writer of the gate " + writers + " with the password file it checks " + writerKeys);
                }
            } else {
                if (!Optional.of("false").equals(env.getOrDefault("AGORA_REGISTRY_AUTO_REGISTER", Optional.empty()))) {
                    problems.add(c + ": AGORA_REGISTRY_AUTO_REGISTER is not \"false\": its serdes would register schemas");
                }
                if (env.containsKey("AGORA_REGISTRY_PASSWORD") && writers.contains(
                        env.getOrDefault("AGORA_REGISTRY_USERNAME", Optional.empty()).orElse(""))) {
                    problems.add(c + ": has a registry writer's credentials");
                }
            }
        }
        assertThat(problems).as("who talks to the schema registry and who may write").isEmpty();
    }

    /** A container's environment variables taken from a Secret: name to {@code <secret>/<key>}. */
    private static Map<String, String> secretKeys(Container c) {
        Map<String, String> out = new TreeMap<>();
        for (Object e : list(c.spec().get("env"))) {
            Map<String, Object> ref = map(map(map(e).get("valueFrom")).get("secretKeyRef"));
            if (!ref.isEmpty()) {
                out.put(str(map(e).get("name")), ref.get("name") + "/" + ref.get("key"));
            }
        }
        return out;
    }

    // ------------------------------------------------------------------ ports, probes and Services

    @Test
    void probesAndServicesUseThePortTheContainerConfigures() {
        List<String> problems = new ArrayList<>();
        for (Container c : containers) {
            if (!image.containsKey(c.service())) {
                continue;
            }
            Set<String> portEnv = reads(c.service()).portEnv();
            Map<String, Optional<String>> env = c.env();
            Set<Integer> configured = new TreeSet<>();
            for (String name : portEnv) {
                Optional<String> value = env.getOrDefault(name, Optional.empty());
                if (value.isPresent() && value.get().matches("\\d+")) {
                    configured.add(Integer.parseInt(value.get()));
                }
            }
            for (String kind : List.of("readinessProbe", "livenessProbe", "startupProbe")) {
                Map<String, Object> probe = map(c.spec().get(kind));
                if (probe.isEmpty()) {
                    continue;
                }
                Map<String, Object> action = probe.containsKey("httpGet") ? map(probe.get("httpGet")) : map(probe.get("tcpSocket"));
                Integer port = action.isEmpty() ? null : c.resolvePort(action.get("port"));
                if (action.isEmpty()) {
                    problems.add(c + ": " + kind + " is neither httpGet nor tcpSocket");
                } else if (port == null || !configured.contains(port)) {
                    problems.add(c + ": " + kind + " port " + action.get("port") + " is not the port its env configures ("
                            + (portEnv.isEmpty() ? "the service has no port setting" : portEnv + " = " + configured) + ")");
                } else if (probe.containsKey("httpGet") && !str(action.get("path")).startsWith("/health")) {
                    problems.add(c + ": " + kind + " path " + action.get("path") + " is not a /health endpoint");
                }
            }
            for (Integer port : c.ports().values()) {
                if (!configured.contains(port)) {
                    problems.add(c + ": containerPort " + port + " is not configured by its env " + portEnv);
                }
            }
            if (!portEnv.isEmpty() && configured.isEmpty()) {
                problems.add(c + ": sets none of " + portEnv + " to a port number: the service would use its default or none");
            }
        }
        for (Manifest svc : manifests) {
            if (!svc.kind().equals("Service")) {
                continue;
            }
            Map<String, Object> selector = map(svc.spec().get("selector"));
            List<Manifest> selected = manifests.stream()
                    .filter(m -> WORKLOADS.contains(m.kind()) && !selector.isEmpty()
                            && m.podLabels().entrySet().containsAll(selector.entrySet()))
                    .toList();
            if (selected.isEmpty()) {
                problems.add(svc + ": selector " + selector + " matches no workload of the manifests");
            }
            for (Object p : list(svc.spec().get("ports"))) {
                Map<String, Object> port = map(p);
                Object target = port.getOrDefault("targetPort", port.get("port"));
                for (Manifest w : selected) {
                    boolean served = containers.stream().anyMatch(c -> c.owner() == w && c.resolvePort(target) != null
                            && c.ports().containsValue(c.resolvePort(target)));
                    if (!served) {
                        problems.add(svc + ": targetPort " + target + " is no containerPort of " + w);
                    }
                }
            }
        }
        for (Manifest m : manifests) {
            if (m.kind().equals("StatefulSet")) {
                String governing = str(m.spec().get("serviceName"));
                boolean headless = find("Service", governing)
                        .map(s -> "None".equals(str(s.spec().get("clusterIP")))).orElse(false);
                if (!headless) {
                    problems.add(m + ": serviceName " + governing + " is not a headless Service of the manifests");
                }
            }
        }
        assertThat(problems).as("ports, probes and Services").isEmpty();
    }

    // ------------------------------------------------------------------ scaling and state

    @Test
    void partitionedServicesRunNoMoreInstancesThanPartitions() {
        List<String> problems = new ArrayList<>();
        for (Container c : containers) {
            Launch launch = image.get(c.service());
            if (launch == null) {
                continue;
            }
            boolean streams = read(sourceOf(launch)).contains("StreamsService");
            boolean group = appSources(launch.module()).stream().anyMatch(s -> s.contains("GROUP_ID_CONFIG"));
            Manifest w = c.owner();
            if (streams && !w.kind().equals("StatefulSet")) {
                problems.add(c + ": a Kafka Streams app (" + launch.main() + ") runs as a " + w.kind()
                        + "; use a StatefulSet, so each instance keeps its own state volume");
            }
            if ((streams || group) && !w.kind().equals("DaemonSet")) {
                int replicas = ((Number) w.spec().getOrDefault("replicas", 1)).intValue();
                if (replicas < 1 || replicas > Topics.PARTITIONS) {
                    problems.add(c + ": replicas " + replicas + "; " + launch.main() + " consumes topics of "
                            + "Topics.PARTITIONS = " + Topics.PARTITIONS + " partitions: 1.." + Topics.PARTITIONS + " instances");
                }
            }
        }
        assertThat(problems).as("instances of partitioned services").isEmpty();
    }

    @Test
    void stateDirectoriesLiveOnPersistentVolumes() {
        List<String> problems = new ArrayList<>();
        for (Container c : containers) {
            Launch launch = image.get(c.service());
            if (launch == null) {
                continue;
            }
            List<String> own = appSources(launch.module());
            boolean keepsState = own.stream().anyMatch(s -> s.contains("stateDir()"));
            boolean bindsThroughTheEngine = own.stream().anyMatch(s -> s.contains("new Bind("));
            Map<String, Optional<String>> env = c.env();
            List<String> stateVars = env.keySet().stream().filter(k -> k.matches("AGORA_([A-Z0-9]+_)?STATE_DIR")).toList();
            if (keepsState && stateVars.isEmpty()) {
                problems.add(c + ": " + launch.main() + " keeps local state but no AGORA_*STATE_DIR is set "
                        + "(the default is under the container's /tmp)");
            }
            for (String var : stateVars) {
                String dir = env.get(var).orElse("");
                Map<String, Object> mount = list(c.spec().get("volumeMounts")).stream().map(DeployManifestsTest::map)
                        .filter(vm -> dir.equals(str(vm.get("mountPath"))) || dir.startsWith(str(vm.get("mountPath")) + "/"))
                        .findFirst().orElse(null);
                if (mount == null) {
                    problems.add(c + ": " + var + "=" + dir + " is on no volume mount");
                    continue;
                }
                String volume = str(mount.get("name"));
                Manifest w = c.owner();
                boolean claimTemplate = list(w.spec().get("volumeClaimTemplates")).stream()
                        .anyMatch(t -> volume.equals(str(map(map(t).get("metadata")).get("name"))));
                Map<String, Object> podVolume = list(w.podSpec().get("volumes")).stream().map(DeployManifestsTest::map)
                        .filter(v -> volume.equals(str(v.get("name")))).findFirst().orElse(Map.of());
                Map<String, Object> hostPath = map(podVolume.get("hostPath"));
                String where = c + ": " + var + "=" + dir + " on volume " + volume;
                switch (w.kind()) {
                    case "StatefulSet" -> {
                        if (!claimTemplate) {
                            problems.add(where + ", which is not one of the StatefulSet's volumeClaimTemplates");
                        }
                    }
                    case "DaemonSet" -> {
                        if (hostPath.isEmpty()) {
                            problems.add(where + ", which is not a hostPath: a DaemonSet pod's state must stay on its node");
                        }
                    }
                    default -> {
                        int replicas = ((Number) w.spec().getOrDefault("replicas", 1)).intValue();
                        if (!podVolume.containsKey("persistentVolumeClaim") || replicas != 1) {
                            problems.add(where + ": a " + w.kind() + " keeps state only on a persistentVolumeClaim with one replica");
                        }
                    }
                }
                boolean sameHostPath = !hostPath.isEmpty() && mount.get("mountPath").equals(hostPath.get("path"));
                if (bindsThroughTheEngine && !sameHostPath) {
                    problems.add(where + ": " + launch.main() + " has the node's Docker Engine bind-mount folders of its "
                            + "state dir, so it must be a hostPath mounted at the same path as on the node");
                }
            }
        }
        assertThat(problems).as("state directories").isEmpty();
    }

    @Test
    void theHeapFitsTheMemoryLimit() {
        String defaultOpts = Optional.ofNullable(between(read(ENTRYPOINT), "${AGORA_JAVA_OPTS:-", "}")).orElse("");
        List<String> problems = new ArrayList<>();
        for (Container c : containers) {
            String opts = c.env().getOrDefault("AGORA_JAVA_OPTS", Optional.of(defaultOpts)).orElse(defaultOpts);
            Matcher xmx = XMX.matcher(opts);
            Map<String, Object> resources = map(c.spec().get("resources"));
            Object limitValue = map(resources.get("limits")).get("memory");
            Object requestValue = map(resources.get("requests")).get("memory");
            if (!xmx.find()) {
                problems.add(c + ": AGORA_JAVA_OPTS '" + opts + "' sets no -Xmx");
            } else if (limitValue == null || requestValue == null) {
                problems.add(c + ": needs resources.requests.memory and resources.limits.memory");
            } else {
                long heap = Long.parseLong(xmx.group(1)) * switch (xmx.group(2).toLowerCase(Locale.ROOT)) {
                    case "k" -> 1024L;
                    case "m" -> 1024L * 1024;
                    case "g" -> 1024L * 1024 * 1024;
                    default -> 1L;
                };
                long limit = bytes(str(limitValue));
                long request = bytes(str(requestValue));
                if (request > limit) {
                    problems.add(c + ": memory request " + requestValue + " above its limit " + limitValue);
                }
                // the rest is metaspace, threads, direct buffers and, in the streams apps, RocksDB
                if (heap * 2 > limit) {
                    problems.add(c + ": -Xmx" + xmx.group(1) + xmx.group(2) + " is more than half its memory limit " + limitValue);
                }
            }
        }
        assertThat(problems).as("JVM heap and memory limits").isEmpty();
    }

    @Test
    void kustomizationAppliesEveryManifestButTheSecretTemplate() {
        assertThat(kustomization).as("kustomization.yaml in " + KUBERNETES).isNotNull();
        Set<String> withSecret = new TreeSet<>();
        Set<String> others = new TreeSet<>();
        for (Manifest m : manifests) {
            (m.kind().equals("Secret") ? withSecret : others).add(KUBERNETES.relativize(m.file()).toString());
        }
        others.removeAll(withSecret);
        Set<String> resources = new TreeSet<>();
        list(kustomization.doc().get("resources")).forEach(r -> resources.add(str(r)));
        assertThat(resources).as("kustomization.yaml resources: every manifest file but the Secret templates "
                + withSecret + ", whose placeholders would replace the real values").isEqualTo(others);
        Set<String> images = new TreeSet<>();
        containers.forEach(c -> images.add(str(c.spec().get("image")).replaceFirst(":[^:/]+$", "")));
        Set<String> overridden = new TreeSet<>();
        list(kustomization.doc().get("images")).forEach(i -> overridden.add(str(map(i).get("name"))));
        assertThat(overridden).as("kustomization.yaml images: the containers' image").isEqualTo(images);
    }

    @Test
    void everythingLivesInTheNamespaceOfTheManifests() {
        List<Manifest> namespaces = manifests.stream().filter(m -> m.kind().equals("Namespace")).toList();
        assertThat(namespaces).as("one Namespace document").hasSize(1);
        String namespace = namespaces.get(0).name();
        List<String> problems = manifests.stream()
                .filter(m -> !m.kind().equals("Namespace") && !namespace.equals(m.namespace()))
                .map(m -> m + ": namespace " + m.namespace() + ", not " + namespace)
                .toList();
        assertThat(problems).as("namespaces").isEmpty();
    }

    // ------------------------------------------------------------------ what the code reads

    /**
     * What a service reads from its environment, from its sources (its module and the io.agora
     * modules it depends on): AGORA_* names in string literals (System.getenv, picocli, messages);
     * when it loads {@code AgoraConfig} (through the Launcher or directly), every agora.* key in
     * a string literal, {@code PREFIX + "suffix"} keys and the Launcher's per-app keys such as
     * {@code "agora." + app + ".admin.port"} for the app name its main class passes to
     * {@code Launcher.run}; when it is a Micronaut app, the {@code ${AGORA_*}} placeholders of its
     * application.yml and the agora.* keys in its own sources.
     */
    private static Reads reads(String service) {
        return readsByService.computeIfAbsent(service, s -> {
            Launch launch = image.get(s);
            List<String> all = new ArrayList<>();
            withDependencies(launch.module()).forEach(m -> all.addAll(javaSources(m).values()));
            String main = read(sourceOf(launch));
            Set<String> env = new TreeSet<>();
            Set<String> keys = new TreeSet<>();
            Set<String> portEnv = new TreeSet<>();
            all.forEach(src -> literals(src).forEach(lit -> env.addAll(envNames(lit))));
            boolean loadsAgoraConfig = main.contains("Launcher.run(")
                    || appSources(launch.module()).stream().anyMatch(src -> src.contains("AgoraConfig.load("));
            if (loadsAgoraConfig) {
                Map<String, String> prefixes = new HashMap<>();
                all.forEach(src -> matches(PREFIX_CONSTANT, src).forEach(m -> prefixes.put(m.group(1), m.group(2))));
                Set<String> apps = new TreeSet<>();
                matches(LAUNCHER_APP, main).forEach(m -> apps.add(m.group(1)));
                for (String src : all) {
                    literals(src).stream().filter(lit -> KEY.matcher(lit).matches()).forEach(lit -> keys.add(dotted(lit)));
                    matches(PREFIX_USE, src).stream().filter(m -> prefixes.containsKey(m.group(1)))
                            .forEach(m -> keys.add(dotted(prefixes.get(m.group(1)) + m.group(2))));
                    for (MatchResult t : matches(KEY_TEMPLATE, src)) {
                        for (String app : apps) {
                            String key = dotted(t.group(1) + app + t.group(2));
                            keys.add(key);
                            if (key.endsWith(".port")) {
                                portEnv.add(key.toUpperCase(Locale.ROOT).replace('.', '_'));
                            }
                        }
                    }
                }
            }
            if (loadsAgoraConfig) {
                // a port key the main class reads itself (the registry gate's agora.registry.gate.port)
                literals(main).stream().filter(lit -> KEY.matcher(lit).matches() && lit.endsWith(".port"))
                        .forEach(lit -> portEnv.add(dotted(lit).toUpperCase(Locale.ROOT).replace('.', '_')));
            }
            if (main.contains("Micronaut.run(")) {
                Path yml = REPO.resolve(launch.module()).resolve("src/main/resources/application.yml");
                String text = read(yml);
                matches(PLACEHOLDER, text).forEach(m -> env.add(m.group(1)));
                appSources(launch.module()).forEach(src -> literals(src).stream().filter(lit -> KEY.matcher(lit).matches())
                        .forEach(lit -> keys.add(dotted(lit))));
                Map<String, Object> micronaut = map(map(new Yaml(new SafeConstructor(new LoaderOptions())).load(text)).get("micronaut"));
                Object port = map(micronaut.get("server")).get("port");
                matches(PLACEHOLDER, Objects.toString(port, "")).forEach(m -> portEnv.add(m.group(1)));
            }
            return new Reads(env, keys, portEnv);
        });
    }

    private static String dotted(String key) {
        return key.replace('-', '.');
    }

    /** The development defaults of the Micronaut apps' placeholders ({@code ${AGORA_ADMIN_TOKEN:dev-admin-token}}). */
    private static Map<String, String> devDefaults() {
        Map<String, String> defaults = new TreeMap<>();
        image.values().stream().map(Launch::module).distinct().forEach(module -> {
            Path yml = REPO.resolve(module).resolve("src/main/resources/application.yml");
            if (Files.isRegularFile(yml)) {
                matches(PLACEHOLDER, read(yml)).stream().filter(m -> m.group(2) != null)
                        .forEach(m -> defaults.put(m.group(1), m.group(2).replace("`", "")));
            }
        });
        return defaults;
    }

    /** The module and the io.agora modules it needs at run time (non-test dependencies in the poms), transitively. */
    private static List<String> withDependencies(String module) {
        Set<String> out = new LinkedHashSet<>();
        List<String> todo = new ArrayList<>(List.of(module));
        while (!todo.isEmpty()) {
            String m = todo.remove(0);
            if (!out.add(m)) {
                continue;
            }
            Matcher dep = Pattern.compile("<dependency>(.*?)</dependency>", Pattern.DOTALL)
                    .matcher(read(REPO.resolve(m).resolve("pom.xml")));
            while (dep.find()) {
                String d = dep.group(1);
                Matcher artifact = Pattern.compile("<artifactId>([^<]+)</artifactId>").matcher(d);
                if (d.contains("<groupId>io.agora</groupId>") && !d.contains("<scope>test</scope>") && artifact.find()) {
                    todo.add(artifact.group(1).trim());
                }
            }
        }
        return List.copyOf(out);
    }

    private static final Map<String, Map<String, String>> SOURCES = new HashMap<>();

    private static Map<String, String> javaSources(String module) {
        return SOURCES.computeIfAbsent(module, m -> {
            Map<String, String> out = new TreeMap<>();
            Path dir = REPO.resolve(m).resolve("src/main/java");
            if (Files.isDirectory(dir)) {
                try (Stream<Path> files = Files.walk(dir)) {
                    files.filter(f -> f.toString().endsWith(".java")).forEach(f -> out.put(f.toString(), read(f)));
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }
            return out;
        });
    }

    /**
     * A module's own code: its sources without {@code io.agora.runtime}, the shared launcher and
     * configuration classes every app carries (they define {@code stateDir()} and call
     * {@code AgoraConfig.load} whether or not the app at hand uses them).
     */
    private static List<String> appSources(String module) {
        return javaSources(module).entrySet().stream()
                .filter(f -> !f.getKey().replace('\\', '/').contains("/io/agora/runtime/"))
                .filter(f -> !f.getKey().replace('\\', '/').endsWith("/io/agora/schemas/AgoraConfig.java"))
                .map(Map.Entry::getValue)
                .toList();
    }

    private static Path sourceOf(Launch launch) {
        return REPO.resolve(launch.module()).resolve("src/main/java").resolve(launch.main().replace('.', '/') + ".java");
    }

    private static List<String> literals(String source) {
        List<String> out = new ArrayList<>();
        Matcher m = STRING_LITERAL.matcher(source);
        while (m.find()) {
            out.add(m.group(1));
        }
        return out;
    }

    private static Set<String> envNames(String text) {
        Set<String> out = new TreeSet<>();
        Matcher m = ENV_NAME.matcher(text);
        while (m.find()) {
            out.add(m.group());
        }
        return out;
    }

    private static List<MatchResult> matches(Pattern p, String text) {
        List<MatchResult> out = new ArrayList<>();
        Matcher m = p.matcher(text);
        while (m.find()) {
            out.add(m.toMatchResult());
        }
        return out;
    }

    // ------------------------------------------------------------------ scripts

    /** The words between {@code java} and {@code -cp} of the script's {@code exec [setsid] java} line. */
    private static List<String> javaFlags(String script) {
        String joined = script.replace("\\\n", " ");
        Matcher m = Pattern.compile("exec (?:setsid )?java (.*?) -cp ").matcher(joined);
        assertThat(m.find()).as("an exec java ... -cp line in\n" + script).isTrue();
        return List.of(m.group(1).trim().split("\\s+"));
    }

    private static String assignment(String script, String variable) {
        Matcher m = Pattern.compile("(?m)^" + variable + "=\"?([^\"\\n]*)\"?$").matcher(script);
        assertThat(m.find()).as(variable + "=... in a script").isTrue();
        return m.group(1);
    }

    private static String between(String text, String start, String end) {
        int from = text.indexOf(start);
        if (from < 0) {
            return null;
        }
        int to = text.indexOf(end, from + start.length());
        return to < 0 ? null : text.substring(from + start.length(), to);
    }

    // ------------------------------------------------------------------ manifests

    private static List<Container> containersRunning(String main) {
        return containers.stream()
                .filter(c -> image.containsKey(c.service()) && image.get(c.service()).main().equals(main))
                .toList();
    }

    /** A container's AGORA_* variables with a literal value, as the AgoraConfig keys they become. */
    private static Map<String, String> agoraKeys(Container c) {
        Map<String, String> keys = new TreeMap<>();
        c.env().forEach((name, value) -> {
            if (name.startsWith("AGORA_") && value.isPresent()) {
                keys.put(name.toLowerCase(Locale.ROOT).replace('_', '.'), value.get());
            }
        });
        return keys;
    }

    private static Optional<Manifest> find(String kind, String name) {
        return manifests.stream().filter(m -> m.kind().equals(kind) && Objects.equals(m.name(), name)).findFirst();
    }

    private static Optional<Manifest> configObject(Map<String, Object> envFrom) {
        Map<String, Object> cm = map(envFrom.get("configMapRef"));
        Map<String, Object> secret = map(envFrom.get("secretRef"));
        return !cm.isEmpty() ? find("ConfigMap", str(cm.get("name"))) : find("Secret", str(secret.get("name")));
    }

    /** The keys and values of a ConfigMap ({@code data}) or Secret ({@code stringData}, {@code data} decoded). */
    private static Map<String, String> values(Manifest m) {
        Map<String, String> out = new TreeMap<>();
        map(m.doc().get("data")).forEach((k, v) -> out.put(k, m.kind().equals("Secret")
                ? new String(Base64.getDecoder().decode(str(v)), StandardCharsets.UTF_8) : str(v)));
        map(m.doc().get("stringData")).forEach((k, v) -> out.put(k, str(v)));
        return out;
    }

    /** A Kubernetes memory quantity in bytes: 512Mi, 1Gi, 500M, 1G or plain bytes. */
    private static long bytes(String quantity) {
        Matcher m = Pattern.compile("(\\d+)(Ki|Mi|Gi|Ti|k|M|G|T)?").matcher(quantity);
        assertThat(m.matches()).as("memory quantity " + quantity).isTrue();
        long n = Long.parseLong(m.group(1));
        return n * switch (Objects.toString(m.group(2), "")) {
            case "Ki" -> 1L << 10;
            case "Mi" -> 1L << 20;
            case "Gi" -> 1L << 30;
            case "Ti" -> 1L << 40;
            case "k" -> 1_000L;
            case "M" -> 1_000_000L;
            case "G" -> 1_000_000_000L;
            case "T" -> 1_000_000_000_000L;
            default -> 1L;
        };
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> map(Object o) {
        return o instanceof Map<?, ?> m ? (Map<String, Object>) m : Map.of();
    }

    private static List<Object> list(Object o) {
        return o instanceof List<?> l ? new ArrayList<>(l) : List.of();
    }

    private static String str(Object o) {
        return o == null ? null : o.toString();
    }

    private static String read(Path file) {
        try {
            return Files.readString(file);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file, e);
        }
    }
}
