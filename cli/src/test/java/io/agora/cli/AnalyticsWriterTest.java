package io.agora.cli;

import io.agora.events.Outcome;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static io.agora.cli.Market.*;
import static org.assertj.core.api.Assertions.assertThat;

class AnalyticsWriterTest {
    private static MarketAnalytics sample() {
        return new MarketAnalytics(T0, T0.plus(Duration.ofMinutes(10)), Duration.ofMinutes(1),
                List.of(request("j1", "c1", "public", T0)),
                List.of(task("j1", 0, "w,1", "public", 10, T0.plusSeconds(1)), task("j2", 0, "w2", "gpu", 20, T0.plusSeconds(2))),
                List.of(),
                List.of(verdict("j1", Outcome.COMPLETED, List.of("w,1"), List.of(), T0, T0.plusSeconds(30)),
                        verdict("j2", Outcome.NO_CONSENSUS, List.of(), List.of("w2"), T0, T0.plusSeconds(200))),
                List.of(payout("j1", "w,1", 1234, T0.plusSeconds(30))));
    }

    @Test
    void writesEveryCsvAndAPngThatDecodes(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("nested/out");
        List<Path> files = AnalyticsWriter.write(sample(), out);
        assertThat(files).extracting(p -> p.getFileName().toString()).containsExactlyElementsOf(AnalyticsWriter.FILES);
        files.forEach(f -> assertThat(f).exists().isNotEmptyFile());

        List<String> throughput = Files.readAllLines(out.resolve("throughput.csv"));
        assertThat(throughput).hasSize(11).first().isEqualTo("bucket_start,verdicts,completed");
        assertThat(throughput.get(1)).isEqualTo("2026-01-01T00:00:00Z,1,1");
        assertThat(throughput.get(4)).isEqualTo("2026-01-01T00:03:00Z,1,0");
        assertThat(Files.readAllLines(out.resolve("latency.csv")))
                .contains("all,2,30000,200000,200000,200000,115000.0000", "COMPLETED,1,30000,30000,30000,30000,30000.0000");
        assertThat(Files.readAllLines(out.resolve("workers.csv")))
                .contains("\"w,1\",1234,1,1,0,1,0,1.0000", "w2,0,0,1,0,0,1,0.0000");
        assertThat(Files.readAllLines(out.resolve("prices.csv"))).containsExactly("price_low_micros,price_high_micros,tasks",
                "10,10,1", "20,20,1");
        assertThat(Files.readAllLines(out.resolve("pools.csv"))).containsExactly(
                "pool,verdicts,completed,reliability,completed,failed,no_consensus,expired,cancelled",
                "gpu,1,0,0.0000,0,0,1,0,0",
                "public,1,1,1.0000,1,0,0,0,0");

        BufferedImage png = ImageIO.read(out.resolve("throughput.png").toFile());
        assertThat(png).isNotNull();
        assertThat(png.getWidth()).isEqualTo(960);
        assertThat(png.getHeight()).isEqualTo(480);
        // Something was drawn: not a blank white image.
        boolean coloured = false;
        for (int x = 0; x < png.getWidth() && !coloured; x += 3) {
            for (int y = 0; y < png.getHeight() && !coloured; y += 3) {
                coloured = (png.getRGB(x, y) & 0xffffff) != 0xffffff;
            }
        }
        assertThat(coloured).isTrue();
    }

    @Test
    void emptyRangeStillWritesEverything(@TempDir Path dir) throws Exception {
        MarketAnalytics empty = new MarketAnalytics(T0, T0.plusSeconds(1), Duration.ofMinutes(1),
                List.of(), List.of(), List.of(), List.of(), List.of());
        AnalyticsWriter.write(empty, dir);
        assertThat(ImageIO.read(dir.resolve("throughput.png").toFile())).isNotNull();
        assertThat(Files.readAllLines(dir.resolve("latency.csv"))).contains("all,0,0,0,0,0,0.0000");
    }

    @Test
    void printsAReadableSummary() {
        StringWriter s = new StringWriter();
        AnalyticsWriter.print(sample(), new PrintWriter(s, true));
        assertThat(s.toString()).contains("2 verdicts", "p50=30000", "earned=1234", "public       1/1 COMPLETED (100.0%)",
                "gpu          0/1 COMPLETED (0.0%)");
    }
}
