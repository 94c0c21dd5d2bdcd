// Delegations of one mailbox (EX_GBM_5413: création, consultation, modification,
// suppression). Managers see every delegation with forms to change or remove it, a form to
// add one by national identifier, and a search of the local directory (the people the
// registry knows) to pick one; a delegate sees only their own delegation.
import { html } from '../html.js';
import type { AccessDecision, Bal } from '../../registry/registry.js';
import { parseDate } from '../../registry/schema.js';
import type { Capabilities } from '../roles.js';
import type { DirectoryPerson } from '../directory.js';
import { T } from '../texts.js';
import { fieldError, page, type Chrome } from './layout.js';
import { mailboxHref, mailboxTabs } from './mailboxes.js';
import { personLabel, principalsOf } from './people.js';

export interface DelegationsView {
  bal: Bal;
  decision: AccessDecision;
  caps: Capabilities;
  csrf: string;
  me: string;
  timeZone: string;
  errors?: Record<string, string>;
  /** Values typed in the add form (re-shown after an error, or picked from the directory). */
  values?: { idNat?: string; name?: string; for?: string };
  search?: { q: string; results: DirectoryPerson[]; tooShort: boolean };
}

export function delegationsPage(chrome: Chrome, v: DelegationsView): string {
  const { bal, caps } = v;
  const action = (verb: string) => `${mailboxHref(bal.address, 'delegations')}/${verb}`;
  const principals = principalsOf(bal);
  const forOptions = (selected: string | undefined) =>
    principals.map((p) => html`<option value="${p.idNat}"${p.idNat === (selected ?? v.me) ? html` selected` : ''}>${p.label}</option>`);
  const csrf = html`<input type="hidden" name="_csrf" value="${v.csrf}">`;
  const visible = caps.delegates ? bal.delegates : bal.delegates.filter((d) => d.idNat === v.me);
  const rows = visible.map(
    (d) => html`<tr>
<td>${d.idNat}</td>
<td>${d.name ?? ''}</td>
<td>${personLabel(bal, d.for)}</td>
<td>${d.grantedBy ? personLabel(bal, d.grantedBy) : ''}</td>
<td>${d.grantedAt ? T.date(new Date(parseDate(d.grantedAt)), v.timeZone) : ''}</td>
${
  caps.delegates
    ? html`<td>
<form method="post" action="${action('modifier')}">${csrf}<input type="hidden" name="idNat" value="${d.idNat}">
<input type="text" name="name" value="${d.name ?? ''}" aria-label="${T.delegations.name} (${d.idNat})" maxlength="160">
<select name="for" aria-label="${T.delegations.for} (${d.idNat})">${forOptions(d.for)}</select>
<button type="submit" class="secondary">${T.delegations.change}</button></form>
<form method="post" action="${action('retirer')}">${csrf}<input type="hidden" name="idNat" value="${d.idNat}"><button type="submit" class="danger">${T.delegations.remove}</button></form>
</td>`
    : ''
}
</tr>`,
  );
  const table =
    visible.length === 0
      ? html`<p>${T.delegations.none}</p>`
      : html`<table><thead><tr><th>${T.delegations.idNat}</th><th>${T.delegations.name}</th><th>${T.delegations.for}</th><th>${T.delegations.grantedBy}</th><th>${T.delegations.grantedAt}</th>${caps.delegates ? html`<th>${T.delegations.actions}</th>` : ''}</tr></thead><tbody>${rows}</tbody></table>`;
  const organisational = bal.type === 'ORG' || bal.type === 'CAB';
  const manage = caps.delegates
    ? html`<fieldset><legend>${T.delegations.addTitle}</legend>
${organisational ? html`<p class="muted">${T.mailbox.informOthers}</p>` : ''}
<form method="post" action="${action('ajouter')}">${csrf}
<label for="idNat">${T.delegations.addIdNat}</label><input type="text" id="idNat" name="idNat" value="${v.values?.idNat ?? ''}" maxlength="128" required>${fieldError(v.errors, 'idNat')}
<label for="name">${T.delegations.addName}</label><input type="text" id="name" name="name" value="${v.values?.name ?? ''}" maxlength="160">${fieldError(v.errors, 'name')}
${principals.length > 1 ? html`<label for="for">${T.delegations.for}</label><select id="for" name="for">${forOptions(v.values?.for)}</select>${fieldError(v.errors, 'for')}` : ''}
<button type="submit">${T.delegations.add}</button>
</form></fieldset>
<fieldset><legend>${T.delegations.searchTitle}</legend>
<form method="get" action="${mailboxHref(bal.address, 'delegations')}">
<label for="q">${T.delegations.searchLabel}</label><input type="text" id="q" name="q" value="${v.search?.q ?? ''}" maxlength="80">
<button type="submit" class="secondary">${T.delegations.search}</button></form>
${
  v.search
    ? v.search.tooShort
      ? html`<p class="muted">${T.delegations.searchTooShort}</p>`
      : v.search.results.length === 0
        ? html`<p class="muted">${T.delegations.searchNone}</p>`
        : html`<table><tbody>${v.search.results.map(
            (p) =>
              html`<tr><td>${p.name}</td><td>${p.idNat}</td><td><a href="${mailboxHref(bal.address, 'delegations')}?idNat=${encodeURIComponent(p.idNat)}&amp;name=${encodeURIComponent(p.name)}">${T.delegations.choose}</a></td></tr>`,
          )}</tbody></table>`
    : ''
}
</fieldset>`
    : html`<p class="muted">${v.decision.role === 'delegate' ? T.mailbox.readOnlyDelegate : T.mailbox.readOnly}</p>`;
  return page(chrome, html`${mailboxTabs(bal, 'delegations')}<p>${T.delegations.intro}</p>${table}${manage}`);
}
