import type { Path } from './locate.js';
import { withoutUserInfo, type Problems } from './problems.js';
import { BROKER_PROTOCOLS, RESERVED_SUBJECT_REFS, TLS_PROTOCOLS } from './schema.js';

/**
 * Checks the schema cannot state: across keys, against the platform (time zones) or needing
 * a parser (URLs). They run beside the schema's own errors so that all are reported at once;
 * each looks only at values of the right type and skips a key the schema already refused, so
 * a key gets one problem.
 */
export interface CheckContext {
  readonly problems: Problems;
  /** Whether the file writes this path (else it is a default or from the environment). */
  readonly written: (path: Path) => boolean;
  /** Key paths whose values came from the environment. */
  readonly fromEnv: ReadonlySet<string>;
}

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => v !== null && typeof v === 'object' && !Array.isArray(v);
const str = (o: unknown, k: string): string | undefined => (isObject(o) && typeof o[k] === 'string' ? o[k] : undefined);
const int = (o: unknown, k: string): number | undefined => (isObject(o) && Number.isInteger(o[k]) ? (o[k] as number) : undefined);

export function crossChecks(config: Json, ctx: CheckContext): void {
  checkSubjects(config, ctx);
  checkBroker(config, ctx);
  checkSimulatedSubjects(config, ctx);
  checkDevices(config, ctx);
}

function checkDevices(config: Json, { problems }: CheckContext): void {
  if (!Array.isArray(config.devices) || !Array.isArray(config.subjects) || problems.blocked(['subjects'])) return;
  const refs = config.subjects.map((s: unknown) => str(s, 'ref'));
  config.devices.forEach((d: unknown, i) => {
    const ref = str(d, 'subject');
    if (ref !== undefined && !refs.includes(ref) && !problems.blocked(['devices', i, 'subject'])) {
      problems.add('CONFIG_VALUE_INVALID', `'${ref}' is not a ref in subjects (${refs.join(', ')})`, ['devices', i, 'subject']);
    }
    const given = ['serial', 'ble', 'replay'].filter((k) => isObject(d) && d[k] !== undefined);
    if (given.length > 1) problems.add('CONFIG_VALUE_INVALID', `give one of ${given.join(', ')}: a device is read one way`, ['devices', i, given[1]!], 'key');
    const serial = isObject(d) ? d.serial : undefined;
    if (isObject(serial) && serial.path !== undefined && serial.usb !== undefined) {
      problems.add('CONFIG_VALUE_INVALID', 'give the port by path or by usb, not both', ['devices', i, 'serial', 'usb'], 'key');
    }
  });
  // A replayed device runs on its capture's clock: a subject's windows and days follow one clock.
  const replayedBy = new Map<string, boolean>();
  config.devices.forEach((d: unknown, i) => {
    const ref = str(d, 'subject') ?? refs[0];
    if (ref === undefined) return;
    const replayed = isObject(d) && d.replay !== undefined;
    const before = replayedBy.get(ref);
    if (before !== undefined && before !== replayed) {
      problems.add('CONFIG_VALUE_INVALID', `subject '${ref}' would have replayed and live devices; give the replayed ones a subject of their own`, ['devices', i, 'subject']);
    }
    replayedBy.set(ref, replayed);
  });
}

function checkSubjects(config: Json, { problems }: CheckContext): void {
  if (!Array.isArray(config.subjects)) return;
  const firstIndex = new Map<string, number>();
  config.subjects.forEach((s: unknown, i) => {
    const ref = str(s, 'ref');
    if (ref !== undefined && !problems.blocked(['subjects', i, 'ref'])) {
      const before = firstIndex.get(ref);
      if (RESERVED_SUBJECT_REFS.includes(ref)) problems.add('CONFIG_VALUE_INVALID', `'${ref}' is reserved for the hub's own frames; choose another ref`, ['subjects', i, 'ref']);
      else if (before !== undefined) problems.add('CONFIG_VALUE_INVALID', `subject ref '${ref}' is already used by subjects[${before}]; refs must be unique`, ['subjects', i, 'ref']);
      else firstIndex.set(ref, i);
    }
    const zone = str(s, 'time_zone');
    if (zone !== undefined && !problems.blocked(['subjects', i, 'time_zone']) && !isTimeZone(zone)) {
      problems.add('CONFIG_VALUE_INVALID', `expected an IANA time zone such as Europe/Paris or UTC, got '${zone}'`, ['subjects', i, 'time_zone']);
    }
  });
}

/** What the platform's time zone database knows, which is what the exposure stage will use. */
function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

function checkBroker(config: Json, { problems, written, fromEnv }: CheckContext): void {
  const b = config.broker;
  if (!isObject(b)) return;

  const min = int(b, 'reconnect_min_ms');
  const max = int(b, 'reconnect_max_ms');
  if (min !== undefined && max !== undefined && max < min && !problems.blocked(['broker', 'reconnect_min_ms']) && !problems.blocked(['broker', 'reconnect_max_ms'])) {
    // Blame the key the file writes: a default is not the operator's mistake.
    if (written(['broker', 'reconnect_max_ms'])) problems.add('CONFIG_VALUE_INVALID', `expected at least reconnect_min_ms (${min}), got ${max}`, ['broker', 'reconnect_max_ms']);
    else problems.add('CONFIG_VALUE_INVALID', `expected at most reconnect_max_ms (${max}, its default), got ${min}`, ['broker', 'reconnect_min_ms']);
  }

  let protocol: string | undefined;
  const url = str(b, 'url');
  if (url !== undefined && !problems.blocked(['broker', 'url'])) {
    let parsed: URL | undefined;
    try {
      parsed = new URL(url);
    } catch {
      parsed = undefined;
    }
    if (!parsed || !parsed.hostname || !(BROKER_PROTOCOLS as readonly string[]).includes(parsed.protocol)) {
      problems.add('CONFIG_VALUE_INVALID', `expected a broker URL such as mqtts://broker.example:8883, got '${withoutUserInfo(url)}'`, ['broker', 'url']);
    } else if (parsed.username || parsed.password) {
      // They would be logged with the URL and go into the config hash: they have keys of their own.
      problems.add('CONFIG_VALUE_INVALID', 'credentials do not belong in the URL: give broker.username and broker.password_file (or the environment)', ['broker', 'url']);
    } else {
      protocol = parsed.protocol;
    }
  }

  const passwordInFile = str(b, 'password') !== undefined && !fromEnv.has('broker.password');
  if (passwordInFile && str(b, 'password_file') !== undefined) {
    problems.add('CONFIG_VALUE_INVALID', 'give broker.password or broker.password_file, not both', ['broker', 'password_file']);
  }

  const tls = b.tls;
  if (!isObject(tls) || problems.blocked(['broker', 'tls'])) return;
  if (protocol !== undefined && !TLS_PROTOCOLS.includes(protocol)) {
    problems.add('CONFIG_VALUE_INVALID', `TLS settings need an mqtts:// or wss:// broker.url (it is ${protocol}//); remove tls or change the URL`, ['broker', 'tls'], 'key');
  }
  const cert = str(tls, 'cert_file');
  const key = str(tls, 'key_file');
  if ((cert === undefined) !== (key === undefined)) {
    const [given, missing] = cert !== undefined ? ['cert_file', 'key_file'] : ['key_file', 'cert_file'];
    problems.add('CONFIG_VALUE_INVALID', `a client certificate needs both cert_file and key_file; ${missing} is missing`, ['broker', 'tls', given]);
  }
}

function checkSimulatedSubjects(config: Json, { problems }: CheckContext): void {
  const source = config.source;
  const picked = isObject(source) && isObject(source.simulated) ? source.simulated.subjects : undefined;
  if (!Array.isArray(picked) || !Array.isArray(config.subjects) || problems.blocked(['subjects'])) return;
  const refs = config.subjects.map((s: unknown) => str(s, 'ref'));
  picked.forEach((ref: unknown, i) => {
    const path = ['source', 'simulated', 'subjects', i];
    if (typeof ref === 'string' && !refs.includes(ref) && !problems.blocked(path)) {
      problems.add('CONFIG_VALUE_INVALID', `'${ref}' is not a ref in subjects (${refs.join(', ')})`, path);
    }
  });
}
