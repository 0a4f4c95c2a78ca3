// Model updates in the background: after a sync, the server's catalogue is read and each active
// version not yet on the device is downloaded (one at a time, resumable), verified, and only then
// offered by Diagnose. Settings shows the progress and what happened.
import { m } from '$lib/paraglide/messages';
import type { CatalogueItem } from 'sync-server/protocol';
import { ModelStore, type Progress } from './model-store';

export type UpdateState = 'downloading' | 'ready' | 'failed';

export interface ModelUpdate {
  id: string;
  name: string;
  version: string;
  state: UpdateState;
  progress: Progress | null;
  /** What happened, for the clinician, when it failed. */
  message: string | null;
}

const messageOf = (error: unknown) => (error instanceof Error ? error.message : m.mu_failed());

export class ModelUpdates {
  updates = $state<ModelUpdate[]>([]);
  /** Models the server no longer publishes for new runs. */
  withdrawn = $state.raw<string[]>([]);
  checking = $state(false);
  #store: ModelStore;

  constructor(store = new ModelStore()) {
    this.#store = store;
  }

  /** Reads the catalogue and downloads what is missing; never throws (failures are shown). */
  async check(): Promise<void> {
    if (this.checking) return;
    this.checking = true;
    try {
      const choice = await this.#store.catalogueChoice();
      this.withdrawn = choice.withdrawn;
      for (const item of choice.pending) await this.#download(item);
    } catch {
      // No catalogue reachable: the device keeps what it has.
    } finally {
      this.checking = false;
    }
  }

  async #download(item: CatalogueItem): Promise<void> {
    const update: ModelUpdate = {
      id: item.id,
      name: item.name,
      version: item.version,
      state: 'downloading',
      progress: { received: 0, total: item.bytes },
      message: null,
    };
    this.updates = [...this.updates.filter((u) => u.id !== item.id), update];
    const set = (patch: Partial<ModelUpdate>) => {
      this.updates = this.updates.map((u) => (u.id === item.id ? { ...u, ...patch } : u));
    };
    try {
      await this.#store.downloadVersion(item, (progress) => set({ progress }));
      set({ state: 'ready' });
    } catch (error) {
      set({ state: 'failed', message: messageOf(error) });
    }
  }
}

let shared: ModelUpdates | null = null;
/** One updater for the app: the sync engine starts it, Settings shows it. */
export function getModelUpdates(): ModelUpdates {
  shared ??= new ModelUpdates();
  return shared;
}
