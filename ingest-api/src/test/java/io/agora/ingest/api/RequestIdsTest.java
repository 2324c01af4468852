package io.agora.ingest.api;

import org.junit.jupiter.api.Test;

import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

class RequestIdsTest {
    @Test
    void aCallersIdIsKeptWhenItHasTheShapeOfAnId() {
        assertThat(RequestIds.choose("req-42.a:b_c")).isEqualTo("req-42.a:b_c");
    }

    @Test
    void aMissingOrUnfitIdIsReplacedByANewUuid() {
        for (String offered : new String[]{null, "", "a b", "x\ny", "é", "x".repeat(PathIds.MAX_LENGTH + 1)}) {
            String id = RequestIds.choose(offered);
            assertThat(id).isNotEqualTo(offered);
            assertThat(UUID.fromString(id).toString()).isEqualTo(id);
        }
        assertThat(RequestIds.choose(null)).isNotEqualTo(RequestIds.choose(null));
    }
}
