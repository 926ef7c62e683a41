/**
 * What the BLE central uses of noble, typed here so that the central does not depend on noble's
 * own typings (and noble stays a lazy import). The shapes are noble's (lib/noble.js,
 * lib/peripheral.js, lib/characteristic.js); UUIDs are lowercase without dashes.
 */
import type { EventEmitter } from 'node:events';

export type AdapterState = 'unknown' | 'resetting' | 'unsupported' | 'unauthorized' | 'poweredOff' | 'poweredOn';

export interface NobleAdvertisement {
  localName?: string;
  serviceUuids?: string[];
  manufacturerData?: Buffer;
  serviceData?: Array<{ uuid: string; data: Buffer }>;
}

export interface NobleCharacteristic extends EventEmitter {
  uuid: string;
  properties: string[];
  subscribeAsync(): Promise<void>;
  readAsync(): Promise<Buffer>;
  writeAsync(data: Buffer, withoutResponse: boolean): Promise<void>;
}

export interface NoblePeripheral extends EventEmitter {
  id: string;
  uuid: string;
  address: string;
  connectable: boolean;
  advertisement: NobleAdvertisement;
  rssi: number;
  state: string;
  connectAsync(): Promise<void>;
  disconnectAsync(): Promise<void>;
  cancelConnect?(): void;
  discoverSomeServicesAndCharacteristicsAsync(serviceUuids: string[], characteristicUuids: string[]): Promise<{ characteristics: NobleCharacteristic[] }>;
}

export interface Noble extends EventEmitter {
  readonly state: AdapterState;
  startScanningAsync(serviceUuids?: string[], allowDuplicates?: boolean): Promise<void>;
  stopScanningAsync(): Promise<void>;
}
