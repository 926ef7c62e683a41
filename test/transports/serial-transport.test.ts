import { join } from 'node:path';
import { SystemClock } from '../../src/ops/clock.js';
import { SerialTransport } from '../../src/transports/serial/serial-transport.js';
import { transportSuite } from '../conformance/transport.suite.js';
import { PtyPair } from '../helpers/pty.js';
import { makeTempDir } from '../helpers/tmp.js';
import { skipUnless } from '../helpers/tools.js';


transportSuite('SerialTransport over socat ptys', {
  skip: skipUnless('socat'),
  async create(listener) {
    const dir = await makeTempDir('twinedge-pty-');
    const pty = await PtyPair.start(dir.path);
    const transport = new SerialTransport({ path: pty.devicePath, baudRate: 115200 }, new SystemClock('assume-synced'), listener);
    return {
      transport,
      send: (b) => pty.send(b),
      unplug: () => pty.unplug(),
      replug: () => pty.plug(),
      async cleanup() {
        await pty.close();
        await dir.remove();
      },
    };
  },
  absent(listener) {
    return new SerialTransport({ path: join('/nonexistent', 'ttyUSB9'), baudRate: 9600 }, new SystemClock('assume-synced'), listener);
  },
});
