import { Type, type Static } from '@sinclair/typebox';

/**
 * The daemon's configuration, defined once: this TypeBox schema gives the TypeScript type
 * (`Config`), the defaults and the validation (ajv in all-errors mode, `additionalProperties:
 * false` on every object), and its descriptions are the README's config reference
 * (reference.ts). Keys are snake_case as written in YAML. Enums are preferred to booleans, and a
 * key's type never changes between versions: a new meaning gets a new key.
 *
 * Two annotation keywords carry what JSON Schema cannot say (ajv is told they are annotations):
 * `x-expected` says in words what a `pattern` accepts, for error messages and docs;
 * `x-default` says in words a default that the loader computes.
 */

/**
 * Hub ids and subject refs are MQTT topic levels: no wildcards, separators or spaces. The same
 * pattern as ID_PATTERN in src/publish/topics.ts (a test keeps them equal; config sits above
 * publish, so it cannot import it).
 */
export const ID_PATTERN_SOURCE = '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$';
const ID_EXPECTED = "1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit";

/** Subject refs the hub keeps for itself. */
export const RESERVED_SUBJECT_REFS: readonly string[] = ['_hub'];

export const BROKER_PROTOCOLS = ['mqtt:', 'mqtts:', 'ws:', 'wss:'] as const;
export const TLS_PROTOCOLS: readonly string[] = ['mqtts:', 'wss:'];

/**
 * Environment variables that win over the file: secrets and per-machine values, so that a
 * config file can be shared and kept in version control. An empty variable counts as unset.
 * A relative path from the environment is taken from the working directory.
 */
export const ENV_OVERRIDES = [
  { name: 'TWINEDGE_KEY_FILE', path: ['hub', 'key_file'] },
  { name: 'TWINEDGE_BROKER_URL', path: ['broker', 'url'] },
  { name: 'TWINEDGE_BROKER_USERNAME', path: ['broker', 'username'] },
  { name: 'TWINEDGE_BROKER_PASSWORD', path: ['broker', 'password'] },
] as const satisfies ReadonlyArray<{ name: string; path: readonly [string, string] }>;

/** Keys left out of the config hash and of anything logged. */
export const SECRET_PATHS: ReadonlyArray<readonly [string, string]> = [['broker', 'password']];

const env = (name: (typeof ENV_OVERRIDES)[number]['name']) => ` The environment variable \`${name}\`, when set, wins over this key.`;
const strict = { additionalProperties: false } as const;

/** A string that is one of `values`: a JSON Schema `enum`, typed as the union of the values. */
function StringEnum<const T extends readonly string[]>(values: T, options: { default: T[number]; description: string }) {
  return Type.Unsafe<T[number]>({ type: 'string', enum: [...values], ...options });
}

const Id = (description: string) => Type.String({ pattern: ID_PATTERN_SOURCE, 'x-expected': ID_EXPECTED, description });

export const HubSchema = Type.Object({
  id: Id("This hub's id. It is a level of every MQTT topic the hub writes and is in every frame, so it must be unique among the hubs of one twin server."),
  data_dir: Type.String({ minLength: 1, default: './data', description: "Folder of the outbox and the hub's other state. A relative path is taken from the config file's folder." }),
  key_file: Type.String({ minLength: 1, default: './data/hub.key', description: "The hub's Ed25519 signing key (PKCS#8 PEM, mode 0600), made by `twinedge keys generate`. A relative path is taken from the config file's folder." + env('TWINEDGE_KEY_FILE') }),
  next_key_file: Type.Optional(Type.String({ minLength: 1, description: "A key to rotate to (PKCS#8 PEM, mode 0600), made and set here by `twinedge keys rotate`. At start, unless it already did, the hub announces this key in a frame signed by its current key and signs every frame after it with this key (see Security). Keep it set, or point key_file at it, for as long as the hub signs with it. A relative path is taken from the config file's folder." })),
  seal_to: Type.Optional(Type.String({ minLength: 1, description: "The twin server's X25519 public key (SPKI PEM), made by `twinedge keys generate --x25519`. When set, the payload of every frame but status and gap is sealed to it (X25519, HKDF-SHA256, AES-256-GCM): the broker sees the routing header and not the clinical values. A relative path is taken from the config file's folder." })),
  clock_sync: StringEnum(['auto', 'assume-synced', 'assume-unsynced'], {
    default: 'auto',
    description: 'How the hub knows that its wall clock is synchronised: `auto` asks systemd-timesyncd; `assume-synced` and `assume-unsynced` state it (for hosts without timesyncd, and tests).',
  }),
}, { ...strict, description: 'The hub itself: its identity, its state and its signing key.' });

/**
 * Kinds of a subject's data that consent can let leave the hub, at the granularity a consent
 * form asks about: embeddings and features are the two halves of a cross-section (an embedding
 * can be re-identifying where a feature is not), exposures and events are frames of their own.
 * ConsentKind in proto/twin/v1/frame.proto numbers them in this order.
 */
export const CONSENT_KINDS = ['embeddings', 'features', 'exposure', 'events'] as const;

export const SubjectSchema = Type.Object({
  ref: Id('The subject\'s pseudonymous reference, a level of the topics of their frames. Never a name or a record number. `_hub` is reserved.'),
  time_zone: Type.String({ minLength: 1, default: 'UTC', description: "The subject's IANA time zone (e.g. `Europe/Paris`): daily exposure values follow their local day." }),
  consent: Type.Array(Type.Unsafe<(typeof CONSENT_KINDS)[number]>({ type: 'string', enum: [...CONSENT_KINDS] }), {
    uniqueItems: true,
    default: [...CONSENT_KINDS],
    description: "What of the subject's data may leave the hub: `embeddings` and `features` (the two parts of a cross-section; without both, no cross-section is sent), `exposure`, `events`. What is not listed is never written to the outbox; `[]` keeps everything on the hub. The default, all four, is what the hub sent before consent existed. A SetConsent command from the twin server (`twinedge command consent`) replaces it at run time and is kept across restarts, until this key is edited.",
  }),
}, { ...strict, description: 'One subject.' });

export const TlsSchema = Type.Object({
  ca_file: Type.Optional(Type.String({ minLength: 1, description: "PEM file of the CA that signed the broker's certificate; without it, the system's CAs." })),
  cert_file: Type.Optional(Type.String({ minLength: 1, description: 'Client certificate (PEM) for mutual TLS; give key_file with it.' })),
  key_file: Type.Optional(Type.String({ minLength: 1, description: "The client certificate's private key (PEM); give cert_file with it." })),
  server_name: Type.Optional(Type.String({ minLength: 1, description: "Name to check the broker's certificate against, when it differs from the URL's host." })),
  verify: StringEnum(['strict', 'skip'], { default: 'strict', description: '`strict` checks the broker\'s certificate; `skip` accepts any certificate, which is for tests only.' }),
}, { ...strict, description: 'TLS settings, for mqtts:// and wss:// URLs only. Relative paths are taken from the config file\'s folder.' });

export const BrokerSchema = Type.Object({
  url: Type.String({ pattern: '^(mqtt|mqtts|ws|wss)://\\S+$', 'x-expected': 'an mqtt://, mqtts://, ws:// or wss:// URL', default: 'mqtt://127.0.0.1:1883', description: 'The MQTT broker: mqtt://, mqtts:// (TLS), ws:// or wss:// (TLS).' + env('TWINEDGE_BROKER_URL') }),
  client_id: Type.Optional(Type.String({ minLength: 1, maxLength: 128, 'x-default': '`twinedge-` + hub.id', description: 'The MQTT client id. Two clients with one id take turns disconnecting each other.' })),
  username: Type.Optional(Type.String({ description: 'User name, if the broker asks for one.' + env('TWINEDGE_BROKER_USERNAME') })),
  password: Type.Optional(Type.String({ description: 'Password, if the broker asks for one. Prefer password_file or the environment to a password in this file; never both password and password_file.' + env('TWINEDGE_BROKER_PASSWORD') })),
  password_file: Type.Optional(Type.String({ minLength: 1, description: "A file whose content, less one trailing newline, is the broker password. A relative path is taken from the config file's folder." })),
  tls: Type.Optional(TlsSchema),
  mqtt_version: StringEnum(['auto', '3.1.1', '5'], { default: 'auto', description: 'The MQTT version the hub speaks. With `5` a broker can refuse a frame (an ACL that denies its topic), and the hub keeps and counts it; with `3.1.1` mosquitto acknowledges a denied frame and drops it, unseen. `auto` asks for 5 and takes 3.1.1 from a broker that refuses 5 (aedes), saying so in the log.' }),
  keepalive_s: Type.Integer({ minimum: 1, maximum: 65535, default: 30, description: 'Seconds between MQTT keepalive pings; a broker that misses them is taken as gone.' }),
  connect_timeout_s: Type.Number({ exclusiveMinimum: 0, maximum: 600, default: 10, description: 'How long one connection attempt may take, in seconds.' }),
  reconnect_min_ms: Type.Integer({ minimum: 10, maximum: 3_600_000, default: 500, description: 'The first reconnect delay, in milliseconds; it doubles after each failure (with jitter) up to reconnect_max_ms.' }),
  reconnect_max_ms: Type.Integer({ minimum: 10, maximum: 3_600_000, default: 30_000, description: 'The longest reconnect delay, in milliseconds; at least reconnect_min_ms.' }),
}, { ...strict, default: {}, description: 'The MQTT broker the hub publishes to. Frames wait in the outbox while it cannot be reached.' });

export const PublishSchema = Type.Object({
  inflight: Type.Integer({ minimum: 1, maximum: 65535, default: 512, description: 'Most frames published and not yet acknowledged (PUBACK) at once.' }),
}, { ...strict, default: {}, description: 'How frames are published (QoS 1, in seq order).' });

export const OutboxSchema = Type.Object({
  quota_mb: Type.Number({ exclusiveMinimum: 0, default: 256, description: 'Size quota of the frames waiting to be sent, in MiB. When it is full, the oldest frames give way and a gap frame says which.' }),
  sync: StringEnum(['batch', 'none'], { default: 'batch', description: '`batch` writes every batch to disk (fsync) before anything is sent, so a power cut loses no appended frame; `none` leaves flushing to the operating system.' }),
  max_batch: Type.Integer({ minimum: 1, maximum: 100_000, default: 1000, description: 'Most frames written in one batch.' }),
}, { ...strict, default: {}, description: 'The durable queue of frames on the hub (LevelDB, in hub.data_dir).' });

export const LogSchema = Type.Object({
  level: StringEnum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], { default: 'info', description: 'The least severe level logged; logs are pino JSON lines on stdout.' }),
}, { ...strict, default: {}, description: 'What the hub logs, and how much.' });

export const SimulatedSourceSchema = Type.Object({
  window_s: Type.Number({ minimum: 0.01, maximum: 3600, default: 10, description: 'Window length, in seconds: one cross-section frame per subject per window.' }),
  subjects: Type.Optional(Type.Array(Type.String(), { minItems: 1, uniqueItems: true, 'x-default': 'every subject', description: 'Refs of the subjects to simulate; each must be in subjects.' })),
}, { ...strict, default: {}, description: 'Simulated devices, for demonstrations and tests: plausible values for each subject.' });

const HexId = (description: string) => Type.String({ pattern: '^(0x)?[0-9a-fA-F]{4}$', 'x-expected': "4 hex digits, as lsusb shows them (e.g. '0403')", description });

export const DeviceSerialSchema = Type.Object({
  path: Type.Optional(Type.String({ minLength: 1, description: 'The port, e.g. /dev/ttyUSB0; a /dev/serial/by-id/... path survives replugging into another socket.' })),
  usb: Type.Optional(Type.Object({
    vendor_id: HexId('USB vendor id.'),
    product_id: Type.Optional(HexId('USB product id.')),
    serial_number: Type.Optional(Type.String({ minLength: 1, description: "The adapter's USB serial number, to tell identical adapters apart." })),
  }, { ...strict, description: 'Find the port by USB ids, looked up at each (re)open, so a replug into another socket is followed. Needs udev (Linux) to list ports.' })),
  baud_rate: Type.Optional(Type.Integer({ minimum: 50, maximum: 4_000_000, 'x-default': "the profile's", description: "Baud rate, when the device differs from its profile's." })),
  data_bits: Type.Optional(Type.Union([Type.Literal(5), Type.Literal(6), Type.Literal(7), Type.Literal(8)], { 'x-default': "the profile's", description: "Data bits per character, when the device differs from its profile's." })),
  parity: Type.Optional(Type.Unsafe<'none' | 'even' | 'odd' | 'mark' | 'space'>({ type: 'string', enum: ['none', 'even', 'odd', 'mark', 'space'], 'x-default': "the profile's", description: "Parity, when the device differs from its profile's." })),
  stop_bits: Type.Optional(Type.Union([Type.Literal(1), Type.Literal(1.5), Type.Literal(2)], { 'x-default': "the profile's", description: "Stop bits, when the device differs from its profile's." })),
}, { ...strict, description: "A serial device's port and line settings. Without path or usb, the profile's own match is used." });

export const DeviceBleSchema = Type.Object({
  address: Type.Optional(Type.String({ pattern: '^[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2}){5}$', 'x-expected': "a Bluetooth address such as 'c4:7c:8d:6a:12:34'", description: 'Allow-list this address: only this device is used. Without it, the first device matching the profile is, which suits a hub with one of each kind.' })),
  bind_key_file: Type.Optional(Type.String({ minLength: 1, description: "BTHome: a file holding the device's 16-byte bind key in hex (32 digits). With a key, unencrypted packets from the device are refused. A relative path is taken from the config file's folder." })),
}, { ...strict, description: 'A BLE device: its address and its secrets.' });

export const BleSchema = Type.Object({
  max_connections: Type.Integer({ minimum: 1, maximum: 20, default: 4, description: 'Most BLE links kept at once; a Raspberry Pi controller handles only a few.' }),
  max_connecting: Type.Integer({ minimum: 1, maximum: 5, default: 1, description: 'Most connection attempts at once.' }),
  step_timeout_s: Type.Number({ minimum: 1, maximum: 120, default: 10, description: 'How long a connect, a service discovery, a subscription or a write may take before the attempt is given up.' }),
  backoff_max_s: Type.Number({ minimum: 1, maximum: 86400, default: 300, description: 'The longest wait between attempts for a device that keeps failing.' }),
}, { ...strict, default: {}, description: 'The BLE central (used when a device has a BLE profile).' });

export const DeviceReplaySchema = Type.Object({
  file: Type.String({ minLength: 1, description: "A capture made by `twinedge capture`, played as if the device were sending it, with the times it was captured at. A relative path is taken from the config file's folder." }),
  speed: Type.Number({ exclusiveMinimum: 0, maximum: 1_000_000, default: 1, description: '1 plays in real time, 720 plays a day in two minutes. The samples keep their captured times whatever the speed, so windows and exposures follow the capture\'s clock, not the hub\'s.' }),
}, { ...strict, description: "Replay a captured session instead of reading a port: for demonstrations, and to check exposures against a known day. A subject's devices are all replayed or all live." });

export const DeviceSchema = Type.Object({
  profile: Type.String({ pattern: '^[a-z0-9][a-z0-9._-]*(/[a-z0-9][a-z0-9._-]*)*$', 'x-expected': "a profile id such as 'generic/bh1750-light'", description: 'The id of the profile that decodes it (`twinedge profiles validate` lists them).' }),
  subject: Type.Optional(Type.String({ pattern: ID_PATTERN_SOURCE, 'x-expected': ID_EXPECTED, 'x-default': 'the first subject', description: 'The ref of the subject it measures.' })),
  serial: Type.Optional(DeviceSerialSchema),
  ble: Type.Optional(DeviceBleSchema),
  replay: Type.Optional(DeviceReplaySchema),
}, { ...strict, description: 'One device.' });

export const ProfilesSchema = Type.Object({
  dirs: Type.Array(Type.String({ minLength: 1 }), { default: [], description: "Folders of your own profiles, read after the shipped ones (a relative path is taken from the config file's folder). An id may be declared once across all folders." }),
}, { ...strict, default: {}, description: 'Device profiles beyond those shipped in device-profiles/.' });

export const WindowsSchema = Type.Object({
  length_s: Type.Number({ minimum: 1, maximum: 3600, default: 30, description: 'Window length in seconds: one cross-section frame per subject per window, aligned to the wall clock.' }),
  grace_s: Type.Number({ minimum: 0, maximum: 600, default: 2, description: "Seconds after a window's end during which its late samples (a slow link, a burst) are still taken; later ones are counted as late, not used." }),
  min_coverage: Type.Number({ minimum: 0, maximum: 1, default: 0.5, description: 'A feature whose inputs cover less than this fraction of the window is not sent; the window quality still shows the coverage.' }),
}, { ...strict, default: {}, description: 'Cross-section windows of device samples.' });

export const EmbeddingsSchema = Type.Object({
  enabled: StringEnum(['on', 'off'], { default: 'on', description: '`on` runs the encoders (the shipped ones and those in `dirs`) on each window of device data; `off` sends features only.' }),
  encoding: StringEnum(['float32', 'float16', 'int8'], { default: 'float32', description: 'How vectors travel: `float32` as computed, `float16` (half the bytes, about 3 significant digits), `int8` with one scale a vector (a quarter of the bytes).' }),
  intra_op_threads: Type.Integer({ minimum: 1, maximum: 64, default: 1, description: 'Threads one encoder run may use. 1 leaves a Pi\'s other cores to the rest of the hub.' }),
  min_quality: Type.Number({ minimum: 0, maximum: 1, default: 0.5, description: "A window whose encoder input is less than this fraction real data (the rest masked gaps) gets no embedding." }),
  dirs: Type.Array(Type.String({ minLength: 1 }), { default: [], description: "Folders of your own encoders (`NAME.manifest.json` beside its ONNX model), read after the shipped ones; one for a modality replaces the shipped one. A relative path is taken from the config file's folder." }),
}, { ...strict, default: {}, description: 'ONNX encoders that turn each window of a modality into an embedding.' });

const CLOCK_PATTERN = '^([01][0-9]|2[0-3]):[0-5][0-9]$';

export const LightExposureSchema = Type.Object({
  threshold_lx: Type.Number({ exclusiveMinimum: 0, default: 250, description: 'Light at or above this is counted in the time above threshold and its timing (light.tat, flit, llit, mlit); the codes carry the number, e.g. `light.tat250`.' }),
  night_threshold_lx: Type.Number({ minimum: 0, default: 10, description: 'Light above this during the night is light at night (`light.lan10`).' }),
  night_start: Type.String({ pattern: CLOCK_PATTERN, 'x-expected': 'a local time HH:MM', default: '22:00', description: 'When the night begins, local time.' }),
  night_end: Type.String({ pattern: CLOCK_PATTERN, 'x-expected': 'a local time HH:MM', default: '06:00', description: 'When the night ends, local time (the next morning when it is before night_start).' }),
  half_lives_h: Type.Array(Type.Number({ exclusiveMinimum: 0, maximum: 8760 }), { default: [24], uniqueItems: true, maxItems: 8, description: 'Half-lives, in hours, of the exponentially decayed light doses (`light.dose.hl24h`).' }),
}, { ...strict, default: {}, description: 'Light exposure, from devices with an `illuminance` channel.' });

export const ExposureSchema = Type.Object({
  period_s: Type.Integer({ minimum: 60, maximum: 86_400, multipleOf: 60, default: 300, description: "Seconds between exposure reports of each subject's day so far (a whole number of minutes); one more goes out at each local midnight with the day's final values." }),
  grace_s: Type.Number({ minimum: 0, maximum: 3600, default: 5, description: 'How long after a report\'s time its late samples are waited for when every sensor is silent.' }),
  max_gap_s: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 86_400, 'x-default': "5 of the channel's sample periods (at least 1 s), or 60 s for a channel without a rate", description: 'The longest interval one sample may stand for; across a longer one the sensor counts as off (its time is not covered), never as dark or still.' })),
  light: LightExposureSchema,
}, { ...strict, default: {}, description: "Exposures accumulated over each subject's local days (light, breathing, activity) from the devices' samples." });

/** Addresses the hub's HTTP server may bind: loopback only, since it takes events from local tools. */
export const HTTP_HOSTS = ['127.0.0.1', '::1'] as const;
export const DEFAULT_HTTP_PORT = 8470;

export const HttpSchema = Type.Object({
  enabled: StringEnum(['on', 'off'], { default: 'on', description: '`on` serves the loopback HTTP endpoint (`POST /v1/events`, which `twinedge mark` uses, and `/metrics`, `/healthz`, `/readyz`, `/status`: see Operations); `off` serves nothing.' }),
  host: StringEnum(HTTP_HOSTS, { default: '127.0.0.1', description: 'The loopback address to bind: `127.0.0.1` or `::1`. Other addresses are refused: the endpoint is for tools on the hub itself.' }),
  port: Type.Integer({ minimum: 0, maximum: 65535, default: DEFAULT_HTTP_PORT, description: 'The TCP port; 0 picks a free one and logs it. `twinedge run --http-port N` wins over this key.' }),
  token_file: Type.Optional(Type.String({ minLength: 1, 'x-default': '`http.token` in hub.data_dir', description: "File of the bearer token that requests must carry. The hub creates it (32 random bytes in hex, mode 0600) when it is absent, and refuses to start when other users can read it. A relative path is taken from the config file's folder." })),
  max_body_bytes: Type.Integer({ minimum: 1024, maximum: 1_048_576, default: 16_384, description: 'Largest request body accepted, in bytes; a larger one is answered 413.' }),
}, { ...strict, default: {}, description: 'The loopback HTTP endpoint of the hub, for tools on the same machine: marking events, Prometheus metrics, health checks and the hub\'s status.' });

export const EventsSchema = Type.Object({
  max_age_days: Type.Number({ exclusiveMinimum: 0, maximum: 366, default: 28, description: 'An event whose time lies further back than this many days is refused, as a likely typo (a wrong year or unit).' }),
  max_future_s: Type.Number({ minimum: 0, maximum: 3600, default: 300, description: "How far ahead of the hub's clock an event's time may lie, in seconds: the clock skew allowed between the sender and the hub." }),
}, { ...strict, default: {}, description: 'Intervention events (twin level 3) marked with `twinedge mark`, over HTTP or by a device.' });

export const CommandsSchema = Type.Object({
  trust_file: Type.Optional(Type.String({ minLength: 1, description: "The twin server's Ed25519 public key (SPKI PEM), the only key whose commands the hub carries out; they arrive on `twin/v1/<hub.id>/cmd`. Without it the hub takes no commands (it does not subscribe). A relative path is taken from the config file's folder." })),
  window_s: Type.Integer({ minimum: 10, maximum: 3600, default: 300, description: "How far a command's issue time may lie from the hub's clock, either way, in seconds, and the longest a command stays valid. Its nonce is remembered (across restarts) for this long past its expiry, so a replay is refused. While the hub's clock is not synchronised every command is refused (`clock_unsynced`)." }),
}, { ...strict, default: {}, description: 'Signed commands from the twin server: resend the status, rotate the signing key, purge a subject, change a subject\'s consent.' });

export const SourceSchema = Type.Object({
  simulated: SimulatedSourceSchema,
}, { ...strict, default: {}, description: 'Simulated data, used when `devices` is empty.' });

export const ConfigSchema = Type.Object({
  hub: HubSchema,
  subjects: Type.Array(SubjectSchema, { minItems: 1, default: [{ ref: 'subject-1' }], description: 'The subjects (patients) this hub serves, known by pseudonym only.' }),
  broker: BrokerSchema,
  publish: PublishSchema,
  outbox: OutboxSchema,
  log: LogSchema,
  source: SourceSchema,
  profiles: ProfilesSchema,
  devices: Type.Array(DeviceSchema, { default: [], description: 'The devices this hub reads. When there are none, simulated data is used instead (see source).' }),
  windows: WindowsSchema,
  exposure: ExposureSchema,
  embeddings: EmbeddingsSchema,
  ble: BleSchema,
  http: HttpSchema,
  events: EventsSchema,
  commands: CommandsSchema,
}, strict);

type Raw = Static<typeof ConfigSchema>;

/** Readonly all the way down, as the loader freezes it. */
export type DeepReadonly<T> = T extends ReadonlyArray<infer U> ? ReadonlyArray<DeepReadonly<U>>
  : T extends object ? { readonly [K in keyof T]: DeepReadonly<T[K]> }
    : T;

type DeepPartial<T> = T extends ReadonlyArray<infer U> ? ReadonlyArray<DeepPartial<U>>
  : T extends object ? { [K in keyof T]?: DeepPartial<T[K]> }
    : T;

/**
 * The validated config: every default filled, relative paths made absolute, `broker.client_id`
 * set, `broker.password` read from password_file or the environment, and deeply frozen.
 */
export type Config = DeepReadonly<Omit<Raw, 'broker'> & { broker: Omit<Raw['broker'], 'client_id'> & { client_id: string } }>;

/** A config as written, every key optional: the overrides of `defaultConfig`. */
export type ConfigInput = DeepPartial<Raw>;
