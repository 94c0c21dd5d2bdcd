// Notices to users before depublication (EX_GBM_4440, 15 days before) and deletion
// (EX_GBM_6010, two months before), through a channel outside the Espace de Confiance:
// an e-mail to the user's non-MSSanté address through an ordinary SMTP relay
// (nodemailer), or a command the operator provides (SMS gateway, ticketing...).
// The wording says « dépublié pour cause d'inactivité », never « liste rouge », which is
// the user's own choice (§5.6).
import fs from 'node:fs';
import nodemailer, { type Transporter } from 'nodemailer';
import { MssError } from '../errors.js';
import type { Bal } from '../registry/registry.js';
import { fillArgs, runCommand } from '../util/run-command.js';
import type { LifecycleConfig } from './config.js';
import type { NoticeKind } from './plan.js';

export interface Notice {
  kind: NoticeKind;
  bal: Bal;
  /** Last activity (login, or creation when none). */
  activity: Date;
  /** From when the action may happen. */
  scheduledFor: Date;
}

export interface NoticeText {
  subject: string;
  text: string;
}

export interface NoticeSender {
  /** Why no notice can reach this BAL's user, or undefined when one can. */
  blockedFor(bal: Bal): string | undefined;
  send(notice: Notice): Promise<{ to: string }>;
  close(): void;
}

export function noticeText(n: Notice, timeZone: string, signature: string): NoticeText {
  const day = (d: Date): string => new Intl.DateTimeFormat('fr-FR', { timeZone, day: '2-digit', month: '2-digit', year: 'numeric' }).format(d);
  const addr = n.bal.address;
  if (n.kind === 'depublish') {
    return {
      subject: `[MSSanté] Votre boîte aux lettres ${addr} va être dépubliée pour cause d'inactivité`,
      text: [
        'Bonjour,',
        '',
        `Votre boîte aux lettres de messagerie sécurisée de santé (MSSanté) ${addr} n'a fait l'objet d'aucune connexion depuis le ${day(n.activity)}.`,
        '',
        `Sans connexion de votre part, elle sera « dépublié pour cause d'inactivité » à partir du ${day(n.scheduledFor)} : elle n'apparaîtra plus dans l'Annuaire Santé, mais elle restera active, conservera ses messages et vous pourrez continuer à l'utiliser.`,
        '',
        `Pour vous y opposer, il suffit de vous connecter à cette boîte aux lettres avant le ${day(n.scheduledFor)}. Une connexion ultérieure la fera de nouveau apparaître dans l'Annuaire Santé.`,
        '',
        signature,
        '',
        "Ce message vous est adressé hors de l'Espace de Confiance MSSanté, à l'adresse que vous avez indiquée pour ces informations.",
      ].join('\n'),
    };
  }
  return {
    subject: `[MSSanté] Votre boîte aux lettres ${addr} sera supprimée faute de connexion`,
    text: [
      'Bonjour,',
      '',
      `Votre boîte aux lettres de messagerie sécurisée de santé (MSSanté) ${addr} n'a fait l'objet d'aucune authentification depuis le ${day(n.activity)}.`,
      '',
      `Conformément aux recommandations de la CNIL, une boîte aux lettres inutilisée pendant un an est supprimée. Sans connexion de votre part, elle sera supprimée définitivement, avec ses messages et leurs pièces jointes, à partir du ${day(n.scheduledFor)}.`,
      '',
      `Pour vous y opposer, connectez-vous à cette boîte aux lettres avant le ${day(n.scheduledFor)}, ou répondez à ce message.`,
      '',
      signature,
      '',
      "Ce message vous est adressé hors de l'Espace de Confiance MSSanté, à l'adresse que vous avez indiquée pour ces informations.",
    ].join('\n'),
  };
}

export function createNoticeSender(cfg: LifecycleConfig['notices'], opts: { timeZone: string; signature: string; commandTimeoutMs: number }): NoticeSender {
  if (cfg.via === 'command') {
    const argv = cfg.command;
    return {
      blockedFor: (bal) =>
        !argv
          ? 'lifecycle.notices.command is not configured'
          : !bal.contact?.email && !bal.contact?.phone
            ? 'no contact (contact.email or contact.phone) in the registry'
            : undefined,
      async send(n) {
        if (!argv) throw new MssError('CONFIG_LIFECYCLE_NOTICES', 'lifecycle.notices.via is "command" but lifecycle.notices.command is not set');
        const t = noticeText(n, opts.timeZone, opts.signature);
        const to = n.bal.contact?.email ?? n.bal.contact?.phone ?? '';
        const r = await runCommand(
          fillArgs(argv, {
            address: n.bal.address,
            email: n.bal.contact?.email ?? '',
            phone: n.bal.contact?.phone ?? '',
            kind: n.kind,
            date: n.scheduledFor.toISOString().slice(0, 10),
          }),
          { timeoutMs: opts.commandTimeoutMs, input: `Subject: ${t.subject}\n\n${t.text}\n` },
        );
        if (r.code !== 0)
          throw new MssError(
            'LIFECYCLE_NOTICE_FAILED',
            `notice command for ${n.bal.address} failed (${r.timedOut ? 'timed out' : `exit ${r.code ?? r.signal}`}): ${r.stderr.trim().slice(0, 300)}`,
          );
        return { to };
      },
      close: () => undefined,
    };
  }
  let transport: Transporter | undefined;
  const smtp = cfg.smtp;
  return {
    blockedFor: (bal) =>
      !cfg.from
        ? 'lifecycle.notices.from is not configured'
        : !smtp.host
          ? 'lifecycle.notices.smtp.host is not configured (an ordinary relay outside the Espace de Confiance: the local Postfix only sends to MSSanté)'
          : !bal.contact?.email
            ? 'no contact.email in the registry'
            : undefined,
    async send(n) {
      if (!cfg.from) throw new MssError('CONFIG_LIFECYCLE_NOTICES', 'lifecycle.notices.from is required to send notices by e-mail');
      if (!smtp.host) throw new MssError('CONFIG_LIFECYCLE_NOTICES', 'lifecycle.notices.smtp.host is required to send notices by e-mail');
      const to = n.bal.contact?.email;
      if (!to) throw new MssError('LIFECYCLE_NO_CONTACT', `${n.bal.address} has no contact.email`);
      transport ??= nodemailer.createTransport({
        host: smtp.host,
        port: smtp.port,
        secure: smtp.secure,
        requireTLS: smtp.requireTLS,
        tls: { rejectUnauthorized: smtp.rejectUnauthorized },
        connectionTimeout: smtp.timeoutMs,
        greetingTimeout: smtp.timeoutMs,
        socketTimeout: smtp.timeoutMs,
        ...(smtp.user ? { auth: { user: smtp.user, pass: smtp.passwordFile ? fs.readFileSync(smtp.passwordFile, 'utf8').trim() : '' } } : {}),
      });
      const t = noticeText(n, opts.timeZone, opts.signature);
      try {
        await transport.sendMail({
          from: cfg.from,
          to,
          ...(cfg.replyTo ? { replyTo: cfg.replyTo } : {}),
          subject: t.subject,
          text: t.text,
          headers: { 'Auto-Submitted': 'auto-generated', 'X-MSS-Notice': n.kind },
        });
      } catch (err) {
        throw new MssError(
          'LIFECYCLE_NOTICE_FAILED',
          `notice e-mail for ${n.bal.address} to ${to} through ${smtp.host}:${smtp.port} failed: ${(err as Error).message}`,
          {},
          { cause: err },
        );
      }
      return { to };
    },
    close: () => transport?.close(),
  };
}
