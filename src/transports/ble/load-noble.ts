/**
 * noble, loaded when the hub first needs BLE: a hub without BLE devices never loads it, and a
 * hub without an adapter, or without the right to use it, gets one clear line saying what is
 * missing and how to fix it, and keeps serving its serial devices.
 */
import { createRequire } from 'node:module';
import type { Noble } from './noble-types.js';

export type NobleLoad = { noble: Noble } | { unavailable: string };

/** What is missing and how to fix it, for the adapter states and load errors seen on Linux. */
export function bleUnavailableReason(what: string): string {
  if (/EAFNOSUPPORT|Address family not supported/i.test(what)) return 'no Bluetooth support in this system (no adapter, or a container without the host network and /dev access): plug in an adapter or run with --network host';
  if (/EPERM|EACCES|Operation not permitted|unauthorized/i.test(what)) return 'not permitted to use the Bluetooth adapter: give node the capabilities (sudo setcap cap_net_raw,cap_net_admin+eip $(readlink -f $(which node))) or run the service with AmbientCapabilities=CAP_NET_RAW CAP_NET_ADMIN';
  if (/poweredOff/i.test(what)) return 'the Bluetooth adapter is powered off: bluetoothctl power on (scanning resumes when it comes on)';
  if (/unsupported/i.test(what)) return 'the Bluetooth adapter does not support Bluetooth Low Energy';
  if (/ENODEV|No such device/i.test(what)) return 'no Bluetooth adapter found (hci0): plug one in, or check rfkill';
  if (/busy|EBUSY/i.test(what)) return 'the adapter is busy: stop bluetoothd (sudo systemctl stop bluetooth) or give twinedge its own adapter (NOBLE_HCI_DEVICE_ID)';
  return what;
}

/** The real noble, or why it cannot be had. `bindings` lets tests give noble a simulated radio. */
export async function loadNoble(bindings?: unknown): Promise<NobleLoad> {
  try {
    const require = createRequire(import.meta.url);
    if (bindings !== undefined) return { noble: require('@abandonware/noble/with-bindings')(bindings) as Noble };
    return { noble: require('@abandonware/noble') as Noble };
  } catch (e) {
    return { unavailable: bleUnavailableReason((e as Error).message) };
  }
}
