/**
 * The items of several async iterables as one, in the order they arrive. Ends when every source has
 * ended; the first source to throw ends it with that error. Ending the merged iteration early (a
 * `break`, a `return`, an error in the consumer) ends every source too, so none is left running.
 */
export async function* mergeAsync<T>(sources: readonly AsyncIterable<T>[]): AsyncGenerator<T> {
  const iterators = sources.map((s) => s[Symbol.asyncIterator]());
  type Next = { i: number; result: IteratorResult<T> };
  const pending = new Map<number, Promise<Next>>();
  const pull = (i: number) => {
    const it = iterators[i] as AsyncIterator<T>;
    pending.set(
      i,
      it.next().then((result) => ({ i, result })),
    );
  };
  for (let i = 0; i < iterators.length; i++) pull(i);
  try {
    while (pending.size > 0) {
      const { i, result } = await Promise.race(pending.values());
      if (result.done) {
        pending.delete(i);
        continue;
      }
      pull(i);
      yield result.value;
    }
  } finally {
    // Sources still running are told to stop; their pending `next()` settles on its own.
    for (const i of pending.keys()) {
      pending.get(i)?.catch(() => {});
      void Promise.resolve(iterators[i]?.return?.()).catch(() => {});
    }
  }
}
