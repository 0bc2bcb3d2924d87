import { isReplayable } from '../core/replay.js';

/**
 * How a request's body is sent, and sent again (after a 401, or on a 307/308): rule 8 for fetch.
 *
 * - `none`: no body.
 * - `reusable`: a body fetch serialises the same way every time (a string, `URLSearchParams`, a
 *   `Blob`, an `ArrayBuffer` or a typed array): handed to fetch as it is, each time.
 * - `template`: a body fetch would serialise afresh (a `FormData` gets a new multipart boundary) or
 *   that is already a stream inside a `Request`: captured once in a `Request` before the first
 *   send, and each send gets a clone of it, so every send carries the same bytes.
 * - `stream`: a `ReadableStream` or async iterable given as `body`: sent once, never buffered;
 *   a second send needs `tokenAuth.replayBody`.
 */
export type BodyPlan =
  | { readonly kind: 'none' }
  | { readonly kind: 'reusable'; readonly body: BodyInit }
  | { readonly kind: 'template'; readonly template: Request }
  | { readonly kind: 'stream'; readonly body: BodyInit };

/** The plan for `body` as given in `RequestInit` (a `Request` input has its own: {@link requestPlan}). */
export function bodyPlan(
  body: BodyInit | null | undefined,
  url: string,
  init: { method?: string | undefined; headers?: HeadersInit | undefined },
): BodyPlan {
  if (body === undefined || body === null) return { kind: 'none' };
  if (!isReplayable(body)) return { kind: 'stream', body };
  if (typeof FormData !== 'undefined' && body instanceof FormData) {
    const template = new Request(url, {
      method: init.method ?? 'POST',
      body,
      ...(init.headers && { headers: init.headers }),
    });
    return { kind: 'template', template };
  }
  return { kind: 'reusable', body };
}

/** A `Request` input is cloned for each send (its body, if any, is copied before the first send). */
export function requestPlan(request: Request): BodyPlan {
  return { kind: 'template', template: request };
}

/** Whether the body can be sent once more without `replayBody`. */
export function canResend(plan: BodyPlan): boolean {
  return plan.kind !== 'stream';
}
