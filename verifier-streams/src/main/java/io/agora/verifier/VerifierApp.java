package io.agora.verifier;

import io.agora.schemas.AgoraConfig;
import io.agora.runtime.Launcher;
import io.agora.runtime.Service;
import io.agora.runtime.StreamsService;
import io.agora.schemas.AgoraSerdes;
import io.agora.runtime.Meters;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;

import java.nio.file.Path;
import java.util.Map;
import java.util.Properties;

/** Runs the verifier topology ({@link VerifierTopology}) with exactly-once processing. */
public final class VerifierApp {
    private VerifierApp() {
    }

    public static Service create(AgoraConfig cfg) {
        VerifierConfig vc = VerifierConfig.from(cfg);
        AgoraSerdes serdes = AgoraSerdes.fromConfig(cfg);
        PrometheusMeterRegistry meters = Meters.registry();
        return new StreamsService(VerifierConfig.APP_ID, VerifierTopology.build(vc, serdes, new VerifierMeters(meters)),
                streamsProperties(cfg), meters);
    }

    /** The streams properties the verifier runs with (dead-letter handlers included); tests drive the topology with them. */
    public static Properties streamsProperties(AgoraConfig cfg) {
        return StreamsService.properties(VerifierConfig.APP_ID, cfg, Path.of(cfg.stateDir(), "verifier").toString(), Map.of());
    }

    public static void main(String[] args) {
        Launcher.run("verifier", Map.of(), VerifierApp::create);
    }
}
