package io.agora.ingest.auth;

import io.agora.ingest.api.ApiException;
import io.agora.ingest.market.WorkerRegistry;
import io.agora.schemas.WorkerRequests;
import io.micronaut.http.HttpStatus;
import jakarta.inject.Singleton;

/**
 * A worker calling the API with its own key ({@link WorkerRequests}): the signature must be
 * good for this request and the worker registered (as the registrations topic says).
 */
@Singleton
public class WorkerCaller {
    private final WorkerRegistry registry;

    public WorkerCaller(WorkerRegistry registry) {
        this.registry = registry;
    }

    public static boolean isWorker(String authorization) {
        return WorkerRequests.isWorker(authorization);
    }

    /** The worker id behind the header for {@code method path}; 401 or 403 otherwise. */
    public String worker(String authorization, String method, String path) {
        String id;
        try {
            id = WorkerRequests.verify(authorization, method, path, System.currentTimeMillis());
        } catch (IllegalArgumentException e) {
            throw new ApiException(HttpStatus.UNAUTHORIZED, "worker authorization refused: " + e.getMessage());
        }
        if (!registry.registered(id)) {
            throw new ApiException(HttpStatus.FORBIDDEN, "worker " + id + " is not registered");
        }
        return id;
    }
}
