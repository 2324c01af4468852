package io.agora.ingest.web;

import io.agora.ingest.api.ApiException;
import io.agora.ingest.auth.Caller;
import io.agora.ingest.auth.WorkerCaller;
import io.agora.ingest.files.FileService;
import io.agora.ingest.files.StoredFile;
import io.micronaut.core.annotation.Nullable;
import io.micronaut.http.HttpHeaders;
import io.micronaut.http.HttpRequest;
import io.micronaut.http.HttpResponse;
import io.micronaut.http.HttpStatus;
import io.micronaut.http.MediaType;
import io.micronaut.http.annotation.Body;
import io.micronaut.http.annotation.Controller;
import io.micronaut.http.annotation.Get;
import io.micronaut.http.annotation.Header;
import io.micronaut.http.annotation.PathVariable;
import io.micronaut.http.annotation.Post;
import io.micronaut.http.server.types.files.StreamedFile;
import io.micronaut.scheduling.TaskExecutors;
import io.micronaut.scheduling.annotation.ExecuteOn;

import java.io.InputStream;

/**
 * Files in and out of the market, named by their SHA-256: a client uploads a job's inputs (the
 * job names them by hash), a worker fetches them and uploads what a replica wrote. A client with
 * its API key, a worker with its signed {@code AgoraWorker} header.
 */
@Controller("/api/v1/files")
@ExecuteOn(TaskExecutors.BLOCKING)
public class FileController {
    private final Caller caller;
    private final WorkerCaller workers;
    private final FileService files;

    public FileController(Caller caller, WorkerCaller workers, FileService files) {
        this.caller = caller;
        this.workers = workers;
        this.files = files;
    }

    /** 201 with the file for a new upload, 200 with the same answer when the caller already has those bytes. */
    @Post(consumes = {MediaType.APPLICATION_OCTET_STREAM, MediaType.ALL})
    public HttpResponse<StoredFile> upload(HttpRequest<?> request,
                                           @Header(HttpHeaders.AUTHORIZATION) @Nullable String authorization,
                                           @Header(HttpHeaders.CONTENT_LENGTH) @Nullable Long contentLength,
                                           @Body @Nullable InputStream body) {
        boolean worker = WorkerCaller.isWorker(authorization);
        String owner = worker
                ? FileService.workerOwner(workers.worker(authorization, "POST", request.getPath()))
                : FileService.clientOwner(caller.client(authorization));
        if (body == null) {
            throw new ApiException(HttpStatus.BAD_REQUEST, "request body is required: the file's bytes");
        }
        FileService.Upload u = files.upload(owner, !worker, body, contentLength);
        return HttpResponse.<StoredFile>status(u.created() ? HttpStatus.CREATED : HttpStatus.OK).body(u.file())
                .header(HttpHeaders.LOCATION, "/api/v1/files/" + u.file().sha256());
    }

    /** The caller's own file. */
    @Get("/{sha256}")
    public StoredFile file(@Header(HttpHeaders.AUTHORIZATION) @Nullable String authorization, @PathVariable String sha256) {
        String client = caller.client(authorization);
        FileService.checkSha256("sha256", sha256);
        return files.owned(FileService.clientOwner(client), sha256)
                .orElseThrow(() -> ApiException.notFound("file " + sha256));
    }

    /**
     * The bytes: a client's own file, or any file to a registered worker (a job's inputs, named in
     * its task). The stream is verified against the hash as it is sent; a store that altered the
     * bytes breaks the response off before its end.
     */
    @Get(value = "/{sha256}/content", produces = MediaType.APPLICATION_OCTET_STREAM)
    public StreamedFile content(HttpRequest<?> request,
                                @Header(HttpHeaders.AUTHORIZATION) @Nullable String authorization,
                                @PathVariable String sha256) {
        if (WorkerCaller.isWorker(authorization)) {
            workers.worker(authorization, "GET", request.getPath());
            FileService.checkSha256("sha256", sha256);
        } else {
            String client = caller.client(authorization);
            FileService.checkSha256("sha256", sha256);
            files.owned(FileService.clientOwner(client), sha256).orElseThrow(() -> ApiException.notFound("file " + sha256));
        }
        InputStream in = files.open(sha256);
        return new StreamedFile(in, MediaType.APPLICATION_OCTET_STREAM_TYPE);
    }
}
