// Offline checks of certificates and bundles: q valid votes (receipts) from
// distinct custodians of one epoch hold; anything less does not.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { toHex } from '../../protocol/bytes.ts';
import { checkBundle, checkCertificate, type CheckContext } from '../../protocol/certificate.ts';
import { bindNetwork, decodeWith, encodeWith, epochHash, readBundle, readCertificate, writeBundle, writeCertificate, type Bundle, type Certificate, type Receipt, type Vote } from '../../protocol/objects.ts';
import { Ring } from '../../protocol/ring.ts';
import { ed25519, type Signer, type Verifier } from '../../protocol/signature.ts';
import { codeOf, epochRecord, keyOf, NET, receipt, transfer, vote } from './vectors/fixtures.ts';

const mint = keyOf('mint');
const nodeKeys = Array.from({ length: 10 }, (_, i) => keyOf(`node-${i}`));
const byHex = new Map(nodeKeys.map((k) => [toHex(k.publicKey), k]));
const e0 = epochRecord(mint, nodeKeys.map((k) => k.publicKey), { k: 4, q: 3 });
const ring0 = new Ring(e0);
// Epoch 1 drops two members, so custody moves for some accounts.
const e1 = epochRecord(mint, nodeKeys.slice(2).map((k) => k.publicKey), { epoch: 1, prev: epochHash(e0), k: 4, q: 3 });
const ring1 = new Ring(e1);

const alice = keyOf('alice');
const bob = keyOf('bob');
const t = transfer(alice, bob.publicKey, 50n);

const signersOf = (ring: Ring, account: Uint8Array): Signer[] => ring.custodians(account).map((c) => byHex.get(toHex(c))!);
const outsiders = (ring: Ring, account: Uint8Array): Signer[] => nodeKeys.filter((k) => ring.isMember(k.publicKey) && !ring.isCustodian(k.publicKey, account));

function ctx(over: Partial<CheckContext> = {}): CheckContext {
  return { network: NET, verifier: ed25519, ringOf: (n) => (n === 0 ? ring0 : n === 1 ? ring1 : undefined), ...over };
}
const cert = (votes: Vote[]): Certificate => ({ transfer: t, votes });
const fromCust = signersOf(ring0, alice.publicKey);
const toCust = signersOf(ring0, bob.publicKey);
const qVotes = () => fromCust.slice(0, 3).map((c) => vote(c, t, 0));
const qReceipts = () => toCust.slice(0, 3).map((c) => receipt(c, t, 0));

test('q valid votes from custodians of the sender make a certificate; all k do too', () => {
  assert.is(fromCust.length, 4);
  assert.is(codeOf(() => checkCertificate(cert(qVotes()), ctx())), 'NO THROW');
  assert.is(codeOf(() => checkCertificate(cert(fromCust.map((c) => vote(c, t, 0))), ctx())), 'NO THROW');
});

test('q-1 votes are not enough', () => {
  assert.is(codeOf(() => checkCertificate(cert(qVotes().slice(0, 2)), ctx())), 'BAD_CERTIFICATE');
  assert.is(codeOf(() => checkCertificate(cert([]), ctx())), 'BAD_CERTIFICATE');
});

test('one voter counted once, however many of its votes are listed', () => {
  const [a, b] = fromCust;
  const votes = [vote(a!, t, 0), vote(a!, t, 0), vote(a!, t, 0), vote(b!, t, 0)];
  assert.is(codeOf(() => checkCertificate(cert(votes), ctx())), 'BAD_CERTIFICATE');
});

test('votes for another transfer do not count', () => {
  const other = transfer(alice, keyOf('carol').publicKey, 50n);
  const votes = [...qVotes().slice(0, 2), vote(fromCust[2]!, other, 0)];
  assert.is(codeOf(() => checkCertificate(cert(votes), ctx())), 'BAD_CERTIFICATE');
  // A vote naming the right id but another seq does not count either.
  const wrongSeq = bindNetwork({ ...vote(fromCust[2]!, t, 0), seq: 2 }, NET);
  assert.is(codeOf(() => checkCertificate(cert([...qVotes().slice(0, 2), wrongSeq]), ctx())), 'BAD_CERTIFICATE');
});

test('votes from members that are not custodians of the sender do not count', () => {
  const strangers = outsiders(ring0, alice.publicKey);
  const votes = [...qVotes().slice(0, 2), vote(strangers[0]!, t, 0)];
  assert.is(codeOf(() => checkCertificate(cert(votes), ctx())), 'BAD_CERTIFICATE');
  const nonMember = vote(keyOf('not-a-member'), t, 0);
  assert.is(codeOf(() => checkCertificate(cert([...qVotes().slice(0, 2), nonMember]), ctx())), 'BAD_CERTIFICATE');
});

test('votes of void nodes (proven equivocators) do not count', () => {
  const voidOne = toHex(fromCust[0]!.publicKey);
  const c = ctx({ isVoid: (n) => n === voidOne });
  assert.is(codeOf(() => checkCertificate(cert(qVotes()), c)), 'BAD_CERTIFICATE');
  // With the fourth custodian the quorum is met again.
  assert.is(codeOf(() => checkCertificate(cert(fromCust.map((x) => vote(x, t, 0))), c)), 'NO THROW');
});

test('votes in an unknown epoch give UNKNOWN_EPOCH', () => {
  const votes = fromCust.slice(0, 3).map((x) => vote(x, t, 7));
  assert.is(codeOf(() => checkCertificate(cert(votes), ctx())), 'UNKNOWN_EPOCH');
});

test('bad signatures: a vote that does not verify does not count; a bad transfer signature is BAD_SIGNATURE', () => {
  const votes = qVotes();
  const forged = bindNetwork({ ...votes[2]!, sig: votes[1]!.sig }, NET);
  assert.is(codeOf(() => checkCertificate(cert([votes[0]!, votes[1]!, forged]), ctx())), 'BAD_CERTIFICATE');
  const badTransfer = bindNetwork({ ...t, sig: new Uint8Array(64) }, NET);
  assert.is(codeOf(() => checkCertificate({ transfer: badTransfer, votes }, ctx())), 'BAD_SIGNATURE');
  // Votes signed for another network do not count here.
  const foreign = fromCust.slice(0, 3).map((x) => bindNetwork({ ...vote(x, t, 0, 'othernet'), transferId: votes[0]!.transferId }, NET));
  assert.is(codeOf(() => checkCertificate(cert(foreign), ctx())), 'BAD_CERTIFICATE');
});

test('a quorum must come from one epoch: 2 votes in epoch 0 plus 1 in epoch 1 is not a certificate', () => {
  const in1 = signersOf(ring1, alice.publicKey).filter((s) => !fromCust.slice(0, 2).some((f) => toHex(f.publicKey) === toHex(s.publicKey)));
  const votes = [...fromCust.slice(0, 2).map((x) => vote(x, t, 0)), vote(in1[0]!, t, 1)];
  assert.is(codeOf(() => checkCertificate(cert(votes), ctx())), 'BAD_CERTIFICATE');
  const all1 = signersOf(ring1, alice.publicKey).slice(0, 3).map((x) => vote(x, t, 1));
  assert.is(codeOf(() => checkCertificate(cert(all1), ctx())), 'NO THROW');
});

const bundle = (receipts: Receipt[], votes = qVotes()): Bundle => ({ certificate: cert(votes), receipts });

test('a bundle holds with a certificate and q receipts from custodians of the recipient', () => {
  assert.is(codeOf(() => checkBundle(bundle(qReceipts()), ctx())), 'NO THROW');
});

test('a bundle with q-1 receipts, or duplicates of one custodian, is BAD_BUNDLE', () => {
  assert.is(codeOf(() => checkBundle(bundle(qReceipts().slice(0, 2)), ctx())), 'BAD_BUNDLE');
  assert.is(codeOf(() => checkBundle(bundle([]), ctx())), 'BAD_BUNDLE');
  const r = receipt(toCust[0]!, t, 0);
  assert.is(codeOf(() => checkBundle(bundle([r, r, r, receipt(toCust[1]!, t, 0)]), ctx())), 'BAD_BUNDLE');
});

test('receipts from non-custodians, for another amount, unknown epochs or with bad signatures do not count', () => {
  const good = qReceipts();
  const stranger = receipt(outsiders(ring0, bob.publicKey)[0]!, t, 0);
  assert.is(codeOf(() => checkBundle(bundle([good[0]!, good[1]!, stranger]), ctx())), 'BAD_BUNDLE');
  const wrongAmount = bindNetwork({ ...good[2]!, amount: 49n }, NET);
  assert.is(codeOf(() => checkBundle(bundle([good[0]!, good[1]!, wrongAmount]), ctx())), 'BAD_BUNDLE');
  const unknown = receipt(toCust[2]!, t, 9);
  assert.is(codeOf(() => checkBundle(bundle([good[0]!, good[1]!, unknown]), ctx())), 'BAD_BUNDLE');
  const forged = bindNetwork({ ...good[2]!, sig: good[0]!.sig }, NET);
  assert.is(codeOf(() => checkBundle(bundle([good[0]!, good[1]!, forged]), ctx())), 'BAD_BUNDLE');
});

test('a bundle whose certificate fails is rejected for the certificate', () => {
  assert.is(codeOf(() => checkBundle(bundle(qReceipts(), qVotes().slice(0, 2)), ctx())), 'BAD_CERTIFICATE');
});

test('a decoded certificate or bundle encodes to the bytes it came from; a copy is encoded afresh, to the same bytes', () => {
  const c = cert(qVotes());
  const bytes = encodeWith(c, writeCertificate);
  const decoded = decodeWith(NET, bytes, readCertificate);
  assert.equal(encodeWith(decoded, writeCertificate), bytes);
  assert.equal(encodeWith({ ...decoded }, writeCertificate), bytes);
  // A copy with other votes carries nothing of the original's encoding.
  const fewer = { ...decoded, votes: decoded.votes.slice(0, 2) };
  assert.is(encodeWith(fewer, writeCertificate).length < bytes.length, true);
  const b = bundle(qReceipts());
  const bb = encodeWith(b, writeBundle);
  const db = decodeWith(NET, bb, readBundle);
  assert.equal(encodeWith(db, writeBundle), bb);
  const two = db.receipts.slice(0, 2);
  assert.equal(encodeWith({ ...db, receipts: two }, writeBundle), encodeWith({ certificate: { ...db.certificate }, receipts: two.map((x) => ({ ...x })) }, writeBundle));
  assert.is(encodeWith({ ...db, receipts: two }, writeBundle).length < bb.length, true);
});

test('a certificate decoded again from bytes that passed passes without its signatures checked again, under a context that still passes it', () => {
  let checks = 0;
  const counting: Verifier = { verify: (k, m, s) => (checks++, ed25519.verify(k, m, s)) };
  const bytes = encodeWith(cert(qVotes()), writeCertificate);
  const c0 = ctx({ verifier: counting });
  checkCertificate(decodeWith(NET, bytes, readCertificate), c0);
  const first = checks;
  assert.ok(first >= 4, 'the first decode is checked in full');
  checkCertificate(decodeWith(NET, bytes, readCertificate), c0);
  assert.is(checks, first, 'the same bytes again: nothing verified');
  // Other bytes for the same transfer (one vote's signature forged) are checked, and fail.
  const votes = qVotes();
  const forged = encodeWith(cert([votes[0]!, votes[1]!, bindNetwork({ ...votes[2]!, sig: votes[1]!.sig }, NET)]), writeCertificate);
  assert.is(codeOf(() => checkCertificate(decodeWith(NET, forged, readCertificate), c0)), 'BAD_CERTIFICATE');
  assert.ok(checks > first);
  // A voter found void since: the remembered pass no longer applies.
  const voidOne = toHex(fromCust[0]!.publicKey);
  assert.is(codeOf(() => checkCertificate(decodeWith(NET, bytes, readCertificate), { ...c0, isVoid: (n) => n === voidOne })), 'BAD_CERTIFICATE');
  // Another verifier remembers nothing of it.
  let other = 0;
  checkCertificate(decodeWith(NET, bytes, readCertificate), ctx({ verifier: { verify: (k, m, s) => (other++, ed25519.verify(k, m, s)) } }));
  assert.ok(other >= 4);
});

test.run();
