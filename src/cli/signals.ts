/**
 * Resolves on the first SIGINT or SIGTERM (or after `ms`, when given). A second signal while
 * the command is shutting down exits at once with status 1: an operator who asks twice means it.
 */
export function untilSignal(ms?: number): Promise<NodeJS.Signals | 'timeout'> {
  return new Promise((resolve) => {
    const timer = ms !== undefined ? setTimeout(() => done('timeout'), ms) : undefined;
    const onSignal = (s: NodeJS.Signals) => done(s);
    function done(why: NodeJS.Signals | 'timeout') {
      clearTimeout(timer);
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
