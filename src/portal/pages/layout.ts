// The page frame every view shares: title, navigation, the signed-in person and the logout
// button (a POST with the CSRF token: a link could be triggered by another site), the
// message of the previous action, the operator's name, and (EX_GDT_5020) the reminder that
// what the person does here is traced.
import { html, type Html } from '../html.js';
import type { Flash } from '../session/types.js';
import { T } from '../texts.js';

export type Section = 'mailboxes' | 'notices' | 'history';

export interface Chrome {
  title: string;
  operatorName: string;
  user?: { idNat: string; name?: string };
  /** CSRF token for the logout form (signed-in pages). */
  csrf?: string;
  flash?: Flash;
  section?: Section;
}

export function page(c: Chrome, body: Html): string {
  const who = c.user ? (c.user.name ? `${c.user.name} (${c.user.idNat})` : c.user.idNat) : undefined;
  const link = (section: Section, href: string, label: string) =>
    html`<a href="${href}"${c.section === section ? html` aria-current="page"` : ''}>${label}</a>`;
  return html`<!doctype html>
<html lang="${T.lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${c.title} — ${T.appName}</title>
<link rel="stylesheet" href="/style.css">
</head>
<body>
<header class="top">
  <div class="brand"><span class="mark">MSSanté</span> ${T.appName}<span class="operator">${c.operatorName}</span></div>
  ${
    c.user
      ? html`<nav aria-label="Navigation principale">${link('mailboxes', '/mes-boites', T.nav.mailboxes)}${link('notices', '/avis', T.nav.notices)}${link('history', '/historique', T.nav.history)}</nav>
  <form class="signout" method="post" action="/deconnexion"><span class="who">${T.nav.signedInAs(who ?? '')}</span><input type="hidden" name="_csrf" value="${c.csrf ?? ''}"><button type="submit">${T.nav.signOut}</button></form>`
      : ''
  }
</header>
<main>
${c.flash ? html`<p class="flash ${c.flash.kind}" role="${c.flash.kind === 'error' ? 'alert' : 'status'}">${c.flash.text}</p>` : ''}
<h1>${c.title}</h1>
${body}
</main>
<footer>${c.operatorName} — ${T.appName}${c.user ? html`<br>${T.traced}` : ''}</footer>
</body>
</html>
`.text;
}

/** Inline field error (French, from forms.ts). */
export function fieldError(errors: Record<string, string> | undefined, field: string): Html | '' {
  const e = errors?.[field];
  return e ? html`<span class="field-error" id="err-${field}">${e}</span>` : '';
}
