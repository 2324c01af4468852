package io.agora.ingest.web;

import io.agora.artifacts.Sha256;
import io.agora.ingest.api.ApiException;
import io.agora.ingest.api.PathIds;
import io.agora.ingest.auth.Caller;
import io.agora.ingest.files.FileService;
import io.agora.ingest.files.JobResults;
import io.agora.ingest.jobs.JobService;
import io.agora.ingest.market.JobView;
import io.micronaut.core.annotation.Nullable;
import io.micronaut.http.HttpHeaders;
import io.micronaut.http.HttpStatus;
import io.micronaut.http.MediaType;
import io.micronaut.http.annotation.Controller;
import io.micronaut.http.annotation.Get;
import io.micronaut.http.annotation.Header;
import io.micronaut.http.annotation.PathVariable;
import io.micronaut.http.server.types.files.StreamedFile;
import io.micronaut.scheduling.TaskExecutors;
import io.micronaut.scheduling.annotation.ExecuteOn;
import io.micronaut.serde.annotation.Serdeable;

import java.util.List;

/**
 * What a client's job gave back, once decided: its logs (stdout and stderr apart, each flagged
 * when cut) and the files of the agreed result, listed with their hashes and served from the
 * artifact store, each checked against the agreed hash as it is sent (a store that altered the
 * bytes breaks the response off before its end). Another client's job is the 404 of an unknown one.
 */
@Controller("/api/v1/jobs/{id}")
@ExecuteOn(TaskExecutors.BLOCKING)
public class JobResultController {
    private final Caller caller;
    private final JobService jobs;
    private final JobResults results;
    private final FileService files;

    public JobResultController(Caller caller, JobService jobs, JobResults results, FileService files) {
        this.caller = caller;
        this.jobs = jobs;
        this.results = results;
        this.files = files;
    }

    @Get("/logs")
    public JobResults.Logs logs(@Header(HttpHeaders.AUTHORIZATION) @Nullable String authorization, @PathVariable String id) {
        JobView job = ownJob(authorization, id);
        return results.logs(id).orElseThrow(() -> new ApiException(HttpStatus.NOT_FOUND,
                "job " + id + " has no verdict yet (status " + job.status() + ")"));
    }

    @Get("/files")
    public FileList list(@Header(HttpHeaders.AUTHORIZATION) @Nullable String authorization, @PathVariable String id) {
        JobView job = ownJob(authorization, id);
        if (results.logs(id).isEmpty()) {
            throw new ApiException(HttpStatus.NOT_FOUND, "job " + id + " has no verdict yet (status " + job.status() + ")");
        }
        return new FileList(id, results.files(id));
    }

    @Get(value = "/files/{+path}", produces = MediaType.APPLICATION_OCTET_STREAM)
    public StreamedFile file(@Header(HttpHeaders.AUTHORIZATION) @Nullable String authorization, @PathVariable String id,
                             @PathVariable String path) {
        ownJob(authorization, id);
        String wanted = path.startsWith("/") ? path : "/" + path;
        JobResults.ResultFile f = results.files(id).stream().filter(r -> r.path().equals(wanted)).findFirst()
                .orElseThrow(() -> ApiException.notFound("file " + wanted + " of job " + id));
        if (!Sha256.valid(f.sha256())) {
            // a worker may report "absent" or "too-large" for a declared file: part of the vote, no bytes
            throw new ApiException(HttpStatus.NOT_FOUND, "file " + wanted + " of job " + id + " has no content: " + f.sha256());
        }
        return new StreamedFile(files.open(f.sha256()), MediaType.APPLICATION_OCTET_STREAM_TYPE);
    }

    private JobView ownJob(String authorization, String id) {
        return jobs.job(caller.client(authorization), PathIds.check("id", id));
    }

    @Serdeable
    public record FileList(String jobId, List<JobResults.ResultFile> files) {
    }
}
