import { expect, test } from '@jest/globals';
import * as tokenflight from '../lib/index.js';
import * as browser from '../lib/browser.js';
import * as fetchEntry from '../lib/fetch.js';
import * as testing from '../lib/testing/index.js';

test('the public surface is exactly this list', () => {
  expect(Object.keys(tokenflight).sort()).toEqual([
    'DEFAULTS',
    'MemoryTokenStore',
    'TokenRequestError',
    'TokenflightError',
    'attachTokenAuth',
    'clientCredentials',
    'customProvider',
    'isTokenRequestError',
    'isTokenflightError',
    'jsonProvider',
    'marsview',
    'refreshTokenGrant',
    'singleView',
    'symbl',
  ]);
});

test('tokenflight/fetch exports createTokenFetch and what a fetch-only app needs beside it, nothing of axios', () => {
  expect(Object.keys(fetchEntry).sort()).toEqual([
    'DEFAULTS',
    'MemoryTokenStore',
    'TokenRequestError',
    'TokenflightError',
    'clientCredentials',
    'createTokenFetch',
    'customProvider',
    'isTokenRequestError',
    'isTokenflightError',
    'jsonProvider',
    'marsview',
    'refreshTokenGrant',
    'singleView',
    'symbl',
  ]);
  // The same classes and factories as the axios entry's, not copies.
  expect(fetchEntry.TokenflightError).toBe(tokenflight.TokenflightError);
  expect(fetchEntry.clientCredentials).toBe(tokenflight.clientCredentials);
});

test('the testing kit exports the simulation and its helpers', () => {
  expect(Object.keys(testing).sort()).toEqual([
    'simulatedProvider',
    'startAuthorizationServer',
    'startProviderServer',
    'startSimulation',
  ]);
});

test('tokenflight/browser exports exactly the browser store and its defaults', () => {
  expect(Object.keys(browser).sort()).toEqual(['BROWSER_STORE_DEFAULTS', 'BrowserTokenStore']);
});

test('errors are recognised across copies of the package by code and brand, not prototype alone', () => {
  const error = new tokenflight.TokenRequestError('x', {
    code: 'ERR_TOKEN_TIMEOUT',
    provider: 'p',
    url: 'https://x',
    attempts: 1,
  });
  const foreign = { name: 'TokenRequestError', code: 'ERR_TOKEN_TIMEOUT', [Symbol.for('tokenflight.error')]: true };
  expect(error).toBeInstanceOf(tokenflight.TokenflightError);
  expect(error).toBeInstanceOf(tokenflight.TokenRequestError);
  expect(foreign).toBeInstanceOf(tokenflight.TokenRequestError);
  expect(tokenflight.isTokenRequestError(foreign)).toBe(true);
  expect(tokenflight.isTokenflightError(new Error('x'))).toBe(false);
  expect(new Error('x')).not.toBeInstanceOf(tokenflight.TokenflightError);
});
