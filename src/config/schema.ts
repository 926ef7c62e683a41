import { Type, type Static, type TSchema } from '@sinclair/typebox';

/**
 * The daemon's configuration: one definition gives the TypeScript type, the defaults, the
 * validation (ajv, all errors at once, no unknown keys) and the README's config reference.
 * Prefer enums to booleans; a key's type never changes between versions.
 */

const Id = (description: string) => Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$', description });
const strict = { additionalProperties: false } as const;

export const HubSchema = Type.Object({
  id: Id('This hub\'s id: a topic level, so letters, digits, `.`, `_` and `-` only. Required.'),
  data_dir: Type.String({ default: './data', description: 'Folder of the outbox and other state. Relative paths are taken from the config file\'s folder.' }),
  key_file: Type.String({ default: './data/hub.key', description: 'The hub\'s Ed25519 private key (PKCS#8 PEM, mode 0600), made by `twinedge keys generate`. Env: TWINEDGE_KEY_FILE.' }),
  clock_sync: Type.Union([Type.Literal('auto'), Type.Literal('assume-synced'), Type.Literal('assume-unsynced')], {
    default: 'auto', description: 'How the hub knows its wall clock is synchronised: `auto` asks systemd-timesyncd; the others state it.',
  }),
}, strict);

export const SubjectSchema = Type.Object({
  ref: Id('The subject\'s pseudonymous reference; `_hub` is reserved.'),
  time_zone: Type.String({ default: 'UTC', description: 'IANA time zone of the subject\'s local day, e.g. `Europe/Paris`.' }),
}, strict);

export const TlsSchema = Type.Object({
  ca_file: Type.Optional(Type.String({ description: 'PEM file of the CA that signed the broker\'s certificate.' })),
  cert_file: Type.Optional(Type.String({ description: 'Client certificate (PEM) for mutual TLS.' })),
  key_file: Type.Optional(Type.String({ description: 'Client certificate\'s private key (PEM).' })),
  server_name: Type.Optional(Type.String({ description: 'Name to check the broker\'s certificate against, when it differs from the URL\'s host.' })),
  verify: Type.Union([Type.Literal('strict'), Type.Literal('skip')], { default: 'strict', description: '`skip` accepts any broker certificate: for tests only.' }),
}, strict);

export const BrokerSchema = Type.Object({
  url: Type.String({ default: 'mqtt://127.0.0.1:1883', pattern: '^(mqtts?|wss?)://', description: 'Broker URL: mqtt://, mqtts://, ws:// or wss://. Env: TWINEDGE_BROKER_URL.' }),
  client_id: Type.Optional(Type.String({ minLength: 1, maxLength: 128, description: 'MQTT client id. Default: `twinedge-` + hub.id.' })),
  username: Type.Optional(Type.String({ description: 'Env: TWINEDGE_BROKER_USERNAME.' })),
  password: Type.Optional(Type.String({ description: 'Env: TWINEDGE_BROKER_PASSWORD. Prefer password_file or the environment to a password in this file.' })),
  password_file: Type.Optional(Type.String({ description: 'A file whose content (trailing newline removed) is the broker password.' })),
  tls: Type.Optional(TlsSchema),
  keepalive_s: Type.Integer({ default: 30, minimum: 5, maximum: 65535, description: 'MQTT keepalive, seconds.' }),
  connect_timeout_s: Type.Number({ default: 10, exclusiveMinimum: 0, maximum: 600, description: 'How long one connection attempt may take, seconds.' }),
  reconnect_min_ms: Type.Integer({ default: 500, minimum: 10, description: 'First reconnect delay; it doubles per failure (with jitter) up to reconnect_max_ms.' }),
  reconnect_max_ms: Type.Integer({ default: 30000, minimum: 10, description: 'Longest reconnect delay.' }),
}, strict);

export const PublishSchema = Type.Object({
  inflight: Type.Integer({ default: 512, minimum: 1, maximum: 65535, description: 'Most frames published and not yet acknowledged (PUBACK) at once.' }),
}, strict);

export const OutboxSchema = Type.Object({
  quota_mb: Type.Number({ default: 256, exclusiveMinimum: 0, description: 'Size quota of the pending frames, MiB. When it is full the oldest frames give way and a gap frame says which.' }),
  sync: Type.Union([Type.Literal('batch'), Type.Literal('none')], { default: 'batch', description: '`batch`: fsync every write batch (no appended frame is lost on power loss); `none`: leave flushing to the OS.' }),
  max_batch: Type.Integer({ default: 1000, minimum: 1, maximum: 100000, description: 'Most frames in one write batch.' }),
}, strict);

export const LogSchema = Type.Object({
  level: Type.Union(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l)), { default: 'info', description: 'pino log level; logs are JSON lines on stdout.' }),
}, strict);

export const SimulatedSourceSchema = Type.Object({
  window_s: Type.Number({ default: 10, minimum: 0.01, maximum: 3600, description: 'Window length, seconds: one cross-section frame per subject per window.' }),
}, strict);

export const SourceSchema = Type.Object({
  simulated: Type.Object(SimulatedSourceSchema.properties, { ...strict, default: {} }),
}, { ...strict, description: 'Where frames come from. Until the device layers land, the simulated source.' });

export const ConfigSchema = Type.Object({
  hub: HubSchema,
  subjects: Type.Array(SubjectSchema, { minItems: 1, default: [{ ref: 'subject-1' }], description: 'The subjects this hub serves.' }),
  broker: Type.Object(BrokerSchema.properties, { ...strict, default: {} }),
  publish: Type.Object(PublishSchema.properties, { ...strict, default: {} }),
  outbox: Type.Object(OutboxSchema.properties, { ...strict, default: {} }),
  log: Type.Object(LogSchema.properties, { ...strict, default: {} }),
  source: Type.Object(SourceSchema.properties, { ...strict, default: { simulated: {} } }),
}, strict);

type Raw = Static<typeof ConfigSchema>;

/** The validated, defaulted, frozen config. */
export type Config = Readonly<Omit<Raw, 'broker'> & { broker: Raw['broker'] & { client_id: string } }>;

export type { TSchema };
