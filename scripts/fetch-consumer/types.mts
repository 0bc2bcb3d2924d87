// Type-checked with axios absent (skipLibCheck off): tokenflight/fetch's declarations must not need it.
import { clientCredentials, createTokenFetch, isTokenflightError, type TokenFetch } from 'tokenflight/fetch';

const auth: TokenFetch = createTokenFetch({
  providers: clientCredentials({
    tokenUrl: 'https://as.example/token',
    clientId: 'c',
    clientSecret: 's',
    origins: ['https://api.example'],
  }),
  fetch: globalThis.fetch,
});
const response: Promise<Response> = auth.fetch('https://api.example/v1', {
  method: 'POST',
  body: '{}',
  tokenAuth: false,
});
void response.catch((error: unknown) => isTokenflightError(error) && error.code === 'ERR_HANDLE_CLOSED');
auth.close();
