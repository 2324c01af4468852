package io.agora.infra.market;

/** Where the infrastructure the market runs on can be reached. */
public record StackEndpoints(String bootstrap, String registryUrl, String jdbcUrl, String jdbcUser, String jdbcPassword) {
}
