// "Mes boîtes aux lettres": every mailbox the person has a role on, the role, what it
// allows, the mailbox's state and its Annuaire publication.
import { html, type Html } from '../html.js';
import type { Publication } from '../../registry/publication.js';
import type { AccessDecision, Bal } from '../../registry/registry.js';
import type { Capabilities } from '../roles.js';
import { T } from '../texts.js';
import type { Chrome } from './layout.js';
import { page } from './layout.js';
import { personLabel } from './people.js';

export interface MailboxRow {
  bal: Bal;
  decision: AccessDecision;
  caps: Capabilities;
  publication: Publication;
}

export function roleText(bal: Bal, decision: AccessDecision): string {
  if (!decision.role) return '';
  const role = T.roles[decision.role];
  return decision.role === 'delegate' && decision.delegateOf ? `${role} ${T.delegateFor(personLabel(bal, decision.delegateOf))}` : role;
}

export function capabilityList(caps: Capabilities): Html {
  const all: Array<[boolean, string]> = [
    [caps.read, T.capabilities.read],
    [caps.delegates, T.capabilities.delegates],
    [caps.coHolders, T.capabilities.coHolders],
    [caps.responsible, T.capabilities.responsible],
    [caps.description, T.capabilities.description],
    [caps.listeRouge, T.capabilities.listeRouge],
  ];
  const items = all.filter(([on]) => on).map(([, text]) => text);
  return html`<ul class="caps">${items.map((i) => html`<li>${i}</li>`)}</ul>`;
}

export function publicationText(p: Publication): string {
  if (!p.published) return T.publication.notPublished;
  if (p.listeRougeOrigin === 'user') return T.publication.userListeRouge;
  if (p.listeRougeOrigin === 'inactivity') return T.publication.inactivity;
  return T.publication.published;
}

export function mailboxHref(address: string, sub: 'delegations' | 'organisation' | 'liste-rouge'): string {
  return `/boites/${encodeURIComponent(address)}/${sub}`;
}

export function mailboxesPage(chrome: Chrome, idNat: string, rows: readonly MailboxRow[]): string {
  if (rows.length === 0) return page(chrome, html`<p>${T.mailboxes.none(idNat)}</p>`);
  return page(
    chrome,
    html`<p>${T.mailboxes.intro(idNat)}</p>
<table>
<thead><tr><th>${T.mailboxes.address}</th><th>${T.mailboxes.type}</th><th>${T.mailboxes.role}</th><th>${T.mailboxes.allows}</th><th>${T.mailboxes.state}</th><th>${T.mailboxes.annuaire}</th><th>${T.mailboxes.manage}</th></tr></thead>
<tbody>
${rows.map(
  (r) => html`<tr>
<td>${r.bal.address}</td>
<td>${T.types[r.bal.type]}</td>
<td>${roleText(r.bal, r.decision)}</td>
<td>${capabilityList(r.caps)}</td>
<td>${T.statuses[r.bal.status]}</td>
<td>${publicationText(r.publication)}</td>
<td>${r.bal.type !== 'APP' ? html`<a href="${mailboxHref(r.bal.address, 'delegations')}">${T.mailbox.pages.delegations}</a><br>` : ''}${r.bal.type === 'ORG' || r.bal.type === 'CAB' ? html`<a href="${mailboxHref(r.bal.address, 'organisation')}">${T.mailbox.pages.organisation}</a><br>` : ''}<a href="${mailboxHref(r.bal.address, 'liste-rouge')}">${T.mailbox.pages.listeRouge}</a></td>
</tr>`,
)}
</tbody>
</table>`,
  );
}

/** The tabs of one mailbox's pages. */
export function mailboxTabs(bal: Bal, current: 'delegations' | 'organisation' | 'liste-rouge'): Html {
  const tab = (sub: 'delegations' | 'organisation' | 'liste-rouge', label: string) =>
    html`<a href="${mailboxHref(bal.address, sub)}"${sub === current ? html` aria-current="page"` : ''}>${label}</a>`;
  return html`<a class="back" href="/mes-boites">${T.mailbox.back}</a>
<nav class="tabs" aria-label="${bal.address}">${bal.type !== 'APP' ? tab('delegations', T.mailbox.pages.delegations) : ''}${bal.type === 'ORG' || bal.type === 'CAB' ? tab('organisation', T.mailbox.pages.organisation) : ''}${tab('liste-rouge', T.mailbox.pages.listeRouge)}</nav>`;
}
