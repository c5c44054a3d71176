// Who may read /status: with a token, whoever presents it (Bearer or Basic); without one, loopback only.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isLoopback, operatorAccess } from '../../src/http-access.js';

test('without http.token only loopback addresses get in', () => {
  for (const a of ['127.0.0.1', '127.5.6.7', '::1', '::ffff:127.0.0.1']) assert.equal(operatorAccess(a, undefined, ''), 'ok', a);
  for (const a of ['10.0.0.8', '192.168.1.2', '::ffff:10.0.0.8', 'fe80::1', '2001:db8::1', undefined])
    assert.equal(operatorAccess(a, 'Bearer x', ''), 'forbidden', String(a));
  assert.equal(isLoopback('128.0.0.1'), false);
});

test('with http.token, the token is needed from everywhere, as Bearer or as the Basic password', () => {
  const token = 's3cr3t-token';
  const basic = (user: string, pw: string) => `Basic ${Buffer.from(`${user}:${pw}`).toString('base64')}`;
  assert.equal(operatorAccess('10.0.0.8', `Bearer ${token}`, token), 'ok');
  assert.equal(operatorAccess('10.0.0.8', `bearer ${token}`, token), 'ok');
  assert.equal(operatorAccess('10.0.0.8', basic('ops', token), token), 'ok');
  assert.equal(operatorAccess('10.0.0.8', basic('', token), token), 'ok');
  assert.equal(operatorAccess('127.0.0.1', undefined, token), 'unauthorized', 'loopback too');
  for (const h of [`Bearer ${token}x`, 'Bearer ', basic('ops', 'wrong'), `Token ${token}`, token, Buffer.from(token).toString('base64')]) {
    assert.equal(operatorAccess('10.0.0.8', h, token), 'unauthorized', h);
  }
});
