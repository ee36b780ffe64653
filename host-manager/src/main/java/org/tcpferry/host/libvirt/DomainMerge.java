package org.tcpferry.host.libvirt;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.tcpferry.host.config.DomainConfig;

/**
 * Combines the configured domains with those libvirt reports. The config overrides: a configured
 * domain keeps every field it sets, and only its empty channel and address list are filled in from
 * libvirt (and its MAC list from the interfaces). A domain only libvirt knows is added when it is set up for tcpferry (it has the agent
 * channel with a socket path) and has a bridge; its addresses come from its metadata.
 */
public final class DomainMerge {
    private DomainMerge() {
    }

    public static List<DomainConfig> merge(List<DomainConfig> configured, List<DiscoveredDomain> discovered) {
        Map<String, DiscoveredDomain> byName = new LinkedHashMap<>();
        for (DiscoveredDomain domain : discovered) {
            byName.put(domain.name(), domain);
        }
        List<DomainConfig> result = new ArrayList<>();
        for (DomainConfig domain : configured) {
            DiscoveredDomain found = byName.remove(domain.name());
            if (found == null) {
                result.add(domain);
                continue;
            }
            result.add(new DomainConfig(domain.name(), domain.uuid(),
                    domain.addresses().isEmpty() ? found.addresses() : domain.addresses(), domain.netns(), domain.bridge(),
                    domain.channel().isEmpty() ? found.channelSocket() : domain.channel(), domain.channelMode(),
                    domain.macs().isEmpty() ? found.macs() : domain.macs()));
        }
        for (DiscoveredDomain found : byName.values()) {
            if (!found.channelSocket().isEmpty() && !found.firstBridge().isEmpty()) {
                result.add(new DomainConfig(found.name(), found.uuid(), found.addresses(), "", found.firstBridge(),
                        found.channelSocket(), "connect", found.macs()));
            }
        }
        return result;
    }
}
