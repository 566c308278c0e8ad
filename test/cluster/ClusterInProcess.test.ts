import { test } from 'uvu';
import { clusterSuite } from './clusterSuite.js';
import { inProcessHarness } from './helpers/clusterHarness.js';

clusterSuite(test, inProcessHarness());

test.run();
