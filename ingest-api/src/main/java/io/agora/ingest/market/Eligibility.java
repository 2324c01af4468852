package io.agora.ingest.market;

import io.agora.events.GpuInfo;
import io.agora.events.JobSpec;
import io.agora.events.Requirements;
import io.agora.events.WorkerCapabilities;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * The hard filters a worker must pass for a job (the match preview's copy of the matcher's
 * rules, see {@code io.agora.matcher.Eligibility}): pool, cpu, memory, gpu, accelerator,
 * region, tags, capabilities, price ceiling, reputation, network, free slots.
 */
public final class Eligibility {
    private Eligibility() {
    }

    /** Why the worker cannot take the job; empty if it can. */
    public static List<String> reasons(WorkerState w, JobSpec spec, Requirements r, boolean online) {
        List<String> out = new ArrayList<>();
        WorkerCapabilities c = w.capabilities();
        if (c == null) {
            out.add("not registered");
            return out;
        }
        if (!online) {
            out.add("offline");
        }
        if (!Objects.equals(c.getPool(), r.getPool())) {
            out.add("pool " + c.getPool() + " != " + r.getPool());
        }
        if (c.getCpuCores() < Math.max(r.getMinCpuCores(), Math.ceil(spec.getCpus()))) {
            out.add("cpu cores " + c.getCpuCores());
        }
        if (c.getMemoryMb() < Math.max(r.getMinMemoryMb(), spec.getMemoryMb())) {
            out.add("memory " + c.getMemoryMb() + " MB");
        }
        if (r.getMinGpuCount() > 0 || r.getGpuModel() != null || r.getMinGpuVramMb() > 0) {
            int gpus = 0;
            for (GpuInfo g : c.getGpus()) {
                boolean model = r.getGpuModel() == null || g.getModel().equalsIgnoreCase(r.getGpuModel());
                if (model && g.getVramMb() >= r.getMinGpuVramMb()) {
                    gpus += g.getCount();
                }
            }
            if (gpus < Math.max(1, r.getMinGpuCount())) {
                out.add("gpus");
            }
        }
        if (r.getAccelerator() != null && c.getAccelerators().stream().noneMatch(a -> a.equalsIgnoreCase(r.getAccelerator()))) {
            out.add("accelerator " + r.getAccelerator() + " missing");
        }
        if (r.getRegion() != null && !r.getRegion().equalsIgnoreCase(c.getRegion())) {
            out.add("region " + c.getRegion());
        }
        if (!c.getTags().containsAll(r.getTagsAll())) {
            out.add("tags missing");
        }
        if (!r.getTagsAny().isEmpty() && r.getTagsAny().stream().noneMatch(c.getTags()::contains)) {
            out.add("no tag of tagsAny");
        }
        if (!r.getCapabilitiesAny().isEmpty() && r.getCapabilitiesAny().stream().noneMatch(c.getCapabilities()::contains)) {
            out.add("no capability of capabilitiesAny");
        }
        long price = w.pricePerCpuSecondMicros() > 0 ? w.pricePerCpuSecondMicros() : c.getPricePerCpuSecondMicros();
        if (price > r.getMaxPricePerCpuSecondMicros()) {
            out.add("price " + price + " > max " + r.getMaxPricePerCpuSecondMicros());
        }
        if (w.reputation() < r.getMinReputation()) {
            out.add("reputation " + w.reputation() + " < " + r.getMinReputation());
        }
        if (spec.getNetwork() && !c.getAllowNetwork()) {
            out.add("no network allowed");
        }
        return out;
    }
}
