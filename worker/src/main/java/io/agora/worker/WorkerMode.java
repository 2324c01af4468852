package io.agora.worker;

import java.util.Locale;

/** How the worker executes tasks. */
public enum WorkerMode {
    /** Every task in a fresh, locked-down Docker container. */
    DOCKER,
    /** In-process: the output is a hash of the command; for benchmarks of the market itself. */
    SIMULATED,
    /** Runs the task but reports a corrupted output, so verifier tests can show a cheater loses votes. */
    WRONG;

    public static WorkerMode parse(String s) {
        return valueOf(s.trim().toUpperCase(Locale.ROOT));
    }
}
