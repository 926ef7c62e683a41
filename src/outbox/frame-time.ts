import protobuf from 'protobufjs';
import { FrameBodyType, SignedFrameType } from '../frames/codec.js';

// Field numbers come from the .proto by reflection, so they cannot drift from it.
const BODY_FIELD = SignedFrameType.fields.body!.id;
const WALL_FIELD = FrameBodyType.fields.wall_ms!.id;
const VARINT = 0;
const LENGTH_DELIMITED = 2;

/**
 * The wall time a signed frame was made at (its body's `wall_ms`), found by skipping to that one
 * field. Opening an outbox asks this once per stored segment: a full decode of each would take
 * seconds on a Pi with a full outbox. undefined when the bytes are not a frame.
 */
export function frameWallMs(signed: Uint8Array): number | undefined {
  try {
    const body = field(signed, BODY_FIELD, LENGTH_DELIMITED, (r) => r.bytes());
    if (body === undefined) return undefined;
    const wall = field(body, WALL_FIELD, VARINT, (r) => r.int64());
    if (wall === undefined) return undefined;
    return typeof wall === 'number' ? wall : protobuf.util.LongBits.from(wall).toNumber();
  } catch {
    return undefined;
  }
}

function field<T>(bytes: Uint8Array, id: number, wireType: number, read: (r: protobuf.Reader) => T): T | undefined {
  const r = protobuf.Reader.create(bytes);
  while (r.pos < r.len) {
    const tag = r.uint32();
    if (tag >>> 3 === id && (tag & 7) === wireType) return read(r);
    r.skipType(tag & 7);
  }
  return undefined;
}
