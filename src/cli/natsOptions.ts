import { type Command, Option } from 'commander';
import type { NatsConnectionSettings } from '../../protocol/cluster/Transport.js';
import { DEFAULT_CLUSTER_PREFIX } from '../cluster/startCluster.js';

/** The parsed values of the options {@link addNatsOptions} adds. */
export interface NatsFlags {
  nats: string;
  prefix: string;
  natsUser?: string;
  natsPass?: string;
  natsToken?: string;
  natsTlsCa?: string;
  natsTlsCert?: string;
  natsTlsKey?: string;
}

/**
 * Adds the options every cluster process shares: the NATS URL (required), the subject prefix, and the
 * credentials and TLS files passed through to the connection. Each also reads a MALLARD_* variable.
 */
export function addNatsOptions(command: Command): Command {
  return command
    .addOption(
      new Option('--nats <url>', 'NATS server URL (comma-separated for several)')
        .env('MALLARD_NATS')
        .makeOptionMandatory(),
    )
    .addOption(
      new Option('--prefix <prefix>', "the cluster's subject prefix")
        .env('MALLARD_CLUSTER_PREFIX')
        .default(DEFAULT_CLUSTER_PREFIX),
    )
    .addOption(new Option('--nats-user <user>', 'NATS user name').env('MALLARD_NATS_USER'))
    .addOption(new Option('--nats-pass <password>', 'NATS password').env('MALLARD_NATS_PASS'))
    .addOption(
      new Option('--nats-token <token>', 'NATS authentication token')
        .env('MALLARD_NATS_TOKEN')
        .conflicts(['natsUser', 'natsPass']),
    )
    .addOption(
      new Option('--nats-tls-ca <file>', 'CA certificate (PEM) to verify NATS').env('MALLARD_NATS_TLS_CA'),
    )
    .addOption(
      new Option('--nats-tls-cert <file>', 'client certificate (PEM) for NATS').env('MALLARD_NATS_TLS_CERT'),
    )
    .addOption(new Option('--nats-tls-key <file>', 'client key (PEM) for NATS').env('MALLARD_NATS_TLS_KEY'));
}

/** The TLS files given, or undefined when none were. */
export function natsTls(flags: NatsFlags): NatsConnectionSettings['tls'] {
  if (!flags.natsTlsCa && !flags.natsTlsCert && !flags.natsTlsKey) return undefined;
  return {
    ...(flags.natsTlsCa ? { caFile: flags.natsTlsCa } : {}),
    ...(flags.natsTlsCert ? { certFile: flags.natsTlsCert } : {}),
    ...(flags.natsTlsKey ? { keyFile: flags.natsTlsKey } : {}),
  };
}

/** Connection settings for the coordinator from the parsed flags. */
export function natsSettings(flags: NatsFlags): NatsConnectionSettings {
  const tls = natsTls(flags);
  return {
    servers: flags.nats.split(',').map((s) => s.trim()),
    ...(flags.natsUser === undefined ? {} : { user: flags.natsUser }),
    ...(flags.natsPass === undefined ? {} : { pass: flags.natsPass }),
    ...(flags.natsToken === undefined ? {} : { token: flags.natsToken }),
    ...(tls === undefined ? {} : { tls }),
  };
}
