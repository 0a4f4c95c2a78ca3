/**
 * The queue as last shown (report ids in order, and its URL), kept for the tab's session so the
 * review page can go to the next or previous report without asking the server again.
 */
const KEY = 'fielddx-review-queue';

export interface QueueNav {
  ids: string[];
  search: string;
}

export function saveQueueNav(nav: QueueNav) {
  try {
    sessionStorage.setItem(KEY, JSON.stringify(nav));
  } catch {
    // Storage full or disabled: next/previous is a convenience.
  }
}

export function loadQueueNav(): QueueNav | null {
  try {
    const value = JSON.parse(sessionStorage.getItem(KEY) ?? 'null') as QueueNav | null;
    return value && Array.isArray(value.ids) ? value : null;
  } catch {
    return null;
  }
}

/** The report before or after `id` in the queue. */
export function neighbour(nav: QueueNav | null, id: string, step: 1 | -1): string | null {
  if (!nav) return null;
  const i = nav.ids.indexOf(id);
  if (i === -1) return null;
  return nav.ids[i + step] ?? null;
}

/** A key press meant for the page, not for a field being typed in. */
export function isShortcut(event: KeyboardEvent): boolean {
  if (event.ctrlKey || event.metaKey || event.altKey) return false;
  const target = event.target as HTMLElement | null;
  const tag = target?.tagName;
  return !(tag === 'INPUT' || tag === 'TEXTAREA' || tag === 'SELECT' || target?.isContentEditable);
}
