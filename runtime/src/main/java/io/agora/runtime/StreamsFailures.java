package io.agora.runtime;

import org.apache.kafka.streams.StreamsConfig;

import java.util.Map;

/** What the streams error handlers share: the app's name and a failure told in one line. */
final class StreamsFailures {
    private StreamsFailures() {
    }

    static String appId(Map<String, ?> configs) {
        Object id = configs.get(StreamsConfig.APPLICATION_ID_CONFIG);
        return id == null ? "streams" : id.toString();
    }

    /** The exception the code threw, not the wrappers around it: {@code ArithmeticException: long overflow}. */
    static String describe(Throwable e) {
        Throwable root = e;
        while (root.getCause() != null && root.getCause() != root
                && root instanceof org.apache.kafka.streams.errors.StreamsException) {
            root = root.getCause();
        }
        return root.getClass().getSimpleName() + ": " + root.getMessage();
    }
}
