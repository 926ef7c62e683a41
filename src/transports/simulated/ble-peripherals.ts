/**
 * The shipped BLE devices as simulated peripherals on a SimulatedRadio: a heart-rate strap with
 * RR intervals, a PLX pulse oximeter, a BTHome light sensor broadcasting, and a Polar H10 whose
 * ECG and accelerometer streams start when the hub writes the PMD start commands to its control
 * point, as the real strap's do. Their bytes come from ble-outputs.ts.
 */
import { bthomeLightAdvert, heartRateNotification, plxContinuousNotification, pmdAccFrame, pmdEcgFrame } from './ble-outputs.js';
import { SimulatedPeripheral } from './ble-radio.js';

const PMD_SERVICE = 'fb005c8002e7f3871cad8acd2d8df0c8';
const PMD_CP = 'fb005c8102e7f3871cad8acd2d8df0c8';
const PMD_DATA = 'fb005c8202e7f3871cad8acd2d8df0c8';

export interface SimulatedDeviceOptions {
  readonly address: string;
  /** Notification period (ms); the default is the device's real one. */
  readonly periodMs?: number;
  readonly wallMs?: () => number;
}

export function heartRateStrap(o: SimulatedDeviceOptions): SimulatedPeripheral {
  const started = Date.now();
  const p = new SimulatedPeripheral({
    address: o.address,
    name: 'HRM Strap',
    advertisement: { localName: 'HRM Strap', serviceUuids: ['180d'] },
    services: [{ uuid: '180d', characteristics: [{ uuid: '2a37', properties: ['notify'] }] }],
  });
  p.startStreaming('2a37', o.periodMs ?? 1000, () => heartRateNotification(Date.now() - started));
  return p;
}

export function pulseOximeter(o: SimulatedDeviceOptions): SimulatedPeripheral {
  const started = Date.now();
  const p = new SimulatedPeripheral({
    address: o.address,
    name: 'PLX Oximeter',
    advertisement: { localName: 'PLX Oximeter', serviceUuids: ['1822'] },
    services: [{ uuid: '1822', characteristics: [{ uuid: '2a5f', properties: ['notify'] }, { uuid: '2a5e', properties: ['indicate'] }] }],
  });
  p.startStreaming('2a5f', o.periodMs ?? 1000, () => plxContinuousNotification(Date.now() - started));
  return p;
}

export function bthomeLight(o: SimulatedDeviceOptions): SimulatedPeripheral {
  let packetId = 0;
  let last = 0;
  const wall = o.wallMs ?? Date.now;
  return new SimulatedPeripheral({
    address: o.address,
    connectable: false,
    advertIntervalMs: 200,
    // A new reading (and packet id) every period; the same packet repeated in between, as
    // BTHome devices do to get through.
    advertisement: () => {
      if (Date.now() - last >= (o.periodMs ?? 1000)) {
        last = Date.now();
        packetId = (packetId + 1) & 0xff;
      }
      return { localName: 'BTHome light', serviceData: [{ uuid: 'fcd2', data: bthomeLightAdvert(packetId, wall()) }] };
    },
  });
}

/** A Polar H10: heart rate always; ECG (73 samples every 561 ms) and ACC (36 every 180 ms) once started. */
export function polarH10(o: SimulatedDeviceOptions & { readonly name?: string }): SimulatedPeripheral {
  const started = Date.now();
  let ecgIndex = 0;
  let accIndex = 0;
  let accOn = false;
  const name = o.name ?? 'Polar H10 A1B2C3D4';
  const p: SimulatedPeripheral = new SimulatedPeripheral({
    address: o.address,
    name,
    advertisement: { localName: name, serviceUuids: ['180d'] },
    services: [
      { uuid: '180d', characteristics: [{ uuid: '2a37', properties: ['notify'] }] },
      {
        uuid: PMD_SERVICE,
        characteristics: [
          {
            uuid: PMD_CP, properties: ['read', 'write', 'indicate'],
            onWrite: (data) => {
              // Start ECG (02 00 ...) or ACC (02 02 ...): answer success on the control point, then stream.
              if (data[0] !== 0x02) return;
              p.notify(PMD_CP, Buffer.from([0xf0, 0x02, data[1]!, 0x00, 0x00]));
              if (data[1] === 0x02) accOn = true;
              if (data[1] === 0x00) {
                p.startStreaming(PMD_DATA, 561, () => { const f = pmdEcgFrame(ecgIndex, 73, Date.now()); ecgIndex += 73; return f; }, PMD_SERVICE);
              }
            },
          },
          { uuid: PMD_DATA, properties: ['notify'] },
        ],
      },
    ],
  });
  p.startStreaming('2a37', o.periodMs ?? 1000, () => heartRateNotification(Date.now() - started), '180d');
  // The data characteristic carries both streams; ACC frames interleave with ECG ones.
  const acc = setInterval(() => {
    if (!accOn || !p.connected || !p.subscribed(PMD_DATA, PMD_SERVICE)) return;
    if (p.notify(PMD_DATA, pmdAccFrame(accIndex, 36, Date.now()), PMD_SERVICE)) accIndex += 36;
  }, 180);
  acc.unref();
  return p;
}
