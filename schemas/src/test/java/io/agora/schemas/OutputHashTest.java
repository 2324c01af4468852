package io.agora.schemas;

import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

class OutputHashTest {

    @Test
    void sameOutputSameHashWhateverTheFileOrder() {
        String a = OutputHash.of(0, "hi\n".getBytes(), Map.of("/tmp/a", "01", "/tmp/b", "02"));
        String b = OutputHash.of(0, "hi\n".getBytes(), Map.of("/tmp/b", "02", "/tmp/a", "01"));
        assertThat(a).isEqualTo(b).hasSize(64);
    }

    @Test
    void exitCodeStdoutAndFilesAllCount() {
        String base = OutputHash.of(0, "hi\n".getBytes(), Map.of());
        assertThat(OutputHash.of(1, "hi\n".getBytes(), Map.of())).isNotEqualTo(base);
        assertThat(OutputHash.of(0, "hi!\n".getBytes(), Map.of())).isNotEqualTo(base);
        assertThat(OutputHash.of(0, "hi\n".getBytes(), Map.of("/tmp/x", "00"))).isNotEqualTo(base);
    }

    @Test
    void sha256OfEmptyInputIsTheWellKnownValue() {
        assertThat(OutputHash.sha256Hex(new byte[0]))
                .isEqualTo("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    }
}
