import { FieldDxDatabase } from './database';

let counter = 0;

/** A fresh database with a unique name, so tests never see each other's data. */
export function freshDatabase(): FieldDxDatabase {
  return new FieldDxDatabase(`test-${process.pid}-${Date.now()}-${counter++}`);
}
