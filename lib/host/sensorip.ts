// lib/host/sensorip.ts: the address Ansible should use to reach this host (docs/protocol.md, Host
// facts). The description's UDP dial to 8.8.8.8 is impossible in Deno and wrong on isolated
// management networks; the route to the backend is the address that matters.
import { isIpAddress } from "../config/mod.ts";
import { deadline, lightTimer } from "../deadline.ts";
import { openKernelFile, readKernelFile } from "./kernelfile.ts";
import { parseDefaultRouteInterface } from "./netdev.ts";

/** What detection may use; every part is optional so a degraded host still gets an answer. */
export interface SensorIpSources {
  readonly override?: string; // SENSOR_IP
  readonly backendUrl?: URL;
  readonly procRoot: string;
  readonly addresses: readonly Deno.NetworkInterfaceInfo[];
  /** Interfaces known to be down (from sysfs), skipped by the last fallbacks. */
  readonly downInterfaces?: ReadonlySet<string>;
  /** Stops the dial to the backend early (SIGTERM must not wait for it). */
  readonly signal?: AbortSignal;
  /** The dial to the backend (dialBackend), where the caller began it already; else made here. */
  readonly viaBackend?: Promise<string | undefined>;
}

const DIAL_TIMEOUT_MS = 2000;
/** <proc>/net/route holds a line of 128 bytes per route: thousands of routes still fit. */
const MAX_ROUTE_BYTES = 4 * 1024 * 1024;

/** True for 127.0.0.0/8, ::1 and IPv4-mapped loopback. */
export function isLoopbackAddress(ip: string): boolean {
  return ip.startsWith("127.") || ip === "::1" || ip.startsWith("::ffff:127.");
}

/**
 * Picks the address from what the host shows, without I/O: the default-route interface's IPv4 (or
 * its IPv6), else the first non-loopback IPv4 of an interface that is not down, else a global IPv6.
 */
export function addressFromInterfaces(
  addresses: readonly Deno.NetworkInterfaceInfo[],
  defaultRouteInterface: string | undefined,
  downInterfaces: ReadonlySet<string> = new Set(),
): string | undefined {
  const usable = addresses.filter((a) =>
    !isLoopbackAddress(a.address) && !downInterfaces.has(a.name)
  );
  const onRoute = usable.filter((a) => a.name === defaultRouteInterface);
  return onRoute.find((a) => a.family === "IPv4")?.address ??
    onRoute.find((a) => a.family === "IPv6" && isGlobalIpv6(a.address))?.address ??
    usable.find((a) => a.family === "IPv4")?.address ??
    usable.find((a) => a.family === "IPv6" && isGlobalIpv6(a.address))?.address;
}

function isGlobalIpv6(ip: string): boolean {
  // Link-local (fe80::/10) and unique-local (fc00::/7) addresses do not route to a backend.
  return !/^(fe[89ab]|f[cd])/i.test(ip) && ip !== "::";
}

/**
 * The sensor's IP: SENSOR_IP; else the local end of a TCP connection to the backend (nothing is
 * sent, closed at once, 2 s at most) unless it is loopback; else the host's interfaces.
 */
export async function detectSensorIp(sources: SensorIpSources): Promise<string | undefined> {
  if (sources.override !== undefined) return sources.override;
  const viaBackend = await (sources.viaBackend ??
    (sources.backendUrl ? dialBackend(sources.backendUrl, sources.signal) : undefined));
  if (viaBackend !== undefined && !isLoopbackAddress(viaBackend)) return viaBackend;
  const route = readRouteTable(sources.procRoot);
  const routeInterface = route === undefined ? undefined : parseDefaultRouteInterface(route);
  return addressFromInterfaces(sources.addresses, routeInterface, sources.downInterfaces);
}

/** The text of <proc>/net/route, judged as lib/host/kernelfile.ts judges it, or undefined. */
function readRouteTable(procRoot: string): string | undefined {
  try {
    using file = openKernelFile(procRoot, `${procRoot}/net/route`);
    return new TextDecoder().decode(readKernelFile(file, MAX_ROUTE_BYTES));
  } catch {
    return undefined; // missing, not granted, or not a file to read: the addresses decide
  }
}

/**
 * The local address of a TCP connection to the backend at `url`, made and closed at once (nothing
 * is sent), or undefined when it cannot be made within 2 s or `stop` aborts. Never rejects.
 */
export async function dialBackend(url: URL, stop?: AbortSignal): Promise<string | undefined> {
  const port = Number(url.port || (url.protocol === "https:" ? 443 : 80));
  const hostname = url.hostname.replace(/^\[(.*)\]$/, "$1");
  // The pending connect keeps the process alive; the light timer needs no node layer at start-up,
  // and a dial every 60 s at most leaves little for V8 to keep (lib/deadline.ts).
  using limit = deadline(DIAL_TIMEOUT_MS, stop, lightTimer);
  try {
    const conn = await Deno.connect({ hostname, port, signal: limit.signal });
    const local = conn.localAddr as Deno.NetAddr;
    conn.close();
    const ip = local.hostname.replace(/^::ffff:(\d+\.)/, "$1");
    return isIpAddress(ip) ? ip : undefined;
  } catch {
    return undefined; // refused, filtered, or not allowed: fall back to the interfaces
  }
}
