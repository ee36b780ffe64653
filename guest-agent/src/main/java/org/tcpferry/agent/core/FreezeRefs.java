package org.tcpferry.agent.core;

import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * How many unsettled connections need each freeze unit, so that a unit can be thawed the moment
 * its last connection settles, without rescanning every carried connection each time. Counts only
 * go down through {@link #settled}; a connection that settles some other way keeps its units
 * counted, which only delays their thaw to the next full settle.
 */
final class FreezeRefs {
    private final Map<FreezeUnit, Integer> unsettled = new HashMap<>();

    /** Counts the unsettled connections of {@code carried}. */
    FreezeRefs(Collection<Carried> carried) {
        for (Carried c : carried) {
            if (!c.phase.settled()) {
                c.freezeUnits.forEach(unit -> unsettled.merge(unit, 1, Integer::sum));
            }
        }
    }

    /** {@code settled} connections (each counted once, when it settles) need no unit any more: the units no one needs now. */
    List<FreezeUnit> settled(Collection<Carried> settled) {
        List<FreezeUnit> free = new ArrayList<>();
        for (Carried c : settled) {
            for (FreezeUnit unit : c.freezeUnits) {
                Integer left = unsettled.computeIfPresent(unit, (u, n) -> n - 1);
                if (left != null && left == 0) {
                    unsettled.remove(unit);
                    free.add(unit);
                }
            }
        }
        return free;
    }
}
