package io.agora.runtime;

import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.errors.StreamsException;

import java.util.Map;

/** What the streams error handlers share: the app's name and a failure told in one line. */
final class StreamsFailures {
    private StreamsFailures() {
    }

    static String appId(Map<String, ?> configs) {
        Object id = configs.get(StreamsConfig.APPLICATION_ID_CONFIG);
        return id == null ? "streams" : id.toString();
    }

    /**
     * The exception the code threw, not the wrappers Streams put around it, and what caused it
     * when that says more: {@code SerializationException: cannot encode job state
     * (UTFDataFormatException: encoded string too long: 70004 bytes)}.
     */
    static String describe(Throwable e) {
        Throwable top = e;
        while (top instanceof StreamsException && top.getCause() != null && top.getCause() != top) {
            top = top.getCause();
        }
        Throwable root = top;
        for (int i = 0; i < 16 && root.getCause() != null && root.getCause() != root; i++) {
            root = root.getCause();
        }
        String said = top.getClass().getSimpleName() + ": " + top.getMessage();
        return root == top ? said : said + " (" + root.getClass().getSimpleName() + ": " + root.getMessage() + ")";
    }
}
