import type { PgDbOrTx } from '../../db/postgres';
import type { DevicesRepository } from '../devices.repository';

export class PgDevicesRepository implements DevicesRepository {
  constructor(private readonly db: PgDbOrTx) {}
}
