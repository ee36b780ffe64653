package org.tcpferry.rig;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class RigNamesTest {

    @Test
    void prefixIsMarkFixedWidthPidAndCounter() {
        assertThat(RigNames.prefix(12345, 0)).isEqualTo("tf009ix0");
        assertThat(RigNames.prefix(4_194_304, 1296)).isEqualTo("tf2hwcg100");
    }

    @Test
    void pidAndPrefixAreReadBackFromANamespaceName() {
        String name = RigNames.namespace(RigNames.prefix(12345, 37), "hostA");
        assertThat(name).isEqualTo("tf009ix11-hostA");
        assertThat(RigNames.pidOf(name)).hasValue(12345);
        assertThat(RigNames.prefixOf(name)).hasValue("tf009ix11");
    }

    @Test
    void foreignNamesAreNotRigNames() {
        assertThat(RigNames.pidOf("guest")).isEmpty();
        assertThat(RigNames.pidOf("tf12-guest")).isEmpty();
        assertThat(RigNames.pidOf("tf009ix0")).isEmpty();
        assertThat(RigNames.pidOf("tfABCDE0-x")).isEmpty();
    }

    @Test
    void linkNamesFitIfnamsizForLargePidsAndCounters() {
        String prefix = RigNames.prefix(4_194_304, 46_655);
        assertThat(RigNames.link(prefix, 46_655)).hasSizeLessThanOrEqualTo(15).startsWith(prefix);
    }

    @Test
    void rolesCannotCarrySlashesOrSpaces() {
        assertThatThrownBy(() -> RigNames.namespace("tf009ix0", "a/b")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> RigNames.namespace("tf009ix0", "a b")).isInstanceOf(IllegalArgumentException.class);
    }
}
