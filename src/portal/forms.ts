// The portal's forms, read and checked with the registry's own schema pieces (identifier
// format, Annuaire field lengths) so that a form accepts exactly what the registry accepts;
// the registry operation then checks the whole registry again (who asks, EX_GBM_5410/5411,
// EX_GBM_3030...). Messages are French and name the field. Only the fields a form has are
// read: anything else a browser sends (a forged `requestedBy`, an idNat of the session) is
// ignored — the requester is always the signed-in professional.
import type { z } from 'zod';
import { ADELI_IDNAT, RPPS_IDNAT } from '../registry/ids.js';
import type { Bal } from '../registry/registry.js';
import { balSchema, delegateSchema, personSchema, responsibleSchema } from '../registry/schema.js';
import { T } from './texts.js';

export type FormBody = Record<string, unknown>;
export type FormResult<T> = { ok: true; value: T } | { ok: false; errors: Record<string, string> };

const ID_NAT = delegateSchema.shape.idNat;
const DELEGATE_NAME = delegateSchema.shape.name.unwrap();
const DESCRIPTION = balSchema.shape.description.unwrap();

/** One text field, trimmed; null when it is not one string (a repeated field arrives as an array). */
function text(body: FormBody, name: string): string | undefined | null {
  const v = body[name];
  if (v === undefined) return undefined;
  return typeof v === 'string' ? v.trim() : null;
}

class Checker {
  readonly errors: Record<string, string> = {};

  /** `value` through `schema`; the French message of its first issue otherwise. */
  take<S extends z.ZodType>(field: string, value: string | undefined | null, schema: S, formatMessage: string = T.form.choice): z.output<S> | undefined {
    if (value === null) {
      this.errors[field] = T.form.choice;
      return undefined;
    }
    if (value === undefined || value === '') {
      this.errors[field] = T.form.required;
      return undefined;
    }
    const r = schema.safeParse(value);
    if (r.success) return r.data;
    const issue = r.error.issues[0];
    this.errors[field] = issue?.code === 'too_big' ? T.form.tooLong(Number(issue.maximum)) : issue?.code === 'too_small' ? T.form.required : formatMessage;
    return undefined;
  }

  optional<S extends z.ZodType>(field: string, value: string | undefined | null, schema: S): z.output<S> | undefined {
    return value === undefined || value === '' ? undefined : this.take(field, value, schema);
  }

  result<V>(value: V): FormResult<V> {
    return Object.keys(this.errors).length > 0 ? { ok: false, errors: this.errors } : { ok: true, value };
  }
}

export interface DelegateForm {
  idNat: string;
  name?: string;
  for?: string;
}

/** EX_GBM_5413: add a delegate, by national identifier or local directory entry. */
export function delegateAddForm(body: FormBody): FormResult<DelegateForm> {
  const c = new Checker();
  const idNat = c.take('idNat', text(body, 'idNat'), ID_NAT, T.form.idNat);
  const name = c.optional('name', text(body, 'name'), DELEGATE_NAME);
  const forId = c.optional('for', text(body, 'for'), ID_NAT);
  return c.result({ idNat: idNat ?? '', ...(name ? { name } : {}), ...(forId ? { for: forId } : {}) });
}

/** EX_GBM_5413: change a delegation; an empty name removes it. */
export function delegateChangeForm(body: FormBody): FormResult<{ idNat: string; name: string; for?: string }> {
  const c = new Checker();
  const idNat = c.take('idNat', text(body, 'idNat'), ID_NAT, T.form.idNat);
  const name = c.optional('name', text(body, 'name'), DELEGATE_NAME) ?? '';
  const forId = c.optional('for', text(body, 'for'), ID_NAT);
  return c.result({ idNat: idNat ?? '', name, ...(forId ? { for: forId } : {}) });
}

/** One person named by their identifier (remove a delegate or a co-holder). */
export function personForm(body: FormBody): FormResult<{ idNat: string }> {
  const c = new Checker();
  const idNat = c.take('idNat', text(body, 'idNat'), ID_NAT, T.form.idNat);
  return c.result({ idNat: idNat ?? '' });
}

/** EX_GBM_5410: a co-holder; on a CAB, identified by RPPS or ADELI (EX_GBM_3030). */
export function coHolderAddForm(body: FormBody, bal: Pick<Bal, 'type'>): FormResult<{ idNat: string; lastName: string; firstName: string }> {
  const c = new Checker();
  const idNat = c.take('idNat', text(body, 'idNat'), personSchema.shape.idNat, T.form.idNat);
  const lastName = c.take('lastName', text(body, 'lastName'), personSchema.shape.lastName);
  const firstName = c.take('firstName', text(body, 'firstName'), personSchema.shape.firstName);
  // EX_GBM_3030: the Annuaire publishes a CAB's co-holders by RPPS or ADELI only.
  if (idNat && bal.type === 'CAB' && !RPPS_IDNAT.test(idNat) && !ADELI_IDNAT.test(idNat)) c.errors.idNat = T.form.rppsAdeli;
  return c.result({ idNat: idNat ?? '', lastName: lastName ?? '', firstName: firstName ?? '' });
}

/** EX_GBM_5410: the new Responsable: a co-holder of a CAB, or an identity and the Annuaire text for an ORG. */
export function responsibleForm(body: FormBody, bal: Pick<Bal, 'type'>): FormResult<{ idNat: string; name?: string }> {
  const c = new Checker();
  const idNat = c.take('idNat', text(body, 'idNat'), ID_NAT, T.form.idNat);
  if (bal.type === 'CAB') return c.result({ idNat: idNat ?? '' });
  const name = c.take('name', text(body, 'name'), responsibleSchema.shape.name);
  return c.result({ idNat: idNat ?? '', name: name ?? '' });
}

/** EX_GBM_5410: the description (Annuaire Description X(160)). */
export function descriptionForm(body: FormBody): FormResult<{ description: string }> {
  const c = new Checker();
  const description = c.take('description', text(body, 'description'), DESCRIPTION);
  return c.result({ description: description ?? '' });
}

/** EX_PBA_5040: an explicit choice, never a default. */
export function listeRougeForm(body: FormBody): FormResult<{ on: boolean }> {
  const c = new Checker();
  const v = text(body, 'listeRouge');
  if (v !== 'on' && v !== 'off') c.errors.listeRouge = v === undefined ? T.form.required : T.form.choice;
  return c.result({ on: v === 'on' });
}
