import { test } from 'uvu';
import { startMallard } from '../helpers/mallard.js';
import { distributedSuite } from './distributedSuite.js';

// `mallard cluster`: a real nats-server from PATH, two `mallard worker` processes of one thread each, and
// the coordinator, all on this machine.
distributedSuite(test, {
  name: 'nats',
  start: () =>
    startMallard({
      args: [
        '--table-storage',
        'parquet',
        '--local-max-rows',
        '0',
        '--shuffle',
        'on',
        'cluster',
        '--workers',
        '2',
        '--threads',
        '1',
      ],
    }),
});

test.run();
