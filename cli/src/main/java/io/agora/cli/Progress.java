package io.agora.cli;

import java.io.PrintWriter;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * A one-line spinner with the job's status and the time waited, redrawn on stderr while a command
 * waits for a job. Only when stderr is a terminal: a script's captured stderr stays clean.
 */
final class Progress implements AutoCloseable {
    private static final String FRAMES = "|/-\\";
    private final PrintWriter err;
    private final ScheduledExecutorService ticker;
    private final long startedMs = System.currentTimeMillis();
    private volatile String status = "waiting";
    private int frame;

    private Progress(PrintWriter err, boolean on) {
        this.err = err;
        if (on) {
            ticker = Executors.newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, "agora-progress");
                t.setDaemon(true);
                return t;
            });
            ticker.scheduleAtFixedRate(this::draw, 0, 200, TimeUnit.MILLISECONDS);
        } else {
            ticker = null;
        }
    }

    static Progress on(PrintWriter err, boolean terminal, String jobId) {
        Progress p = new Progress(err, terminal);
        p.status = jobId + " waiting";
        return p;
    }

    void status(String jobId, String s) {
        status = jobId + " " + s;
    }

    private synchronized void draw() {
        long s = (System.currentTimeMillis() - startedMs) / 1000;
        err.print("\r" + FRAMES.charAt(frame++ % FRAMES.length()) + " " + status + "  " + s + "s\u001b[K");
        err.flush();
    }

    /**
     * Clears the spinner line so the next line the command prints starts clean; call before printing
     * to stdout too, since both usually share the terminal.
     */
    synchronized void clear() {
        if (ticker != null) {
            err.print("\r\u001b[K");
            err.flush();
        }
    }

    @Override
    public void close() {
        if (ticker != null) {
            ticker.shutdownNow();
            clear();
        }
    }

    /**
     * Whether this process's stderr is a terminal. Java has no isatty; {@code test -t 2} run with
     * our stderr inherited answers it. Anything but a clear yes (no shell, Windows) counts as no.
     */
    static boolean stderrIsTerminal() {
        try {
            Process p = new ProcessBuilder("sh", "-c", "test -t 2")
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                    .redirectError(ProcessBuilder.Redirect.INHERIT)
                    .start();
            return p.waitFor(2, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (Exception e) {
            return false;
        }
    }
}
