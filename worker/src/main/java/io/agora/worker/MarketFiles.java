package io.agora.worker;

import java.io.IOException;
import java.nio.file.Path;

/**
 * The worker's door to the market's files: a job's inputs in, the files a replica wrote out.
 * {@link ApiMarketFiles} talks to ingest-api with the worker's key; tests hand in their own.
 */
public interface MarketFiles {

    /** Puts the artifact {@code sha256} at {@code target}, its bytes checked against the name. */
    void fetch(String sha256, Path target) throws IOException;

    /** Uploads a file the replica wrote, whose SHA-256 the worker computed; fails unless the market kept it under that name. */
    void upload(Path file, String sha256) throws IOException;

    /** A worker with no market API: a job with inputs fails, one without runs as before, outputs are hashed but not kept. */
    MarketFiles NONE = new MarketFiles() {
        @Override
        public void fetch(String sha256, Path target) throws IOException {
            throw new IOException("this worker has no market API to fetch inputs from (AGORA_WORKER_API_URL)");
        }

        @Override
        public void upload(Path file, String sha256) throws IOException {
            // outputs are hashed into the result but kept nowhere
        }
    };
}
