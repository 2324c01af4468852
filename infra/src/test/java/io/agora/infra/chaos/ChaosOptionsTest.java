package io.agora.infra.chaos;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The options of {@code agora chaos}: its defaults are the run (10,000 jobs, 30 s outages). */
class ChaosOptionsTest {
    @Test
    void defaultsAreTheFullRun() {
        Chaos.Options o = Chaos.Options.parse(new String[0]);
        assertThat(o.jobs()).isEqualTo(10_000);
        assertThat(o.outageS()).isEqualTo(30);
        assertThat(o.redundancy()).isEqualTo(3);
        assertThat(o.quorum()).isEqualTo(2);
    }

    @Test
    void anAutomaticRateCalibratesFirstAndAnExplicitOneOnlyWhenAsked() {
        Chaos.Options auto = Chaos.Options.parse(new String[]{"--rate", "auto"});
        assertThat(auto.autoRate()).isTrue();
        assertThat(auto.calibrateS()).isEqualTo(60);
        assertThat(auto.inflight()).isEqualTo(16);
        assertThat(auto.at(1.5).rate()).isEqualTo(1.5);
        assertThat(auto.at(1.5).autoRate()).isFalse();
        Chaos.Options fixed = Chaos.Options.parse(new String[]{"--rate", "2", "--calibrate", "30", "--inflight", "8"});
        assertThat(fixed.autoRate()).isFalse();
        assertThat(fixed.rate()).isEqualTo(2);
        assertThat(fixed.calibrateS()).isEqualTo(30);
        assertThat(Chaos.Options.parse(new String[0]).calibrateS()).isZero();
        assertThatThrownBy(() -> Chaos.Options.parse(new String[]{"--rate", "auto", "--calibrate", "0"}))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void aShortRunIsTwoOptions() {
        Chaos.Options o = Chaos.Options.parse(new String[]{"--jobs", "500", "--rate", "4.5"});
        assertThat(o.jobs()).isEqualTo(500);
        assertThat(o.rate()).isEqualTo(4.5);
    }

    @Test
    void refusesWhatCannotRun() {
        assertThatThrownBy(() -> Chaos.Options.parse(new String[]{"--jobs", "0"})).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Chaos.Options.parse(new String[]{"--quorum", "4"})).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Chaos.Options.parse(new String[]{"--kill-everything", "1"}))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("--kill-everything");
        assertThatThrownBy(() -> Chaos.Options.parse(new String[]{"--jobs"})).isInstanceOf(IllegalArgumentException.class);
    }
}
