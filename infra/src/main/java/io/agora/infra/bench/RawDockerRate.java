package io.agora.infra.bench;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * What Docker alone does on this machine: {@code docker run --rm} of the bench's job image with the
 * limits a worker gives a job of the bench's spec (the JobSpec defaults: 128 MB without swap, 1 cpu,
 * 64 pids; no network, read-only root, a 64 MB tmpfs {@code /tmp}, every capability dropped, no new
 * privileges, no engine logs, user nobody: {@code DockerSandbox.hostConfig} in the worker, which infra
 * may not compile against), a trivial command, N containers by C threads at once, each thread starting
 * the next when its container has exited. Containers per second of this loop, beside the market's,
 * is how much of Docker's own rate the market keeps.
 */
final class RawDockerRate {
    static final String IMAGE = "agora/busybox:1";
    static final String LABEL = "io.agora.bench=raw";

    /** Containers run, how many failed, the time it took, and the time between the first and the last exit. */
    record Rate(int containers, int failed, double seconds, double steadySeconds) {
        double perSecond() {
            return (containers - failed) / seconds;
        }

        /** Containers per second between the first and the last to end: the loop's rate once all threads run. */
        double steadyPerSecond() {
            return containers > 1 && steadySeconds > 0 ? (containers - 1) / steadySeconds : perSecond();
        }
    }

    private RawDockerRate() {
    }

    /** The command line of container {@code i}. */
    static List<String> command(String runId, int i) {
        return List.of("docker", "run", "--rm", "--label", LABEL,
                "--network", "none", "--read-only", "--memory", "128m", "--memory-swap", "128m", "--cpus", "1",
                "--pids-limit", "64", "--cap-drop", "ALL", "--security-opt", "no-new-privileges", "--log-driver", "none",
                "--user", "65534:65534", "--workdir", "/tmp", "--tmpfs", "/tmp:rw,noexec,nosuid,size=64m,mode=1777",
                IMAGE, "sh", "-c", "echo raw-" + runId + "-" + i);
    }

    /** Runs {@code containers} containers, {@code concurrency} at a time. */
    static Rate measure(int containers, int concurrency, String runId) throws InterruptedException {
        AtomicInteger next = new AtomicInteger();
        AtomicInteger failed = new AtomicInteger();
        java.util.concurrent.atomic.LongAccumulator firstEnd = new java.util.concurrent.atomic.LongAccumulator(Math::min,
                Long.MAX_VALUE);
        java.util.concurrent.atomic.LongAccumulator lastEnd = new java.util.concurrent.atomic.LongAccumulator(Math::max, 0);
        List<String> errors = new ArrayList<>();
        ExecutorService pool = Executors.newFixedThreadPool(concurrency);
        long start = System.nanoTime();
        for (int t = 0; t < concurrency; t++) {
            pool.execute(() -> {
                int i;
                while ((i = next.getAndIncrement()) < containers) {
                    String why = run(command(runId, i));
                    firstEnd.accumulate(System.nanoTime());
                    lastEnd.accumulate(System.nanoTime());
                    if (why != null) {
                        failed.incrementAndGet();
                        synchronized (errors) {
                            if (errors.size() < 3) {
                                errors.add(why);
                            }
                        }
                    }
                }
            });
        }
        pool.shutdown();
        if (!pool.awaitTermination(30, TimeUnit.MINUTES)) {
            pool.shutdownNow();
            throw new IllegalStateException("raw docker loop did not finish in 30 minutes");
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        if (failed.get() == containers) {
            throw new IllegalStateException("every docker run failed: " + errors);
        }
        return new Rate(containers, failed.get(), seconds, (lastEnd.get() - firstEnd.get()) / 1e9);
    }

    /** Why the run failed, or null. */
    private static String run(List<String> cmd) {
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes());
            int exit = p.waitFor();
            return exit == 0 && out.startsWith("raw-") ? null : "exit " + exit + ": " + out.strip();
        } catch (IOException e) {
            return e.toString();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "interrupted";
        }
    }

    /**
     * The lines the benchmark prints: the market's rate, Docker's, and their ratio, twice: over the whole run (the
     * market's from its first submission to its last verdict, so a job's submit-to-verdict latency counts once), and
     * between the first and the last completion on each side (the market's verdicts, the loop's container exits).
     */
    static String describe(Rate raw, double marketJobsPerSecond, double marketSteadyJobsPerSecond, int redundancy,
                           int slots) {
        return String.format(Locale.ROOT,
                "raw docker run       %.2f containers/s (%d `docker run --rm` of %s, %d at a time = the workers' running"
                        + " slots, %.1f s, %d failed); %.2f/s between its first and last exit%n"
                        + "market vs raw        %.2f jobs/s x %d replicas = %.2f containers/s: %.1f%% of raw over the run;"
                        + " %.2f containers/s between the first and last verdict: %.1f%% of raw between first and last"
                        + " completion (target >= 90%%)",
                raw.perSecond(), raw.containers(), IMAGE, slots, raw.seconds(), raw.failed(), raw.steadyPerSecond(),
                marketJobsPerSecond, redundancy, marketJobsPerSecond * redundancy,
                100.0 * marketJobsPerSecond * redundancy / raw.perSecond(), marketSteadyJobsPerSecond * redundancy,
                100.0 * marketSteadyJobsPerSecond * redundancy / raw.steadyPerSecond());
    }
}
