package io.agora.schemas;

/** The connection settings every part of the market needs. */
public interface AgoraConfigView {
    String bootstrapServers();

    /** Apicurio v2 API base, e.g. http://localhost:8081/apis/registry/v2, or "plain" for none. */
    String registryUrl();

    /** Any other setting by key ({@code agora.x.y}); views that carry only the connection settings have none. */
    default java.util.Optional<String> find(String key) {
        return java.util.Optional.empty();
    }
}
