package io.agora.worker;

import io.agora.schemas.Outage;

import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.BiConsumer;
import java.util.function.Consumer;
import java.util.function.LongSupplier;

/**
 * The drain's last word, bounded: the DEREGISTERED of every identity a worker hosts (it takes the identity off the
 * market at once and unbonds its stake) sent through an outage of the schema registry or Kafka. Each round writes
 * the records not acknowledged yet and waits for the broker's acks; those that met an outage are written again
 * after {@link Outage#pauseMs}, until every one is acknowledged or the deadline ({@code deregister.timeout.ms}
 * after the drain) comes, nothing written or waited for past it and no pause that would end past it: then the
 * rest are given up, so a shutdown never hangs
 * on an outage (the matcher takes those identities for offline after its grace and they deregister when they next
 * start). A record that fails for a reason of its own is not written again.
 */
final class Deregistrations {
    private Deregistrations() {
    }

    /** Writes one record: the future completes with the broker's ack or its failure; throws when it cannot be encoded. */
    interface Writer<K> {
        CompletableFuture<?> write(K identity);
    }

    /**
     * Sends the record of each of {@code identities} through outages until {@code deadlineMs} ({@code clock}'s time);
     * the identities given up at the deadline. {@code waiting} is told each pause and why, {@code refused} each
     * record that failed for a reason of its own (not tried again).
     */
    static <K> List<K> send(Collection<K> identities, Writer<K> writer, long deadlineMs, LongSupplier clock,
                            Consumer<String> waiting, BiConsumer<K, String> refused, WorkerAgent.Pause pause)
            throws InterruptedException {
        List<K> left = new ArrayList<>(identities);
        for (int tries = 0; !left.isEmpty(); tries++) {
            String outage = null;
            Map<K, CompletableFuture<?>> acks = new LinkedHashMap<>();
            for (K k : List.copyOf(left)) {
                if (clock.getAsLong() >= deadlineMs) {
                    break; // a write may block (Kafka's max.block.ms): the rest are not written past the deadline
                }
                try {
                    acks.put(k, writer.write(k));
                } catch (RuntimeException e) {
                    outage = outageOrRefuse(e, k, left, refused, outage);
                }
            }
            for (Map.Entry<K, CompletableFuture<?>> ack : acks.entrySet()) {
                try {
                    ack.getValue().get(Math.max(0, deadlineMs - clock.getAsLong()), TimeUnit.MILLISECONDS);
                    left.remove(ack.getKey());
                } catch (ExecutionException e) {
                    outage = outageOrRefuse(e.getCause(), ack.getKey(), left, refused, outage);
                } catch (TimeoutException e) {
                    return left; // the deadline, waiting for the broker
                }
            }
            long ms = Outage.pauseMs(tries);
            if (left.isEmpty() || ms >= deadlineMs - clock.getAsLong()) {
                break; // no try would come before the deadline
            }
            waiting.accept(left.size() + " not deregistered, trying again in " + ms + " ms: " + outage);
            pause.sleep(ms);
        }
        return left;
    }

    /** The outage that failed {@code k}'s record, or {@code earlier} when it failed for a reason of its own: then it is dropped. */
    private static <K> String outageOrRefuse(Throwable failure, K k, List<K> left, BiConsumer<K, String> refused, String earlier) {
        Optional<String> outage = Outage.of(failure);
        if (outage.isPresent()) {
            return outage.get();
        }
        left.remove(k);
        refused.accept(k, CircuitBreaker.describe(failure));
        return earlier;
    }
}
