import { afterAll, afterEach, beforeAll } from '@jest/globals';
import type { AxiosInstance } from 'axios';
import { attachTokenAuth, type TokenAuth, type TokenAuthOptions } from '../../lib/index.js';
import { startSimulation, type Simulation, type SimulationOptions } from '../../lib/testing/index.js';

/**
 * One loopback simulation for a test suite: started before its tests, closed after them. After
 * each test, every handle made with `attach` is ejected and every server's persistent fault,
 * always-401 mode, token lifetime and counters are reset.
 */
export function useSimulation(options: SimulationOptions = {}): {
  readonly sim: Simulation;
  attach(api: AxiosInstance, attachOptions: TokenAuthOptions): TokenAuth;
} {
  let current: Simulation | undefined;
  const handles: TokenAuth[] = [];
  beforeAll(async () => {
    current = await startSimulation(options);
  });
  afterAll(async () => {
    await current?.close();
  });
  afterEach(() => {
    for (const auth of handles.splice(0)) auth.eject();
    for (const server of current?.servers ?? []) {
      server.setTokenFault(undefined);
      server.setApiAlwaysUnauthorized(false);
      server.setTokenLifetime(options.tokenLifetimeSeconds ?? 3600);
      server.resetStats();
    }
  });
  return {
    get sim(): Simulation {
      if (current === undefined) throw new Error('the simulation starts in beforeAll');
      return current;
    },
    attach(api, attachOptions) {
      const auth = attachTokenAuth(api, attachOptions);
      handles.push(auth);
      return auth;
    },
  };
}
