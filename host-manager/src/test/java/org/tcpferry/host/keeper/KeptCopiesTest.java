package org.tcpferry.host.keeper;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class KeptCopiesTest {
    /** A domain whose bridge is in the daemon's own namespace has a null namespace path: no copies there, no exception. */
    @Test
    void nothingKeptIsNothingSteeredInTheDaemonsOwnNamespace() {
        assertThat(KeptCopies.NONE.steeredIn(null)).isEmpty();
    }
}
