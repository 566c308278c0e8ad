import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { PgError } from '../../../../protocol/pg/PgError.js';
import { timeZoneFor } from '../../../../protocol/pg/types/index.js';

// TimeZone caches offsets per hour and bisects transitions; the reference here is Intl asked directly
// for the offset (timeZoneName 'longOffset', which includes LMT seconds), second by second.

const formats = new Map<string, Intl.DateTimeFormat>();

function referenceOffset(zone: string, utcSeconds: number): number {
  let format = formats.get(zone);
  if (format === undefined) {
    format = new Intl.DateTimeFormat('en-US', { timeZone: zone, timeZoneName: 'longOffset' });
    formats.set(zone, format);
  }
  const name = format
    .formatToParts(new Date(utcSeconds * 1000))
    .find((p) => p.type === 'timeZoneName')!.value;
  if (name === 'GMT') return 0;
  const m = /^GMT([+-])(\d\d):(\d\d)(?::(\d\d))?$/.exec(name)!;
  const east = Number(m[2]) * 3600 + Number(m[3]) * 60 + Number(m[4] ?? 0);
  return m[1] === '-' ? -east : east;
}

const utc = (iso: string): number => Date.parse(iso) / 1000;

const TRANSITIONS: [string, string][] = [
  ['America/New_York', '2021-03-14T07:00:00Z'],
  ['America/New_York', '2021-11-07T06:00:00Z'],
  ['America/New_York', '1883-11-18T17:00:00Z'],
  ['Asia/Kolkata', '1941-10-01T00:00:00Z'],
  ['Asia/Kolkata', '1942-05-14T17:30:00Z'],
  ['Asia/Kolkata', '1945-10-14T17:30:00Z'],
  ['Australia/Lord_Howe', '2021-04-03T15:00:00Z'],
  ['Australia/Lord_Howe', '2021-10-02T15:30:00Z'],
  ['Europe/London', '1971-10-31T02:00:00Z'],
];

for (const [name, around] of TRANSITIONS) {
  test(`${name} offsets around ${around} match Intl to the second`, () => {
    const zone = timeZoneFor(name);
    const center = utc(around);
    const wrong: string[] = [];
    // Every second across the nearest ±10 minutes, then every 7 seconds out to ±6 hours, out of order
    // so the hour cache is filled from both sides.
    const samples: number[] = [];
    for (let d = -600; d <= 600; d++) samples.push(center + d);
    for (let d = -6 * 3600; d <= 6 * 3600; d += 7) samples.push(center - d);
    for (const t of samples) {
      const expected = referenceOffset(name, t);
      if (zone.offsetAt(t) !== expected)
        wrong.push(`${new Date(t * 1000).toISOString()}: ${zone.offsetAt(t)} vs ${expected}`);
    }
    assert.equal(wrong.slice(0, 5), []);
  });
}

test('POSIX-style offsets count hours west of Greenwich, as PostgreSQL reads TimeZone', () => {
  assert.is(timeZoneFor('+02:00').offsetAt(0), -7200);
  assert.is(timeZoneFor('-05:30').offsetAt(0), 19800);
  assert.is(timeZoneFor('UTC+3').offsetAt(0), -10800);
  assert.is(timeZoneFor('<+02>-02').offsetAt(0), 7200);
  assert.is(timeZoneFor('0').offsetAt(0), 0);
  assert.is(timeZoneFor('UTC').offsetAt(utc('2021-07-01T00:00:00Z')), 0);
  assert.is(timeZoneFor('EST5EDT').offsetAt(utc('2021-07-01T00:00:00Z')), -4 * 3600);
});

test('wall-clock times resolve as PostgreSQL resolves them across DST transitions', () => {
  const ny = timeZoneFor('America/New_York');
  const local = (iso: string): number => utc(`${iso}Z`);
  // Skipped by spring-forward: the offset from before (EST).
  assert.is(ny.localToUtc(local('2021-03-14T02:30:00')), utc('2021-03-14T07:30:00Z'));
  // Repeated by fall-back: the offset from after (EST).
  assert.is(ny.localToUtc(local('2021-11-07T01:30:00')), utc('2021-11-07T06:30:00Z'));
  assert.is(ny.localToUtc(local('2021-11-07T00:59:59')), utc('2021-11-07T04:59:59Z'));
  assert.is(ny.localToUtc(local('2021-07-01T12:00:00')), utc('2021-07-01T16:00:00Z'));
  assert.is(ny.localToUtc(local('1800-01-01T00:00:00')), utc('1800-01-01T04:56:02Z'));
});

test('beyond Date’s range the zone keeps its rules: LMT before, the yearly rule after', () => {
  const ny = timeZoneFor('America/New_York');
  const year = 365.2425 * 86400;
  const july3000 = utc('3000-07-01T12:00:00Z');
  assert.is(ny.offsetAt(july3000), -4 * 3600);
  // 300,000 AD is past Date; 400 Gregorian years later every date falls on the same weekday.
  const far = july3000 + 297000 * year;
  assert.is(ny.offsetAt(far), ny.offsetAt(far - 400 * year * 100));
  assert.is(ny.offsetAt(-1e13), -(4 * 3600 + 56 * 60 + 2));
});

test('an unknown zone is 22023, as SET TimeZone reports it', () => {
  try {
    timeZoneFor('Nowhere/Land');
    assert.unreachable('accepted an unknown zone');
  } catch (e) {
    assert.instance(e, PgError);
    assert.is((e as PgError).code, '22023');
    assert.is((e as PgError).message, 'time zone "Nowhere/Land" not recognized');
  }
});

test.run();
