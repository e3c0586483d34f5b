/**
 * The proxies whose forwarded-certificate header is believed: an allowlist of addresses and CIDR
 * ranges, matched against the socket's own remote address (never `X-Forwarded-For` nor a
 * framework's `ip`, which a client can write).
 */
import { BlockList, isIP } from 'node:net'
import { fail } from './options.js'

/**
 * Builds the allowlist from `trustedProxies`, validated at start-up: a TypeError names the entry
 * for anything not an IPv4/IPv6 address or CIDR range.
 */
export function trustedProxyList(value: unknown): BlockList {
  if (!Array.isArray(value) || value.length === 0) {
    fail('trustedProxies', 'is required: a non-empty array of proxy addresses or CIDR ranges')
  }
  const list = new BlockList()
  for (const [i, entry] of (value as unknown[]).entries()) {
    const field = `trustedProxies[${String(i)}]`
    if (typeof entry !== 'string') fail(field, 'must be a string')
    const [address = '', prefix, extra] = entry.split('/')
    const version = isIP(address)
    const family = version === 4 ? 'ipv4' : 'ipv6'
    const bits = prefix === undefined ? undefined : Number(prefix)
    if (
      version === 0 ||
      extra !== undefined ||
      (bits !== undefined && (!/^\d{1,3}$/.test(prefix ?? '') || bits > (version === 4 ? 32 : 128)))
    ) {
      fail(field, 'must be an IP address or a CIDR range such as 10.0.0.0/8')
    }
    if (bits === undefined) list.addAddress(address, family)
    else list.addSubnet(address, bits, family)
  }
  return list
}

/** True if the socket address `address` is in `proxies`; `undefined` (a closed socket) is not. */
export function isTrustedProxy(proxies: BlockList, address: string | undefined): boolean {
  if (address === undefined) return false
  const version = isIP(address)
  // BlockList matches an IPv4-mapped IPv6 address (`::ffff:10.0.0.1`) against IPv4 rules too.
  return version !== 0 && proxies.check(address, version === 4 ? 'ipv4' : 'ipv6')
}
