// The liste rouge choice of one mailbox (EX_PBA_5040): explicit (no default pre-selected),
// changeable at any time; a depublication for inactivity is said as such (§5.6), never as
// « liste rouge ».
import { html } from '../html.js';
import type { AccessDecision, Bal } from '../../registry/registry.js';
import type { BalRuntime } from '../../registry/runtime.js';
import type { Capabilities } from '../roles.js';
import { T } from '../texts.js';
import { fieldError, page, type Chrome } from './layout.js';
import { mailboxHref, mailboxTabs } from './mailboxes.js';

export interface ListeRougeView {
  bal: Bal;
  decision: AccessDecision;
  caps: Capabilities;
  runtime: BalRuntime;
  csrf: string;
  timeZone: string;
  errors?: Record<string, string>;
}

export function listeRougePage(chrome: Chrome, v: ListeRougeView): string {
  const { bal } = v;
  const form = v.caps.listeRouge
    ? html`<form method="post" action="${mailboxHref(bal.address, 'liste-rouge')}"><input type="hidden" name="_csrf" value="${v.csrf}">
<fieldset><legend>${T.mailbox.pages.listeRouge}</legend>
<div><input type="radio" id="lr-on" name="listeRouge" value="on"><label class="inline" for="lr-on">${T.listeRouge.on}</label></div>
<div><input type="radio" id="lr-off" name="listeRouge" value="off"><label class="inline" for="lr-off">${T.listeRouge.off}</label></div>
${fieldError(v.errors, 'listeRouge')}
</fieldset>
<button type="submit">${T.listeRouge.save}</button></form>`
    : html`<p class="muted">${v.decision.role === 'delegate' ? T.mailbox.readOnlyDelegate : T.mailbox.readOnly}</p>`;
  return page(
    chrome,
    html`${mailboxTabs(bal, 'liste-rouge')}<p>${T.listeRouge.intro}</p>
<p><strong>${T.listeRouge.now(bal.listeRouge)}</strong></p>
${v.runtime.depublishedAt && !bal.listeRouge ? html`<p>${T.listeRouge.inactivity(T.date(v.runtime.depublishedAt, v.timeZone))}</p>` : ''}
${form}`,
  );
}
