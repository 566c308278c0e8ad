import { test } from 'uvu';
import { clusterSuite } from './clusterSuite.js';
import { natsHarness } from './helpers/clusterHarness.js';

clusterSuite(test, natsHarness());

test.run();
