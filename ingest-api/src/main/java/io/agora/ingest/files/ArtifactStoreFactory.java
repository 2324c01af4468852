package io.agora.ingest.files;

import io.agora.artifacts.ArtifactStore;
import io.agora.artifacts.ArtifactStores;
import io.micronaut.context.annotation.Factory;
import jakarta.inject.Singleton;

import java.io.IOException;
import java.nio.file.Path;

/** The one artifact store of this API instance, as {@link ArtifactSettings} names it. */
@Factory
public class ArtifactStoreFactory {
    @Singleton
    ArtifactStore artifactStore(ArtifactSettings settings) throws IOException {
        Path staging = Path.of(System.getProperty("java.io.tmpdir"), "agora-ingest-staging");
        return ArtifactStores.open(settings.url(), settings.s3AccessKey(), settings.s3SecretKey(), staging);
    }
}
