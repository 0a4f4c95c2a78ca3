import type { AiVerdict, DiagnosisVerdict, ReviewDecision } from 'sync-server/protocol';
import { formatDateTime } from '$lib/i18n/format';
import { m } from '$lib/paraglide/messages';

/** A review as the screens show it, from the device's record or the server's bundle. */
export interface ReviewView {
  id: string;
  revision: number;
  decision: ReviewDecision;
  comment: string;
  verdicts: DiagnosisVerdict[];
  authorName: string;
  at: string;
}

export interface CommentView {
  id: string;
  body: string;
  authorName: string;
  authorRole: 'clinician' | 'supervisor';
  at: string;
}

const VERDICT_LABELS: Record<AiVerdict, () => string> = {
  right: m.rv_verdict_right,
  wrong: m.rv_verdict_wrong,
  cant_tell: m.rv_verdict_cant_tell,
};

/** A supervisor's verdict on a model result, in the reader's language. */
export const verdictLabel = (verdict: AiVerdict) => VERDICT_LABELS[verdict]();

const DECISION_LABELS: Record<ReviewDecision, () => string> = {
  approved: m.rv_decision_approved,
  returned: m.rv_decision_returned,
};

/** A review's decision in words; one the app does not know is shown as kept. */
export const decisionLabel = (decision: string) =>
  DECISION_LABELS[decision as ReviewDecision]?.() ?? decision;

export const when = (iso: string) => formatDateTime(iso);

export function reviewView(r: {
  id: string;
  revision: number;
  decision: ReviewDecision;
  comment: string;
  verdicts: DiagnosisVerdict[];
  authorName?: string;
  createdAt: string;
}): ReviewView {
  return { ...r, verdicts: r.verdicts ?? [], authorName: r.authorName ?? '', at: r.createdAt };
}

export function commentView(c: {
  id: string;
  body: string;
  authorName?: string;
  authorRole?: 'clinician' | 'supervisor';
  createdAt: string;
}): CommentView {
  return {
    id: c.id,
    body: c.body,
    authorName: c.authorName ?? '',
    authorRole: c.authorRole ?? 'clinician',
    at: c.createdAt,
  };
}
