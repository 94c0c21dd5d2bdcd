// The context an end-of-message callback gets: the session's context, plus header edits that
// belong to this message only and are possible only until its decision. One small object per
// message (issue 20: it was made with Object.create and property descriptors, a slow path of
// V8 that cost ~5 % of the milter session's own time).
import { MssError } from '../errors.js';
import type { ConnectInfo, EomContext, MessageView, SessionContext } from './handler.js';
import type { Logger } from '../log.js';
import type { MacroView } from './macros.js';
import { checkHeader } from './message.js';
import type { MilterResponse } from './responses.js';

export class EomView implements EomContext {
  /** Header edits asked for, in order; sent only if the message goes on. */
  readonly edits: MilterResponse[] = [];
  /** Edits are accepted until the decision is taken (close()). */
  private open = true;

  constructor(
    private readonly base: SessionContext,
    /** The MTA granted SMFIF_ADDHDRS and the handler did not decline it. */
    private readonly canAdd: boolean,
  ) {}

  get id(): string {
    return this.base.id;
  }
  get peer(): string {
    return this.base.peer;
  }
  get client(): ConnectInfo | undefined {
    return this.base.client;
  }
  get helo(): string | undefined {
    return this.base.helo;
  }
  get macros(): MacroView {
    return this.base.macros;
  }
  get queueId(): string | undefined {
    return this.base.queueId;
  }
  get message(): MessageView {
    return this.base.message;
  }
  get log(): Logger {
    return this.base.log;
  }
  get state(): Map<string, unknown> {
    return this.base.state;
  }

  addHeader(name: string, value: string): void {
    this.edit({ type: 'addheader', name, value });
  }

  insertHeader(index: number, name: string, value: string): void {
    if (!Number.isInteger(index) || index < 0 || index > 0xffff_ffff)
      throw new MssError('MILTER_HEADER_INVALID', `header index ${index} is not a non-negative integer`);
    this.edit({ type: 'insheader', index, name, value });
  }

  /** The decision is taken: no edit any more, even from a callback that kept this context. */
  close(): void {
    this.open = false;
  }

  private edit(r: MilterResponse & { name: string; value: string }): void {
    if (!this.open) throw new MssError('MILTER_ACTION_UNAVAILABLE', 'header edits are only possible before the end-of-message decision');
    if (!this.canAdd) throw new MssError('MILTER_ACTION_UNAVAILABLE', 'the MTA did not grant SMFIF_ADDHDRS (or the handler declared addsHeaders: false)');
    checkHeader(r.name, r.value);
    this.edits.push(r);
  }
}
