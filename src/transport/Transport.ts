/**
 * The coordinator's name for the transport seam. The interface itself lives in protocol/cluster/Transport.ts,
 * because worker/ may import only protocol/ and needs it too; see the comment there.
 */
export type {
  MessageHandler,
  NatsConnectionSettings,
  SubscribeOptions,
  Transport,
  TransportMessage,
  TransportSubscription,
} from '../../protocol/cluster/Transport.js';
