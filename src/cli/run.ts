import { loadConfig } from '../config/load.js';
import { loadHubKey } from '../frames/keys.js';
import { hubOptionsFrom } from '../hub/from-config.js';
import { Hub } from '../hub/hub.js';
import { SystemClock } from '../ops/clock.js';
import { createLogger } from '../ops/log.js';
import { parseCommandArgs, requireOption } from './args.js';
import { untilSignal } from './signals.js';

/**
 * twinedge run --config FILE: the daemon. Everything that can be wrong with the config or the
 * key is found before anything starts (exit 2); after that, failures to reach the broker are
 * retried and never stop the hub. SIGINT/SIGTERM stop it gracefully.
 */
export async function main(argv: string[]): Promise<number> {
  const { values } = parseCommandArgs('run', argv, { config: { type: 'string' } });
  const config = await loadConfig(requireOption('run', values.config, '--config'));
  const key = await loadHubKey(config.hub.key_file);
  const log = createLogger(config.log.level);
  let fatal: Error | undefined;
  const stopNow = new AbortController();
  const hub = new Hub({
    ...(await hubOptionsFrom(config, { key, clock: new SystemClock(config.hub.clock_sync), log })),
    onFatal: (err) => {
      fatal = err;
      stopNow.abort();
    },
  });
  await hub.start();
  const why = await untilSignal(undefined, stopNow.signal);
  log.info({ signal: why }, 'stopping');
  await hub.stop();
  if (fatal) {
    log.fatal({ err: fatal.message }, 'stopped: the outbox cannot store frames');
    return 1;
  }
  return 0;
}
