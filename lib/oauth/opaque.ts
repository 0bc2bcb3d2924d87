const kInspect = Symbol.for('nodejs.util.inspect.custom');

/**
 * An object that holds a secret (a key, a client secret) in its closure and shows only `facts`:
 * its enumerable properties, `JSON.stringify` and `util.inspect` give the facts and nothing else,
 * and the methods that use the secret are not enumerable.
 */
export function opaque<Facts extends Record<string, unknown>, Methods extends Record<string, unknown>>(
  kind: string,
  facts: Facts,
  methods: Methods,
): Readonly<Facts & Methods> {
  const holder: Record<string | symbol, unknown> = { ...facts };
  const hidden = {
    ...methods,
    toJSON: () => ({ ...facts }),
    [kInspect]: () => `${kind} ${JSON.stringify(facts)}`,
  };
  for (const key of Reflect.ownKeys(hidden)) {
    Object.defineProperty(holder, key, { value: hidden[key as keyof typeof hidden], enumerable: false });
  }
  return Object.freeze(holder) as Readonly<Facts & Methods>;
}
