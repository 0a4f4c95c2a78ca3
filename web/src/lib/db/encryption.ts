import type {
  DBCore,
  DBCoreCursor,
  DBCoreMutateRequest,
  DBCoreTable,
  DBCoreTableSchema,
  Middleware,
} from 'dexie';
import {
  open,
  openJson,
  openJsonAsync,
  seal,
  sealJson,
  sealJsonAsync,
  textBytes,
} from '$lib/crypto/envelope';

/** Where the data key comes from: throws LockedError when the app is locked. */
export interface KeySource {
  key(): Uint8Array;
  /** The same key in WebCrypto, for batches (see BATCH). */
  cryptoKey(): Promise<CryptoKey>;
}

/**
 * From this many rows in one read or write, rows are sealed and opened with WebCrypto, several
 * times faster than the synchronous cipher, while the transaction is kept open (keepAlive). A
 * single row stays synchronous: no wait, no extra requests.
 */
const BATCH = 16;

/** The field of a stored row that holds its sealed contents. */
export const SEALED = '_sealed';

/** Tables whose rows hold patient data: sealed whole, except their primary key and indexes. */
export const SEALED_TABLES = [
  'patients',
  'encounters',
  'diagnoses',
  'reports',
  'reviews',
  'attachments',
  'comments',
  'followups',
  'outbox',
  'conflicts',
] as const;

/** Settings that hold patient data: the drafts of forms (a half-typed patient, a visit). */
export const sealsSetting = (key: unknown) => typeof key === 'string' && key.startsWith('draft:');

type Row = Record<string, unknown>;

interface Codec {
  /** Whether this row is stored sealed (settings: only drafts). */
  seals(row: Row): boolean;
  encode(key: Uint8Array, row: Row): Row;
  decode(key: Uint8Array, stored: Row): Row;
  encodeAsync?(key: CryptoKey, row: Row): Promise<Row>;
  decodeAsync?(key: CryptoKey, stored: Row): Promise<Row>;
}

const isSealed = (row: unknown): row is Row =>
  typeof row === 'object' && row !== null && ArrayBuffer.isView((row as Row)[SEALED]);

/** The top-level fields IndexedDB must read in clear: the primary key and every index. */
function clearFields(schema: DBCoreTableSchema): string[] {
  const paths = [schema.primaryKey, ...schema.indexes].flatMap((index) =>
    index.keyPath === null || index.keyPath === undefined
      ? []
      : Array.isArray(index.keyPath)
        ? index.keyPath
        : [index.keyPath],
  );
  return [...new Set(paths.filter((path) => path !== ''))];
}

/**
 * Additional data bound into each sealed row: the table, and the primary key where the row
 * carries it (not for auto-incremented keys, which IndexedDB assigns after sealing).
 */
function aadOf(table: string, schema: DBCoreTableSchema, row: Row): Uint8Array {
  const { autoIncrement, extractKey } = schema.primaryKey;
  if (autoIncrement || !extractKey) return tableAad(table);
  return textBytes(`${table}\u0000${JSON.stringify(extractKey(row))}`);
}

const tableAads = new Map<string, Uint8Array>();
/** The table name's bytes, encoded once: a push opens thousands of outbox rows. Never mutated. */
function tableAad(table: string): Uint8Array {
  let aad = tableAads.get(table);
  if (!aad) tableAads.set(table, (aad = textBytes(table)));
  return aad;
}

function jsonCodec(table: string, schema: DBCoreTableSchema, seals: (row: Row) => boolean): Codec {
  const clear = clearFields(schema);
  const what = `A stored ${table} row`;
  const withClear = (row: Row, sealed: Uint8Array) => {
    const stored: Row = { [SEALED]: sealed };
    for (const field of clear) if (row[field] !== undefined) stored[field] = row[field];
    return stored;
  };
  const { autoIncrement, keyPath } = schema.primaryKey;
  const restoreKey = (row: Row, stored: Row) => {
    if (autoIncrement && typeof keyPath === 'string') row[keyPath] = stored[keyPath];
    return row;
  };
  return {
    seals,
    encode(key, row) {
      return withClear(row, sealJson(key, row, aadOf(table, schema, row)));
    },
    async encodeAsync(key, row) {
      return withClear(row, await sealJsonAsync(key, row, aadOf(table, schema, row)));
    },
    async decodeAsync(key, stored) {
      const aad = aadOf(table, schema, stored);
      const row = await openJsonAsync<Row>(key, stored[SEALED] as Uint8Array, aad, what);
      return restoreKey(row, stored);
    },
    decode(key, stored) {
      const row = openJson<Row>(
        key,
        stored[SEALED] as Uint8Array,
        aadOf(table, schema, stored),
        what,
      );
      // IndexedDB assigned an auto-incremented key after the row was sealed: take it from the
      // store. Every other field comes from the sealed copy, so changing a clear index changes
      // nothing that is read.
      const { autoIncrement, keyPath } = schema.primaryKey;
      if (autoIncrement && typeof keyPath === 'string') row[keyPath] = stored[keyPath];
      return row;
    },
  };
}

/** Images: the bytes are sealed as they are (no JSON), the hash and type stay in clear. */
function blobCodec(schema: DBCoreTableSchema): Codec {
  return {
    seals: () => true,
    encode(key, row) {
      const bytes = row.bytes as Uint8Array;
      return {
        sha256: row.sha256,
        mime: row.mime,
        [SEALED]: seal(key, bytes, aadOf('blobs', schema, row)),
      };
    },
    decode(key, stored) {
      const aad = aadOf('blobs', schema, stored);
      const bytes = open(key, stored[SEALED] as Uint8Array, aad, 'A stored image');
      return { sha256: stored.sha256, mime: stored.mime, bytes };
    },
  };
}

function codecFor(name: string, schema: DBCoreTableSchema): Codec | null {
  if ((SEALED_TABLES as readonly string[]).includes(name))
    return jsonCodec(name, schema, () => true);
  if (name === 'blobs') return blobCodec(schema);
  if (name === 'settings') return jsonCodec(name, schema, (row) => sealsSetting(row.key));
  return null;
}

/**
 * Per transaction, the write that the next one must wait for (see `inOrder`): shared by every
 * table, so writes reach IndexedDB in the order they were asked for.
 */
type WriteQueue = WeakMap<object, Promise<void>>;

function sealedTable(
  table: DBCoreTable,
  codec: Codec,
  keys: KeySource,
  queue: WriteQueue,
): DBCoreTable {
  // Rows written before encryption existed are read as they are, until the first unlock seals
  // them (keyring.ts): nothing is lost in between.
  const decode = <T>(stored: T): T =>
    isSealed(stored) ? (codec.decode(keys.key(), stored) as T) : stored;
  const encode = (row: Row) => (codec.seals(row) ? codec.encode(keys.key(), row) : row);

  const wrapCursor = (cursor: DBCoreCursor | null): DBCoreCursor | null => {
    if (!cursor) return cursor;
    let raw: unknown;
    let opened: unknown;
    // Native IDBCursor getters refuse another receiver: forward them to the real cursor.
    return Object.create(cursor, {
      key: { get: () => cursor.key },
      primaryKey: { get: () => cursor.primaryKey },
      done: { get: () => cursor.done },
      value: {
        get() {
          // Decrypt once per position, however often Dexie reads the value.
          if (cursor.value !== raw) {
            raw = cursor.value;
            opened = decode(raw);
          }
          return opened;
        },
      },
    });
  };

  const { encodeAsync, decodeAsync } = codec;
  const encodeMany = async (rows: Row[]): Promise<Row[]> => {
    const key = await keys.cryptoKey();
    return Promise.all(rows.map((row) => (codec.seals(row) ? encodeAsync!(key, row) : row)));
  };
  const decodeMany = async <T>(rows: T[]): Promise<T[]> => {
    const key = await keys.cryptoKey();
    return Promise.all(
      rows.map((row) => (isSealed(row) ? (decodeAsync!(key, row) as Promise<T>) : row)),
    );
  };
  const readMany = <T>(trans: unknown, rows: T[]): Promise<T[]> => {
    if (!decodeAsync || rows.length < BATCH) return Promise.resolve(rows.map(decode));
    keys.key(); // locked: fail now, not after a wasted keep-alive
    return keepAlive(trans, table.name, decodeMany(rows), (opened) => opened);
  };

  /**
   * Issues a write once `ready` has settled and the writes asked for before it in this transaction
   * are done, keeping the transaction open meanwhile. A caller may so ask for several batches at
   * once: each is sealed (WebCrypto, other threads) while IndexedDB writes the one before, and
   * they are written in the order they were asked for.
   */
  const inOrder = <T, R>(trans: object, ready: Promise<T>, issue: (value: T) => Promise<R>) => {
    const before = queue.get(trans);
    // One keep-alive per transaction at a time: the next starts when the write before is done
    // (in its success callback's microtasks, the transaction still active), not beside it.
    const start = () => keepAlive(trans, table.name, ready, issue);
    const done = before ? before.then(start) : start();
    const settled = done.then(
      () => {},
      () => {},
    );
    queue.set(trans, settled);
    void settled.then(() => {
      if (queue.get(trans) === settled) queue.delete(trans);
    });
    return done;
  };

  return {
    ...table,
    mutate(req: DBCoreMutateRequest) {
      try {
        const writes = req.type === 'add' || req.type === 'put';
        if (writes && encodeAsync && req.values.length >= BATCH) {
          keys.key();
          return inOrder(req.trans, encodeMany(req.values as Row[]), (values) =>
            table.mutate({ ...req, values }),
          );
        }
        const encoded = writes
          ? { ...req, values: req.values.map((row) => encode(row as Row)) }
          : req;
        // A batch asked for before this write is still being sealed: this one waits its turn.
        if (queue.has(req.trans)) {
          return inOrder(req.trans, Promise.resolve(), () => table.mutate(encoded));
        }
        return table.mutate(encoded);
      } catch (error) {
        return Promise.reject(error);
      }
    },
    get: (req) => table.get(req).then(decode),
    getMany: (req) => table.getMany(req).then((rows) => readMany(req.trans, rows)),
    query: (req) =>
      table
        .query(req)
        .then(async (res) =>
          req.values ? { ...res, result: await readMany(req.trans, res.result) } : res,
        ),
    openCursor: (req) => table.openCursor(req).then(wrapCursor),
  };
}

/** A key no row has: the keep-alive's reads find nothing, at the cost of one index lookup. */
const NO_SUCH_KEY = '\uffff fielddx keep-alive';

/**
 * Waits for `work` (WebCrypto) without letting IndexedDB commit the transaction meanwhile: a
 * transaction stays open only while it has requests pending, so cheap reads of a missing key are
 * chained until the work is done, and `then` runs in the last one's success callback, where the
 * transaction is active (the technique of Dexie.waitFor).
 */
function keepAlive<T, R>(
  trans: unknown,
  storeName: string,
  work: Promise<T>,
  then: (value: T) => R | Promise<R>,
): Promise<R> {
  return new Promise<R>((resolve, reject) => {
    let outcome: { value: T } | { error: unknown } | null = null;
    work.then(
      (value) => (outcome = { value }),
      (error: unknown) => (outcome = { error }),
    );
    const store = (trans as IDBTransaction).objectStore(storeName);
    const step = () => {
      if (outcome) {
        if ('error' in outcome) return reject(outcome.error);
        try {
          Promise.resolve(then(outcome.value)).then(resolve, reject);
        } catch (error) {
          reject(error);
        }
        return;
      }
      const request = store.get(NO_SUCH_KEY);
      request.onsuccess = step;
      request.onerror = () => reject(request.error);
    };
    step();
  });
}

/**
 * Seals patient data at rest: every row of the record tables, the outbox, the conflicts, the
 * image bytes and the form drafts is stored as one AES-256-GCM value, with only its primary key
 * and indexed fields in clear (none of them a name, village or birth date). It sits closest to
 * IndexedDB, so everything above it, Dexie's liveQuery cache included, sees plain rows.
 */
export function encryptionMiddleware(keys: KeySource): Middleware<DBCore> {
  return {
    stack: 'dbcore',
    name: 'Encryption',
    level: -10,
    create: (down) => {
      const queue: WriteQueue = new WeakMap();
      return {
        ...down,
        table(name) {
          const table = down.table(name);
          const codec = codecFor(name, table.schema);
          return codec ? sealedTable(table, codec, keys, queue) : table;
        },
      };
    },
  };
}
