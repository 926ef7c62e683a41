import { isTwinedgeError } from '../ops/errors.js';

/**
 * The twinedge command line. Each command is a file exporting `main(argv)` that resolves to the
 * exit code; commands are loaded on use so that `twinedge keys` never loads MQTT or LevelDB.
 * Exit codes: 0 done, 1 run-time failure, 2 bad usage or config, 3 input rejected.
 */

type CommandModule = { main(argv: string[]): Promise<number> };

const COMMANDS: Record<string, { summary: string; load: () => Promise<CommandModule> }> = {
  run: { summary: 'run the daemon: twinedge run --config FILE', load: () => import('./run.js') },
  demo: { summary: 'simulated devices through the real pipeline, to an embedded broker', load: () => import('./demo.js') },
  receive: { summary: 'the reference twin-side receiver, JSON lines out', load: () => import('./receive.js') },
  decode: { summary: 'decode --profile ID (--hex BYTES | --text LINE) [--json]: one packet through a profile', load: () => import('./decode.js') },
  profiles: { summary: 'profiles validate|test [DIR...]: check profiles, run their examples', load: () => import('./profiles.js') },
  capture: { summary: 'capture --port PATH [--profile ID] --out FILE: record what a device sends', load: () => import('./capture.js') },
  replay: { summary: 'replay FILE [--profile ID] [--speed X]: a capture through the real decoding', load: () => import('./replay.js') },
  features: { summary: 'features --input FILE.csv --channel CH [--window S] --json: the hub\'s feature code on a CSV', load: () => import('./features.js') },
  exposure: { summary: 'exposure --input FILE.csv --channel CH --tz ZONE --json: the hub\'s exposure code on a CSV, per local day', load: () => import('./exposure.js') },
  command: { summary: 'command --key FILE --hub HUB --broker URL --trust FILE|DIR (resend-status | rotate-key | purge --subject REF | consent --subject REF --allow KINDS): a signed command to a hub, and its answer', load: () => import('./command.js') },
  mark: { summary: 'mark --subject REF --kind KIND [--code C] [--dose N --unit U] [--at TIME] [--note TEXT]: record an intervention event on the running hub', load: () => import('./mark.js') },
  keys: { summary: 'keys generate [--x25519] --out PREFIX: a key pair; keys rotate --config FILE: a hub\'s next signing key', load: () => import('./keys.js') },
};

function usage(): string {
  const lines = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(10)} ${c.summary}`);
  return `usage: twinedge <command> [options]\n\ncommands:\n${lines.join('\n')}\n`;
}

async function dispatch(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(usage());
    return name ? 0 : 2;
  }
  const command = COMMANDS[name];
  if (!command) {
    process.stderr.write(`twinedge: unknown command '${name}' [USAGE_BAD_ARGUMENT]\n${usage()}`);
    return 2;
  }
  try {
    return await (await command.load()).main(rest);
  } catch (e) {
    if (isTwinedgeError(e)) {
      for (const line of e.toLine().split('\n')) process.stderr.write(`twinedge ${name}: ${line}\n`);
      return e.exitCode;
    }
    process.stderr.write(`twinedge ${name}: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    return 1;
  }
}

process.exitCode = await dispatch(process.argv.slice(2));
