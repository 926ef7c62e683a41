import { loadConfig } from '../config/load.js';
import { loadHubKey } from '../frames/keys.js';
import { hubOptionsFrom } from '../hub/from-config.js';
import { Hub } from '../hub/hub.js';
import { hubHttpServer, loadTokenFile, tokenFileOf, type HttpServer } from '../hub/http-server.js';
import { isTwinedgeError } from '../ops/errors.js';
import { SystemClock } from '../ops/clock.js';
import { createLogger } from '../ops/log.js';
import { serviceNotifier } from '../ops/systemd-notify.js';
import { parseCommandArgs, portOption, requireOption } from './args.js';
import { untilSignal } from './signals.js';

/**
 * twinedge run --config FILE [--http-port N]: the daemon. Everything that can be wrong with the
 * config, the key or the HTTP token file is found before anything starts (exit 2); after that,
 * failures to reach the broker are retried and never stop the hub, and an HTTP port that cannot
 * be opened is logged and leaves the hub running without it. SIGINT/SIGTERM stop it gracefully.
 * `--http-port` serves HTTP on that port (0 picks one) even when the config has http.enabled off.
 */
export async function main(argv: string[]): Promise<number> {
  const { values } = parseCommandArgs('run', argv, { config: { type: 'string' }, 'http-port': { type: 'string' } });
  const configFile = requireOption('run', values.config, '--config');
  const httpPort = portOption('run', values['http-port'], '--http-port');
  const config = await loadConfig(configFile);
  const key = await loadHubKey(config.hub.key_file);
  const serveHttp = config.http.enabled === 'on' || httpPort !== undefined;
  const token = serveHttp ? await loadTokenFile(tokenFileOf(config, configFile), { create: true }) : undefined;
  const log = createLogger(config.log.level);
  let fatal: Error | undefined;
  const stopNow = new AbortController();
  const clock = new SystemClock(config.hub.clock_sync);
  const hub = new Hub({
    ...(await hubOptionsFrom(config, { key, clock, log })),
    onFatal: (err) => {
      fatal = err;
      stopNow.abort();
    },
  });
  await hub.start();
  let http: HttpServer | undefined;
  if (token !== undefined) {
    http = hubHttpServer(config, { hub, clock, log, token, port: httpPort });
    try {
      await http.start();
    } catch (e) {
      if (!isTwinedgeError(e)) throw e;
      log.error({ code: e.code, err: e.message }, 'HTTP not served; the hub runs without it');
      http = undefined;
    }
  }
  const service = serviceNotifier({ log });
  void service.ready();
  const why = await untilSignal(undefined, stopNow.signal);
  log.info({ signal: why }, 'stopping');
  void service.stopping();
  // Requests first, so that none reaches a hub that is closing its outbox.
  await http?.stop();
  await hub.stop();
  if (fatal) {
    log.fatal({ err: fatal.message }, 'stopped: the outbox cannot store frames');
    return 1;
  }
  return 0;
}
