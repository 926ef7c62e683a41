import type { ReceiverTls } from '../receiver/subscription.js';
import { randomBytes } from 'node:crypto';
import mqtt, { type MqttClient } from 'mqtt';
import type { CommandResult } from '../frames/codec.js';
import { HUB_SUBJECT } from '../frames/frame-maker.js';
import { TwinedgeError } from '../ops/errors.js';
import { commandTopic, frameTopic } from '../publish/topics.js';
import { KeyLedger } from '../receiver/key-ledger.js';
import type { TrustStore } from '../receiver/trust.js';
import { FrameVerifier, type AcceptedFrame } from '../receiver/verify.js';

/**
 * The twin server's side of one command: publish it, wait for the hub's CommandResult with its
 * nonce, and believe the result only once its frame verified with a key trusted for that hub.
 * A result may be signed by a key the hub announced after the trust file was written (a
 * rotate-key command's own result is): key handovers on the hub's handover topic are followed
 * from a trusted key, as the receiver follows them.
 */

export interface SendCommandOptions {
  readonly brokerUrl: string;
  readonly hubId: string;
  /** The SignedCommand bytes. */
  readonly payload: Uint8Array;
  /** The command's nonce: the result that answers it carries the same. */
  readonly nonce: Uint8Array;
  /** The hubs' public keys (as for `twinedge receive`). */
  readonly trust: TrustStore;
  readonly timeoutMs: number;
  readonly username?: string | undefined;
  readonly password?: string | undefined;
  readonly connectTimeoutMs?: number;
  /** For an mqtts:// broker: its CA, and a client certificate for mutual TLS. */
  readonly tls?: ReceiverTls | undefined;
}

export interface AnsweredCommand {
  readonly result: CommandResult;
  readonly frame: AcceptedFrame;
}

/**
 * Resolves with the hub's answer. Rejects with BROKER_UNREACHABLE or BROKER_REFUSED when the
 * command could not be sent, and COMMAND_NO_ANSWER when no verified answer came in time.
 */
export async function sendCommand(o: SendCommandOptions): Promise<AnsweredCommand> {
  let client: MqttClient;
  try {
    client = await mqtt.connectAsync(o.brokerUrl, {
      clientId: `twinedge-cmd-${randomBytes(6).toString('hex')}`,
      clean: true,
      protocolVersion: 4,
      reconnectPeriod: 0,
      connectTimeout: o.connectTimeoutMs ?? 10_000,
      ...(o.username !== undefined ? { username: o.username } : {}),
      ...(o.password !== undefined ? { password: o.password } : {}),
      ...(o.tls ?? {}),
    });
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'number') throw new TwinedgeError('BROKER_REFUSED', `the broker refused the connection: ${(e as Error).message}`, {}, { cause: e });
    throw new TwinedgeError('BROKER_UNREACHABLE', `cannot reach the broker at ${o.brokerUrl}: ${(e as Error).message}`, {}, { cause: e });
  }
  let timer: NodeJS.Timeout | undefined;
  try {
    const ledger = new KeyLedger(o.trust);
    const verifier = new FrameVerifier(o.trust, { ledger });
    const nonce = Buffer.from(o.nonce);
    const answered = new Promise<AnsweredCommand>((resolve) => {
      client.on('message', (topic, payload) => {
        const v = verifier.verify(topic, payload);
        if (!v.ok) return;
        if (v.frame.handover && ledger.judge(v.frame.handover) === 'new') ledger.add(v.frame.handover);
        const result = v.frame.body.command_result;
        if (v.frame.kind === 'command_result' && result && nonce.equals(Buffer.from(result.command_nonce))) resolve({ result, frame: v.frame });
      });
    });
    // Subscribed before the command leaves, so the answer cannot come first.
    const filters = [frameTopic(o.hubId, HUB_SUBJECT, 'command_result'), frameTopic(o.hubId, HUB_SUBJECT, 'status')];
    const granted = await client.subscribeAsync(filters, { qos: 1 });
    if (granted.some((g) => g.qos >= 0x80)) throw new TwinedgeError('BROKER_REFUSED', `the broker refused the subscription to ${filters.join(' and ')}: check its ACL`);
    await client.publishAsync(commandTopic(o.hubId), Buffer.from(o.payload), { qos: 1, retain: false });
    const timedOut = new Promise<undefined>((resolve) => { timer = setTimeout(() => resolve(undefined), o.timeoutMs); });
    const answer = await Promise.race([answered, timedOut]);
    if (!answer) throw new TwinedgeError('COMMAND_NO_ANSWER', `no answer from hub '${o.hubId}' within ${o.timeoutMs / 1000} s`);
    return answer;
  } finally {
    clearTimeout(timer);
    await client.endAsync().catch(() => {});
  }
}
