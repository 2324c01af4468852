package io.agora.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import picocli.CommandLine;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A job's spec as {@code submit} and {@code match} take it: every field of the HTTP body of
 * {@code POST /api/v1/jobs}, from a JSON or YAML file ({@code -f}) with the same fields, each flag
 * overriding the file's field. The API checks the values; this only assembles the body.
 */
final class JobSpecOptions {
    /** A spec file is a few lines of settings; a bound keeps a wrong file from being read whole. */
    static final int MAX_FILE_BYTES = 1 << 20;

    @Option(names = {"-f", "--file"}, paramLabel = "SPEC", description = "job spec file, JSON or YAML (.yaml/.yml), same fields as the HTTP body; '-' reads stdin. Flags override its fields.")
    String file;
    @Option(names = "--image", description = "container image")
    String image;
    @Option(names = {"-n", "--redundancy"}, description = "replicas to run (API default 3)")
    Integer redundancy;
    @Option(names = {"-k", "--quorum"}, description = "agreeing results needed (API default 2)")
    Integer quorum;
    @Option(names = "--strategy", description = "first|majority|k-of-n|reputation-weighted|adaptive|stake-weighted|bft")
    String strategy;
    @Option(names = "--max-price", paramLabel = "MICROS", description = "max micro-credits per cpu-second")
    Long maxPrice;
    @Option(names = "--max-gpu-price", paramLabel = "MICROS", description = "max micro-credits per GPU-second (default 0)")
    Long maxGpuPrice;
    @Option(names = "--max-memory-price", paramLabel = "MICROS",
            description = "max micro-credits per GiB-second of memory (default 0)")
    Long maxMemoryPrice;
    @Option(names = "--cpus", description = "cpus of the job (default 1)")
    Double cpus;
    @Option(names = "--memory-mb", description = "memory of the job (default 128)")
    Integer memoryMb;
    @Option(names = "--gpus", description = "GPUs the container gets (workers with at least this many)")
    Integer gpus;
    @Option(names = "--timeout-ms", description = "wall-clock limit per replica")
    Long timeoutMs;
    @Option(names = "--pids-limit", description = "process limit inside the container")
    Integer pidsLimit;
    @Option(names = "--network", negatable = true, description = "give the container a network (--no-network: none)")
    Boolean network;
    @Option(names = "--env", paramLabel = "NAME=VALUE", description = "environment variable of the container (repeatable)")
    Map<String, String> env;
    @Option(names = "--output-file", paramLabel = "PATH", description = "file the job writes, returned with its output (repeatable)")
    List<String> outputFiles;
    @Option(names = "--max-total-results", description = "results to collect at most, retries included")
    Integer maxTotalResults;
    @Option(names = "--max-attempts", description = "attempts per replica")
    Integer maxAttempts;
    @Option(names = "--priority", description = "queue priority")
    Integer priority;
    @Option(names = "--queue-timeout-ms", description = "how long the job may wait for workers")
    Long queueTimeoutMs;
    @Option(names = "--deadline-ms", description = "the job's overall deadline")
    Long deadlineMs;

    // requirements: hard filters on workers
    @Option(names = "--pool", description = "worker pool (default public)")
    String pool;
    @Option(names = "--region", description = "worker region")
    String region;
    @Option(names = "--min-cpu-cores")
    Integer minCpuCores;
    @Option(names = "--min-memory-mb")
    Long minMemoryMb;
    @Option(names = "--gpu-model")
    String gpuModel;
    @Option(names = "--min-gpu-count")
    Integer minGpuCount;
    @Option(names = "--min-gpu-vram-mb")
    Long minGpuVramMb;
    @Option(names = "--accelerator")
    String accelerator;
    @Option(names = "--tag", description = "a tag the worker must have (repeatable; all of them)")
    List<String> tagsAll;
    @Option(names = "--any-tag", description = "a tag the worker may have (repeatable; any of them)")
    List<String> tagsAny;
    @Option(names = "--capability", description = "an image or model the worker serves (repeatable; any of them)")
    List<String> capabilitiesAny;
    @Option(names = "--min-reputation")
    Integer minReputation;

    /** The body: the file's fields, then every flag given, then {@code command} if any. */
    ObjectNode body(List<String> command, CommandLine cl) {
        return apply(file == null ? ApiClient.JSON.createObjectNode() : load(file, cl), command);
    }

    /** {@code body} (a job of a spec or batch file) with every flag given, then {@code command} if any, set on it. */
    ObjectNode apply(ObjectNode body, List<String> command) {
        put(body, "image", image);
        if (command != null && !command.isEmpty()) {
            body.set("command", ApiClient.JSON.valueToTree(command));
        }
        put(body, "redundancy", redundancy);
        put(body, "quorum", quorum);
        put(body, "strategy", strategy);
        put(body, "maxPricePerCpuSecondMicros", maxPrice);
        put(body, "cpus", cpus);
        put(body, "memoryMb", memoryMb);
        put(body, "gpus", gpus);
        put(body, "timeoutMs", timeoutMs);
        put(body, "pidsLimit", pidsLimit);
        put(body, "network", network);
        put(body, "env", env);
        put(body, "outputFiles", outputFiles);
        put(body, "maxTotalResults", maxTotalResults);
        put(body, "maxAttempts", maxAttempts);
        put(body, "priority", priority);
        put(body, "queueTimeoutMs", queueTimeoutMs);
        put(body, "deadlineMs", deadlineMs);
        ObjectNode req = ApiClient.JSON.createObjectNode();
        put(req, "pool", pool);
        put(req, "region", region);
        put(req, "minCpuCores", minCpuCores);
        put(req, "minMemoryMb", minMemoryMb);
        put(req, "gpuModel", gpuModel);
        put(req, "minGpuCount", minGpuCount);
        put(req, "minGpuVramMb", minGpuVramMb);
        put(req, "accelerator", accelerator);
        put(req, "tagsAll", tagsAll);
        put(req, "tagsAny", tagsAny);
        put(req, "capabilitiesAny", capabilitiesAny);
        put(req, "minReputation", minReputation);
        put(req, "maxPricePerGpuSecondMicros", maxGpuPrice);
        put(req, "maxPricePerGbSecondMicros", maxMemoryPrice);
        if (!req.isEmpty()) {
            JsonNode fromFile = body.get("requirements");
            if (fromFile instanceof ObjectNode o) {
                o.setAll(req);
            } else {
                body.set("requirements", req);
            }
        }
        return body;
    }

    private static void put(ObjectNode node, String field, Object value) {
        if (value != null) {
            node.set(field, ApiClient.JSON.valueToTree(value));
        }
    }

    /** Reads a spec file; what is wrong with it is a usage error naming the file. */
    static ObjectNode load(String file, CommandLine cl) {
        if (!(read(file, cl) instanceof ObjectNode o)) {
            throw new CommandLine.ParameterException(cl, "spec file " + file + " must hold one object with the job's fields");
        }
        return o;
    }

    /** Reads a batch file: a JSON or YAML list of job specs, each an object ({@code submit --batch}). */
    static List<ObjectNode> loadBatch(String file, CommandLine cl) {
        JsonNode node = read(file, cl);
        java.util.ArrayList<ObjectNode> jobs = new java.util.ArrayList<>();
        for (JsonNode j : node.isArray() ? node : ApiClient.JSON.createArrayNode()) {
            if (!(j instanceof ObjectNode o)) {
                throw new CommandLine.ParameterException(cl, "batch file " + file + ": job " + jobs.size()
                        + " is not an object with the job's fields");
            }
            jobs.add(o);
        }
        if (jobs.isEmpty()) {
            throw new CommandLine.ParameterException(cl, "batch file " + file + " must hold a list of job specs");
        }
        return jobs;
    }

    private static JsonNode read(String file, CommandLine cl) {
        byte[] bytes;
        try (InputStream in = file.equals("-") ? System.in : Files.newInputStream(Path.of(file))) {
            bytes = in.readNBytes(MAX_FILE_BYTES + 1);
        } catch (IOException e) {
            throw new CommandLine.ParameterException(cl, "cannot read spec file " + file + ": " + e);
        }
        if (bytes.length > MAX_FILE_BYTES) {
            throw new CommandLine.ParameterException(cl, "spec file " + file + " is larger than " + MAX_FILE_BYTES + " bytes");
        }
        String text = new String(bytes, StandardCharsets.UTF_8);
        String lower = file.toLowerCase(Locale.ROOT);
        JsonNode node;
        try {
            if (lower.endsWith(".yaml") || lower.endsWith(".yml")) {
                Object doc = new Yaml(new SafeConstructor(new LoaderOptions())).load(text);
                node = ApiClient.JSON.valueToTree(doc);
            } else {
                node = ApiClient.JSON.readTree(text);
            }
        } catch (Exception e) {
            throw new CommandLine.ParameterException(cl, "spec file " + file + " is not valid "
                    + (lower.endsWith(".yaml") || lower.endsWith(".yml") ? "YAML" : "JSON") + ": " + e.getMessage());
        }
        return node;
    }
}
