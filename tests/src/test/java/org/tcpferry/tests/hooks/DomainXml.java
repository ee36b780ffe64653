package org.tcpferry.tests.hooks;

/**
 * Domain XML as libvirt hands it to a qemu hook: the live definition of a running guest (with
 * {@code id}, generated channel path and tap name), formatted by libvirt, including a
 * {@code <metadata>} block of another application that holds its own {@code <name>}.
 */
final class DomainXml {
    static final String NAME = "web-1&co";
    static final String NAME_IN_XML = "web-1&amp;co";
    static final String UUID = "3f2c1a9e-5b7d-4e08-9c61-2a4b8d0e7f13";

    private DomainXml() {}

    static String running() {
        return """
                <domain type='qemu' id='7'>
                  <name>%s</name>
                  <uuid>%s</uuid>
                  <metadata>
                    <app:instance xmlns:app="http://example.org/cloud/1">
                      <app:name>not-the-domain</app:name>
                      <name>also-not-the-domain</name>
                    </app:instance>
                  </metadata>
                  <memory unit='KiB'>524288</memory>
                  <currentMemory unit='KiB'>524288</currentMemory>
                  <vcpu placement='static'>1</vcpu>
                  <resource>
                    <partition>/machine</partition>
                  </resource>
                  <os>
                    <type arch='x86_64' machine='pc-i440fx-7.2'>hvm</type>
                    <kernel>/var/lib/tcpferry/images/vmlinux</kernel>
                    <initrd>/var/lib/tcpferry/images/initrd.img</initrd>
                    <cmdline>console=ttyS0 quiet tcpferry.ip=10.8.0.2/24</cmdline>
                    <boot dev='hd'/>
                  </os>
                  <cpu mode='maximum' check='none'/>
                  <clock offset='utc'/>
                  <on_poweroff>destroy</on_poweroff>
                  <on_reboot>destroy</on_reboot>
                  <on_crash>destroy</on_crash>
                  <devices>
                    <emulator>/usr/bin/qemu-system-x86_64</emulator>
                    <controller type='usb' index='0' model='none'>
                      <alias name='usb'/>
                    </controller>
                    <controller type='virtio-serial' index='0'>
                      <alias name='virtio-serial0'/>
                      <address type='pci' domain='0x0000' bus='0x00' slot='0x03' function='0x0'/>
                    </controller>
                    <interface type='bridge'>
                      <mac address='52:54:00:4a:7e:01'/>
                      <source bridge='tfbr0'/>
                      <target dev='vnet3'/>
                      <model type='virtio'/>
                      <alias name='net0'/>
                      <address type='pci' domain='0x0000' bus='0x00' slot='0x02' function='0x0'/>
                    </interface>
                    <channel type='unix'>
                      <source mode='bind' path='/var/lib/libvirt/qemu/channel/target/domain-7-web-1&amp;co/org.tcpferry.agent.0'/>
                      <target type='virtio' name='org.tcpferry.agent.0' state='connected'/>
                      <alias name='channel0'/>
                      <address type='virtio-serial' controller='0' bus='0' port='1'/>
                    </channel>
                    <serial type='file'>
                      <source path='/var/log/libvirt/qemu/web-1&amp;co-console.log' append='on'/>
                      <target type='isa-serial' port='0'>
                        <model name='isa-serial'/>
                      </target>
                      <alias name='serial0'/>
                    </serial>
                    <memballoon model='none'/>
                  </devices>
                  <seclabel type='none' model='none'/>
                </domain>
                """.formatted(NAME_IN_XML, UUID);
    }
}
