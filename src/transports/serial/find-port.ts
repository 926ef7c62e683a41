/**
 * Finding a serial port by the USB ids of its adapter, as `lsusb` shows them. Device paths such
 * as /dev/ttyUSB0 are handed out in plug order, so after a replug or a reboot the same adapter
 * can have another; its vendor id, product id and serial number do not change. The lookup is
 * made at each (re)open.
 *
 * serialport lists ports through the system (udev on Linux): where that cannot work (a
 * container without udev, a minimal image), the error says so and how to do without it.
 */
import { SerialPort } from 'serialport';
import { TwinedgeError } from '../../ops/errors.js';

export interface UsbId {
  readonly vendorId: string;
  readonly productId?: string | undefined;
  readonly serialNumber?: string | undefined;
}

/** What serialport's list() gives for a port (the fields used here). */
export interface ListedPort {
  readonly path: string;
  readonly vendorId?: string | undefined;
  readonly productId?: string | undefined;
  readonly serialNumber?: string | undefined;
}

export type PortLister = () => Promise<readonly ListedPort[]>;

const hex = (id: string | undefined) => id?.toLowerCase().replace(/^0x/, '');

/** The adapter as a device address: `usb/0403:6001/A10K1234` (the serial number when given). */
export function usbAddress(id: UsbId): string {
  return `usb/${hex(id.vendorId)}:${hex(id.productId) ?? '*'}${id.serialNumber ? `/${id.serialNumber}` : ''}`;
}

export function describeUsbId(id: UsbId): string {
  return `USB ${hex(id.vendorId)}:${hex(id.productId) ?? '*'}${id.serialNumber ? ` serial ${id.serialNumber}` : ''}`;
}

/**
 * The path of the one port whose adapter has these ids. Throws SERIAL_PORTS_UNLISTABLE when
 * the system cannot list ports, TRANSPORT_OPEN_FAILED when no port matches (the device may be
 * unplugged: retried) or when several do (the config must say which, by serial number).
 */
export async function findUsbPort(id: UsbId, list: PortLister = () => SerialPort.list()): Promise<string> {
  let ports: readonly ListedPort[];
  try {
    ports = await list();
  } catch (e) {
    throw new TwinedgeError('SERIAL_PORTS_UNLISTABLE', `cannot list serial ports to find ${describeUsbId(id)} (${(e as Error).message}); give the device's path instead, e.g. a /dev/serial/by-id/ link`, {}, { cause: e });
  }
  const found = ports.filter((p) => hex(p.vendorId) === hex(id.vendorId)
    && (id.productId === undefined || hex(p.productId) === hex(id.productId))
    && (id.serialNumber === undefined || p.serialNumber === id.serialNumber));
  if (found.length === 1) return found[0]!.path;
  const seen = ports.map((p) => `${p.path} (${p.vendorId ? `${hex(p.vendorId)}:${hex(p.productId) ?? '?'}` : 'no USB id'})`).join(', ') || 'none';
  if (found.length === 0) throw new TwinedgeError('TRANSPORT_OPEN_FAILED', `no serial port has ${describeUsbId(id)}; ports: ${seen}`);
  throw new TwinedgeError('TRANSPORT_OPEN_FAILED', `${found.length} serial ports have ${describeUsbId(id)} (${found.map((p) => p.path).join(', ')}); add the adapter's serial_number to tell them apart`);
}
