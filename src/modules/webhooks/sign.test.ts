import { expect, test } from 'bun:test';
import { signatures, verifyWebhook } from './sign';

const S = ['whsec_' + Buffer.from('new').toString('base64'), 'whsec_' + Buffer.from('one').toString('base64'), 'whsec_' + Buffer.from('two').toString('base64')];

test('each old secret signs until its own end, not the latest one\'s (a second rotation of 60 s kept the first one\'s day for both)', () => {
  const hook = { secret: S[0]!, previousSecret: `${S[1]}@2000 ${S[2]}@9000`, previousSecretUntil: new Date(9000) };
  const body = '{"type":"webhook.test"}';
  const at = (ms: number) => signatures(hook, 'msg_1', 1, body, new Date(ms));
  const verifies = (secret: string, header: string) => verifyWebhook(secret, 'msg_1', 1, body, header);
  expect(S.map((s) => verifies(s, at(1000)))).toEqual([true, true, true]);
  expect(S.map((s) => verifies(s, at(5000)))).toEqual([true, false, true]);
  expect(S.map((s) => verifies(s, at(9000)))).toEqual([true, false, false]);
});

test('a previous secret stored before (no @) ends at previousSecretUntil', () => {
  const hook = { secret: S[0]!, previousSecret: S[1]!, previousSecretUntil: new Date(3000) };
  expect(signatures(hook, 'm', 1, 'b', new Date(2000)).split(' ')).toHaveLength(2);
  expect(signatures(hook, 'm', 1, 'b', new Date(3000)).split(' ')).toHaveLength(1);
});
