// Messages between the portal and its registry worker (edit-worker.ts).
import type { ErrorCode } from '../../errors.js';
import type { TraceActor, TraceMeans } from '../../traces/record.js';

/** Who asks, for the traces (EX_GDT_5030, EX_GDT_5040): the signed-in professional. */
export interface EditWho {
  actor: TraceActor;
  means: TraceMeans;
  address?: string;
}

type Op<N extends string, A> = { op: N; args: A };

export type EditOp =
  | Op<'setListeRouge', { on: boolean }>
  | Op<'addDelegate', { idNat: string; name?: string; for?: string }>
  | Op<'changeDelegate', { idNat: string; name: string; for?: string }>
  | Op<'revokeDelegate', { idNat: string }>
  | Op<'addCoHolder', { idNat: string; lastName: string; firstName: string }>
  | Op<'removeCoHolder', { idNat: string }>
  | Op<'setResponsible', { idNat: string; name?: string }>
  | Op<'setDescription', { description: string }>;

export type EditRequest = EditOp & { id: number; address: string; requestedBy: string; who: EditWho };

export type EditReply = { id: number; ok: true; warnings: string[] } | { id: number; ok: false; error: { code: ErrorCode; message: string } };
