/**
 * Resolves on the first SIGINT or SIGTERM (or after `ms`, or when `abort` fires). A second signal while
 * the command is shutting down exits at once with status 1: an operator who asks twice means it.
 */
export function untilSignal(ms?: number, abort?: AbortSignal): Promise<NodeJS.Signals | 'timeout' | 'aborted'> {
  return new Promise((resolve) => {
    const timer = ms !== undefined ? setTimeout(() => done('timeout'), ms) : undefined;
    const onSignal = (s: NodeJS.Signals) => done(s);
    const onAbort = () => done('aborted');
    abort?.addEventListener('abort', onAbort, { once: true });
    function done(why: NodeJS.Signals | 'timeout' | 'aborted') {
      clearTimeout(timer);
      abort?.removeEventListener('abort', onAbort);
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      const force = () => process.exit(1);
      process.once('SIGINT', force);
      process.once('SIGTERM', force);
      resolve(why);
    }
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
  });
}
