import { getTableConfig, type PgTable } from 'drizzle-orm/pg-core';
import type pg from 'pg';
import { sqlText, tablesOf } from './schema-shape';

/**
 * One table as PostgreSQL's catalog describes it, in a form that drizzle's own description of
 * schema.pg.ts can be written in too: the migrations must build exactly what schema.pg.ts says.
 */
export interface CatalogTable {
  columns: Record<
    string,
    { type: string; notNull: boolean; default: string | null; identity: boolean }
  >;
  primaryKey: string[];
  uniques: string[];
  indexes: string[];
  foreignKeys: string[];
  checks: string[];
}

/** Casts and the outer parentheses PostgreSQL adds when it prints an expression. */
function normalizeExpression(text: string): string {
  let s = text.replace(/::[a-z ]+(\[\])?/g, '').trim();
  while (s.startsWith('(') && s.endsWith(')')) s = s.slice(1, -1).trim();
  return s;
}

const indexText = (name: string, unique: boolean, columns: string[], where: string | null) =>
  `${unique ? 'UNIQUE ' : ''}${name} (${columns.join(', ')})${where ? ` WHERE ${where}` : ''}`;

export async function readCatalog(client: pg.Client | pg.Pool): Promise<Map<string, CatalogTable>> {
  const tables = new Map<string, CatalogTable>();
  const table = (name: string) => {
    let t = tables.get(name);
    if (!t) {
      t = { columns: {}, primaryKey: [], uniques: [], indexes: [], foreignKeys: [], checks: [] };
      tables.set(name, t);
    }
    return t;
  };
  const columns = await client.query<{
    table_name: string;
    column_name: string;
    data_type: string;
    collation_name: string | null;
    is_nullable: string;
    column_default: string | null;
    is_identity: string;
  }>(
    `SELECT table_name, column_name, data_type, collation_name, is_nullable, column_default,
            is_identity
       FROM information_schema.columns WHERE table_schema = 'public'
      ORDER BY table_name, ordinal_position`,
  );
  for (const c of columns.rows) {
    table(c.table_name).columns[c.column_name] = {
      // A collation of its own (null: the database's), written as drizzle's type names it.
      type: c.collation_name ? `${c.data_type} COLLATE "${c.collation_name}"` : c.data_type,
      notNull: c.is_nullable === 'NO',
      default: c.column_default === null ? null : normalizeExpression(c.column_default),
      identity: c.is_identity === 'YES',
    };
  }
  const constraints = await client.query<{
    table_name: string;
    name: string;
    type: string;
    columns: string[];
    definition: string;
  }>(
    `SELECT rel.relname AS table_name, con.conname AS name, con.contype AS type,
            pg_get_constraintdef(con.oid) AS definition,
            array(SELECT a.attname FROM unnest(con.conkey) WITH ORDINALITY AS k(attnum, n)
                    JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum
                   ORDER BY k.n)::text[] AS columns
       FROM pg_constraint con
       JOIN pg_class rel ON rel.oid = con.conrelid
       JOIN pg_namespace ns ON ns.oid = rel.relnamespace
      WHERE ns.nspname = 'public'
      ORDER BY rel.relname, con.conname`,
  );
  for (const c of constraints.rows) {
    const t = table(c.table_name);
    if (c.type === 'p') t.primaryKey = c.columns;
    else if (c.type === 'u') t.uniques.push(`${c.name} (${c.columns.join(', ')})`);
    else if (c.type === 'f') t.foreignKeys.push(c.definition);
    else if (c.type === 'c') t.checks.push(c.name);
  }
  // Indexes of their own, not those that back a primary key or unique constraint.
  const indexes = await client.query<{
    table_name: string;
    name: string;
    unique: boolean;
    columns: string[];
    predicate: string | null;
  }>(
    `SELECT rel.relname AS table_name, ic.relname AS name, i.indisunique AS unique,
            array(SELECT pg_get_indexdef(i.indexrelid, k, true)
                    FROM generate_series(1, i.indnkeyatts) AS k ORDER BY k)::text[] AS columns,
            pg_get_expr(i.indpred, i.indrelid) AS predicate
       FROM pg_index i
       JOIN pg_class ic ON ic.oid = i.indexrelid
       JOIN pg_class rel ON rel.oid = i.indrelid
       JOIN pg_namespace ns ON ns.oid = rel.relnamespace
      WHERE ns.nspname = 'public'
        AND NOT EXISTS (SELECT 1 FROM pg_constraint con WHERE con.conindid = i.indexrelid)
      ORDER BY rel.relname, ic.relname`,
  );
  for (const i of indexes.rows) {
    table(i.table_name).indexes.push(
      indexText(
        i.name,
        i.unique,
        i.columns.map(normalizeExpression),
        i.predicate ? normalizeExpression(i.predicate) : null,
      ),
    );
  }
  for (const t of tables.values()) {
    for (const list of [t.uniques, t.indexes, t.foreignKeys, t.checks]) list.sort();
  }
  return tables;
}

const ON_DELETE: Record<string, string> = {
  cascade: ' ON DELETE CASCADE',
  'set null': ' ON DELETE SET NULL',
  'set default': ' ON DELETE SET DEFAULT',
  restrict: ' ON DELETE RESTRICT',
  'no action': '',
};

function defaultText(value: unknown): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value === 'string') return `'${value.replaceAll("'", "''")}'`;
  return String(value);
}

/** What readCatalog must find once the migrations ran, according to schema.pg.ts. */
export function expectedCatalog(pgModule: Record<string, unknown>): Map<string, CatalogTable> {
  const tables = new Map<string, CatalogTable>();
  for (const [name, table] of tablesOf(pgModule)) {
    const config = getTableConfig(table as PgTable);
    const columns: CatalogTable['columns'] = {};
    for (const c of config.columns) {
      const identity = Boolean((c as { generatedIdentity?: unknown }).generatedIdentity);
      columns[c.name] = {
        type: c.getSQLType(),
        notNull: c.notNull,
        default: c.hasDefault && !identity ? defaultText(c.default) : null,
        identity,
      };
    }
    const columnPk = config.columns.filter((c) => c.primary).map((c) => c.name);
    tables.set(name, {
      columns,
      primaryKey:
        columnPk.length > 0
          ? columnPk
          : config.primaryKeys.flatMap((pk) => pk.columns.map((c) => c.name)),
      uniques: [
        ...config.columns
          .filter((c) => c.isUnique)
          .map((c) => `${c.uniqueName ?? `${name}_${c.name}_unique`} (${c.name})`),
        ...config.uniqueConstraints.map(
          (u) => `${u.getName()} (${u.columns.map((c) => c.name).join(', ')})`,
        ),
      ].sort(),
      indexes: config.indexes
        .map((i) =>
          indexText(
            i.config.name ?? '',
            i.config.unique,
            i.config.columns.map((c) => (c && 'name' in c ? String(c.name) : sqlText(c))),
            i.config.where ? sqlText(i.config.where) : null,
          ),
        )
        .sort(),
      foreignKeys: config.foreignKeys
        .map((fk) => {
          const ref = fk.reference();
          const target = getTableConfig(ref.foreignTable).name;
          return `FOREIGN KEY (${ref.columns.map((c) => c.name).join(', ')}) REFERENCES ${target}(${ref.foreignColumns.map((c) => c.name).join(', ')})${ON_DELETE[fk.onDelete ?? 'no action']}`;
        })
        .sort(),
      checks: config.checks.map((c) => c.name).sort(),
    });
  }
  return tables;
}
