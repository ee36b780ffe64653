package org.tcpferry.host.libvirt;

import java.io.IOException;
import java.io.StringReader;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.xml.XMLConstants;
import javax.xml.parsers.DocumentBuilder;
import javax.xml.parsers.DocumentBuilderFactory;
import javax.xml.parsers.ParserConfigurationException;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.Node;
import org.w3c.dom.NodeList;
import org.xml.sax.InputSource;
import org.xml.sax.SAXException;

/**
 * A libvirt domain definition: reads what tcpferry needs from it and makes tcpferry's two edits.
 *
 * <p>Reading uses a namespace-aware DOM. Editing inserts text into the XML libvirt produced
 * instead of re-serializing a DOM, so that everything else stays byte for byte as libvirt wrote it
 * and the diff a user is shown contains only tcpferry's lines.
 */
public final class DomainXml {
    /** Name of the virtio-serial port the guest agent opens ({@code /dev/virtio-ports/NAME}). */
    public static final String AGENT_CHANNEL = "org.tcpferry.agent.0";
    /** Namespace of tcpferry's element in {@code <metadata>}. */
    public static final String NAMESPACE = "https://tcpferry.org/xmlns/domain/1";

    private final String text;
    private final Element root;

    private DomainXml(String text, Element root) {
        this.text = text;
        this.root = root;
    }

    /** Parses {@code xml}; IllegalArgumentException when it is not a {@code <domain>} document. */
    public static DomainXml parse(String xml) {
        try {
            DocumentBuilderFactory factory = DocumentBuilderFactory.newInstance();
            factory.setNamespaceAware(true);
            factory.setFeature(XMLConstants.FEATURE_SECURE_PROCESSING, true);
            factory.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
            DocumentBuilder builder = factory.newDocumentBuilder();
            builder.setErrorHandler(null);
            Document document = builder.parse(new InputSource(new StringReader(xml)));
            Element root = document.getDocumentElement();
            if (!"domain".equals(root.getLocalName())) {
                throw new IllegalArgumentException("not a libvirt domain definition: root element <" + root.getLocalName() + ">");
            }
            return new DomainXml(xml, root);
        } catch (ParserConfigurationException | SAXException | IOException e) {
            throw new IllegalArgumentException("not valid XML: " + e.getMessage(), e);
        }
    }

    /** The XML text this was parsed from. */
    public String text() {
        return text;
    }

    public String name() {
        return childText(root, "name");
    }

    public String uuid() {
        return childText(root, "uuid");
    }

    /** Every {@code <interface>} under {@code <devices>}: MAC and bridge. */
    public List<DomainInterface> interfaces() {
        List<DomainInterface> result = new ArrayList<>();
        for (Element iface : children(child(root, "devices"), "interface")) {
            Element mac = child(iface, "mac");
            Element source = child(iface, "source");
            result.add(new DomainInterface(mac == null ? "" : mac.getAttribute("address").toLowerCase(),
                    source == null ? "" : source.getAttribute("bridge")));
        }
        return result;
    }

    /** The tcpferry agent's channel element, or null. */
    private Element agentChannel() {
        for (Element channel : children(child(root, "devices"), "channel")) {
            Element target = child(channel, "target");
            if (target != null && AGENT_CHANNEL.equals(target.getAttribute("name"))) {
                return channel;
            }
        }
        return null;
    }

    public boolean hasAgentChannel() {
        return agentChannel() != null;
    }

    /** Host-side socket of the agent channel ({@code <source path=...>}), empty if none or not assigned. */
    public String agentChannelSocket() {
        Element channel = agentChannel();
        if (channel == null || !"unix".equals(channel.getAttribute("type"))) {
            return "";
        }
        Element source = child(channel, "source");
        return source == null ? "" : source.getAttribute("path");
    }

    /** The addresses in {@code <metadata><tcpferry:addresses><tcpferry:address>}, in order. */
    public List<String> addresses() {
        List<String> result = new ArrayList<>();
        Element addresses = tcpferryAddresses();
        if (addresses != null) {
            for (Element address : children(addresses, "address")) {
                String value = address.getTextContent().trim();
                if (!value.isEmpty()) {
                    result.add(value);
                }
            }
        }
        return result;
    }

    private Element tcpferryAddresses() {
        Element metadata = child(root, "metadata");
        if (metadata == null) {
            return null;
        }
        for (Element element : children(metadata, null)) {
            if (NAMESPACE.equals(element.getNamespaceURI()) && "addresses".equals(element.getLocalName())) {
                return element;
            }
        }
        return null;
    }

    /**
     * This definition with the agent's virtio-serial channel added, or unchanged if it has one with
     * a socket path. The socket path is given, not left to libvirt: libvirt's own choice contains
     * the domain's id and so changes at every start, while the host manager reconnects to one fixed
     * path. So a channel without a path (libvirt chooses) is replaced by one with {@code socketPath}.
     */
    public String withAgentChannel(String socketPath) {
        if (hasAgentChannel() && !agentChannelSocket().isEmpty()) {
            return text;
        }
        if (hasAgentChannel()) {
            Matcher pathless = Pattern.compile("[ \\t]*<channel\\b(?:(?!</channel>).)*?name=['\"]" + Pattern.quote(AGENT_CHANNEL)
                    + "['\"](?:(?!</channel>).)*</channel>[ \\t]*\\n?", Pattern.DOTALL).matcher(text);
            if (!pathless.find()) {
                throw new IllegalArgumentException("cannot locate the existing " + AGENT_CHANNEL + " channel to give it a path");
            }
            return parse(text.substring(0, pathless.start()) + text.substring(pathless.end())).withAgentChannel(socketPath);
        }
        String indent = indentOf("devices") + "  ";
        String channel = indent + "<channel type='unix'>\n"
                + indent + "  <source mode='bind' path='" + escape(socketPath).replace("'", "&apos;") + "'/>\n"
                + indent + "  <target type='virtio' name='" + AGENT_CHANNEL + "'/>\n"
                + indent + "</channel>\n";
        return insertBeforeClosing("devices", channel);
    }

    /** This definition with {@code <tcpferry:addresses>} holding exactly {@code addresses}. */
    public String withAddresses(List<String> addresses) {
        if (addresses().equals(addresses) && tcpferryAddresses() != null) {
            return text;
        }
        String base = text;
        if (tcpferryAddresses() != null) {
            Matcher old = Pattern.compile("[ \\t]*<(\\w+:)?addresses\\b[^>]*\\Q" + NAMESPACE + "\\E[^>]*?(/>|>.*?</\\1addresses>)\\s*\\n?",
                    Pattern.DOTALL).matcher(base);
            if (!old.find()) {
                throw new IllegalArgumentException("cannot locate the existing tcpferry addresses element to replace");
            }
            base = base.substring(0, old.start()) + base.substring(old.end());
        }
        DomainXml edited = parse(base);
        String inner = edited.indentOf("metadata").isEmpty() && edited.child(edited.root, "metadata") == null
                ? "  " : edited.indentOf("metadata");
        StringBuilder element = new StringBuilder();
        element.append(inner).append("  <tcpferry:addresses xmlns:tcpferry='").append(NAMESPACE).append("'>\n");
        for (String address : addresses) {
            element.append(inner).append("    <tcpferry:address>").append(escape(address)).append("</tcpferry:address>\n");
        }
        element.append(inner).append("  </tcpferry:addresses>\n");
        if (edited.child(edited.root, "metadata") != null) {
            return edited.insertBeforeClosing("metadata", element.toString());
        }
        // No <metadata> yet: libvirt puts it right after <uuid> (or <name>); where it goes does not matter to libvirt.
        Matcher after = Pattern.compile("</uuid>[ \\t]*\\n|</name>[ \\t]*\\n").matcher(base);
        if (!after.find()) {
            throw new IllegalArgumentException("domain XML has neither <uuid> nor <name>");
        }
        String metadata = inner + "<metadata>\n" + element + inner + "</metadata>\n";
        return base.substring(0, after.end()) + metadata + base.substring(after.end());
    }

    private String insertBeforeClosing(String element, String insert) {
        int close = text.lastIndexOf("</" + element + ">");
        if (close < 0) {
            throw new IllegalArgumentException("domain XML has no <" + element + "> element with a closing tag");
        }
        int lineStart = text.lastIndexOf('\n', close) + 1;
        boolean ownLine = text.substring(lineStart, close).isBlank();
        int at = ownLine ? lineStart : close;
        return text.substring(0, at) + (ownLine ? "" : "\n") + insert + text.substring(at);
    }

    /** The whitespace before {@code <element} on its line, or two spaces when it cannot be found. */
    private String indentOf(String element) {
        Matcher m = Pattern.compile("\\n([ \\t]*)<" + element + "[\\s>]").matcher(text);
        return m.find() ? m.group(1) : "  ";
    }

    /** The socket path tcpferry gives a domain's channel: one per domain name under {@code dir}. */
    public static String agentSocketPath(String dir, String domainName) {
        return dir + "/" + domainName.replaceAll("[^A-Za-z0-9._-]", "_") + "." + AGENT_CHANNEL;
    }

    private static String escape(String value) {
        return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;");
    }

    private Element child(Element parent, String name) {
        List<Element> found = children(parent, name);
        return found.isEmpty() ? null : found.get(0);
    }

    private static String childText(Element parent, String name) {
        NodeList nodes = parent.getChildNodes();
        for (int i = 0; i < nodes.getLength(); i++) {
            Node node = nodes.item(i);
            if (node instanceof Element e && name.equals(e.getLocalName())) {
                return e.getTextContent().trim();
            }
        }
        return "";
    }

    /** Element children of {@code parent} called {@code name} (any name when null); none for a null parent. */
    private static List<Element> children(Element parent, String name) {
        List<Element> result = new ArrayList<>();
        if (parent == null) {
            return result;
        }
        NodeList nodes = parent.getChildNodes();
        for (int i = 0; i < nodes.getLength(); i++) {
            if (nodes.item(i) instanceof Element e && (name == null || name.equals(e.getLocalName()))) {
                result.add(e);
            }
        }
        return result;
    }
}
