/**
 * A compiled device profile: what the hub, `twinedge decode` and the examples runner use. It
 * turns one packet (a line, a frame, a notification) into channel samples. Times are not its
 * business: a sample says which row of its packet it came from and, where the profile names one,
 * the device's timestamp; timing.ts turns that into hub times.
 */
import type { DeviceEventRule } from '../events/device-events.js';
import type { DecodeContext, DecodeIssue } from './decoded.js';
import type { ExampleSpec, FramingSpec, MODALITIES } from './schema.js';

export type Modality = (typeof MODALITIES)[number];

export type SampleValue = number | readonly number[] | boolean;

export interface ChannelInfo {
  readonly name: string;
  readonly unit: string;
  readonly modality: Modality;
  /** Nominal rate; undefined for an event channel. */
  readonly rateHz: number | undefined;
  readonly standardCode: string | undefined;
}

export interface ProfileSample {
  readonly channel: string;
  readonly value: SampleValue;
  readonly unit: string;
  /** -1 for a per-packet value; else the index of its row (its sample) in the packet. */
  readonly row: number;
}

export interface ProfileDecode {
  readonly samples: readonly ProfileSample[];
  readonly errors: readonly DecodeIssue[];
  /** Rows (samples per channel) the packet carried; 0 when it had none. */
  readonly rows: number;
  /**
   * Device timestamps, when the profile reads one: index 0 for per-packet values, or one per row.
   * In the unit the profile declares.
   */
  readonly deviceTimes: readonly (number | undefined)[] | undefined;
  /** How to read deviceTimes: the decoding's `time` spec (each decoding may have its own). */
  readonly deviceTime?: DeviceTimeSpec | undefined;
  /** The line was a CSV header, skipped: no samples, and not an error. */
  readonly skipped: boolean;
  /** The packet's own decoded values (before channel mapping), for checks across packets (a BTHome counter). */
  readonly values: Readonly<Record<string, unknown>>;
}

export interface DeviceTimeSpec {
  readonly unit: 's' | 'ms' | 'us';
  readonly kind: 'device' | 'unix';
}

export interface SerialSetup {
  readonly baudRate: number;
  readonly dataBits: 5 | 6 | 7 | 8;
  readonly parity: 'none' | 'even' | 'odd' | 'mark' | 'space';
  readonly stopBits: 1 | 1.5 | 2;
  readonly framing: FramingSpec;
}

export interface UsbMatch {
  readonly vendorId: string;
  readonly productId: string | undefined;
  readonly serialNumber: string | undefined;
}

/** A BLE profile's match rules and what to do once connected; UUIDs lowercase without dashes. */
export interface BleSetup {
  readonly match: { readonly services?: readonly string[]; readonly name?: string; readonly manufacturerId?: number; readonly serviceData?: string } | undefined;
  readonly subscribe: readonly string[];
  readonly reads: ReadonlyArray<{ readonly characteristic: string; readonly everyMs: number }>;
  readonly writes: ReadonlyArray<{ readonly characteristic: string; readonly bytes: Uint8Array }>;
}

export interface Profile {
  readonly id: string;
  readonly version: string;
  readonly title: string;
  /** The file it was loaded from. */
  readonly file: string;
  readonly transport: 'serial' | 'ble' | 'ble-advert';
  readonly channels: readonly ChannelInfo[];
  /** The sources it decodes ('line', 'frame', a characteristic UUID, 'advert'); the first is the default. */
  readonly sources: readonly string[];
  readonly serial: SerialSetup | undefined;
  /** For ble and ble-advert profiles. */
  readonly ble: BleSetup | undefined;
  readonly match: { readonly path: string | undefined; readonly usb: UsbMatch | undefined };
  readonly examples: readonly ExampleSpec[];
  /** Samples that mark intervention events (DeviceEventMapper turns them into events); empty for most devices. */
  readonly events: readonly DeviceEventRule[];
  /** Decodes one packet. Never throws on its bytes. `source` defaults to the first source. */
  decode(bytes: Uint8Array, source?: string, context?: DecodeContext): ProfileDecode;
}
