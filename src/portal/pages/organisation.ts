// Co-holders, Responsable opérationnel and description of an organisational mailbox
// (EX_GBM_5410). For a CAB the Responsable is one of the co-holders (EX_GBM_3030); for an
// ORG it is a person and the text the Annuaire publishes.
import { html } from '../html.js';
import type { AccessDecision, Bal } from '../../registry/registry.js';
import type { Capabilities } from '../roles.js';
import { T } from '../texts.js';
import { fieldError, page, type Chrome } from './layout.js';
import { mailboxHref, mailboxTabs } from './mailboxes.js';

export interface OrganisationView {
  bal: Bal;
  decision: AccessDecision;
  caps: Capabilities;
  csrf: string;
  errors?: Record<string, string>;
  values?: Record<string, string>;
}

export function organisationPage(chrome: Chrome, v: OrganisationView): string {
  const { bal, caps } = v;
  const action = (verb: string) => `${mailboxHref(bal.address, 'organisation')}/${verb}`;
  const csrf = html`<input type="hidden" name="_csrf" value="${v.csrf}">`;
  const responsible = bal.type === 'CAB' ? bal.coHolders.find((c) => c.responsible) : undefined;
  const responsibleNow =
    bal.type === 'CAB'
      ? responsible
        ? `${responsible.firstName} ${responsible.lastName} (${responsible.idNat})`
        : '—'
      : bal.responsible
        ? `${bal.responsible.name}${bal.responsible.idNat ? ` (${bal.responsible.idNat})` : ''}`
        : '—';
  const coHolders =
    bal.coHolders.length === 0
      ? html`<p>${T.organisation.none}</p>`
      : html`<table><thead><tr><th>${T.organisation.lastName}</th><th>${T.organisation.firstName}</th><th>${T.organisation.idNat}</th><th></th>${caps.coHolders ? html`<th></th>` : ''}</tr></thead><tbody>${bal.coHolders.map(
          (c) =>
            html`<tr><td>${c.lastName}</td><td>${c.firstName}</td><td>${c.idNat}</td><td>${c.responsible ? T.organisation.responsibleMark : ''}</td>${
              caps.coHolders
                ? html`<td><form method="post" action="${action('cotitulaires/retirer')}">${csrf}<input type="hidden" name="idNat" value="${c.idNat}"><button type="submit" class="danger">${T.organisation.remove}</button></form></td>`
                : ''
            }</tr>`,
        )}</tbody></table>`;
  const addForm = caps.coHolders
    ? html`<fieldset><legend>${T.organisation.addTitle}</legend><p class="muted">${T.mailbox.informOthers}</p>
<form method="post" action="${action('cotitulaires/ajouter')}">${csrf}
<label for="co-idNat">${T.organisation.addIdNat}</label><input type="text" id="co-idNat" name="idNat" value="${v.values?.idNat ?? ''}" maxlength="128" required>${fieldError(v.errors, 'idNat')}
<label for="co-lastName">${T.organisation.lastName}</label><input type="text" id="co-lastName" name="lastName" value="${v.values?.lastName ?? ''}" maxlength="80" required>${fieldError(v.errors, 'lastName')}
<label for="co-firstName">${T.organisation.firstName}</label><input type="text" id="co-firstName" name="firstName" value="${v.values?.firstName ?? ''}" maxlength="50" required>${fieldError(v.errors, 'firstName')}
<button type="submit">${T.organisation.add}</button></form></fieldset>`
    : '';
  const responsibleForm = caps.responsible
    ? html`<form method="post" action="${action('responsable')}">${csrf}
${
  bal.type === 'CAB'
    ? html`<label for="resp-idNat">${T.organisation.responsibleCab}</label><select id="resp-idNat" name="idNat">${bal.coHolders.map(
        (c) => html`<option value="${c.idNat}"${c.responsible ? html` selected` : ''}>${c.firstName} ${c.lastName} (${c.idNat})</option>`,
      )}</select>`
    : html`<label for="resp-idNat">${T.organisation.responsibleOrgIdNat}</label><input type="text" id="resp-idNat" name="idNat" value="${v.values?.respIdNat ?? bal.responsible?.idNat ?? ''}" maxlength="128" required>
<label for="resp-name">${T.organisation.responsibleOrgName}</label><input type="text" id="resp-name" name="name" value="${v.values?.respName ?? bal.responsible?.name ?? ''}" maxlength="160" required>${fieldError(v.errors, 'name')}`
}${fieldError(v.errors, 'idNat')}
<button type="submit">${T.organisation.changeResponsible}</button></form>`
    : '';
  const descriptionForm = caps.description
    ? html`<form method="post" action="${action('description')}">${csrf}
<label for="description">${T.organisation.description}</label><input type="text" id="description" name="description" value="${v.values?.description ?? bal.description ?? ''}" maxlength="160" required>${fieldError(v.errors, 'description')}
<button type="submit">${T.organisation.changeDescription}</button></form>`
    : html`<p>${bal.description ?? ''}</p>`;
  const readOnly = caps.coHolders ? '' : html`<p class="muted">${v.decision.role === 'delegate' ? T.mailbox.readOnlyDelegate : T.mailbox.readOnly}</p>`;
  return page(
    chrome,
    html`${mailboxTabs(bal, 'organisation')}${readOnly}
<h2>${T.organisation.coHolders}</h2>${coHolders}${addForm}
<h2>${T.organisation.responsibleTitle}</h2><p>${T.organisation.responsibleNow(responsibleNow)}</p>${responsibleForm}
<h2>${T.organisation.descriptionTitle}</h2>${descriptionForm}`,
  );
}
