package dev.framepipe.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The one unit table: every unit by name, chained durations, the refusals and their hints. */
class UnitsTest {

    @Test
    void everySizeUnitByNameInAnyCase() {
        // expectations written out: 1 KiB = 1024 B, 1 MiB = 1048576 B, 1 GiB = 1073741824 B
        assertThat(Units.parseBytes("7B")).isEqualTo(7);
        assertThat(Units.parseBytes("3KiB")).isEqualTo(3_072);
        assertThat(Units.parseBytes("3kib")).isEqualTo(3_072);
        assertThat(Units.parseBytes("16MiB")).isEqualTo(16_777_216);
        assertThat(Units.parseBytes("16 MIB")).isEqualTo(16_777_216);
        assertThat(Units.parseBytes("2GiB")).isEqualTo(2_147_483_648L);
        assertThat(Units.parseBytes(" 0 ")).isZero();
    }

    @Test
    void everyDurationUnitByNameAndChains() {
        assertThat(Units.parseDuration("250ms")).isEqualTo(Duration.ofMillis(250));
        assertThat(Units.parseDuration("30s")).isEqualTo(Duration.ofSeconds(30));
        assertThat(Units.parseDuration("5min")).isEqualTo(Duration.ofSeconds(300));
        assertThat(Units.parseDuration("5m")).isEqualTo(Duration.ofSeconds(300));
        assertThat(Units.parseDuration("2h")).isEqualTo(Duration.ofSeconds(7_200));
        assertThat(Units.parseDuration("5m30s")).isEqualTo(Duration.ofSeconds(330));
        assertThat(Units.parseDuration("1h30min")).isEqualTo(Duration.ofSeconds(5_400));
        assertThat(Units.parseDuration("1s500ms")).isEqualTo(Duration.ofMillis(1_500));
        assertThat(Units.parseDuration("0")).isZero();
    }

    @Test
    void theTableHasOneMeaningPerName() {
        Set<String> names = new HashSet<>();
        for (Units.Unit u : Units.Unit.values()) {
            assertThat(names.add(u.symbol().toLowerCase(java.util.Locale.ROOT))).as(u.symbol()).isTrue();
        }
        assertThat(Units.Unit.M.kind()).isEqualTo(Units.Kind.DURATION);
    }

    @Test
    void aBareNumberNeedsItsUnit() {
        assertThatThrownBy(() -> Units.parseDuration("30")).hasMessageContaining("has no unit").hasMessageContaining("30s");
        assertThatThrownBy(() -> Units.parseBytes("4096")).hasMessageContaining("has no unit").hasMessageContaining("4096B");
        assertThatThrownBy(() -> Units.parseDuration("5m30")).hasMessageContaining("has no unit");
    }

    @Test
    void ambiguousAndForeignUnitsAreRefusedWithWhatWasMeant() {
        assertThatThrownBy(() -> Units.parseBytes("16m")).hasMessageContaining("minutes").hasMessageContaining("MiB");
        assertThatThrownBy(() -> Units.parseBytes("16MB")).hasMessageContaining("did you mean MiB?");
        assertThatThrownBy(() -> Units.parseBytes("16k")).hasMessageContaining("did you mean KiB?");
        assertThatThrownBy(() -> Units.parseBytes("1GB")).hasMessageContaining("did you mean GiB?");
        assertThatThrownBy(() -> Units.parseBytes("1h")).hasMessageContaining("duration unit, not a size unit");
        assertThatThrownBy(() -> Units.parseDuration("1KiB")).hasMessageContaining("size unit, not a duration unit");
        assertThatThrownBy(() -> Units.parseDuration("10 minutes")).hasMessageContaining("did you mean min?");
        assertThatThrownBy(() -> Units.parseDuration("2d")).hasMessageContaining("unknown duration unit 'd'");
    }

    @Test
    void malformedValuesAreRefused() {
        for (String bad : new String[] {"", "  ", "-1s", "1.5s", "s", "1s 2", "1m1min", "1s1s", "0x10s"}) {
            assertThatThrownBy(() -> Units.parseDuration(bad)).as("'%s'", bad).isInstanceOf(IllegalArgumentException.class);
        }
        assertThatThrownBy(() -> Units.parseBytes("1MiB512KiB")).hasMessageContaining("one number and one unit");
        assertThatThrownBy(() -> Units.parseBytes("99999999999GiB")).hasMessageContaining("too large");
        assertThatThrownBy(() -> Units.parseDuration("99999999999999999999h")).hasMessageContaining("too large");
    }
}
