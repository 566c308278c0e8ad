import { createHash, createHmac, pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto';

/** Server side of SCRAM-SHA-256 (RFC 5802 / RFC 7677) as PostgreSQL speaks it, without channel binding. */

const ITERATIONS = 4096;

export interface ScramVerifier {
  salt: Buffer;
  iterations: number;
  storedKey: Buffer;
  serverKey: Buffer;
}

const hmac = (key: Buffer, data: string | Buffer) => createHmac('sha256', key).update(data).digest();
const sha256 = (data: Buffer) => createHash('sha256').update(data).digest();

export function makeVerifier(
  password: string,
  salt = randomBytes(16),
  iterations = ITERATIONS,
): ScramVerifier {
  const salted = pbkdf2Sync(password.normalize('NFKC'), salt, iterations, 32, 'sha256');
  return {
    salt,
    iterations,
    storedKey: sha256(hmac(salted, 'Client Key')),
    serverKey: hmac(salted, 'Server Key'),
  };
}

function parseAttributes(message: string): Map<string, string> {
  const attrs = new Map<string, string>();
  for (const part of message.split(',')) {
    const eq = part.indexOf('=');
    if (eq === 1) attrs.set(part[0]!, part.slice(2));
  }
  return attrs;
}

export class ScramError extends Error {}

/** One SCRAM exchange: client-first → server-first, client-final → server-final. */
export class ScramExchange {
  private clientFirstBare = '';
  private serverFirst = '';
  private nonce = '';

  constructor(private readonly verifier: ScramVerifier) {}

  /** Takes the client-first-message; returns the server-first-message. */
  start(clientFirst: string): string {
    // gs2 header: "n,," (no channel binding) or "y,," (client supports it, server does not advertise it).
    if (!(clientFirst.startsWith('n,') || clientFirst.startsWith('y,'))) {
      throw new ScramError('malformed SCRAM message: unsupported channel binding');
    }
    const secondComma = clientFirst.indexOf(',', 2);
    if (secondComma < 0) throw new ScramError('malformed SCRAM message');
    this.clientFirstBare = clientFirst.slice(secondComma + 1);
    const clientNonce = parseAttributes(this.clientFirstBare).get('r');
    if (!clientNonce) throw new ScramError('malformed SCRAM message: missing nonce');
    this.nonce = clientNonce + randomBytes(18).toString('base64');
    this.serverFirst = `r=${this.nonce},s=${this.verifier.salt.toString('base64')},i=${this.verifier.iterations}`;
    return this.serverFirst;
  }

  /** Takes the client-final-message; returns the server-final-message, or throws if the proof is wrong. */
  finish(clientFinal: string): string {
    const attrs = parseAttributes(clientFinal);
    const proofB64 = attrs.get('p');
    if (attrs.get('r') !== this.nonce || !proofB64)
      throw new ScramError('malformed SCRAM message: bad nonce');
    const withoutProof = clientFinal.slice(0, clientFinal.lastIndexOf(',p='));
    const authMessage = `${this.clientFirstBare},${this.serverFirst},${withoutProof}`;
    const clientSignature = hmac(this.verifier.storedKey, authMessage);
    const proof = Buffer.from(proofB64, 'base64');
    if (proof.length !== clientSignature.length) throw new ScramError('wrong password');
    const clientKey = Buffer.alloc(proof.length);
    for (let i = 0; i < proof.length; i++) clientKey[i] = proof[i]! ^ clientSignature[i]!;
    if (!timingSafeEqual(sha256(clientKey), this.verifier.storedKey)) throw new ScramError('wrong password');
    return `v=${hmac(this.verifier.serverKey, authMessage).toString('base64')}`;
  }
}
