// The flow of flow.ts through tokenflight/fetch (createTokenFetch, no axios loaded): the same
// requests and the same FlowResult, so the suites compare it with the servers' counts as they do
// for axios. `adapter` is 'auth.fetch'.
import type * as TokenflightFetch from '../../../lib/fetch.js';
// Types only: Deno loads this file by its .ts name and could not resolve a value import of './flow.js'.
import type { FlowOptions, FlowResult } from './flow.js';

/** The simulation's echo of a request: its body as text. */
async function echo(response: Promise<Response>): Promise<{ status: number; data: { body: string } }> {
  const answer = await response;
  return { status: answer.status, data: (await answer.json()) as { body: string } };
}

/** Runs the flow with the given tokenflight/fetch module; see {@link FlowResult}. `runtime` is flow.ts's detectRuntime(). */
export async function runFetchFlow(
  tokenflight: typeof TokenflightFetch,
  options: FlowOptions,
  runtime: FlowResult['runtime'],
): Promise<FlowResult> {
  const { url, appId, appSecret } = options.symbl;
  const auth = tokenflight.createTokenFetch({ providers: tokenflight.symbl({ appId, appSecret, baseURL: url }) });
  const cold = await Promise.all(Array.from({ length: 10 }, (_, i) => auth.fetch(`${url}/api/cold/${i}`)));
  await Promise.all(cold.map((response) => response.arrayBuffer()));
  const firstToken = await auth.token();
  const revoked = await fetch(`${options.control}/revoke`, { method: 'POST' });
  if (revoked.status !== 204) throw new Error(`the control server answered ${revoked.status} to /revoke`);
  const replayed = await Promise.all(
    Array.from({ length: 5 }, (_, i) =>
      echo(
        auth.fetch(`${url}/api/replayed`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ job: i }),
        }),
      ),
    ),
  );
  const secondToken = await auth.token();
  const optOut = await auth.fetch(`${url}/api/opt-out`, { tokenAuth: false });
  await optOut.arrayBuffer();
  auth.close();

  const counter = { calls: 0 };
  const custom = options.custom;
  const customAuth = tokenflight.createTokenFetch({
    providers: tokenflight.customProvider({
      name: 'custom-symbl',
      origins: [custom.url],
      getToken: async ({ signal }) => {
        counter.calls++;
        const response = await fetch(`${custom.url}/oauth2/token:generate`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify({ type: 'application', appId: custom.appId, appSecret: custom.appSecret }),
          signal,
        });
        const body = (await response.json()) as { accessToken: string; expiresIn: number };
        return { accessToken: body.accessToken, expiresIn: body.expiresIn };
      },
    }),
  });
  const customAnswers = await Promise.all(
    Array.from({ length: 3 }, (_, i) => customAuth.fetch(`${custom.url}/api/custom/${i}`)),
  );
  await Promise.all(customAnswers.map((response) => response.arrayBuffer()));
  const customToken = await customAuth.token();
  customAuth.close();

  return {
    runtime,
    adapter: 'auth.fetch',
    cold: { statuses: cold.map((response) => response.status) },
    firstToken: {
      accessToken: firstToken.accessToken,
      tokenType: firstToken.tokenType,
      expiresAt: firstToken.expiresAt,
    },
    replay: {
      statuses: replayed.map((response) => response.status),
      echoedBodies: replayed.map((response) => JSON.parse(response.data.body) as unknown),
    },
    secondToken: { accessToken: secondToken.accessToken },
    optOut: { status: optOut.status },
    custom: {
      statuses: customAnswers.map((response) => response.status),
      getTokenCalls: counter.calls,
      accessToken: customToken.accessToken,
    },
  };
}
