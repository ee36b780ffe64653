package org.tcpferry.host.libvirt;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

/** Reading and editing domain XML as libvirt writes it (pure, no libvirt). */
class DomainXmlTest {
    private static final String XML = """
            <domain type='kvm' id='3'>
              <name>web1</name>
              <uuid>3f2c1a9e-0000-4000-8000-000000000001</uuid>
              <devices>
                <interface type='bridge'>
                  <mac address='52:54:00:AA:BB:CC'/>
                  <source bridge='br0'/>
                </interface>
                <channel type='unix'>
                  <source mode='bind' path='/run/libvirt/qemu/channel/3-web1/org.qemu.guest_agent.0'/>
                  <target type='virtio' name='org.qemu.guest_agent.0'/>
                </channel>
              </devices>
            </domain>
            """;

    @Test
    void readsNameUuidInterfaces() {
        DomainXml xml = DomainXml.parse(XML);
        assertThat(xml.name()).isEqualTo("web1");
        assertThat(xml.uuid()).isEqualTo("3f2c1a9e-0000-4000-8000-000000000001");
        assertThat(xml.interfaces()).containsExactly(new DomainInterface("52:54:00:aa:bb:cc", "br0"));
        assertThat(xml.hasAgentChannel()).isFalse();
        assertThat(xml.agentChannelSocket()).isEmpty();
        assertThat(xml.addresses()).isEmpty();
    }

    @Test
    void addsTheChannelOnceAndOnlyIt() {
        String once = DomainXml.parse(XML).withAgentChannel("/run/x/web1.org.tcpferry.agent.0");
        assertThat(DomainXml.parse(once).hasAgentChannel()).isTrue();
        assertThat(DomainXml.parse(once).agentChannelSocket()).isEqualTo("/run/x/web1.org.tcpferry.agent.0");
        assertThat(DomainXml.parse(once).withAgentChannel("/other")).isEqualTo(once);
        assertThat(LineDiff.of(XML, once)).contains("+    <channel type='unix'>")
                .contains("+      <target type='virtio' name='org.tcpferry.agent.0'/>").doesNotContain("-");
    }

    @Test
    void aChannelWithoutAPathGetsOneSoThatItStaysTheSameAcrossStarts() {
        String pathless = XML.replace("</devices>", """
                  <channel type='unix'>
                    <target type='virtio' name='org.tcpferry.agent.0'/>
                    <address type='virtio-serial' controller='0' bus='0' port='2'/>
                  </channel>
                </devices>""");
        String fixed = DomainXml.parse(pathless).withAgentChannel("/run/x/web1.org.tcpferry.agent.0");
        assertThat(DomainXml.parse(fixed).agentChannelSocket()).isEqualTo("/run/x/web1.org.tcpferry.agent.0");
        assertThat(fixed).containsOnlyOnce("name='org.tcpferry.agent.0'").contains("org.qemu.guest_agent.0");
        assertThat(DomainXml.parse(fixed).withAgentChannel("/other")).isEqualTo(fixed);
    }

    @Test
    void addressesRoundTripAndReplace() {
        String with = DomainXml.parse(XML).withAddresses(List.of("192.0.2.10", "2001:db8::10/128"));
        assertThat(DomainXml.parse(with).addresses()).containsExactly("192.0.2.10", "2001:db8::10/128");
        assertThat(DomainXml.parse(with).withAddresses(List.of("192.0.2.10", "2001:db8::10/128"))).isEqualTo(with);
        String replaced = DomainXml.parse(with).withAddresses(List.of("198.51.100.7"));
        assertThat(DomainXml.parse(replaced).addresses()).containsExactly("198.51.100.7");
        assertThat(replaced).containsOnlyOnce("<metadata>");
    }

    @Test
    void readsTheLiveChannelSocketAndMetadataOfAnotherPrefix() {
        String live = XML.replace("</devices>", """
                  <channel type='unix'>
                    <source mode='bind' path='/run/libvirt/qemu/channel/3-web1/org.tcpferry.agent.0'/>
                    <target type='virtio' name='org.tcpferry.agent.0' state='connected'/>
                  </channel>
                </devices>
                <metadata><x:addresses xmlns:x='https://tcpferry.org/xmlns/domain/1'><x:address> 10.1.0.5 </x:address></x:addresses>
                <other:addresses xmlns:other='urn:other'><other:address>9.9.9.9</other:address></other:addresses></metadata>""");
        DiscoveredDomain found = DiscoveredDomain.of(live, true);
        assertThat(found.channelSocket()).isEqualTo("/run/libvirt/qemu/channel/3-web1/org.tcpferry.agent.0");
        assertThat(found.addresses()).containsExactly("10.1.0.5");
        assertThat(found.firstBridge()).isEqualTo("br0");
    }

    @Test
    void socketPathIsStablePerName() {
        assertThat(DomainXml.agentSocketPath("/d", "web 1/x")).isEqualTo("/d/web_1_x.org.tcpferry.agent.0");
    }

    @Test
    void diffOfEqualTextsIsEmpty() {
        assertThat(LineDiff.of(XML, XML)).isEmpty();
    }
}
