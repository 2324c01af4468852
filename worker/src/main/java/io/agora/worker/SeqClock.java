package io.agora.worker;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

/**
 * The worker's strictly increasing message sequence: {@code max(last + 1, now in microseconds)},
 * so a restart keeps increasing even when the last value was not saved; the last value is also
 * saved in the state dir so a clock stepped backwards cannot make it repeat.
 */
public final class SeqClock {
    private final Path file;
    private final LongSupplier micros;
    private final AtomicLong last;

    public SeqClock(Path file, LongSupplier micros) {
        this.file = file;
        this.micros = micros;
        this.last = new AtomicLong(read(file));
    }

    public SeqClock(Path file) {
        this(file, () -> System.currentTimeMillis() * 1000L);
    }

    public long next() {
        long now = micros.getAsLong();
        return last.updateAndGet(l -> Math.max(l + 1, now));
    }

    public long last() {
        return last.get();
    }

    /** Saves the last value (atomic rename). */
    public void save() {
        if (file == null) {
            return;
        }
        try {
            Files.createDirectories(file.toAbsolutePath().getParent());
            Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
            Files.writeString(tmp, Long.toString(last.get()), StandardCharsets.US_ASCII);
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot save " + file, e);
        }
    }

    private static long read(Path file) {
        try {
            return file != null && Files.exists(file) ? Long.parseLong(Files.readString(file).trim()) : 0L;
        } catch (IOException | NumberFormatException e) {
            return 0L;
        }
    }
}
