import { test } from 'uvu';
import { startMallard } from '../helpers/mallard.js';
import { distributedSuite } from './distributedSuite.js';

distributedSuite(test, {
  name: 'in-process',
  start: () =>
    startMallard({
      args: ['--table-storage', 'parquet', '--local-max-rows', '0', '--shuffle', 'on', '--workers', '2'],
    }),
});

test.run();
