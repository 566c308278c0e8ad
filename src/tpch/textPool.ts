import { Prng, type Weighted } from './Prng.js';

// The pseudo-text of TPC-H comments (specification clause 4.2.2.10): sentences from a small grammar over
// dbgen's weighted word lists. dbgen fills a 300 MB pool with this text once and takes every comment as a
// substring at a random offset; the generator does the same with a pool of a few megabytes.

const NOUNS: Weighted = [
  ['packages', 40],
  ['requests', 40],
  ['accounts', 40],
  ['deposits', 40],
  ['foxes', 20],
  ['ideas', 20],
  ['theodolites', 20],
  ['pinto beans', 20],
  ['instructions', 20],
  ['dependencies', 10],
  ['excuses', 10],
  ['platelets', 10],
  ['asymptotes', 10],
  ['courts', 5],
  ['dolphins', 5],
  ['multipliers', 1],
  ['sauternes', 1],
  ['warthogs', 1],
  ['frets', 1],
  ['dinos', 1],
  ['attainments', 1],
  ['somas', 1],
  ['Tiresias', 1],
  ['patterns', 1],
  ['forges', 1],
  ['braids', 1],
  ['frays', 1],
  ['warhorses', 1],
  ['dugouts', 1],
  ['notornis', 1],
  ['epitaphs', 1],
  ['pearls', 1],
  ['tithes', 1],
  ['waters', 1],
  ['orbits', 1],
  ['gifts', 1],
  ['sheaves', 1],
  ['depths', 1],
  ['sentiments', 1],
  ['decoys', 1],
  ['realms', 1],
  ['pains', 1],
  ['grouches', 1],
  ['escapades', 1],
  ['hockey players', 1],
];

const VERBS: Weighted = [
  ['sleep', 20],
  ['wake', 20],
  ['are', 20],
  ['cajole', 20],
  ['haggle', 20],
  ['nag', 10],
  ['use', 10],
  ['boost', 10],
  ['affix', 5],
  ['detect', 5],
  ['integrate', 5],
  ...[
    'maintain',
    'nod',
    'was',
    'lose',
    'sublate',
    'solve',
    'thrash',
    'promise',
    'engage',
    'hinder',
    'print',
    'x-ray',
    'breach',
    'eat',
    'grow',
    'impress',
    'mold',
    'poach',
    'serve',
    'run',
    'dazzle',
    'snooze',
    'doze',
    'unwind',
    'kindle',
    'play',
    'hang',
    'believe',
    'doubt',
  ].map((w) => [w, 1] as const),
];

const ADVERBS: Weighted = [
  ['sometimes', 1],
  ['always', 1],
  ['never', 1],
  ['furiously', 50],
  ['slyly', 50],
  ['carefully', 50],
  ['blithely', 40],
  ['quickly', 30],
  ['fluffily', 20],
  ...[
    'slowly',
    'quietly',
    'ruthlessly',
    'thinly',
    'closely',
    'doggedly',
    'daringly',
    'bravely',
    'stealthily',
    'permanently',
    'enticingly',
    'idly',
    'busily',
    'regularly',
    'finally',
    'ironically',
    'evenly',
    'boldly',
    'silently',
  ].map((w) => [w, 1] as const),
];

const PREPOSITIONS: Weighted = [
  ['about', 50],
  ['above', 50],
  ['according to', 50],
  ['across', 50],
  ['after', 50],
  ['against', 40],
  ['along', 40],
  ['alongside of', 30],
  ['among', 30],
  ['around', 20],
  ['at', 10],
  ...[
    'atop',
    'before',
    'behind',
    'beneath',
    'beside',
    'besides',
    'between',
    'beyond',
    'by',
    'despite',
    'during',
    'except',
    'for',
    'from',
    'in place of',
    'inside',
    'instead of',
    'into',
    'near',
    'of',
    'on',
    'outside',
    'over',
    'past',
    'since',
    'through',
    'throughout',
    'to',
    'toward',
    'under',
    'until',
    'up',
    'upon',
    'without',
    'with',
    'within',
  ].map((w) => [w, 1] as const),
];

const AUXILIARIES: Weighted = [
  'do',
  'may',
  'might',
  'shall',
  'will',
  'would',
  'can',
  'could',
  'should',
  'ought to',
  'must',
  'will have to',
  'shall have to',
  'could have to',
  'should have to',
  'must have to',
  'need to',
  'try to',
].map((w) => [w, 1] as const);

const TERMINATORS: Weighted = [
  ['.', 50],
  [';', 1],
  [':', 1],
  ['?', 1],
  ['!', 1],
  ['--', 1],
];

const ADJECTIVES: Weighted = [
  ['special', 20],
  ['pending', 20],
  ['unusual', 20],
  ['express', 20],
  ...[
    'furious',
    'sly',
    'careful',
    'blithe',
    'quick',
    'fluffy',
    'slow',
    'quiet',
    'ruthless',
    'thin',
    'close',
    'dogged',
    'daring',
    'brave',
    'stealthy',
    'permanent',
    'enticing',
    'idle',
    'busy',
  ].map((w) => [w, 1] as const),
  ['regular', 50],
  ['final', 40],
  ['ironic', 40],
  ['even', 30],
  ['bold', 20],
  ['silent', 10],
];

/** Sentence shapes: N noun phrase, V verb phrase, P prepositional phrase, T terminator. */
const SENTENCES: Weighted = [
  ['N V T', 3],
  ['N V P T', 3],
  ['N V N T', 3],
  ['N P V N T', 1],
  ['N P V P T', 1],
];
/** Noun phrases: N noun, J adjective, D adverb; the comma belongs to the first adjective. */
const NOUN_PHRASES: Weighted = [
  ['N', 10],
  ['J N', 20],
  ['J, J N', 10],
  ['D J N', 50],
];
/** Verb phrases: V verb, X auxiliary, D adverb. */
const VERB_PHRASES: Weighted = [
  ['V', 30],
  ['X V', 1],
  ['V D', 40],
  ['X V D', 1],
];

/** Characters of the spec's random v-strings (addresses): at least 64 symbols. */
const V_STRING_ALPHABET = '0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ,.';

function nounPhrase(rng: Prng): string {
  const words: string[] = [];
  for (const part of rng.pick(NOUN_PHRASES).split(' ')) {
    if (part === 'J,') words.push(`${rng.pick(ADJECTIVES)},`);
    else if (part === 'J') words.push(rng.pick(ADJECTIVES));
    else if (part === 'D') words.push(rng.pick(ADVERBS));
    else words.push(rng.pick(NOUNS));
  }
  return words.join(' ');
}

function verbPhrase(rng: Prng): string {
  const words: string[] = [];
  for (const part of rng.pick(VERB_PHRASES).split(' ')) {
    if (part === 'X') words.push(rng.pick(AUXILIARIES));
    else if (part === 'D') words.push(rng.pick(ADVERBS));
    else words.push(rng.pick(VERBS));
  }
  return words.join(' ');
}

function sentence(rng: Prng): string {
  let text = '';
  for (const part of rng.pick(SENTENCES).split(' ')) {
    if (part === 'T') {
      text += rng.pick(TERMINATORS);
      continue;
    }
    if (text) text += ' ';
    if (part === 'N') text += nounPhrase(rng);
    else if (part === 'V') text += verbPhrase(rng);
    else text += `${rng.pick(PREPOSITIONS)} the ${nounPhrase(rng)}`;
  }
  return text;
}

/**
 * `length` characters of one continuous stream of grammar sentences. A comment is a substring at a
 * random offset, so it may start and end mid-word, as dbgen's comments do.
 */
export function textPool(seed: number, length: number): string {
  const rng = new Prng(seed);
  const sentences: string[] = [];
  let size = 0;
  while (size < length) {
    const s = `${sentence(rng)} `;
    sentences.push(s);
    size += s.length;
  }
  return sentences.join('').slice(0, length);
}

/** `length` random characters over a 64-symbol alphabet; a v-string is a substring at a random offset. */
export function vStringPool(seed: number, length: number): string {
  const rng = new Prng(seed);
  const chars: string[] = [];
  for (let i = 0; i < length; i++) chars.push(V_STRING_ALPHABET[rng.int(V_STRING_ALPHABET.length)]!);
  return chars.join('');
}
