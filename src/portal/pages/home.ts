// The sign-in page: what the portal is for, and the one button that goes to PSC.
import { html } from '../html.js';
import { T } from '../texts.js';
import { page } from './layout.js';
import type { Flash } from '../session/types.js';

export function homePage(operatorName: string, flash?: Flash): string {
  return page(
    { title: T.home.title, operatorName, ...(flash ? { flash } : {}) },
    html`<p>${T.home.intro}</p>
<p><a class="button" href="/connexion">${T.home.signIn}</a></p>
<p class="muted">${T.home.signInHelp}</p>`,
  );
}

export function errorPage(operatorName: string, message: string, user?: { idNat: string; name?: string }, csrf?: string): string {
  return page(
    { title: T.errors.title, operatorName, ...(user ? { user } : {}), ...(csrf ? { csrf } : {}) },
    html`<p class="flash error" role="alert">${message}</p><p><a href="/">${T.mailbox.back}</a></p>`,
  );
}
