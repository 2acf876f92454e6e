/**
 * Which addresses the bot may connect to on a user's behalf (the SSRF rule), classified with ipaddr.js.
 *
 * Allowed: global unicast addresses only. Never: loopback, RFC 1918, CGNAT, IPv6 unique-local, link-local (which holds
 * the cloud metadata service at 169.254.169.254), unspecified, multicast, broadcast, documentation, benchmarking and
 * the other reserved ranges, and the metadata addresses that sit in ordinary-looking ranges (AWS's fd00:ec2::254,
 * Alibaba's 100.100.100.200). IPv4 written inside IPv6 (mapped ::ffff:a.b.c.d, NAT64 64:ff9b::/96, 6to4 2002::/16) is
 * judged as the IPv4 address it carries.
 *
 * With `allowPrivate` (WEB_FETCH_ALLOW_PRIVATE=true, for intranets and tests) loopback, RFC 1918, CGNAT and unique-local
 * addresses are allowed too. Link-local and metadata addresses stay refused even then: no intranet page lives there,
 * and they are where a cloud machine's credentials are.
 */
import ipaddr from "ipaddr.js";

/** Ranges WEB_FETCH_ALLOW_PRIVATE opens. */
const PRIVATE_RANGES = new Set<string>(["private", "loopback", "carrierGradeNat", "uniqueLocal"]);

/** Cloud metadata services at addresses their range alone would not refuse (169.254.169.254 is link-local anyway). */
const METADATA_ADDRESSES = ["169.254.169.254", "169.254.170.2", "fd00:ec2::254", "100.100.100.200"].map((a) => ipaddr.parse(a).toNormalizedString());

export type AddressVerdict = { allowed: true } | { allowed: false; range: string };

export interface AddressPolicy {
  /** WEB_FETCH_ALLOW_PRIVATE: also loopback, RFC 1918, CGNAT and unique-local addresses. */
  allowPrivate: boolean;
}

/** The IPv4 address an IPv6 address carries (mapped, NAT64, 6to4), if it carries one. */
function embeddedIPv4(address: ipaddr.IPv6): ipaddr.IPv4 | undefined {
  if (address.isIPv4MappedAddress()) return address.toIPv4Address();
  const range = address.range();
  const bytes = address.toByteArray();
  if (range === "rfc6052" && address.match(ipaddr.parseCIDR("64:ff9b::/96"))) return new ipaddr.IPv4(bytes.slice(12, 16));
  if (range === "6to4") return new ipaddr.IPv4(bytes.slice(2, 6));
  return undefined;
}

/** Whether the bot may connect to this IP address (a string as DNS or a URL gives it). Unparsable: refused. */
export function checkAddress(ip: string, policy: AddressPolicy): AddressVerdict {
  let address: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    address = ipaddr.parse(ip.replace(/^\[|\]$/g, "").replace(/%.*$/, ""));
  } catch {
    return { allowed: false, range: "invalid" };
  }
  if (METADATA_ADDRESSES.includes(address.toNormalizedString())) return { allowed: false, range: "metadata" };
  if (address.kind() === "ipv6") {
    const inner = embeddedIPv4(address as ipaddr.IPv6);
    if (inner) return checkAddress(inner.toString(), policy);
  }
  const range = address.range();
  if (range === "unicast") return { allowed: true };
  if (policy.allowPrivate && PRIVATE_RANGES.has(range)) return { allowed: true };
  return { allowed: false, range };
}
