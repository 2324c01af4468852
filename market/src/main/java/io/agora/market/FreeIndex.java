package io.agora.market;

import io.agora.events.WorkerCapabilities;

import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * The free workers of one pool, indexed for matching ({@link Matching#best(MatchRequest, FreeIndex, Scoring.Weights)}):
 * grouped by machine shape (region, cpu cores, memory octave, gpu count), each group in ascending
 * (price, worker id) order ({@link Matching#PRICE_ORDER}).
 *
 * <p>Within one group the capability fit of a job is known up to the memory octave, so matching
 * can bound the score of every worker of a group before reading any of them: groups that cannot
 * beat the current n-th best are skipped whole, groups of the wrong region or too small are never
 * opened, and inside a group the scan stops at the first price too high to compete.
 *
 * <p>A worker is added with the view it is indexed under and must be removed with that same view
 * (equal price and worker id), before it is added again with a new one.
 */
public final class FreeIndex {
    /** The shape of a group: workers with the same region, cores, memory octave and gpu count. */
    record Shape(String region, int cores, int memoryOctave, int gpus) {
        static Shape of(WorkerCapabilities c) {
            return new Shape(c.getRegion(), c.getCpuCores(), octave(c.getMemoryMb()), Scoring.gpuCount(c.getGpus()));
        }
    }

    /** One group: its shape, the memory range it covers, and its workers by price. */
    static final class Group {
        final Shape shape;
        /** The smallest memory of the octave (0 for the non-positive octave). */
        final long memoryLow;
        /** The largest memory of the octave. */
        final long memoryHigh;
        final TreeSet<WorkerView> byPrice = new TreeSet<>(Matching.PRICE_ORDER);

        Group(Shape shape) {
            this.shape = shape;
            int k = shape.memoryOctave();
            memoryLow = k == 0 ? Long.MIN_VALUE : 1L << (k - 1);
            memoryHigh = k == 0 ? 0 : k >= 63 ? Long.MAX_VALUE : (1L << k) - 1;
        }
    }

    private final Map<Shape, Group> groups = new HashMap<>();
    /** Workers without capabilities: counted (they hold a free slot) but never eligible. */
    private final TreeSet<WorkerView> unusable = new TreeSet<>(Matching.PRICE_ORDER);
    private int size;

    /** An index of the given views (any order). */
    public static FreeIndex of(Iterable<WorkerView> views) {
        FreeIndex index = new FreeIndex();
        for (WorkerView v : views) {
            index.add(v);
        }
        return index;
    }

    /** Adds the view; false (and nothing changes) if a view of the same price and worker id is there. */
    public boolean add(WorkerView v) {
        WorkerCapabilities c = v.capabilities();
        boolean added = (c == null ? unusable : groups.computeIfAbsent(Shape.of(c), Group::new).byPrice).add(v);
        if (added) {
            size++;
        }
        return added;
    }

    /** Removes the view equal in price and worker id to {@code v}; false if there was none. */
    public boolean remove(WorkerView v) {
        if (v.capabilities() == null) {
            boolean removed = unusable.remove(v);
            if (removed) {
                size--;
            }
            return removed;
        }
        Shape shape = Shape.of(v.capabilities());
        Group g = groups.get(shape);
        if (g == null || !g.byPrice.remove(v)) {
            return false;
        }
        size--;
        if (g.byPrice.isEmpty()) {
            groups.remove(shape);
        }
        return true;
    }

    /** How many workers are indexed. */
    public int size() {
        return size;
    }

    public boolean isEmpty() {
        return size == 0;
    }

    /** How many shape groups there are (for the benchmark's report). */
    public int groupCount() {
        return groups.size();
    }

    Collection<Group> groups() {
        return groups.values();
    }

    /** Every indexed view, group by group (tests). */
    List<WorkerView> all() {
        List<WorkerView> out = new ArrayList<>(unusable);
        for (Group g : groups.values()) {
            out.addAll(g.byPrice);
        }
        return out;
    }



    /** 0 for memory of 0 or less, else k such that memory is in [2^(k-1), 2^k). */
    static int octave(long memoryMb) {
        return memoryMb <= 0 ? 0 : 64 - Long.numberOfLeadingZeros(memoryMb);
    }

}
