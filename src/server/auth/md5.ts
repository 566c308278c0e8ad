import { createHash, timingSafeEqual } from 'node:crypto';

const md5hex = (s: string | Buffer) => createHash('md5').update(s).digest('hex');

/** PostgreSQL's md5 response: 'md5' + md5(md5(password + user) + salt). */
export function md5Response(user: string, password: string, salt: Buffer): string {
  const inner = md5hex(password + user);
  return `md5${md5hex(Buffer.concat([Buffer.from(inner), salt]))}`;
}

export function md5Matches(user: string, password: string, salt: Buffer, response: string): boolean {
  const expected = Buffer.from(md5Response(user, password, salt));
  const got = Buffer.from(response);
  return expected.length === got.length && timingSafeEqual(expected, got);
}
