import { createHash } from 'node:crypto';

import { badInput } from '../../errors';
import { MAX_ID } from '../validators';

/**
 * A place in a list ordered newest first by creation time, then id: the key of one item. `micros`
 * is the creation time in microseconds since the epoch, as PostgreSQL stores it (a JavaScript
 * Date would round it to milliseconds, and two items of one millisecond would then tie).
 */
export interface KeysetPosition {
  readonly micros: bigint;
  readonly id: number;
}

/** A stable name of one list (its filter, canonically spelled), which its cursors carry. */
export type ListFingerprint = string;

/*
 * Layout, 23 bytes, base64url (31 characters):
 *   version (1) | list (6: sha256 of the fingerprint) | micros (8, signed) | id (4) | check (4)
 * The check is a digest of the other bytes. It is not a secret: a cursor only names a place in a
 * list anyone may read, so forging one gains nothing; the check catches what goes wrong in practice
 * (a truncated or hand-edited cursor, one copied from another list or an older API version) and
 * turns it into BAD_USER_INPUT instead of a wrong page.
 */
const VERSION = 1;
const LENGTH = 23;
const ENCODED = /^[A-Za-z0-9_-]{31}$/;
/**
 * The times a cursor may name: from the epoch up to the end of year 9999 (exclusive), in
 * microseconds. Anything outside is no item's creation time, and PostgreSQL refuses a time past
 * its own range with an error rather than an empty page.
 */
const MAX_MICROS = BigInt(Date.UTC(10_000, 0, 1)) * 1000n;

export function writeCursor(position: KeysetPosition, list: ListFingerprint): string {
  const bytes = Buffer.alloc(LENGTH);
  bytes.writeUInt8(VERSION, 0);
  listDigest(list).copy(bytes, 1);
  bytes.writeBigInt64BE(position.micros, 7);
  bytes.writeUInt32BE(position.id, 15);
  check(bytes).copy(bytes, 19);
  return bytes.toString('base64url');
}

/** The position a cursor names, or BAD_USER_INPUT naming `field` when it is not a cursor of `list`. */
export function readCursor(cursor: string, list: ListFingerprint, field: string): KeysetPosition {
  const refuse = (why: string) => badInput(`${field} is not a cursor of this list: ${why}`, { field });
  if (!ENCODED.test(cursor)) throw refuse('malformed');
  const bytes = Buffer.from(cursor, 'base64url');
  if (bytes.length !== LENGTH || !check(bytes).equals(bytes.subarray(19))) throw refuse('malformed');
  if (bytes.readUInt8(0) !== VERSION) throw refuse('an unknown version');
  if (!listDigest(list).equals(bytes.subarray(1, 7))) throw refuse('it belongs to another list (other filters)');
  const position = { micros: bytes.readBigInt64BE(7), id: bytes.readUInt32BE(15) };
  // The check is not a secret, so a well-formed cursor can still name any bytes: an id no item
  // can have (ids are PostgreSQL integers, up to MAX_ID) would fail the query, not find nothing.
  if (position.micros < 0n || position.micros >= MAX_MICROS || position.id < 1 || position.id > MAX_ID) throw refuse('malformed');
  return position;
}

function listDigest(list: ListFingerprint): Buffer {
  return createHash('sha256').update(list).digest().subarray(0, 6);
}

function check(bytes: Buffer): Buffer {
  return createHash('sha256').update(bytes.subarray(0, 19)).digest().subarray(0, 4);
}
