package org.tcpferry.host.config;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;

/** IP prefixes (a plain address is a full-length prefix); answers whether an address is inside. */
public final class AddressSet {
    private final List<Prefix> prefixes;

    private AddressSet(List<Prefix> prefixes) {
        this.prefixes = prefixes;
    }

    /** Parses {@code 10.0.0.2}, {@code 10.0.0.0/24}, {@code fd00::2}, {@code fd00::/64}. */
    public static AddressSet parse(List<String> entries) {
        List<Prefix> prefixes = new ArrayList<>();
        for (String entry : entries) {
            prefixes.add(Prefix.parse(entry.trim()));
        }
        return new AddressSet(List.copyOf(prefixes));
    }

    public boolean contains(InetAddress address) {
        byte[] raw = address.getAddress();
        return prefixes.stream().anyMatch(p -> p.contains(raw));
    }

    @Override
    public String toString() {
        return prefixes.toString();
    }

    private record Prefix(byte[] network, int length, String text) {
        static Prefix parse(String text) {
            int slash = text.indexOf('/');
            String host = slash < 0 ? text : text.substring(0, slash);
            if (!host.matches("[0-9a-fA-F:.]+")) {
                // getByName would otherwise resolve host names through DNS
                throw new IllegalArgumentException("not an IP address: " + text);
            }
            byte[] raw;
            try {
                raw = InetAddress.getByName(host).getAddress();
            } catch (UnknownHostException e) {
                throw new IllegalArgumentException("not an IP address: " + text, e);
            }
            int length = slash < 0 ? raw.length * 8 : Integer.parseInt(text.substring(slash + 1));
            if (length < 0 || length > raw.length * 8) {
                throw new IllegalArgumentException("bad prefix length: " + text);
            }
            return new Prefix(raw, length, text);
        }

        boolean contains(byte[] address) {
            if (address.length != network.length) {
                return false;
            }
            int full = length / 8;
            for (int i = 0; i < full; i++) {
                if (address[i] != network[i]) {
                    return false;
                }
            }
            int rest = length % 8;
            if (rest == 0) {
                return true;
            }
            int mask = 0xff << (8 - rest) & 0xff;
            return (address[full] & mask) == (network[full] & mask);
        }

        @Override
        public String toString() {
            return text;
        }
    }
}
