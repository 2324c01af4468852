package io.agora.infra;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/** A tiny client of the registry's Confluent-compatible API, for tests. */
final class Ccompat {
    static final ObjectMapper JSON = new ObjectMapper();
    private static final String CT = "application/vnd.schemaregistry.v1+json";

    record Response(int status, String body) {
        JsonNode json() {
            try {
                return JSON.readTree(body);
            } catch (IOException e) {
                throw new IllegalStateException("not JSON: " + body, e);
            }
        }
    }

    private final String base;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    Ccompat(String ccompatUrl) {
        this.base = ccompatUrl;
    }

    Response register(String subject, String schemaJson) {
        ObjectNode body = JSON.createObjectNode().put("schema", schemaJson);
        return send("POST", "/subjects/" + subject + "/versions", body.toString());
    }

    Response setCompatibility(String subject, String level) {
        return send("PUT", "/config/" + subject, JSON.createObjectNode().put("compatibility", level).toString());
    }

    Response versions(String subject) {
        return send("GET", "/subjects/" + subject + "/versions", null);
    }

    Response send(String method, String path, String body) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path))
                .timeout(Duration.ofSeconds(15))
                .header("Accept", CT);
        if (body == null) {
            b.method(method, HttpRequest.BodyPublishers.noBody());
        } else {
            b.header("Content-Type", CT).method(method, HttpRequest.BodyPublishers.ofString(body));
        }
        try {
            HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
            return new Response(r.statusCode(), r.body());
        } catch (IOException e) {
            throw new IllegalStateException(method + " " + base + path + " failed: " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** The schema with one more top-level field appended; {@code defaultValue} null means no default. */
    static String withField(String schemaJson, String name, String type, Object defaultValue) {
        try {
            ObjectNode schema = (ObjectNode) JSON.readTree(schemaJson);
            ObjectNode field = JSON.createObjectNode().put("name", name).put("type", type);
            if (defaultValue != null) {
                field.set("default", JSON.valueToTree(defaultValue));
            }
            ((ArrayNode) schema.get("fields")).add(field);
            return schema.toString();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }
}
