import type { AiVerdict, DiagnosisVerdict, ReviewDecision } from 'sync-server/protocol';

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

export const VERDICT_LABELS: Record<AiVerdict, string> = {
  right: 'right',
  wrong: 'wrong',
  cant_tell: "can't tell",
};

export const when = (iso: string) => new Date(iso).toLocaleString();

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
