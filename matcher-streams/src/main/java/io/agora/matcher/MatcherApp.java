package io.agora.matcher;

import io.agora.schemas.AgoraConfig;
import io.agora.schemas.ChallengeKey;
import io.agora.runtime.Launcher;
import io.agora.runtime.Service;
import io.agora.runtime.StreamsService;
import io.agora.schemas.AgoraSerdes;
import io.agora.schemas.Identity;
import io.agora.schemas.MatcherKey;
import io.agora.runtime.Meters;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;

import java.nio.file.Path;
import java.util.Map;
import java.util.Properties;

/**
 * Runs the matcher: admission and escrow, worker registry, matching, dispatch and leases
 * ({@link MatcherTopology}) as the exactly-once Streams app {@value #APP_ID}, signing tasks with the
 * {@link MatcherKey}.
 */
public final class MatcherApp {
    public static final String APP_ID = "agora-matcher";

    private MatcherApp() {
    }

    public static Service create(AgoraConfig cfg) {
        MatcherConfig matcher = MatcherConfig.from(cfg);
        AgoraSerdes serdes = AgoraSerdes.fromConfig(cfg);
        PrometheusMeterRegistry meters = Meters.registry();
        Identity key = MatcherKey.load(cfg, Path.of(cfg.stateDir()));
        org.slf4j.LoggerFactory.getLogger(MatcherApp.class).info("matcher key (tasks are signed by it): {}", key.workerId());
        return new StreamsService(APP_ID, MatcherTopology.build(matcher, serdes, key, new MatcherMeters(meters),
                        ChallengeKey.load(cfg, Path.of(cfg.stateDir()))),
                streamsProperties(cfg), meters);
    }

    /** The streams properties the matcher runs with (dead-letter handlers included); tests drive the topology with them. */
    public static Properties streamsProperties(AgoraConfig cfg) {
        return StreamsService.properties(APP_ID, cfg, Path.of(cfg.stateDir(), "matcher").toString(), Map.of());
    }

    public static void main(String[] args) {
        Launcher.run("matcher", Map.of(), MatcherApp::create);
    }
}
