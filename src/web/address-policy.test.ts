import { describe, expect, it } from "vitest";
import { checkAddress } from "./address-policy.js";

const strict = { allowPrivate: false };
const intranet = { allowPrivate: true };

describe("checkAddress", () => {
  it("allows global unicast addresses only", () => {
    for (const ip of ["93.184.216.34", "8.8.8.8", "1.1.1.1", "2606:4700:4700::1111", "2a00:1450:4001:82a::200e", "::ffff:8.8.8.8", "64:ff9b::808:808"]) {
      expect(checkAddress(ip, strict), ip).toEqual({ allowed: true });
    }
  });

  it.each([
    ["127.0.0.1", "loopback"],
    ["127.255.1.2", "loopback"],
    ["::1", "loopback"],
    ["10.0.0.1", "private"],
    ["172.16.5.4", "private"],
    ["172.31.255.255", "private"],
    ["192.168.1.1", "private"],
    ["100.64.0.1", "carrierGradeNat"],
    ["fc00::1", "uniqueLocal"],
    ["fd12:3456::1", "uniqueLocal"],
    ["::ffff:10.0.0.1", "private"],
    ["::ffff:127.0.0.1", "loopback"],
    ["64:ff9b::a00:1", "private"],
    ["2002:a00:1::", "private"],
  ])("refuses %s (%s) unless private addresses are allowed", (ip, range) => {
    expect(checkAddress(ip, strict)).toEqual({ allowed: false, range });
    expect(checkAddress(ip, intranet)).toEqual({ allowed: true });
  });

  it.each([
    ["169.254.169.254", "metadata"],
    ["169.254.170.2", "metadata"],
    ["fd00:ec2::254", "metadata"],
    ["100.100.100.200", "metadata"],
    ["::ffff:169.254.169.254", "metadata"],
    ["169.254.1.1", "linkLocal"],
    ["fe80::1", "linkLocal"],
    ["fe80::1%eth0", "linkLocal"],
    ["0.0.0.0", "unspecified"],
    ["0.1.2.3", "unspecified"],
    ["::", "unspecified"],
    ["224.0.0.1", "multicast"],
    ["ff02::1", "multicast"],
    ["255.255.255.255", "broadcast"],
    ["192.0.2.1", "reserved"],
    ["198.18.0.1", "reserved"],
    ["240.0.0.1", "reserved"],
    ["2001:db8::1", "reserved"],
    ["2001::1", "teredo"],
    ["not an address", "invalid"],
  ])("refuses %s (%s) even when private addresses are allowed", (ip, range) => {
    expect(checkAddress(ip, strict)).toEqual({ allowed: false, range });
    expect(checkAddress(ip, intranet)).toEqual({ allowed: false, range });
  });
});
