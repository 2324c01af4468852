package io.agora.infra.market;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * One service of the market running as its own JVM, so tests can kill it with SIGKILL
 * ({@link #kill()}) exactly as a crash would, and start it again with the same state.
 */
public final class ServiceProcess {
    private final String name;
    private final String mainClass;
    private final List<String> args;
    private final Map<String, String> env;
    private final Path log;
    private final String classpath;
    private Process process;

    ServiceProcess(String name, String mainClass, List<String> args, Map<String, String> env, Path log, String classpath) {
        this.name = name;
        this.mainClass = mainClass;
        this.args = args;
        this.env = env;
        this.log = log;
        this.classpath = classpath;
    }

    public synchronized ServiceProcess start() {
        if (process != null && process.isAlive()) {
            return this;
        }
        String java = ProcessHandle.current().info().command().orElse("java");
        List<String> cmd = new ArrayList<>();
        cmd.add(java);
        cmd.addAll(jvmOptions());
        cmd.addAll(List.of("-Dorg.apache.avro.SERIALIZABLE_PACKAGES=io.agora.events", "-cp", classpath, mainClass));
        cmd.addAll(args);
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.environment().putAll(env);
        pb.redirectErrorStream(true);
        try {
            Files.createDirectories(log.getParent());
            pb.redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
            process = pb.start();
        } catch (IOException e) {
            throw new IllegalStateException("cannot start " + name, e);
        }
        return this;
    }

    /**
     * Heap, GC and JIT options of the service JVMs: small heaps and C1 only (fast start, what tests
     * want); the system property {@value #JVM_OPTS_PROPERTY} (space separated) replaces them, e.g.
     * for a benchmark with the full JIT.
     */
    public static List<String> jvmOptions() {
        String opts = System.getProperty(JVM_OPTS_PROPERTY);
        if (opts != null && !opts.isBlank()) {
            return List.of(opts.trim().split("\\s+"));
        }
        return List.of("-Xms64m", "-Xmx384m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1");
    }

    /** System property overriding {@link #jvmOptions()}. */
    public static final String JVM_OPTS_PROPERTY = "agora.market.jvmOpts";

    /** SIGKILL: no shutdown hook runs, nothing is flushed. */
    public synchronized void kill() {
        if (process != null) {
            process.destroyForcibly();
            waitFor(Duration.ofSeconds(10));
        }
    }

    /** SIGTERM: the service's shutdown hook runs (drain, close). */
    public synchronized void stop() {
        if (process != null && process.isAlive()) {
            process.destroy();
            if (!waitFor(Duration.ofSeconds(20))) {
                process.destroyForcibly();
                waitFor(Duration.ofSeconds(5));
            }
        }
    }

    private boolean waitFor(Duration d) {
        try {
            return process.waitFor(d.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    public synchronized boolean alive() {
        return process != null && process.isAlive();
    }

    /** The OS process id of the running JVM, or -1 when it was never started. */
    public synchronized long pid() {
        return process == null ? -1 : process.pid();
    }

    public String name() {
        return name;
    }

    public Path log() {
        return log;
    }

    public Map<String, String> env() {
        return env;
    }

    /** The last lines of the service's log, for failure messages. */
    public String logTail(int lines) {
        try {
            List<String> all = Files.readAllLines(log);
            return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
        } catch (IOException e) {
            return "(no log: " + e.getMessage() + ")";
        }
    }
}
