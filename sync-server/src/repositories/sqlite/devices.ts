import type { DevicesRepository } from '../devices.repository';
import type { SqliteRunner } from './runner';

export class SqliteDevicesRepository implements DevicesRepository {
  constructor(private readonly r: SqliteRunner) {}
}
