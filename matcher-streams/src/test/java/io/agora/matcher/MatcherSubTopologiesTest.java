package io.agora.matcher;

import io.agora.schemas.Identity;
import io.agora.schemas.Topics;
import org.apache.kafka.streams.TopologyDescription;
import org.junit.jupiter.api.Test;

import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The matcher's stages as sub-topologies: each front stage its own, so that a commit writes the offsets
 * of the input partitions of the tasks that moved (Streams writes one for every partition a committed
 * task ever consumed), and all three feed the pool stage through one repartition topic.
 */
class MatcherSubTopologiesTest {
    private static final String POOL_EVENTS = MatcherTopology.POOL_EVENTS + "-repartition";

    /** Each sub-topology's input topics, by the processors that hold state or rules in it. */
    private static Map<String, Set<String>> inputsByStage() {
        TopologyDescription d = MatcherTopology.build(MatcherConfig.defaults(), MatcherTopologyTest.SERDES,
                Identity.generate()).describe();
        Map<String, Set<String>> inputs = new TreeMap<>();
        for (TopologyDescription.Subtopology sub : d.subtopologies()) {
            Set<String> names = sub.nodes().stream().map(TopologyDescription.Node::name).collect(Collectors.toSet());
            Set<String> topics = new HashSet<>();
            sub.nodes().stream().filter(n -> n instanceof TopologyDescription.Source)
                    .forEach(n -> topics.addAll(((TopologyDescription.Source) n).topicSet()));
            String stage = List.of("admission", "worker-gate", "job-input-gate", "pool-market").stream()
                    .filter(names::contains).collect(Collectors.joining("+"));
            inputs.put(stage.isEmpty() ? "re-keying " + topics : stage, topics);
        }
        return inputs;
    }

    @Test
    void eachFrontStageIsASubTopologyOfItsOwnInputsAndThePoolStageReadsOneTopic() {
        assertThat(inputsByStage()).isEqualTo(Map.of(
                "admission", Set.of(Topics.JOB_REQUESTS.name(), Topics.LEDGER.name(),
                        MatcherTopology.DISPUTE_REQUESTS + "-repartition"),
                "worker-gate", Set.of(Topics.REGISTRATIONS.name(), Topics.HEARTBEATS.name(), Topics.HOST_BEATS.name(),
                        Topics.REPUTATION.name(), MatcherTopology.WORKER_CREDITS + "-repartition"),
                "job-input-gate", Set.of(Topics.RESULTS.name(), Topics.JOB_COMMANDS.name()),
                "pool-market", Set.of(POOL_EVENTS)));
    }

    @Test
    void everyFrontStageWritesThePoolEventsTopicThePoolStageReads() {
        TopologyDescription d = MatcherTopology.build(MatcherConfig.defaults(), MatcherTopologyTest.SERDES,
                Identity.generate()).describe();
        Map<String, String> poolSinks = new TreeMap<>();
        for (TopologyDescription.Subtopology sub : d.subtopologies()) {
            for (TopologyDescription.Node n : sub.nodes()) {
                if (n instanceof TopologyDescription.Sink s && s.topic() != null
                        && (s.topic().equals(POOL_EVENTS) || s.topic().equals(MatcherTopology.POOL_EVENTS_TOPIC))) {
                    poolSinks.put(n.name(), s.topic());
                }
            }
        }
        // admission's repartition names the topic before Streams prefixes it with the application id; the
        // gates write the prefixed name, the same topic once the app runs
        assertThat(poolSinks).hasSize(3);
        assertThat(MatcherTopology.POOL_EVENTS_TOPIC).isEqualTo(MatcherApp.APP_ID + "-" + POOL_EVENTS);
    }
}
