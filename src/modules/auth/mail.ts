/**
 * Outgoing mail (verification and reset links). Through SMTP (nodemailer) when `SMTP_URL` is
 * set; otherwise the message, link included, goes to the log so a single-user install still
 * works without a mail server. One transport per `deps` (pooled connections).
 */
import nodemailer, { type Transporter } from 'nodemailer';
import type { AppDeps, CoreDeps } from '../../deps';

export interface Mail {
  to: string;
  subject: string;
  text: string;
}

export interface Mailer {
  send(mail: Mail): Promise<void>;
}

/** The mailer of one app (built once by `buildDeps`: one pooled transport). */
export function createMailer(deps: Pick<CoreDeps, 'config' | 'log' | 'onShutdown'>): Mailer {
  const { smtpUrl, mailFrom } = deps.config;
  if (!smtpUrl) {
    return {
      send: async (mail) => {
        deps.log.info({ mail: { to: mail.to, subject: mail.subject, text: mail.text } }, 'SMTP_URL is unset; mail logged instead of sent');
      },
    };
  }
  const transport: Transporter = nodemailer.createTransport(smtpUrl);
  deps.onShutdown(() => transport.close());
  return {
    send: async (mail) => {
      await transport.sendMail({ from: mailFrom, to: mail.to, subject: mail.subject, text: mail.text });
    },
  };
}

/**
 * Sends without making the caller wait or fail: a slow or broken mail server must neither
 * delay the 202 of forgot-password (that would reveal whether the account exists) nor 500 it.
 */
export function sendInBackground(deps: AppDeps, mail: Mail): void {
  deps.mailer
    .send(mail)
    .catch((err: unknown) => deps.log.error({ err, to: mail.to, subject: mail.subject }, 'sending mail failed'));
}
