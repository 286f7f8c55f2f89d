//! Where the hub may send requests that a partner chose the target of (webhook deliveries):
//! public unicast addresses only, so a partner cannot point the hub at its own network, the
//! cloud's metadata service or anyone's private ranges (server-side request forgery).
//!
//! Pure classification, no I/O. Registration applies it to the URL's host; the delivery client
//! applies it to every address a host name resolves to, at send time, so a name that resolves
//! (or later re-resolves) to a private address is refused too. Addresses that embed an IPv4
//! address (IPv4-mapped, NAT64, 6to4) are judged by the IPv4 address they lead to.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// A range of addresses that is not public, by name and prefix.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Range {
    pub name: &'static str,
    pub cidr: &'static str,
}

/// What an address (or host name) is, as far as sending partner data to it goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AddressClass {
    /// Globally reachable unicast.
    Public,
    /// This machine: allowed only in local runs and tests.
    Loopback,
    /// Anything else: private, link-local, shared, reserved, multicast, documentation, …
    NotPublic(Range),
}

const fn range(name: &'static str, cidr: &'static str) -> Range {
    Range { name, cidr }
}

/// IPv4 ranges that are not public unicast (IANA special-purpose registry), most specific first.
const IPV4: &[(u32, u8, Range)] = &[
    (0x0000_0000, 8, range("\"this network\" (unspecified)", "0.0.0.0/8")),
    (0x0a00_0000, 8, range("private", "10.0.0.0/8")),
    (0x6440_0000, 10, range("shared address space (carrier-grade NAT)", "100.64.0.0/10")),
    (0xa9fe_0000, 16, range("link-local (cloud metadata)", "169.254.0.0/16")),
    (0xac10_0000, 12, range("private", "172.16.0.0/12")),
    (0xc000_0000, 24, range("IETF protocol assignments", "192.0.0.0/24")),
    (0xc000_0200, 24, range("documentation", "192.0.2.0/24")),
    (0xc058_6300, 24, range("6to4 relay anycast (deprecated)", "192.88.99.0/24")),
    (0xc0a8_0000, 16, range("private", "192.168.0.0/16")),
    (0xc612_0000, 15, range("benchmarking", "198.18.0.0/15")),
    (0xc633_6400, 24, range("documentation", "198.51.100.0/24")),
    (0xcb00_7100, 24, range("documentation", "203.0.113.0/24")),
    (0xe000_0000, 4, range("multicast", "224.0.0.0/4")),
    (0xffff_ffff, 32, range("broadcast", "255.255.255.255/32")),
    (0xf000_0000, 4, range("reserved", "240.0.0.0/4")),
];

/// IPv6 ranges that are not public unicast, most specific first. Loopback, IPv4-mapped, NAT64
/// and 6to4 are handled before this table.
const IPV6: &[(u128, u8, Range)] = &[
    (0, 128, range("unspecified", "::/128")),
    (0x0064_ff9b_0001 << 80, 48, range("local-use NAT64", "64:ff9b:1::/48")),
    (0x0100 << 112, 64, range("discard-only", "100::/64")),
    (0x2001_0000 << 96, 32, range("Teredo tunnelling", "2001::/32")),
    (0x2001_0db8 << 96, 32, range("documentation", "2001:db8::/32")),
    (0x2001 << 112, 23, range("IETF protocol assignments", "2001::/23")),
    (0x3fff << 112, 20, range("documentation", "3fff::/20")),
    (0x5f00 << 112, 16, range("segment routing (SRv6)", "5f00::/16")),
    (0xfc00 << 112, 7, range("unique local (ULA)", "fc00::/7")),
    (0xfe80 << 112, 10, range("link-local", "fe80::/10")),
    (0xfec0 << 112, 10, range("site-local (deprecated)", "fec0::/10")),
    (0xff00 << 112, 8, range("multicast", "ff00::/8")),
    (0, 8, range("reserved (IPv4-compatible and other)", "::/8")),
];

/// Global unicast space; IPv6 outside it (and outside the table) is reserved.
const GLOBAL_UNICAST: (u128, u8) = (0x2000 << 112, 3);

fn in_prefix<T>(addr: T, network: T, len: u8, bits: u32) -> bool
where
    T: Copy + std::ops::Shr<u32, Output = T> + PartialEq,
{
    let shift = bits - u32::from(len);
    // A shift by the full width overflows; a /0 would match everything (none are listed).
    shift == bits || (addr >> shift) == (network >> shift)
}

pub fn classify_v4(ip: Ipv4Addr) -> AddressClass {
    if ip.is_loopback() {
        return AddressClass::Loopback;
    }
    let bits = u32::from(ip);
    match IPV4.iter().find(|(net, len, _)| in_prefix(bits, *net, *len, 32)) {
        Some((_, _, r)) => AddressClass::NotPublic(*r),
        None => AddressClass::Public,
    }
}

/// The IPv4 address an IPv6 address stands for, where it embeds one that is reached through it:
/// IPv4-mapped (`::ffff:a.b.c.d`), NAT64 (`64:ff9b::a.b.c.d`) and 6to4 (`2002:AABB:CCDD::/48`).
pub fn embedded_v4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    let bits = u128::from(ip);
    if let Some(v4) = ip.to_ipv4_mapped() {
        return Some(v4);
    }
    if in_prefix(bits, 0x0064_ff9b << 96, 96, 128) {
        return Some(Ipv4Addr::from((bits & 0xffff_ffff) as u32));
    }
    if in_prefix(bits, 0x2002 << 112, 16, 128) {
        return Some(Ipv4Addr::from(((bits >> 80) & 0xffff_ffff) as u32));
    }
    None
}

pub fn classify_v6(ip: Ipv6Addr) -> AddressClass {
    if ip.is_loopback() {
        return AddressClass::Loopback;
    }
    if let Some(v4) = embedded_v4(ip) {
        return classify_v4(v4);
    }
    let bits = u128::from(ip);
    if let Some((_, _, r)) = IPV6.iter().find(|(net, len, _)| in_prefix(bits, *net, *len, 128)) {
        return AddressClass::NotPublic(*r);
    }
    if in_prefix(bits, GLOBAL_UNICAST.0, GLOBAL_UNICAST.1, 128) {
        AddressClass::Public
    } else {
        AddressClass::NotPublic(range("reserved (outside global unicast)", "not 2000::/3"))
    }
}

pub fn classify(ip: IpAddr) -> AddressClass {
    match ip {
        IpAddr::V4(v4) => classify_v4(v4),
        IpAddr::V6(v6) => classify_v6(v6),
    }
}

/// Host names that never lead to a partner's public server, whatever DNS says: `localhost`
/// and its subdomains (loopback, RFC 6761), single-label names (resolved through the host's
/// search domains, i.e. into its own network) and the special-use local suffixes.
pub fn classify_name(name: &str) -> AddressClass {
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    if name == "localhost" || name.ends_with(".localhost") {
        return AddressClass::Loopback;
    }
    if name.is_empty() || !name.contains('.') {
        return AddressClass::NotPublic(range("a single-label name (resolved in the hub's own network)", "no dot"));
    }
    for (suffix, r) in [
        (".local", range("a multicast DNS name", ".local")),
        (".internal", range("a private-use name", ".internal")),
        (".home.arpa", range("a home network name", ".home.arpa")),
        (".localdomain", range("a local-domain name", ".localdomain")),
    ] {
        if name.ends_with(suffix) {
            return AddressClass::NotPublic(r);
        }
    }
    AddressClass::Public
}

/// The class of a URL's host: literal addresses by their address, names by [`classify_name`].
pub fn classify_host(host: &url::Host<&str>) -> AddressClass {
    match host {
        url::Host::Domain(name) => classify_name(name),
        url::Host::Ipv4(ip) => classify_v4(*ip),
        url::Host::Ipv6(ip) => classify_v6(*ip),
    }
}

/// Which destinations are allowed: public ones, and loopback in local runs and tests.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct EgressPolicy {
    pub allow_loopback: bool,
}

/// A destination the policy refuses, and why.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Refused {
    /// `None` for loopback.
    pub range: Option<Range>,
}

impl fmt::Display for Refused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.range {
            Some(r) => write!(f, "not a public address: {} ({})", r.name, r.cidr),
            None => f.write_str("a loopback address"),
        }
    }
}

impl EgressPolicy {
    pub fn check(&self, class: AddressClass) -> Result<(), Refused> {
        match class {
            AddressClass::Public => Ok(()),
            AddressClass::Loopback if self.allow_loopback => Ok(()),
            AddressClass::Loopback => Err(Refused { range: None }),
            AddressClass::NotPublic(r) => Err(Refused { range: Some(r) }),
        }
    }

    pub fn check_ip(&self, ip: IpAddr) -> Result<(), Refused> {
        self.check(classify(ip))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn class(text: &str) -> AddressClass {
        classify(text.parse().unwrap())
    }

    fn cidr(text: &str) -> &'static str {
        match class(text) {
            AddressClass::NotPublic(r) => r.cidr,
            other => panic!("{text} is {other:?}"),
        }
    }

    #[test]
    fn every_ipv4_range_is_refused_at_both_ends() {
        let cases = [
            ("0.0.0.0", "0.255.255.255", "0.0.0.0/8"),
            ("10.0.0.0", "10.255.255.255", "10.0.0.0/8"),
            ("100.64.0.0", "100.127.255.255", "100.64.0.0/10"),
            ("169.254.0.0", "169.254.255.255", "169.254.0.0/16"),
            ("172.16.0.0", "172.31.255.255", "172.16.0.0/12"),
            ("192.0.0.0", "192.0.0.255", "192.0.0.0/24"),
            ("192.0.2.0", "192.0.2.255", "192.0.2.0/24"),
            ("192.88.99.0", "192.88.99.255", "192.88.99.0/24"),
            ("192.168.0.0", "192.168.255.255", "192.168.0.0/16"),
            ("198.18.0.0", "198.19.255.255", "198.18.0.0/15"),
            ("198.51.100.0", "198.51.100.255", "198.51.100.0/24"),
            ("203.0.113.0", "203.0.113.255", "203.0.113.0/24"),
            ("224.0.0.0", "239.255.255.255", "224.0.0.0/4"),
            ("240.0.0.0", "255.255.255.254", "240.0.0.0/4"),
            ("255.255.255.255", "255.255.255.255", "255.255.255.255/32"),
        ];
        for (first, last, expected) in cases {
            assert_eq!(cidr(first), expected, "{first}");
            assert_eq!(cidr(last), expected, "{last}");
        }
    }

    #[test]
    fn addresses_just_outside_the_ranges_are_public() {
        for ip in [
            "1.1.1.1",
            "9.255.255.255",
            "11.0.0.0",
            "100.63.255.255",
            "100.128.0.0",
            "169.253.255.255",
            "172.15.255.255",
            "172.32.0.0",
            "192.0.1.255",
            "192.0.3.0",
            "192.167.255.255",
            "192.169.0.0",
            "198.17.255.255",
            "198.20.0.0",
            "203.0.112.255",
            "223.255.255.255",
            "93.184.216.34",
            "8.8.8.8",
        ] {
            assert_eq!(class(ip), AddressClass::Public, "{ip}");
        }
    }

    #[test]
    fn loopback_is_its_own_class_in_every_spelling() {
        for ip in ["127.0.0.1", "127.255.255.254", "::1", "::ffff:127.0.0.1", "64:ff9b::127.0.0.1", "2002:7f00:1::"] {
            assert_eq!(class(ip), AddressClass::Loopback, "{ip}");
        }
    }

    #[test]
    fn every_ipv6_range_is_refused() {
        let cases = [
            ("::", "::/128"),
            ("64:ff9b:1::1", "64:ff9b:1::/48"),
            ("100::1", "100::/64"),
            ("2001::1", "2001::/32"),
            ("2001:db8::1", "2001:db8::/32"),
            ("2001:2::1", "2001::/23"),
            ("2001:1ff:ffff::1", "2001::/23"),
            ("3fff:fff::1", "3fff::/20"),
            ("5f00::1", "5f00::/16"),
            ("fc00::1", "fc00::/7"),
            ("fdff:ffff::1", "fc00::/7"),
            ("fe80::1", "fe80::/10"),
            ("febf::1", "fe80::/10"),
            ("fec0::1", "fec0::/10"),
            ("feff::1", "fec0::/10"),
            ("ff02::1", "ff00::/8"),
            ("::a00:1", "::/8"),
            ("::1:2:3", "::/8"),
            ("4000::1", "not 2000::/3"),
            ("e000::1", "not 2000::/3"),
        ];
        for (ip, expected) in cases {
            assert_eq!(cidr(ip), expected, "{ip}");
        }
        for ip in ["2606:4700:4700::1111", "2a00:1450:4001::1", "2001:200::1", "3fff:1000::1", "2001:4860::8888"] {
            assert_eq!(class(ip), AddressClass::Public, "{ip}");
        }
    }

    #[test]
    fn embedded_ipv4_addresses_are_judged_by_what_they_reach() {
        // IPv4-mapped, NAT64 and 6to4 forms of private, CGNAT, metadata and reserved addresses.
        let cases = [
            ("::ffff:10.1.2.3", "10.0.0.0/8"),
            ("::ffff:169.254.169.254", "169.254.0.0/16"),
            ("64:ff9b::10.0.0.1", "10.0.0.0/8"),
            ("64:ff9b::100.64.0.1", "100.64.0.0/10"),
            ("64:ff9b::c612:1", "198.18.0.0/15"),
            ("2002:c0a8:101::1", "192.168.0.0/16"),
            ("2002:a9fe:a9fe::", "169.254.0.0/16"),
            ("2002:f000:1::", "240.0.0.0/4"),
            ("::ffff:0.0.0.0", "0.0.0.0/8"),
        ];
        for (ip, expected) in cases {
            assert_eq!(cidr(ip), expected, "{ip}");
        }
        // …and the same forms of public addresses are public.
        for ip in ["::ffff:93.184.216.34", "64:ff9b::808:808", "2002:5db8:d822::1"] {
            assert_eq!(class(ip), AddressClass::Public, "{ip}");
        }
        assert_eq!(embedded_v4("2002:c0a8:0101::".parse().unwrap()), Some(Ipv4Addr::new(192, 168, 1, 1)));
        assert_eq!(embedded_v4("2606:4700::1".parse().unwrap()), None);
    }

    #[test]
    fn names_that_never_lead_to_a_partner() {
        for name in ["localhost", "LOCALHOST.", "localhost.", "api.localhost", "a.b.localhost."] {
            assert_eq!(classify_name(name), AddressClass::Loopback, "{name}");
        }
        for name in ["metadata", "intranet.", "", "printer.local", "db.internal", "nas.home.arpa", "box.localdomain"] {
            assert!(matches!(classify_name(name), AddressClass::NotPublic(_)), "{name}");
        }
        for name in ["partner.example", "hooks.partner.example.", "localhost.partner.example", "xn--bcher-kva.example"] {
            assert_eq!(classify_name(name), AddressClass::Public, "{name}");
        }
    }

    #[test]
    fn the_policy_allows_loopback_only_when_told() {
        let strict = EgressPolicy::default();
        let local = EgressPolicy { allow_loopback: true };
        let lo: IpAddr = "127.0.0.1".parse().unwrap();
        let private: IpAddr = "10.0.0.1".parse().unwrap();
        assert_eq!(strict.check_ip(lo), Err(Refused { range: None }));
        assert_eq!(local.check_ip(lo), Ok(()));
        assert!(local.check_ip(private).is_err(), "local runs still refuse private ranges");
        assert_eq!(strict.check_ip("8.8.8.8".parse().unwrap()), Ok(()));
        assert_eq!(strict.check_ip(private).unwrap_err().to_string(), "not a public address: private (10.0.0.0/8)");
    }
}
