package io.agora.infra.chaos;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class CalibrationTest {
    @Test
    void aRunSubmitsAtHalfWhatTheMachineCompletedWithoutFaultsRoundedDown() {
        assertThat(Calibration.recommendedRate(150, 60)).as("2.5 jobs/s completed").isEqualTo(1.2);
        assertThat(Calibration.recommendedRate(600, 60)).isEqualTo(5.0);
    }

    @Test
    void aMachineThatCompletedNothingStillGetsTheLowestRate() {
        assertThat(Calibration.recommendedRate(0, 60)).isEqualTo(Calibration.MIN_RATE);
        assertThat(Calibration.recommendedRate(5, 0)).isEqualTo(Calibration.MIN_RATE);
    }
}
