import { describe, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import * as pgCore from 'drizzle-orm/pg-core';
import * as sqliteCore from 'drizzle-orm/sqlite-core';
import { schemaDrift, tableShape } from '../../test/schema-shape';
import * as sqliteSchema from './schema';
import * as pgSchema from './schema.pg';

describe('schema.ts (SQLite) and schema.pg.ts (PostgreSQL)', () => {
  it('have the same tables, columns, types, defaults, keys, constraints and indexes', () => {
    expect(schemaDrift(sqliteSchema, pgSchema, pgSchema.PG_ONLY_TABLES)).toEqual([]);
  });

  it('differ only by the shared blob store, which exists in PostgreSQL alone', () => {
    expect(pgSchema.PG_ONLY_TABLES).toEqual(['blob_contents', 'blob_chunks', 'blob_upload_chunks']);
    // Without the list, exactly those tables are reported: nothing else is exempt.
    expect(schemaDrift(sqliteSchema, pgSchema)).toEqual(
      pgSchema.PG_ONLY_TABLES.map((name) => `${name}: missing in SQLite`),
    );
  });

  it('compare something real: every table has columns and a primary key', () => {
    for (const table of Object.values(pgSchema)) {
      if (!(table instanceof pgCore.PgTable)) continue;
      const shape = tableShape(table);
      expect(Object.keys(shape.columns).length, shape.name).toBeGreaterThan(0);
      expect(shape.primaryKey.length, shape.name).toBeGreaterThan(0);
    }
  });
});

// The comparison itself, on small tables: each kind of drift is reported.
describe('schemaDrift', () => {
  const lite = (extra: Record<string, sqliteCore.SQLiteColumnBuilderBase> = {}) => ({
    t: sqliteCore.sqliteTable(
      't',
      {
        id: sqliteCore.integer('id').primaryKey({ autoIncrement: true }),
        name: sqliteCore.text('name').notNull().default(''),
        at: sqliteCore.integer('at', { mode: 'timestamp_ms' }).notNull(),
        sharedAt: sqliteCore.integer('shared_at').notNull(),
        tags: sqliteCore.text('tags', { mode: 'json' }),
        ...extra,
      },
      (t) => [sqliteCore.index('t_name').on(t.name, t.sharedAt)],
    ),
  });
  const pgTimestamp = pgCore.customType<{ data: Date; driverData: string }>({
    dataType: () => 'bigint',
    fromDriver: (v) => new Date(Number(v)),
  });
  type PgColumns = Record<string, pgCore.PgColumnBuilderBase>;
  const pgT = (
    override: PgColumns = {},
    indexOn: (t: Record<string, pgCore.PgColumn>) => pgCore.IndexBuilder[] = (t) => [
      pgCore.index('t_name').on(t.name!, t.shared_at!),
    ],
  ) => {
    const columns: PgColumns = {
      id: pgCore.bigint('id', { mode: 'number' }).primaryKey().generatedByDefaultAsIdentity(),
      name: pgCore.text('name').notNull().default(''),
      at: pgTimestamp('at').notNull(),
      shared_at: pgCore.bigint('shared_at', { mode: 'number' }).notNull(),
      tags: pgCore.jsonb('tags'),
      ...override,
    };
    return {
      t: pgCore.pgTable('t', columns, (t) => indexOn(t as Record<string, pgCore.PgColumn>)),
    };
  };

  it('finds no drift between equivalent tables', () => {
    expect(schemaDrift(lite(), pgT())).toEqual([]);
  });

  it('exempts the tables named PostgreSQL-only, and reports a stale or wrong entry', () => {
    const extra = { ...pgT(), x: pgCore.pgTable('x', { id: pgCore.text('id').primaryKey() }) };
    expect(schemaDrift(lite(), extra)).toEqual(['x: missing in SQLite']);
    expect(schemaDrift(lite(), extra, ['x'])).toEqual([]);
    expect(schemaDrift(lite(), pgT(), ['x'])).toEqual([
      'x: listed as PostgreSQL-only but is not in PostgreSQL',
    ]);
    expect(schemaDrift(lite(), pgT(), ['t'])).toEqual([
      't: listed as PostgreSQL-only but is in SQLite too',
    ]);
  });

  it('reports a column on one side only', () => {
    expect(schemaDrift(lite({ extra: sqliteCore.text('extra') }), pgT())).toEqual([
      't.extra: column missing in PostgreSQL',
    ]);
    expect(schemaDrift(lite(), pgT({ extra: pgCore.text('extra') }))).toEqual([
      't.extra: column missing in SQLite',
    ]);
  });

  it('reports nullability, type, width, default and generation differences', () => {
    expect(schemaDrift(lite(), pgT({ name: pgCore.text('name').default('') }))).toEqual([
      't.name: NOT NULL in SQLite only',
    ]);
    expect(schemaDrift(lite(), pgT({ tags: pgCore.text('tags') }))).toEqual([
      't.tags: type SQLiteTextJson in SQLite but PgText in PostgreSQL',
    ]);
    expect(schemaDrift(lite(), pgT({ shared_at: pgCore.integer('shared_at').notNull() }))).toEqual([
      't.shared_at: must be bigint in PostgreSQL (values outgrow int4), is PgInteger',
    ]);
    expect(schemaDrift(lite(), pgT({ name: pgCore.text('name').notNull().default('x') }))).toEqual([
      't.name: default "" vs "x"',
    ]);
    expect(
      schemaDrift(lite(), pgT({ id: pgCore.bigint('id', { mode: 'number' }).primaryKey() })),
    ).toEqual(['t.id: generated on one side only']);
  });

  it('reports primary key, unique and index differences', () => {
    const noPk = pgT({
      id: pgCore.bigint('id', { mode: 'number' }).generatedByDefaultAsIdentity(),
    });
    expect(schemaDrift(lite(), noPk)).toEqual(['t: primary key (id) vs ()']);
    const unique = pgT({ name: pgCore.text('name').notNull().default('').unique() });
    expect(schemaDrift(lite(), unique)).toEqual([
      't: unique constraints [] vs [{"name":"t_name_unique","columns":["name"]}]',
    ]);
    const otherOrder = pgT({}, (t) => [pgCore.index('t_name').on(t.shared_at!, t.name!)]);
    expect(schemaDrift(lite(), otherOrder)).toHaveLength(1);
    const partial = pgT({}, (t) => [
      pgCore
        .index('t_name')
        .on(t.name!, t.shared_at!)
        .where(sql`${t.name} <> ''`),
    ]);
    expect(schemaDrift(lite(), partial)).toHaveLength(1);
    expect(
      schemaDrift(
        lite(),
        pgT({}, () => []),
      ),
    ).toEqual(['t: index t_name missing in PostgreSQL']);
  });
});
