// The person's own pages: pending notices with their objection, and their history.
import { html } from '../html.js';
import type { History } from '../history.js';
import type { PendingNotice } from '../notices.js';
import { T } from '../texts.js';
import { page, type Chrome } from './layout.js';

export function noticesPage(chrome: Chrome, notices: readonly PendingNotice[], csrf: string, timeZone: string): string {
  if (notices.length === 0) return page(chrome, html`<p>${T.notices.intro}</p><p>${T.notices.none}</p>`);
  const day = (d: Date | undefined) => (d ? T.date(d, timeZone) : '—');
  const text = (n: PendingNotice) =>
    n.kind === 'delete'
      ? T.notices.delete(n.bal.address, day(n.date))
      : n.kind === 'depublish'
        ? T.notices.depublish(n.bal.address, day(n.date))
        : T.notices.depublished(n.bal.address, day(n.date));
  return page(
    chrome,
    html`<p>${T.notices.intro}</p>
<ul class="notices">${notices.map(
      (n) =>
        html`<li><p>${text(n)}</p><form method="post" action="/avis/opposition"><input type="hidden" name="_csrf" value="${csrf}"><input type="hidden" name="address" value="${n.bal.address}"><button type="submit">${T.notices.object}</button></form></li>`,
    )}</ul>`,
  );
}

export function historyPage(chrome: Chrome, history: History, days: number, timeZone: string): string {
  const rows = history.entries.map((e) => {
    const client = e.client && e.client.length > 60 ? `${e.client.slice(0, 57)}…` : e.client;
    const means = [e.service, e.authType, client].filter(Boolean).join(' · ');
    return html`<tr>
<td>${T.dateTime(new Date(e.at), timeZone)}</td>
<td>${T.actions[e.action] ?? e.action}${e.onBehalfOf ? html`<br><span class="muted">${T.history.onBehalfOf(e.onBehalfOf)}</span>` : ''}</td>
<td>${e.bal ?? ''}</td>
<td>${e.ok ? html`<span class="ok-text">${T.history.ok}</span>` : html`<span class="refused-text">${T.history.refused(e.code ?? '?')}</span>`}</td>
<td>${means}</td>
<td>${e.address ?? ''}</td>
</tr>`;
  });
  return page(
    chrome,
    html`<p>${T.history.intro(days)}</p>
${history.partial ? html`<p class="flash error">${T.history.partial}</p>` : ''}
${
  rows.length === 0
    ? html`<p>${T.history.none}</p>`
    : html`<table><thead><tr><th>${T.history.when}</th><th>${T.history.action}</th><th>${T.history.mailbox}</th><th>${T.history.result}</th><th>${T.history.means}</th><th>${T.history.from}</th></tr></thead><tbody>${rows}</tbody></table>`
}`,
  );
}
