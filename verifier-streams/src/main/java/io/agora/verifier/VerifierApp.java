package io.agora.verifier;

import io.agora.schemas.AgoraConfig;
import io.agora.runtime.Launcher;
import io.agora.runtime.Service;
import io.agora.runtime.StreamsService;
import io.agora.schemas.AgoraSerdes;
import io.agora.runtime.Meters;
import io.agora.schemas.Identity;
import io.agora.schemas.MatcherKey;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import org.slf4j.LoggerFactory;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Supplier;
import java.util.Properties;

/**
 * Runs the verifier topology ({@link VerifierTopology}) with exactly-once processing, signing receipts
 * with the {@link MarketKey} and taking only tasks signed by the {@link MatcherKey}.
 */
public final class VerifierApp {
    private VerifierApp() {
    }

    public static Service create(AgoraConfig cfg) {
        VerifierConfig vc = VerifierConfig.from(cfg);
        AgoraSerdes serdes = AgoraSerdes.fromConfig(cfg);
        Identity market = MarketKey.load(cfg);
        LoggerFactory.getLogger(VerifierApp.class).info("market key (receipts are signed by it): {}", market.workerId());
        String matcherKey = MatcherKey.publicKey(cfg);
        PrometheusMeterRegistry meters = Meters.registry();
        return new WithMarketKey(new StreamsService(VerifierConfig.APP_ID,
                VerifierTopology.build(vc, serdes, market, matcherKey, new VerifierMeters(meters)), streamsProperties(cfg), meters),
                market.workerId());
    }

    /** The streams service, whose {@code /health} also says the market's public key ({@code marketKey}). */
    private record WithMarketKey(Service streams, String marketKey) implements Service {
        @Override
        public void start() {
            streams.start();
        }

        @Override
        public Map<String, Object> health() {
            Map<String, Object> h = new LinkedHashMap<>(streams.health());
            h.put("marketKey", marketKey);
            return h;
        }

        @Override
        public PrometheusMeterRegistry meters() {
            return streams.meters();
        }

        @Override
        public Map<String, Supplier<String>> adminActions() {
            return streams.adminActions();
        }

        @Override
        public void close() {
            streams.close();
        }
    }

    /** The streams properties the verifier runs with (dead-letter handlers included); tests drive the topology with them. */
    public static Properties streamsProperties(AgoraConfig cfg) {
        return StreamsService.properties(VerifierConfig.APP_ID, cfg, Path.of(cfg.stateDir(), "verifier").toString(), Map.of());
    }

    public static void main(String[] args) {
        Launcher.run("verifier", Map.of(), VerifierApp::create);
    }
}
