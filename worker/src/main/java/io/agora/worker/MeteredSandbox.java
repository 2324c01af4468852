package io.agora.worker;

import io.agora.events.ResultStatus;
import io.agora.events.TaskAssigned;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import org.slf4j.MDC;

import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * A sandbox that times every task it runs, by outcome ({@code agora_worker_task_seconds{outcome}},
 * a histogram with fixed buckets; the outcome is the result status, {@code SANDBOX_ERROR} for a sandbox that threw),
 * and names the task in the log context ({@code jobId}, {@code taskId}, {@code workerId}) while it runs.
 */
final class MeteredSandbox extends DelegatingSandbox {
    private final MeterRegistry registry;
    private final String workerId;

    MeteredSandbox(Sandbox inner, MeterRegistry registry, String workerId) {
        super(inner);
        this.registry = registry;
        this.workerId = workerId;
        for (ResultStatus s : ResultStatus.values()) {
            if (s != ResultStatus.HANDED_BACK) {
                timer(s);
            }
        }
    }

    @Override
    public SandboxOutcome run(TaskAssigned task) {
        long t0 = System.nanoTime();
        ResultStatus status = ResultStatus.SANDBOX_ERROR;
        try (MDC.MDCCloseable job = MDC.putCloseable("jobId", task.getJobId());
             MDC.MDCCloseable t = MDC.putCloseable("taskId", task.getTaskId());
             MDC.MDCCloseable w = MDC.putCloseable("workerId", workerId)) {
            SandboxOutcome o = inner.run(task);
            status = o.status();
            return o;
        } finally {
            timer(status).record(System.nanoTime() - t0, TimeUnit.NANOSECONDS);
        }
    }

    private Timer timer(ResultStatus status) {
        return Timer.builder("agora.worker.task").description("time a task ran in the sandbox, by outcome")
                .tag("outcome", status.name())
                .serviceLevelObjectives(Duration.ofMillis(100), Duration.ofMillis(500), Duration.ofSeconds(1),
                        Duration.ofSeconds(2), Duration.ofSeconds(5), Duration.ofSeconds(10), Duration.ofSeconds(30),
                        Duration.ofMinutes(1), Duration.ofMinutes(5), Duration.ofMinutes(30))
                .register(registry);
    }
}
