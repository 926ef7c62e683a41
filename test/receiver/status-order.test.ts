import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HubState } from '../../src/frames/codec.js';
import { compareStatus, type StatusMark } from '../../src/receiver/status-order.js';

const mark = (m: Partial<StatusMark>): StatusMark => ({ boot_id: 'b1', mono_ms: 1000, wall_ms: 5000, last_seq: 10, state: HubState.ONLINE, connection: 1, ...m });

test('within a boot, a later connection wins, whatever its mono time', () => {
  assert.equal(compareStatus(mark({ connection: 2, mono_ms: 10 }), mark({ connection: 1, mono_ms: 900 })), 'newer');
  assert.equal(compareStatus(mark({ connection: 1, state: HubState.OFFLINE, mono_ms: 5 }), mark({ connection: 2, mono_ms: 900 })), 'older', 'a late will of an earlier connection does not mark the hub offline');
});

test('within a connection, the will (signed before the birth) still comes after it', () => {
  const birth = mark({ mono_ms: 1002 });
  const will = mark({ mono_ms: 1000, state: HubState.OFFLINE });
  assert.equal(compareStatus(will, birth), 'newer');
  assert.equal(compareStatus(birth, will), 'older');
});

test('the same status delivered again is the same; a later one of the same state is newer', () => {
  assert.equal(compareStatus(mark({}), mark({})), 'same');
  assert.equal(compareStatus(mark({ mono_ms: 2000, state: HubState.OFFLINE }), mark({ mono_ms: 1500, state: HubState.OFFLINE })), 'newer');
});

test('across boots, more frames made wins, then the later wall clock', () => {
  assert.equal(compareStatus(mark({ boot_id: 'b2', last_seq: 11, wall_ms: 1 }), mark({ last_seq: 10 })), 'newer');
  assert.equal(compareStatus(mark({ boot_id: 'b2', last_seq: 9, wall_ms: 9e12 }), mark({ last_seq: 10 })), 'older');
  assert.equal(compareStatus(mark({ boot_id: 'b2', wall_ms: 6000 }), mark({})), 'newer');
});
