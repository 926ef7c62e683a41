// Finding a serial port by its USB adapter's ids.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isTwinedgeError } from '../../src/ops/errors.js';
import { findUsbPort } from '../../src/transports/serial/find-port.js';
import { toolPath } from '../helpers/tool-path.js';

// As serialport's list() reports two FTDI adapters and a CH340 on Linux.
const PORTS = [
  { path: '/dev/ttyUSB0', vendorId: '0403', productId: '6001', serialNumber: 'A10K1234' },
  { path: '/dev/ttyUSB1', vendorId: '0403', productId: '6001', serialNumber: 'B77Q0001' },
  { path: '/dev/ttyUSB2', vendorId: '1A86', productId: '7523' },
  { path: '/dev/ttyS0' },
];
const list = async () => PORTS;

test('the one port with these ids is found, ids compared without case or 0x', async () => {
  assert.equal(await findUsbPort({ vendorId: '0x1a86', productId: '7523' }, list), '/dev/ttyUSB2');
  assert.equal(await findUsbPort({ vendorId: '0403', productId: '6001', serialNumber: 'B77Q0001' }, list), '/dev/ttyUSB1');
});

test('no match and several matches are errors that list what there is', async () => {
  await assert.rejects(findUsbPort({ vendorId: '2341' }, list), (e) => isTwinedgeError(e) && e.code === 'TRANSPORT_OPEN_FAILED'
    && /no serial port has USB 2341:\*; ports: \/dev\/ttyUSB0 \(0403:6001\), .*\/dev\/ttyS0 \(no USB id\)/.test(e.message));
  await assert.rejects(findUsbPort({ vendorId: '0403', productId: '6001' }, list), (e) => isTwinedgeError(e) && e.code === 'TRANSPORT_OPEN_FAILED'
    && /2 serial ports have USB 0403:6001 \(\/dev\/ttyUSB0, \/dev\/ttyUSB1\); add the adapter's serial_number/.test(e.message));
});

test("on this machine, through serialport's own listing: a clear error where the system cannot list ports", async () => {
  // serialport lists ports on Linux by running udevadm. Without it (containers, minimal images)
  // the hub must say so and how to do without; with it, an absent adapter is simply not found.
  const result = await findUsbPort({ vendorId: 'fffe', productId: 'fffd' }).then(() => 'found', (e) => e);
  assert.ok(isTwinedgeError(result), String(result));
  if (toolPath('udevadm') === undefined && process.platform === 'linux') {
    assert.equal(result.code, 'SERIAL_PORTS_UNLISTABLE');
    assert.match(result.message, /cannot list serial ports to find USB fffe:fffd .*give the device's path instead/);
  } else {
    assert.equal(result.code, 'TRANSPORT_OPEN_FAILED');
    assert.match(result.message, /no serial port has USB fffe:fffd/);
  }
});
