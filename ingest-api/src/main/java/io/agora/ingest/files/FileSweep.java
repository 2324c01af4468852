package io.agora.ingest.files;

import io.micronaut.scheduling.annotation.Scheduled;
import jakarta.inject.Singleton;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.time.Duration;

/**
 * Retention of the market's files: every {@code agora.artifacts.sweep-interval} (10 min) deletes
 * the files not used for {@code agora.artifacts.retention-hours} (168; 0 = keep all):
 * {@link FileService#sweep}. A job's inputs are used when it is submitted and its outputs when a
 * worker uploads them, so a decided job's files stay downloadable for the retention after it ended,
 * as long as the retention outlasts the longest job deadline.
 */
@Singleton
public class FileSweep {
    private static final Logger log = LoggerFactory.getLogger(FileSweep.class);
    private final FileService files;
    private final ArtifactSettings settings;
    private final Clock clock = Clock.systemUTC();

    public FileSweep(FileService files, ArtifactSettings settings) {
        this.files = files;
        this.settings = settings;
    }

    @Scheduled(fixedDelay = "${agora.artifacts.sweep-interval:10m}", initialDelay = "${agora.artifacts.sweep-interval:10m}")
    void sweep() {
        if (settings.retentionHours() <= 0) {
            return;
        }
        try {
            FileService.Swept s = files.sweep(clock.instant().minus(Duration.ofHours(settings.retentionHours())));
            if (s.rows() > 0) {
                log.info("file retention: {} uploads older than {} h forgotten, {} artifacts deleted",
                        s.rows(), settings.retentionHours(), s.artifacts());
            }
        } catch (RuntimeException e) {
            log.warn("file retention sweep failed (retried at the next interval): {}", e.getMessage());
        }
    }
}
